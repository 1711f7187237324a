// The upload side of a torrent: answers requests from verified pieces (reads through a
// small cache of piece chunks, sends zero-copy, respects socket backpressure), honours
// cancel, rejects what it will not serve (BEP 6), and runs the choker.
import { Choker, UploadRateLimit, judgeRequest, type ChokerPeer } from '../peer/upload/index.js';
import { ipToBytes } from '../peer/index.js';
import { allowedFastSet } from '../peer/wire/index.js';
import { MAX_READS_IN_FLIGHT_PER_PEER } from './config.js';
import type { TorrentContext } from './context.js';
import type { Peer } from './peer.js';

/** Unit of the read cache: a leecher asks for every block of a piece in a row, so one
 *  read of up to 1 MiB serves 64 requests. */
const READ_CHUNK = 1024 * 1024;
/** Bytes kept in the read cache (bounds the seeder's memory; 16 chunks of 1 MiB). */
const READ_CACHE_BYTES = 16 * 1024 * 1024;
/** Bytes queued on one peer's socket before we stop reading more blocks for it: enough
 *  to keep a loopback link busy between 'drain' events (the kernel buffer drains while
 *  we refill), small enough to bound memory per peer. */
const SEND_BUFFER_BYTES = 2 * 1024 * 1024;
/** Bytes of chunks one peer's unsent zero-copy blocks may keep alive; past it, blocks are
 *  copied. A peer fetching pieces in order pins one or two chunks; 4 MiB never copies
 *  there, and bounds what a slow, scattered reader can hold. */
const PINNED_BYTES_PER_PEER = 4 * 1024 * 1024;

/** The chunks one peer's unsent blocks are slices of, with the connection's byte count at
 *  which the last such slice is handed to the kernel. */
class ChunkPins {
  bytes = 0;
  private readonly last = new Map<Buffer, number>();
  /** In send order (so by `end`); at most the blocks queued on the socket. */
  private readonly order: { chunk: Buffer; end: number }[] = [];

  has(chunk: Buffer): boolean {
    return this.last.has(chunk);
  }

  /** A slice of `chunk` was queued; it is sent once `end` bytes have left. */
  pin(chunk: Buffer, end: number): void {
    if (!this.last.has(chunk)) this.bytes += chunk.length;
    this.last.set(chunk, end);
    this.order.push({ chunk, end });
  }

  /** `flushed` bytes have left the socket: unpin the chunks no unsent slice needs. */
  release(flushed: number): void {
    while (this.order.length > 0 && this.order[0]!.end <= flushed) {
      const { chunk, end } = this.order.shift()!;
      if (this.last.get(chunk) === end) {
        this.last.delete(chunk);
        this.bytes -= chunk.length;
      }
    }
  }
}

export class Uploader {
  private readonly cache = new Map<number, Promise<Buffer>>();
  private readonly pins = new WeakMap<Peer, ChunkPins>();
  private cacheBytes = 0;
  /** Bytes of chunk reads not yet finished. */
  private readingBytes = 0;
  private readonly choker: Choker;
  private stopped = false;
  /** The upload rate limit, if any; while it holds blocks back, one timer pumps again. */
  private readonly limit: UploadRateLimit | null;
  private limitTimer: NodeJS.Timeout | null = null;
  /** Where the next limited pump round starts, so no peer always goes first. */
  private rotate = 0;

  constructor(
    private readonly t: TorrentContext,
    slots: number,
    maxUploadRateBps = 0,
  ) {
    this.choker = new Choker({ slots });
    this.limit = maxUploadRateBps > 0 ? new UploadRateLimit(maxUploadRateBps, t.now()) : null;
  }

  onRequest(peer: Peer, index: number, begin: number, length: number): void {
    const st = this.t.storage;
    const meta = this.t.meta;
    if (!st || !meta || this.stopped) {
      peer.conn.sendReject(index, begin, length);
      return;
    }
    const v = judgeRequest(index, begin, length, {
      have: st.have,
      pieceCount: meta.pieceCount,
      pieceLength: meta.pieceLength,
      totalLength: meta.length,
      choking: peer.conn.amChoking,
      allowedFast: peer.allowedFastOut,
      queued: peer.uploads.size,
    });
    if (v.action === 'violation') {
      peer.conn.close(`protocol violation: ${v.why}`);
      return;
    }
    if (v.action === 'reject') {
      peer.conn.sendReject(index, begin, length);
      return;
    }
    peer.uploads.push({ piece: index, begin, length });
    this.pump(peer);
  }

