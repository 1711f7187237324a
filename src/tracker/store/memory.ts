// The in-process PeerStore: swarms in a Map keyed by the 20-byte info hash (as a latin1
// string), a peer a small object; every call synchronous. Sampling walks a random
// arithmetic progression over an array of the swarm's peers (and one of its leechers, for
// seeders), so a reply costs O(numwant), not O(swarm), and writes nothing.
import { compactIpText, EVENT_COMPLETED, EVENT_STOPPED, type ScrapeCounts } from '../protocol/index.js';
import { createFileCatalogue } from './catalogue-file.js';
import { DEFAULT_STORE_LIMITS } from './limits.js';
import {
  FAMILY_V4,
  FAMILY_V6,
  type AnnounceInput,
  type AnnounceOutput,
  type Catalogue,
  type PeerStore,
  type StoreLimits,
  type StoreStats,
  type SwarmPeer,
  type SwarmSummary,
} from './types.js';

/** A peer is a few small integers (V8 keeps them unboxed, in the object) plus its id. */
class Peer {
  /** The peer id as a latin1 string (also the swarm's map key). */
  readonly id: string;
  /** IPv4 address as a signed 32-bit integer (when addr6 is undefined). */
  ip4: number;
  port: number;
  /** IPv6 address: 16 bytes as a latin1 string; undefined for IPv4 peers (nearly all). */
  addr6: string | undefined;
  /** Seconds since the store's epoch (a small integer, so V8 keeps it unboxed). */
  lastSeenS: number;
  seeder: boolean;
  /** Position in swarm.all. */
  allIdx: number;
  /** Position in swarm.leechers, -1 for a seeder. */
  leechIdx: number;

  constructor(id: string, addr: Buffer, lastSeenS: number, seeder: boolean) {
    this.id = id;
    this.ip4 = 0;
    this.port = 0;
    this.addr6 = undefined;
    setAddr(this, addr);
    this.lastSeenS = lastSeenS;
    this.seeder = seeder;
    this.allIdx = -1;
    this.leechIdx = -1;
  }
}

/** Stores a compact address (6 or 18 bytes) in the peer. */
function setAddr(p: Peer, addr: Buffer): void {
  if (addr.length === 6) {
    p.ip4 = addr.readInt32BE(0);
    p.port = addr.readUInt16BE(4);
    p.addr6 = undefined;
  } else {
    p.ip4 = 0;
    p.addr6 = addr.toString('latin1', 0, 16);
    p.port = addr.readUInt16BE(16);
  }
}

function sameAddr(p: Peer, b: Buffer): boolean {
  if (b.length === 6) return p.addr6 === undefined && p.ip4 === b.readInt32BE(0) && p.port === b.readUInt16BE(4);
  const s = p.addr6;
  if (s === undefined || b.length !== 18 || p.port !== b.readUInt16BE(16)) return false;
  for (let i = 0; i < 16; i++) if (s.charCodeAt(i) !== b[i]) return false;
  return true;
}

/** The peer's compact address (for listings, not the hot path). */
function compactOf(p: Peer): Buffer {
  if (p.addr6 === undefined) {
    const b = Buffer.allocUnsafe(6);
    b.writeInt32BE(p.ip4, 0);
    b.writeUInt16BE(p.port, 4);
    return b;
  }
  const b = Buffer.allocUnsafe(18);
  b.write(p.addr6, 0, 16, 'latin1');
  b.writeUInt16BE(p.port, 16);
  return b;
}

/** A peer's IPv4 address and port as one number (48 bits, exact in a double); -1 for an
 *  IPv6 peer (whose address is read from the object, rarely). */
function addrKey(p: Peer): number {
  return p.addr6 === undefined ? (p.ip4 >>> 0) * 65536 + p.port : -1;
}

