// The in-process PeerStore: swarms in a Map keyed by the 20-byte info hash (as a latin1
// string); a swarm's peers in parallel arrays of small integers (struct of arrays, no object
// per peer), found by their peer id through a per-swarm open-addressing hash table. Every
// call synchronous. Sampling walks a random arithmetic progression over the swarm's peers
// (or its leechers, for seeders), so a reply costs O(numwant), not O(swarm), and writes
// nothing.
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

/** Smallest id table (slots); a power of two. */
const MIN_SLOTS = 8;

/**
 * A swarm's peers, peer i spread over plain arrays (not typed arrays: one costs ~250 bytes
 * of headers, too much for the many small swarms; V8 keeps these as unboxed small integers
 * or doubles, contiguous). Removal swaps the last peer into the hole, so positions stay
 * dense. No object and no string per peer: inserting one allocates nothing (but the arrays'
 * amortized growth), and the GC has no per-peer objects to trace.
 */
export class Swarm {
  /** Peer ids, 5 big-endian int32 words per peer (20 bytes). */
  readonly ids: number[] = [];
  /** IPv4 peers: address * 65536 + port (48 bits, exact in a double). IPv6 peers: -1 - port,
   *  the address in addr6. Sampling and writing replies read only this array. */
  readonly addr: number[] = [];
  /** IPv6 addresses (16-byte latin1 strings) by position, created for the first IPv6 peer;
   *  entries of IPv4 positions are stale and never read. */
  addr6: (string | undefined)[] | undefined = undefined;
  /** Last announce, seconds since the store's epoch. */
  readonly seen: number[] = [];
  /** Position in `leechers`; -1 for a seeder. */
  readonly leechPos: number[] = [];
  /** The leechers' positions (in the arrays above). */
  readonly leechers: number[] = [];
  /** Open addressing, linear probing: position + 1, 0 for empty; a power-of-two length, at
   *  most half full. */
  slots: number[] = newSlots(MIN_SLOTS);
  seeders = 0;
  downloaded = 0;
  lastActivityS = 0;

  get size(): number {
    return this.addr.length;
  }
}

function newSlots(n: number): number[] {
  return new Array<number>(n).fill(0);
}

/** The peer id being looked up, as 5 words (module state: the store is synchronous). */
let w0 = 0;
let w1 = 0;
let w2 = 0;
let w3 = 0;
let w4 = 0;