  /** BEP 6: tell a new fast peer which of our pieces it may request while choked, so it
   *  has something to trade before the choker gets to it. */
  offerAllowedFast(peer: Peer): void {
    const st = this.t.storage;
    const meta = this.t.meta;
    const ip = ipToBytes(peer.conn.remoteAddress);
    if (!st || !meta || !peer.conn.fast || !ip || ip.length !== 4) return;
    for (const i of allowedFastSet(ip, this.t.infoHash, meta.pieceCount)) {
      if (!st.have.has(i) || peer.allowedFastOut.has(i)) continue;
      peer.allowedFastOut.add(i);
      peer.conn.sendAllowedFast(i);
    }
  }

  /** CANCEL: a request still queued is dropped. BEP 6: "each request is guaranteed to
   *  result in exactly one response", cancelled ones included, so a dropped one is
   *  answered with REJECT (as libtorrent does); one already being read is sent. */
  onCancel(peer: Peer, index: number, begin: number, length: number): void {
    if (peer.uploads.cancel(index, begin, length) && peer.conn.fast) peer.conn.sendReject(index, begin, length);
  }

  /** Sends queued blocks while the socket takes them. */
  pump(peer: Peer): void {
    const conn = peer.conn;
    const pins = this.pinsOf(peer);
    pins.release(conn.bytesWritten - conn.writableBytes);
    while (!peer.closed && !this.stopped && peer.uploads.size > 0 && peer.readsInFlight < MAX_READS_IN_FLIGHT_PER_PEER && conn.writableBytes < SEND_BUFFER_BYTES) {
      if (this.limit) {
        const now = this.t.now();
        if (!this.limit.ready(now)) {
          this.pumpLater(this.limit.waitMs(now));
          return;
        }
      }
      const r = peer.uploads.shift()!;
      this.limit?.take(r.length, this.t.now());
      // Read the whole chunk only when it will serve more than this block: it is cached
      // (or being read) already, or more requests of this piece are waiting. A peer asking
      // one block here and one there then costs one block's read each, not 1 MiB.
      const chunkStart = r.begin - (r.begin % READ_CHUNK);
      // Chunk reads in flight are bounded by the cache's size, whatever the peers ask.
      const whole = this.cache.has(this.chunkKey(r.piece, chunkStart)) || (peer.uploads.waiting(r.piece) > 0 && this.readingBytes + READ_CHUNK <= READ_CACHE_BYTES);
      const start = whole ? chunkStart : r.begin;
      peer.readsInFlight++;
      (whole ? this.readChunk(r.piece, chunkStart) : this.t.storage!.readBlock(r.piece, r.begin, r.length)).then(
        (chunk) => {
          peer.readsInFlight--;
          if (peer.closed || this.stopped) return;
          const off = r.begin - start;
          if (off + r.length > chunk.length) {
            conn.sendReject(r.piece, r.begin, r.length);
          } else {
            this.send(peer, r.piece, r.begin, chunk, off, r.length);
            this.t.addUploaded(r.length);
          }
          this.pump(peer);
        },
        () => {
          peer.readsInFlight--;
          if (peer.closed) return;
          conn.sendReject(r.piece, r.begin, r.length);
          this.pump(peer);
        },
      );
    }
  }

  /** Sends a block zero-copy as a slice of its chunk, unless this peer's unsent blocks
   *  already keep PINNED_BYTES_PER_PEER of other chunks alive: then as a copy. A slice keeps
   *  its whole chunk in memory until the kernel has taken it, so a peer that reads slowly
   *  and asks one block from each of many pieces made 2 MiB of queued blocks hold 128 MiB
   *  of chunks. */
  private send(peer: Peer, piece: number, begin: number, chunk: Buffer, off: number, length: number): void {
    const conn = peer.conn;
    const pins = this.pinsOf(peer);
    pins.release(conn.bytesWritten - conn.writableBytes);
    const slice = chunk.subarray(off, off + length);
    if (chunk.length > length && !pins.has(chunk) && pins.bytes + chunk.length > PINNED_BYTES_PER_PEER) {
      conn.sendPiece(piece, begin, Buffer.from(slice));
      return;
    }
    conn.sendPiece(piece, begin, slice);
    pins.pin(chunk, conn.bytesWritten);
  }