/** The peers of a swarm (or its leechers) in an array, with their addresses in a parallel
 *  array of numbers (V8 stores it as unboxed doubles, contiguous): sampling and writing a
 *  reply read only that memory, not the peer objects scattered over the heap (cache misses
 *  were most of an announce's cost). A plain array, not a Float64Array: a typed array
 *  costs ~250 bytes of headers, too much for the many small swarms. */
class PeerList {
  readonly peers: Peer[] = [];
  readonly addr: number[] = [];

  get length(): number {
    return this.peers.length;
  }

  /** Appends; returns the position. */
  push(p: Peer): number {
    this.addr.push(addrKey(p));
    return this.peers.push(p) - 1;
  }

  /** Swap-removes position i, fixing the moved peer's position. */
  removeAt(i: number, isAll: boolean): void {
    const last = this.peers.pop()!;
    const lastAddr = this.addr.pop()!;
    if (i < this.peers.length) {
      this.peers[i] = last;
      this.addr[i] = lastAddr;
      if (isAll) last.allIdx = i;
      else last.leechIdx = i;
    }
  }
}

class Swarm {
  readonly peers = new Map<string, Peer>();
  readonly all = new PeerList();
  readonly leechers = new PeerList();
  seeders = 0;
  downloaded = 0;
  lastActivityS = 0;
}

export interface MemoryStoreOptions {
  limits?: Partial<StoreLimits>;
  /** Where the catalogue persists (`<dataDir>/catalogue/`); in memory only when absent. */
  dataDir?: string;
  /** Every swarm is checked for expired peers once per this many ms (0: never; tests call
   *  expire()). The work is spread over ticks of at most 1 s, a slice of swarms each, so a
   *  big store never stalls the event loop for a whole pass (~40 ms per 1M peers). */
  sweepIntervalMs?: number;
  /** Injectable randomness for tests: returns [0, 1). */
  random?: () => number;
  /** Injectable clock for the sweep timer. */
  now?: () => number;
}

/** Reused between announces: the sample's positions (the call is synchronous, so one is
 *  enough); grown to the largest numwant seen. */
let picked = new Int32Array(256);