function loadId(b: Uint8Array): void {
  w0 = (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!;
  w1 = (b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!;
  w2 = (b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!;
  w3 = (b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!;
  w4 = (b[16]! << 24) | (b[17]! << 16) | (b[18]! << 8) | b[19]!;
}

/** A keyed 32-bit hash of the 5 words (multiply-xorshift rounds over all 20 bytes, seeded per
 *  store, so ids a client picks to collide in one store do not collide in another; the
 *  per-swarm peer cap bounds any probe run anyway). */
function hashId(seed: number, a: number, b: number, c: number, d: number, e: number): number {
  let h = seed;
  h = Math.imul(h ^ a, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 16) ^ b, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x27d4eb2f);
  h = Math.imul(h ^ (h >>> 15) ^ e, 0x165667b1);
  // A full avalanche at the end (murmur3's fmix32): without it the high bits of the last word
  // reached only the high half of h, so ids differing only there shared a home slot in
  // small tables whatever the seed.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The hash a store seeded with `seed` files a 20-byte peer id under (for tests). */
export function peerIdHash(seed: number, id: Uint8Array): number {
  loadId(id);
  return hashId(seed, w0, w1, w2, w3, w4);
}

function hashAt(seed: number, ids: number[], i: number): number {
  const o = 5 * i;
  return hashId(seed, ids[o]!, ids[o + 1]!, ids[o + 2]!, ids[o + 3]!, ids[o + 4]!);
}

/** Rebuilds the table with `n` slots (growth and shrink). */
function rehash(s: Swarm, seed: number, n: number): void {
  const slots = newSlots(n);
  const mask = n - 1;
  const len = s.addr.length;
  for (let i = 0; i < len; i++) {
    let j = hashAt(seed, s.ids, i) & mask;
    while (slots[j] !== 0) j = (j + 1) & mask;
    slots[j] = i + 1;
  }
  s.slots = slots;
}

/** The slot holding position i (which must be in the table). */
function slotOf(s: Swarm, seed: number, i: number): number {
  const slots = s.slots;
  const mask = slots.length - 1;
  let j = hashAt(seed, s.ids, i) & mask;
  while (slots[j] !== i + 1) j = (j + 1) & mask;
  return j;
}

/** Empties slot j, shifting later entries of its probe run back (no tombstones). */
function deleteSlot(s: Swarm, seed: number, j: number): void {
  const slots = s.slots;
  const mask = slots.length - 1;
  let hole = j;
  let k = (j + 1) & mask;
  for (;;) {
    const v = slots[k]!;
    if (v === 0) break;
    const home = hashAt(seed, s.ids, v - 1) & mask;
    // The entry at k may move to the hole if its home is not cyclically within (hole, k].
    if (((k - home) & mask) >= ((k - hole) & mask)) {
      slots[hole] = v;
      hole = k;
    }
    k = (k + 1) & mask;
  }
  slots[hole] = 0;
}

/** A compact IPv4 address and port as one number: address * 65536 + port. */
function v4Key(b: Uint8Array): number {
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) * 65536 + ((b[4]! << 8) | b[5]!);
}

function ip6Text(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, 16).toString('latin1');
}

function sameAddr(s: Swarm, i: number, b: Uint8Array): boolean {
  if (b.length === 6) return s.addr[i] === v4Key(b);
  return s.addr[i] === -1 - ((b[16]! << 8) | b[17]!) && s.addr6![i] === ip6Text(b);
}

/** Stores a compact address (6 or 18 bytes) at position i. */
function setAddr(s: Swarm, i: number, b: Uint8Array): void {
  if (b.length === 6) {
    s.addr[i] = v4Key(b);
  } else {
    s.addr[i] = -1 - ((b[16]! << 8) | b[17]!);
    (s.addr6 ??= [])[i] = ip6Text(b);
  }
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
  /** Seed of the peer-id hash (tests force collisions with it); random by default. */
  hashSeed?: number;
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
  private readonly seed: number;
  private totalPeers = 0;
  private totalSeeders = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(catalogue: Catalogue, opts: MemoryStoreOptions = {}) {
    this.limits = { ...DEFAULT_STORE_LIMITS, ...opts.limits };
    this.catalogue = catalogue;
    this.random = opts.random ?? Math.random;
    this.seed = opts.hashSeed ?? (Math.random() * 4294967296) | 0;
    const now = opts.now ?? Date.now;
    // Epoch a day back, so seen times stay positive for clocks tests move backwards a bit.
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

  /** Position of the peer whose id is in w0..w4, or -1. */
  private find(s: Swarm): number {
    const slots = s.slots;
    const mask = slots.length - 1;
    const ids = s.ids;
    let j = hashId(this.seed, w0, w1, w2, w3, w4) & mask;
    for (;;) {
      const v = slots[j]!;
      if (v === 0) return -1;
      const o = 5 * (v - 1);
      // The last word first: ids of one client share their first bytes.
      if (ids[o + 4] === w4 && ids[o + 3] === w3 && ids[o + 2] === w2 && ids[o + 1] === w1 && ids[o] === w0) return v - 1;
      j = (j + 1) & mask;
    }
  }

  announce(a: AnnounceInput): AnnounceOutput {
    const key = latin1(a.infoHash);
    let swarm = this.swarms.get(key);
    const nowS = this.seconds(a.nowMs);
    loadId(a.peerId);
    if (a.event === EVENT_STOPPED) {
      if (!swarm) return { complete: 0, incomplete: 0, peers4: EMPTY, peers6: EMPTY };
      const i = this.find(swarm);
      if (i >= 0) {
        // A leecher leaving with nothing left finished here, even if its `completed` was lost.
        if (swarm.leechPos[i]! >= 0 && a.seeder) swarm.downloaded++;
        this.removePeer(swarm, i);
      }
      swarm.lastActivityS = nowS;
      return { complete: swarm.seeders, incomplete: swarm.size - swarm.seeders, peers4: EMPTY, peers6: EMPTY };
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
    let self = this.find(swarm);
    if (self >= 0) {
      swarm.seen[self] = nowS;
      if (!sameAddr(swarm, self, a.addr)) setAddr(swarm, self, a.addr);
      const wasSeeder = swarm.leechPos[self]! < 0;
      if (a.seeder !== wasSeeder) {
        // A known leecher now reporting left=0 completed a download, `completed` event or not
        // (UDP loses packets; some clients fold it into their next announce).
        if (a.seeder) swarm.downloaded++;
        this.setSeeder(swarm, self, a.seeder);
      }
    } else {
      if (a.event === EVENT_COMPLETED) swarm.downloaded++;
      if (swarm.size < this.limits.maxPeersPerSwarm && this.totalPeers < this.limits.maxPeers) self = this.insert(swarm, a.addr, nowS, a.seeder);
    }
    const complete = swarm.seeders;
    const incomplete = swarm.size - swarm.seeders;
    if (a.numwant <= 0) return { complete, incomplete, peers4: EMPTY, peers6: EMPTY };
    const n = a.seeder ? this.sample(swarm, swarm.leechers, -1, a.numwant, a.families) : this.sample(swarm, undefined, self, a.numwant, a.families);
    return this.output(swarm, complete, incomplete, n, a.withPeerIds);
  }

  /** Appends the peer whose id is in w0..w4; returns its position. */
  private insert(s: Swarm, addr: Uint8Array, nowS: number, seeder: boolean): number {
    const i = s.addr.length;
    if (2 * (i + 1) > s.slots.length) rehash(s, this.seed, 2 * s.slots.length);
    s.ids.push(w0, w1, w2, w3, w4);
    setAddr(s, i, addr);
    s.seen.push(nowS);
    if (seeder) {
      s.leechPos.push(-1);
      s.seeders++;
      this.totalSeeders++;
    } else {
      s.leechPos.push(s.leechers.push(i) - 1);
    }
    const slots = s.slots;
    const mask = slots.length - 1;
    let j = hashId(this.seed, w0, w1, w2, w3, w4) & mask;
    while (slots[j] !== 0) j = (j + 1) & mask;
    slots[j] = i + 1;
    this.totalPeers++;
    return i;
  }

  /** Picks up to `want` positions (not `selfIdx`, of the wanted families) into `picked`:
   *  of the whole swarm, or of the positions listed in `among`. */
  private sample(s: Swarm, among: number[] | undefined, selfIdx: number, want: number, families: number): number {
    const len = among ? among.length : s.addr.length;
    const addr = s.addr;
    const both = families === (FAMILY_V4 | FAMILY_V6);
    const v4 = (families & FAMILY_V4) !== 0;
    if (picked.length < want) picked = new Int32Array(want);
    let taken = 0;
    if (len <= want + 1) {
      for (let k = 0; k < len && taken < want; k++) {
        const i = among ? among[k]! : k;
        if (i === selfIdx || (!both && addr[i]! >= 0 !== v4)) continue;
        picked[taken++] = i;
      }
      return taken;
    }
    // A random arithmetic progression: a random start and a random stride coprime with the
    // length visit distinct positions, each peer equally likely to be picked. Only the
    // address array is read.
    const rnd = this.random;
    let stride = 1 + Math.floor(rnd() * (len - 1));
    while (gcd(stride, len) !== 1) stride = stride === len - 1 ? 1 : stride + 1;
    let j = Math.floor(rnd() * len);
    for (let k = 0; k < len && taken < want; k++) {
      const i = among ? among[j]! : j;
      j += stride;
      if (j >= len) j -= len;
      if (i === selfIdx || (!both && addr[i]! >= 0 !== v4)) continue;
      picked[taken++] = i;
    }
    return taken;
  }

  private output(s: Swarm, complete: number, incomplete: number, n: number, withIds: boolean): AnnounceOutput {
    const addr = s.addr;
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
        if (ids4) writeId(ids4, 20 * o4, s.ids, pos);
        o4++;
      } else {
        const port = -1 - key;
        (peers6 as Buffer).write(s.addr6![pos]!, 18 * o6, 16, 'latin1');
        peers6[18 * o6 + 16] = port >>> 8;
        peers6[18 * o6 + 17] = port & 0xff;
        if (ids6) writeId(ids6, 20 * o6, s.ids, pos);
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

  private setSeeder(s: Swarm, i: number, seeder: boolean): void {
    if (seeder) {
      this.unlistLeecher(s, i);
      s.seeders++;
      this.totalSeeders++;
    } else {
      s.leechPos[i] = s.leechers.push(i) - 1;
      s.seeders--;
      this.totalSeeders--;
    }
  }

  /** Takes position i out of the leechers (swap-remove), marking it a seeder. */
  private unlistLeecher(s: Swarm, i: number): void {
    const pos = s.leechPos[i]!;
    const last = s.leechers.pop()!;
    if (pos < s.leechers.length) {
      s.leechers[pos] = last;
      s.leechPos[last] = pos;
    }
    s.leechPos[i] = -1;
  }

  /** Removes the peer at position i: the last peer moves into its place. */
  private removePeer(s: Swarm, i: number): void {
    const seed = this.seed;
    if (s.leechPos[i]! >= 0) this.unlistLeecher(s, i);
    else {
      s.seeders--;
      this.totalSeeders--;
    }
    deleteSlot(s, seed, slotOf(s, seed, i));
    const last = s.addr.length - 1;
    if (i !== last) {
      // The last peer's slot is found by its id, so before its words move.
      const j = slotOf(s, seed, last);
      s.slots[j] = i + 1;
      const ids = s.ids;
      for (let k = 0; k < 5; k++) ids[5 * i + k] = ids[5 * last + k]!;
      s.addr[i] = s.addr[last]!;
      if (s.addr6 && s.addr[last]! < 0) s.addr6[i] = s.addr6[last];
      s.seen[i] = s.seen[last]!;
      const lp = s.leechPos[last]!;
      s.leechPos[i] = lp;
      if (lp >= 0) s.leechers[lp] = i;
    }
    s.ids.length = 5 * last;
    s.addr.length = last;
    if (s.addr6 && s.addr6.length > last) s.addr6.length = last;
    s.seen.length = last;
    s.leechPos.length = last;
    this.totalPeers--;
    // Shrink a table an eighth full (expiry draining a big swarm frees its slots).
    if (s.slots.length > MIN_SLOTS && 8 * last < s.slots.length) rehash(s, seed, Math.max(MIN_SLOTS, s.slots.length >>> 2));
  }

  scrape(infoHashes: readonly Buffer[]): ScrapeCounts[] {
    const out: ScrapeCounts[] = [];
    for (const h of infoHashes) {
      const s = this.swarms.get(h.toString('latin1', 0, 20));
      out.push(s ? { complete: s.seeders, downloaded: s.downloaded, incomplete: s.size - s.seeders } : { complete: 0, downloaded: 0, incomplete: 0 });
    }
    return out;
  }

  listPeers(infoHash: Buffer, limit: number): SwarmPeer[] {
    const s = this.swarms.get(infoHash.toString('latin1', 0, 20));
    if (!s) return [];
    const out: SwarmPeer[] = [];
    for (let i = 0; i < s.size && out.length < limit; i++) {
      const key = s.addr[i]!;
      let ip: string;
      let port: number;
      if (key >= 0) {
        const b = Buffer.allocUnsafe(6);
        b.writeUInt32BE(Math.floor(key / 65536), 0);
        ip = compactIpText(b, 0, 6);
        port = key % 65536;
      } else {
        ip = compactIpText(Buffer.from(s.addr6![i]! + '\0\0', 'latin1'), 0, 18);
        port = -1 - key;
      }
      const id = Buffer.allocUnsafe(20);
      writeId(id, 0, s.ids, i);
      out.push({ ip, port, seeder: s.leechPos[i]! < 0, lastSeenMs: this.epochMs + s.seen[i]! * 1000, peerIdHex: id.toString('hex') });
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
        top.sort((x, y) => y.s.size - x.s.size);
      } else if (limit > 0 && s.size > top[top.length - 1]!.s.size) {
        top[top.length - 1] = { key, s };
        top.sort((x, y) => y.s.size - x.s.size);
      }
    }
    return top.map(({ key, s }) => ({
      infoHashHex: Buffer.from(key, 'latin1').toString('hex'),
      complete: s.seeders,
      downloaded: s.downloaded,
      incomplete: s.size - s.seeders,
    }));
  }

  /** Checks every swarm's arrays and id table against each other (tests); throws on the
   *  first inconsistency. O(peers). */
  checkIntegrity(): void {
    let peers = 0;
    let seeders = 0;
    const fail = (m: string): never => {
      throw new Error(`memory store integrity: ${m}`);
    };
    for (const s of this.swarms.values()) {
      const n = s.size;
      peers += n;
      if (s.ids.length !== 5 * n || s.seen.length !== n || s.leechPos.length !== n) fail('array lengths');
      const slots = s.slots;
      if (slots.length < MIN_SLOTS || (slots.length & (slots.length - 1)) !== 0) fail('table size');
      if (2 * n > slots.length) fail('table over half full');
      let used = 0;
      for (let j = 0; j < slots.length; j++) {
        const v = slots[j]!;
        if (v === 0) continue;
        used++;
        if (v < 1 || v > n) fail(`slot ${j} holds ${v}`);
        // Every slot between the entry's home and j is taken (linear probing's invariant).
        const mask = slots.length - 1;
        for (let k = hashAt(this.seed, s.ids, v - 1) & mask; k !== j; k = (k + 1) & mask) if (slots[k] === 0) fail('hole in a probe run');
      }
      if (used !== n) fail(`${used} slots for ${n} peers`);
      for (let i = 0; i < n; i++) {
        const mask = slots.length - 1;
        let j = hashAt(this.seed, s.ids, i) & mask;
        while (slots[j] !== i + 1) {
          if (slots[j] === 0) fail(`peer ${i} not found from its home slot`);
          j = (j + 1) & mask;
        }
        const lp = s.leechPos[i]!;
        if (lp >= 0 ? s.leechers[lp] !== i : lp !== -1) fail('leecher position');
        if (lp < 0) seeders++;
        if (s.addr[i]! < 0 && typeof s.addr6?.[i] !== 'string') fail('IPv6 address missing');
      }
      if (n - s.leechers.length !== s.seeders) fail('seeder count');
    }
    if (peers !== this.totalPeers || seeders !== this.totalSeeders) fail('totals');
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
    for (let i = s.size - 1; i >= 0; i--) {
      if (s.seen[i]! < cutoff) {
        this.removePeer(s, i);
        dropped++;
      }
    }
    if (s.size === 0 && s.lastActivityS < cutoff) this.swarms.delete(key);
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

/** Writes the id at position `pos` (5 words) as 20 bytes at `o`. */
function writeId(out: Uint8Array, o: number, ids: number[], pos: number): void {
  for (let k = 0; k < 5; k++) {
    const w = ids[5 * pos + k]!;
    out[o + 4 * k] = w >>> 24;
    out[o + 4 * k + 1] = (w >>> 16) & 0xff;
    out[o + 4 * k + 2] = (w >>> 8) & 0xff;
    out[o + 4 * k + 3] = w & 0xff;
  }
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