  private pinsOf(peer: Peer): ChunkPins {
    let p = this.pins.get(peer);
    if (!p) this.pins.set(peer, (p = new ChunkPins()));
    return p;
  }

  private chunkKey(piece: number, start: number): number {
    return piece * 0x10000 + start / READ_CHUNK;
  }

  /** The rate limit held blocks back: pump every peer once it allows more. */
  private pumpLater(ms: number): void {
    if (this.limitTimer || this.stopped) return;
    this.limitTimer = setTimeout(() => {
      this.limitTimer = null;
      const peers = [...this.t.peers.values()];
      if (peers.length === 0) return;
      this.rotate = (this.rotate + 1) % peers.length;
      for (let i = 0; i < peers.length; i++) this.pump(peers[(this.rotate + i) % peers.length]!);
    }, Math.max(1, ms));
    this.limitTimer.unref();
  }

  private readChunk(piece: number, start: number): Promise<Buffer> {
    const key = this.chunkKey(piece, start);
    const hit = this.cache.get(key);
    if (hit) {
      // Refresh its place in the LRU order.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const st = this.t.storage!;
    const len = Math.min(READ_CHUNK, st.pieceLength(piece) - start);
    const p = st.readBlock(piece, start, len);
    this.readingBytes += len;
    const settled = () => {
      this.readingBytes -= len;
    };
    p.then(settled, settled);
    this.cache.set(key, p);
    this.cacheBytes += len;
    p.catch(() => {
      if (this.cache.get(key) === p) {
        this.cache.delete(key);
        this.cacheBytes -= len;
      }
    });
    while (this.cacheBytes > READ_CACHE_BYTES && this.cache.size > 1) {
      const oldest = this.cache.keys().next().value as number;
      const lenOld = Math.min(READ_CHUNK, st.pieceLength(Math.floor(oldest / 0x10000)) - (oldest % 0x10000) * READ_CHUNK);
      this.cache.delete(oldest);
      this.cacheBytes -= lenOld;
    }
    return p;
  }

  /** The peer sent INTERESTED: unchoke it at once if a slot is free (libtorrent's
   *  preemptive unchoke); otherwise it waits for the next choke round. */
  onInterested(peer: Peer): void {
    if (this.stopped || peer.closed || !peer.conn.amChoking) return;
    if (!this.choker.hasFreeSlot(this.views())) return;
    peer.conn.sendUnchoke();
    peer.unchokedSinceMs = this.t.now();
  }

  private views(): ChokerPeer[] {
    const views: ChokerPeer[] = [];
    for (const p of this.t.peers.values()) {
      if (p.closed) continue;
      views.push({
        id: p.id,
        interested: p.conn.peerInterested,
        downloadRateBps: p.conn.downloadRate(),
        uploadRateBps: p.conn.uploadRate(),
        choked: p.conn.amChoking,
        unchokedSinceMs: p.unchokedSinceMs,
        snubbed: p.snubbed,
      });
    }
    return views;
  }

  /** A choke round: who we upload to. `seeding`: we have every wanted piece. */
  rechoke(seeding: boolean): void {
    if (this.stopped) return;
    const now = this.t.now();
    const d = this.choker.rechoke(this.views(), now, seeding);
    for (const p of this.t.peers.values()) {
      if (p.closed) continue;
      if (d.unchoke.has(p.id)) {
        if (p.conn.amChoking) {
          p.conn.sendUnchoke();
          p.unchokedSinceMs = now;
        }
      } else if (!p.conn.amChoking) {
        p.conn.sendChoke();
        p.unchokedSinceMs = now;
        for (const r of p.uploads.chokeDrop(p.allowedFastOut)) p.conn.sendReject(r.piece, r.begin, r.length);
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.limitTimer) clearTimeout(this.limitTimer);
    this.limitTimer = null;
    this.cache.clear();
    this.cacheBytes = 0;
  }
}