export class MemoryStore implements PeerStore {
  readonly kind = 'memory' as const;
  readonly limits: StoreLimits;
  readonly catalogue: Catalogue;
  private readonly swarms = new Map<string, Swarm>();
  private readonly epochMs: number;
  private readonly random: () => number;
  private totalPeers = 0;
  private totalSeeders = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(catalogue: Catalogue, opts: MemoryStoreOptions = {}) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...opts.limits };
    this.catalogue = catalogue;
    this.random = opts.random ?? Math.random;
    const now = opts.now ?? Date.now;
    // Epoch a day back, so lastSeenS stays positive for clocks tests move backwards a bit.
    this.epochMs = Math.floor(now() / 1000) * 1000 - 86_400_000;
    const every = opts.sweepIntervalMs ?? Math.min(60_000, (this.limits.peerTtlS * 1000) / 4);
    if (every > 0) {
      const tick = Math.min(1000, every);
      this.timer = setInterval(() => this.sweepStep(now(), tick / every), tick);
      this.timer.unref();
    }
  }

  private seconds(nowMs: number): number {
    return Math.floor((nowMs - this.epochMs) / 1000);
  }

  announce(a: AnnounceInput): AnnounceOutput {
    const key = latin1(a.infoHash);
    let swarm = this.swarms.get(key);
    const nowS = this.seconds(a.nowMs);
    if (a.event === EVENT_STOPPED) {
      if (!swarm) return { complete: 0, incomplete: 0, peers4: EMPTY, peers6: EMPTY };
      const p = swarm.peers.get(latin1(a.peerId));
      if (p) {
        // A leecher leaving with nothing left finished here, even if its `completed` was lost.
        if (!p.seeder && a.seeder) swarm.downloaded++;
        this.removePeer(swarm, p);
      }
      swarm.lastActivityS = nowS;
      return { complete: swarm.seeders, incomplete: swarm.all.length - swarm.seeders, peers4: EMPTY, peers6: EMPTY };
    }
    if (!swarm) {
      if (this.swarms.size >= this.limits.maxSwarms) {
        // Full: answered, not stored.
        return { complete: a.seeder ? 1 : 0, incomplete: a.seeder ? 0 : 1, peers4: EMPTY, peers6: EMPTY };
      }
      swarm = new Swarm();
      this.swarms.set(key, swarm);
    }
    swarm.lastActivityS = nowS;
    const id = latin1(a.peerId);
    let self = swarm.peers.get(id);
    if (self) {
      self.lastSeenS = nowS;
      if (!sameAddr(self, a.addr)) {
        setAddr(self, a.addr);
        swarm.all.addr[self.allIdx] = addrKey(self);
        if (self.leechIdx >= 0) swarm.leechers.addr[self.leechIdx] = addrKey(self);
      }
      if (a.seeder !== self.seeder) {
        // A known leecher now reporting left=0 completed a download, `completed` event or not
        // (UDP loses packets; some clients fold it into their next announce).
        if (a.seeder) swarm.downloaded++;
        this.setSeeder(swarm, self, a.seeder);
      }
    } else {
      if (a.event === EVENT_COMPLETED) swarm.downloaded++;
      if (swarm.all.length < this.limits.maxPeersPerSwarm && this.totalPeers < this.limits.maxPeers) {
        self = new Peer(id, a.addr, nowS, a.seeder);
        swarm.peers.set(id, self);
        self.allIdx = swarm.all.push(self);
        if (a.seeder) {
          swarm.seeders++;
          this.totalSeeders++;
        } else {
          self.leechIdx = swarm.leechers.push(self);
        }
        this.totalPeers++;
      }
    }
    const complete = swarm.seeders;
    const incomplete = swarm.all.length - swarm.seeders;
    if (a.numwant <= 0) return { complete, incomplete, peers4: EMPTY, peers6: EMPTY };
    const list = a.seeder ? swarm.leechers : swarm.all;
    const selfIdx = self === undefined ? -1 : a.seeder ? -1 : self.allIdx;
    const n = this.sample(list, selfIdx, a.numwant, a.families);
    return this.output(list, complete, incomplete, n, a.withPeerIds);
  }

  /** Picks the positions of up to `want` peers of `list` (not `selfIdx`, of the wanted
   *  families) into `picked`. */
  private sample(list: PeerList, selfIdx: number, want: number, families: number): number {
    const len = list.length;
    const addr = list.addr;
    const both = families === (FAMILY_V4 | FAMILY_V6);
    const v4 = (families & FAMILY_V4) !== 0;
    if (picked.length < want) picked = new Int32Array(want);
    let taken = 0;
    if (len <= want + 1) {
      for (let i = 0; i < len && taken < want; i++) {
        if (i === selfIdx || (!both && addr[i]! >= 0 !== v4)) continue;
        picked[taken++] = i;
      }
      return taken;
    }
    // A random arithmetic progression: a random start and a random stride coprime with the
    // length visit distinct positions, each peer equally likely to be picked. Only the
    // address array is read (a Fisher-Yates shuffle that kept each peer's position up to
    // date wrote two random peer objects per pick: cache misses, half of an announce).
    const rnd = this.random;
    let stride = 1 + Math.floor(rnd() * (len - 1));
    while (gcd(stride, len) !== 1) stride = stride === len - 1 ? 1 : stride + 1;
    let j = Math.floor(rnd() * len);
    for (let k = 0; k < len && taken < want; k++) {
      const i = j;
      j += stride;
      if (j >= len) j -= len;
      if (i === selfIdx || (!both && addr[i]! >= 0 !== v4)) continue;
      picked[taken++] = i;
    }
    return taken;
  }

  private output(list: PeerList, complete: number, incomplete: number, n: number, withIds: boolean): AnnounceOutput {
    const addr = list.addr;
    let n4 = 0;
    for (let i = 0; i < n; i++) if (addr[picked[i]!]! >= 0) n4++;
    const n6 = n - n4;
    const peers4 = n4 ? Buffer.allocUnsafe(6 * n4) : EMPTY;
    const peers6 = n6 ? Buffer.allocUnsafe(18 * n6) : EMPTY;
    const ids4 = withIds && n4 ? Buffer.allocUnsafe(20 * n4) : undefined;
    const ids6 = withIds && n6 ? Buffer.allocUnsafe(20 * n6) : undefined;
    let o4 = 0;
    let o6 = 0;
    for (let i = 0; i < n; i++) {
      const pos = picked[i]!;
      const key = addr[pos]!;
      if (key >= 0) {
        // Bytes written directly: Buffer's writeUInt32BE/16BE calls checked bounds per peer.
        const ip = Math.floor(key / 65536);
        const port = key - ip * 65536;
        const o = 6 * o4;
        peers4[o] = ip >>> 24;
        peers4[o + 1] = (ip >>> 16) & 0xff;
        peers4[o + 2] = (ip >>> 8) & 0xff;
        peers4[o + 3] = ip & 0xff;
        peers4[o + 4] = port >>> 8;
        peers4[o + 5] = port & 0xff;
        if (ids4) ids4.write(list.peers[pos]!.id, 20 * o4, 20, 'latin1');
        o4++;
      } else {
        const p = list.peers[pos]!;
        (peers6 as Buffer).write(p.addr6!, 18 * o6, 16, 'latin1');
        (peers6 as Buffer).writeUInt16BE(p.port, 18 * o6 + 16);
        if (ids6) ids6.write(p.id, 20 * o6, 20, 'latin1');
        o6++;
      }
    }
    const out: AnnounceOutput = { complete, incomplete, peers4, peers6 };
    if (withIds) {
      out.peerIds4 = ids4 ?? EMPTY;
      out.peerIds6 = ids6 ?? EMPTY;
    }
    return out;
  }

  private setSeeder(swarm: Swarm, p: Peer, seeder: boolean): void {
    if (seeder) {
      swarm.leechers.removeAt(p.leechIdx, false);
      p.leechIdx = -1;
      swarm.seeders++;
      this.totalSeeders++;
    } else {
      p.leechIdx = swarm.leechers.push(p);
      swarm.seeders--;
      this.totalSeeders--;
    }
    p.seeder = seeder;
  }

  private removePeer(swarm: Swarm, p: Peer): void {
    swarm.peers.delete(p.id);
    swarm.all.removeAt(p.allIdx, true);
    if (p.seeder) {
      swarm.seeders--;
      this.totalSeeders--;
    } else {
      swarm.leechers.removeAt(p.leechIdx, false);
    }
    this.totalPeers--;
  }

  scrape(infoHashes: readonly Buffer[]): ScrapeCounts[] {
    const out: ScrapeCounts[] = [];
    for (const h of infoHashes) {
      const s = this.swarms.get(h.toString('latin1', 0, 20));
      out.push(s ? { complete: s.seeders, downloaded: s.downloaded, incomplete: s.all.length - s.seeders } : { complete: 0, downloaded: 0, incomplete: 0 });
    }
    return out;
  }

  listPeers(infoHash: Buffer, limit: number): SwarmPeer[] {
    const s = this.swarms.get(infoHash.toString('latin1', 0, 20));
    if (!s) return [];
    const out: SwarmPeer[] = [];
    for (const p of s.all.peers) {
      if (out.length >= limit) break;
      const b = compactOf(p);
      const len = b.length === 6 ? 6 : 18;
      out.push({
        ip: compactIpText(b, 0, len),
        port: b.readUInt16BE(len - 2),
        seeder: p.seeder,
        lastSeenMs: this.epochMs + p.lastSeenS * 1000,
        peerIdHex: Buffer.from(p.id, 'latin1').toString('hex'),
      });
    }
    return out;
  }

  stats(): StoreStats {
    return { torrents: this.swarms.size, seeders: this.totalSeeders, leechers: this.totalPeers - this.totalSeeders };
  }

  topSwarms(limit: number): SwarmSummary[] {
    // One pass keeping the `limit` biggest (limit is small: a status page's table).
    const top: { key: string; s: Swarm }[] = [];
    for (const [key, s] of this.swarms) {
      if (top.length < limit) {
        top.push({ key, s });
        top.sort((x, y) => y.s.all.length - x.s.all.length);
      } else if (limit > 0 && s.all.length > top[top.length - 1]!.s.all.length) {
        top[top.length - 1] = { key, s };
        top.sort((x, y) => y.s.all.length - x.s.all.length);
      }
    }
    return top.map(({ key, s }) => ({
      infoHashHex: Buffer.from(key, 'latin1').toString('hex'),
      complete: s.seeders,
      downloaded: s.downloaded,
      incomplete: s.all.length - s.seeders,
    }));
  }

  expire(nowMs: number): number {
    const cutoff = this.seconds(nowMs) - this.limits.peerTtlS;
    let dropped = 0;
    for (const [key, s] of this.swarms) dropped += this.expireSwarm(key, s, cutoff);
    return dropped;
  }

  /** Where the timer's sweep is in the swarm map (deleting entries while iterating a Map is
   *  well defined: they are skipped). */
  private sweepIter: Iterator<[string, Swarm]> | undefined;

  /** Swarms in the map when the current pass began: each tick checks its share of them. */
  private sweepPassSize = 0;

  /** Checks the next `fraction` of a pass's swarms; a new pass starts after the last. */
  private sweepStep(nowMs: number, fraction: number): void {
    const cutoff = this.seconds(nowMs) - this.limits.peerTtlS;
    if (!this.sweepIter) {
      this.sweepIter = this.swarms.entries();
      this.sweepPassSize = this.swarms.size;
    }
    const budget = Math.ceil(this.sweepPassSize * fraction);
    for (let n = 0; n < budget; n++) {
      const r = this.sweepIter.next();
      if (r.done) {
        this.sweepIter = undefined;
        return;
      }
      this.expireSwarm(r.value[0], r.value[1], cutoff);
    }
  }

  private expireSwarm(key: string, s: Swarm, cutoff: number): number {
    let dropped = 0;
    // Walk backwards so swap-removal never skips a peer.
    for (let i = s.all.length - 1; i >= 0; i--) {
      const p = s.all.peers[i]!;
      if (p.lastSeenS < cutoff) {
        this.removePeer(s, p);
        dropped++;
      }
    }
    if (s.all.length === 0 && s.lastActivityS < cutoff) this.swarms.delete(key);
    return dropped;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await (this.catalogue as Partial<{ close(): Promise<void> }>).close?.();
  }
}

const EMPTY = Buffer.alloc(0);

/** Buffer's own latin1 slicer, straight: toString(encoding, ...) first dispatches on the
 *  encoding through a lookup that is megamorphic in a process using several encodings. */
const latin1Slice =
  (Buffer.prototype as unknown as { latin1Slice?: (this: Buffer, start: number, end: number) => string }).latin1Slice ??
  function (this: Buffer, start: number, end: number): string {
    return this.toString('latin1', start, end);
  };

/** The first 20 bytes (an info hash or a peer id) as a latin1 string: a Map key. */
function latin1(b: Buffer): string {
  return latin1Slice.call(b, 0, 20);
}

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}



/** A memory store; its catalogue persists under `opts.dataDir` when given. */
export async function createMemoryStore(opts: MemoryStoreOptions = {}): Promise<MemoryStore> {
  const catalogue = await createFileCatalogue(opts.dataDir);
  return new MemoryStore(catalogue, opts);
}
