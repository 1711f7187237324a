// The download side of a torrent: keeps each peer's request pipeline full from the piece
// picker, writes arriving blocks to disk as they come (straight from the socket's read
// buffer), hashes each piece (SHA-1 on this thread) as its blocks arrive in order, and feeds
// hash failures to smart ban.
import { createHash, type Hash } from 'node:crypto';
import {
  BLOCK_SIZE,
  pipelineDepth,
  type BlockAttribution,
  type BlockRequest,
} from '../peer/download/index.js';
import { sharedAlignedPool, type AlignedPool, type Storage } from '../storage/index.js';
import { Bitfield } from '../util/index.js';
import type { TorrentContext } from './context.js';
import type { Peer } from './peer.js';

/** A piece being received. Its blocks are on disk (or on their way there); `hash` has
 *  taken its first `hashed` bytes (the blocks that arrived in order). */
interface Assembly {
  index: number;
  size: number;
  hash: Hash;
  hashed: number;
  /** Blocks written on the thread pool (storage could not write them at once), if any. */
  writes: Promise<void>[] | null;
  /** Their bytes (copies held until written). */
  writeBytes: number;
  /** Direct mode: the piece is gathered here (an aligned buffer), hashed whole when
   *  complete and written whole with Storage.writePieceDirect once it verifies; its blocks
   *  are neither written nor hashed as they come. */
  buf: Buffer | null;
}

/** Bytes held for the disk: complete pieces waiting for their check, and block copies
 *  waiting for a thread-pool write. Past this, we stop reading from peers (TCP then slows
 *  them) until it is down to half: the leecher's memory stays bounded whatever the
 *  network outruns. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

/** Blocks that came out of order are hashed at the end by reading them back from disk
 *  (the page cache), this much per read. */
const READ_BACK_BYTES = 1024 * 1024;

export class Downloader {
  /** Pieces with blocks received and not complete yet. */
  private readonly assembling = new Map<number, Assembly>();
  /** Pieces complete and being checked. */
  private readonly verifying = new Set<number>();
  private pendingBytes = 0;
  private readonly scratch: Buffer[] = [];
  /** Complete pieces hashed whole on arrival, checked after the current read (checkReady). */
  private ready: Assembly[] = [];
  private readyScheduled = false;
  private readingPaused = false;
  private stopped = false;

  private readonly aligned: AlignedPool;

  constructor(
    private readonly t: TorrentContext,
    aligned?: AlignedPool,
  ) {
    this.aligned = aligned ?? sharedAlignedPool();
  }

  /** Pieces being received or checked. */
  get piecesInProgress(): number {
    return this.assembling.size + this.ready.length + this.verifying.size;
  }

  // --- availability and interest ---

  /** The peer's bitfield (or have-all/none) arrived, or metadata made it known. */
  onBitfield(peer: Peer): void {
    const pk = this.t.picker;
    const bf = peer.conn.peerBitfield;
    if (!pk || !bf) return;
    // Count only what was not counted yet: a bitfield may come after haves.
    const counted = (peer.counted ??= new Bitfield(pk.pieceCount));
    for (const i of bf.indexes()) {
      if (counted.has(i)) continue;
      counted.set(i);
      pk.peerHas(i);
    }
    this.updateInterest(peer);
    this.fill(peer, true);
  }

  onHave(peer: Peer, index: number): void {
    const pk = this.t.picker;
    if (!pk) return;
    const counted = (peer.counted ??= new Bitfield(pk.pieceCount));
    if (counted.has(index)) return;
    counted.set(index);
    pk.peerHas(index);
    if (!peer.conn.amInterested && pk.isWanted(index) && !pk.have.has(index)) {
      peer.conn.sendInterested();
      this.t.requestRechoke();
    }
    this.fill(peer);
  }

  updateInterest(peer: Peer): void {
    const pk = this.t.picker;
    const bf = peer.conn.peerBitfield;
    const want = !!pk && !!bf && !this.stopped && pk.interestedIn(bf);
    if (want && !peer.conn.amInterested) peer.conn.sendInterested();
    else if (!want && peer.conn.amInterested) peer.conn.sendNotInterested();
  }

  // --- requests ---

  /** Tops up the peer's pipeline to its depth. Unforced (after each block) it only
   *  compares the pipeline with the depth computed at the last refill: the depth follows
   *  the peer's rate, which moves slowly, and the tick (forced, every second) recomputes it. */
  fill(peer: Peer, force = false): void {
    if (!force && peer.depth > 0 && peer.depth - peer.outstanding.size < Math.max(1, peer.depth >> 3)) return;
    this.refill(peer, force);
  }

  /** fill() past its check (once per several blocks: kept out of the per-block path). */
  private refill(peer: Peer, force: boolean): void {
    const pk = this.t.picker;
    if (!pk || peer.closed || this.stopped || !peer.conn.peerBitfield) return;
    const conn = peer.conn;
    if (conn.peerChoking && conn.peerAllowedFast.size === 0) return;
    if (!conn.amInterested) return;
    const depth = pipelineDepth({ rateBps: conn.downloadRate(), peerReqq: peer.reqq, snubbed: peer.snubbed });
    peer.depth = depth;
    const need = depth - peer.outstanding.size;
    // Refill in batches: one picker pass per several blocks, not one per block.
    const batch = force ? 1 : Math.max(1, depth >> 3);
    if (need < batch) return;
    // The connection records each request in peer.outstanding (see rememberPeer).
    for (const r of pk.pickBlocks(peer, need)) conn.sendRequest(r.piece, r.begin, r.length);
  }

  fillAll(): void {
    for (const p of this.t.peers.values()) this.fill(p, true);
  }

  onUnchoke(peer: Peer): void {
    this.fill(peer, true);
  }

  onChoke(peer: Peer): void {
    // BEP 3: a choke drops our requests. With BEP 6 the peer rejects each one instead
    // (allowed-fast ones may still come), so only then keep them.
    if (!peer.conn.fast) this.releaseAll(peer);
  }

  /** BEP 6 reject of a request of ours (the connection reports only those, and has
   *  forgotten it). */
  onReject(peer: Peer, index: number, begin: number): void {
    this.t.picker?.releaseBlock(peer.id, index, begin);
  }

  /** The peer is gone: its requests go back to the picker, its pieces stop counting. */
  onClose(peer: Peer): void {
    this.releaseAll(peer);
    if (peer.counted) this.t.picker?.peerGone(peer.counted);
    peer.counted = null;
  }

  private releaseAll(peer: Peer): void {
    peer.outstanding.clear();
    this.t.picker?.releasePeer(peer.id);
  }

  /** Once a second: timed-out requests go elsewhere, snubbing peers get a short pipeline,
   *  and every pipeline is topped up. */
  tick(now: number): void {
    const pk = this.t.picker;
    if (!pk) return;
    for (const peer of this.t.peers.values()) {
      const expired = peer.outstanding.expired(now);
      for (let k = 0; k < expired.length; k += 2) {
        const index = expired[k]!;
        const begin = expired[k + 1]!;
        pk.releaseBlock(peer.id, index, begin);
        // Forgets the request, and allows for the block arriving anyway.
        peer.conn.sendCancel(index, begin, Math.min(BLOCK_SIZE, pk.pieceSize(index) - begin));
      }
      peer.snubbed = peer.outstanding.isSnubbing(now);
      this.updateInterest(peer);
    }
    this.fillAll();
  }

  // --- blocks ---

  /** A block from `peer`: `head` then `tail` (see PieceHandler); `requested`: it answered
   *  a request of ours (the connection matched it and forgot the request). */
  onBlock(peer: Peer, index: number, begin: number, head: Buffer, tail: Buffer, requested: boolean): void {
    const pk = this.t.picker;
    const st = this.t.storage;
    if (!pk || !st) return;
    // Only a block we asked this peer for may enter a piece: data pushed unasked (or after a
    // cancel) is dropped, so a peer cannot mix its bytes into pieces others are sending.
    // The connection matched it against our requests (and forgot the one it answers).
    if (!requested) {
      this.fill(peer);
      return;
    }
    const size = pk.pieceSize(index);
    const length = head.length + tail.length;
    if (length !== Math.min(BLOCK_SIZE, size - begin)) {
      // Not the block we asked for (a shorter one at its offset): it answered the request,
      // so the block goes back to the picker.
      this.wrongLength(peer, index, begin);
      return;
    }
    const res = pk.blockReceived(peer.id, index, begin);
    if (res.status === 'accepted') {
      let a = this.assembling.get(index);
      if (!a) a = this.startPiece(st, index, size);
      if (a.buf !== null) {
        // Hashed whole when complete: one SHA-1 call per piece instead of one per block
        // (~-0.05-0.1 CPU s per GiB, interleaved A/B). A block split between two reads is
        // copied here from each part: each byte copied once.
        a.buf.set(head, begin);
        if (tail.length !== 0) a.buf.set(tail, begin + head.length);
      } else {
        this.place(st, index, begin, tail.length === 0 ? head : Buffer.concat([head, tail], length), a);
      }
      this.t.addDownloaded(length);
      if (res.cancel.length > 0) this.cancelOthers(index, begin, length, res.cancel);
      if (res.pieceComplete) this.pieceComplete(a);
    }
    this.fill(peer);
  }

  /** The piece's last block is in. (Once per piece: a method of its own, which V8 does not
   *  inline into the per-block path it compiles.) */
  private pieceComplete(a: Assembly): void {
    this.assembling.delete(a.index);
    if (a.buf !== null || (a.writes === null && a.hashed === a.size && !this.t.smartBan.hasFailed(a.index))) {
      // The usual cases: a direct-mode piece, or every byte hashed on arrival and written.
      // Checked in one microtask per read (not an async function per piece, which cost more
      // to run and several times more to compile than the rest of the per-block path).
      if (a.buf !== null) this.holdDirect(a);
      this.ready.push(a);
      if (!this.readyScheduled) {
        this.readyScheduled = true;
        queueMicrotask(this.checkReady);
      }
    } else {
      void this.verify(a.index, a, null);
    }
  }

  /** A piece's first block: direct mode (a buffer from the aligned pool) when storage can
   *  write the piece that way and the pool has room, else blocks go to disk as they come. */
  private startPiece(st: Storage, index: number, size: number): Assembly {
    const buf = st.directPiece(index) ? this.aligned.take(size) : null;
    const a: Assembly = { index, size, hash: createHash('sha1'), hashed: 0, writes: null, writeBytes: 0, buf };
    this.assembling.set(index, a);
    return a;
  }

  /** A direct-mode piece is complete: its buffer counts as held for the disk until
   *  released (releaseDirect). */
  private holdDirect(a: Assembly): void {
    this.addPending(a.size);
  }

  /** A direct-mode piece, after the read that completed it: hashed from its buffer in one
   *  call and checked, then written (O_DIRECT; through the page cache if that fails), then
   *  it counts. A failed piece is never written: its blocks' digests come from the buffer.
   *  Promise callbacks rather than an async function: this runs once per piece, and V8
   *  compiled the async function (its resumable frame, try/finally) at ~20 ms. */
  private checkDirect(a: Assembly): void {
    const { storage: st, picker: pk, meta } = this.t;
    if (!st || !pk || !meta) {
      this.releaseDirect(a);
      return;
    }
    const index = a.index;
    const buf = a.buf!;
    const senders = pk.sendersOf(index);
    this.verifying.add(index);
    try {
      a.hash.update(buf);
      if (!a.hash.digest().equals(meta.pieces.subarray(index * 20, index * 20 + 20))) {
        this.hashFailed(index, buf, senders);
        this.releaseDirect(a);
        return;
      }
      if (this.t.smartBan.hasFailed(index)) for (const b of this.t.smartBan.piecePassed(index, blockDigests(buf))) this.t.ban(b.address, b.reason);
    } catch (e) {
      this.directFailed(a, e);
      return;
    }
    st.writePieceDirect(index, buf).then(
      () => this.directWritten(a, senders),
      () => this.writeThroughCache(a, senders),
    );
  }

  /** The direct write failed: the piece goes through the page cache instead (an error
   *  there is a disk error). */
  private writeThroughCache(a: Assembly, senders: number[]): void {
    const st = this.t.storage;
    if (this.stopped || !st) {
      this.releaseDirect(a);
      return;
    }
    st.writeBlock(a.index, 0, a.buf!).then(
      () => this.directWritten(a, senders),
      (e: unknown) => this.directFailed(a, e),
    );
  }

  private directWritten(a: Assembly, senders: number[]): void {
    if (!this.stopped) this.passed(a.index, senders);
    this.releaseDirect(a);
  }

  /** A disk error (or a failure checking the piece): it goes back to the pool; the torrent
   *  reports the error. */
  private directFailed(a: Assembly, e: unknown): void {
    if (!this.stopped) {
      this.t.picker?.pieceFailed(a.index);
      this.t.events.emit('error', e instanceof Error ? e : new Error(String(e)));
    }
    this.releaseDirect(a);
  }

  private releaseDirect(a: Assembly): void {
    this.verifying.delete(a.index);
    this.removePending(a.size);
    this.aligned.give(a.buf!);
  }

  private wrongLength(peer: Peer, index: number, begin: number): void {
    this.t.picker?.releaseBlock(peer.id, index, begin);
    this.fill(peer);
  }

  /** Endgame: the block arrived, the other peers asked for it get CANCEL. (A method of its
   *  own, like the rest of what runs rarely: code that has not run when onBlock is optimized
   *  makes the JIT discard it and compile it again the first time it does.) */
  private cancelOthers(index: number, begin: number, length: number, ids: readonly number[]): void {
    for (const id of ids) {
      const other = this.t.peers.get(id);
      if (other && other.outstanding.has(index, begin, length)) other.conn.sendCancel(index, begin, length);
    }
  }

  /** A block to disk and, when it is the next one in order, into the piece's hash.
   *  Normally written at once from `block` (a view of the socket's read buffer: no copy);
   *  when storage cannot do that, a copy goes to the thread pool. */
  private place(st: Storage, index: number, begin: number, block: Buffer, a: Assembly): void {
    if (st.writeBlockSync(index, begin, block)) {
      if (begin === a.hashed) {
        a.hash.update(block);
        a.hashed += block.length;
      }
      return;
    }
    const copy = Buffer.from(block);
    if (begin === a.hashed) {
      a.hash.update(copy);
      a.hashed += copy.length;
    }
    const w = st.writeBlock(index, begin, copy);
    (a.writes ??= []).push(w);
    a.writeBytes += copy.length;
    this.addPending(copy.length);
    // Settled here too, so a piece that never completes leaves no unhandled rejection;
    // verify() awaits the same promise and acts on its error.
    w.then(
      () => this.removePending(copy.length),
      () => this.removePending(copy.length),
    );
  }

  private addPending(bytes: number): void {
    this.pendingBytes += bytes;
    if (!this.readingPaused && this.pendingBytes > MAX_PENDING_BYTES) {
      this.readingPaused = true;
      for (const p of this.t.peers.values()) p.conn.pauseReading();
    }
  }

  private removePending(bytes: number): void {
    this.pendingBytes -= bytes;
    if (this.readingPaused && this.pendingBytes <= MAX_PENDING_BYTES / 2) {
      this.readingPaused = false;
      for (const p of this.t.peers.values()) p.conn.resumeReading();
    }
  }

  /** Runs after the read that completed these pieces was dispatched: a failure may ban
   *  and close peers, and a pass sends HAVEs and may complete the torrent. */
  private readonly checkReady = (): void => {
    this.readyScheduled = false;
    const ready = this.ready;
    this.ready = [];
    const meta = this.t.meta;
    for (let k = 0; k < ready.length; k++) {
      const a = ready[k]!;
      if (this.stopped || !meta) {
        for (; k < ready.length; k++) if (ready[k]!.buf !== null) this.releaseDirect(ready[k]!);
        return;
      }
      if (a.buf !== null) {
        this.checkDirect(a);
        continue;
      }
      const digest = a.hash.digest();
      if (digest.equals(meta.pieces.subarray(a.index * 20, a.index * 20 + 20))) this.passed(a.index, this.t.picker!.sendersOf(a.index));
      else void this.verify(a.index, a, digest);
    }
  };

  /** A verified piece, all written: it counts, and its senders earn trust. */
  private passed(index: number, senders: number[]): void {
    const { storage: st, picker: pk } = this.t;
    if (!st || !pk) return;
    try {
      st.markWritten(index);
      pk.pieceVerified(index);
      const from = this.addressesOf(senders);
      this.t.smartBan.contributed(from);
      this.t.pieceDone(index, from);
    } catch (e) {
      if (this.stopped) return;
      // Storage closed or failing: the piece goes back to the pool; the torrent reports it.
      pk.pieceFailed(index);
      this.t.events.emit('error', e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** A complete piece off the usual path: wait for its writes still on the thread pool,
   *  hash what was not hashed on arrival (blocks that came out of order) by reading it back
   *  from disk (the page cache), then mark it verified or act on the failure (`digest`:
   *  already computed, and wrong). */
  private async verify(index: number, a: Assembly, digest: Buffer | null): Promise<void> {
    const { storage: st, picker: pk, meta } = this.t;
    if (!st || !pk || !meta) return;
    const size = pk.pieceSize(index);
    this.verifying.add(index);
    this.addPending(size - a.writeBytes);
    const senders = pk.sendersOf(index);
    try {
      if (a.writes) {
        // allSettled: none of this piece's writes may still run once it goes back to the
        // pool (a late one would overwrite the next attempt's bytes).
        for (const r of await Promise.allSettled(a.writes)) if (r.status === 'rejected') throw r.reason;
      } else {
        await null; // after the read that completed the piece, as in checkReady
      }
      if (this.stopped) return;
      if (!digest) {
        if (a.hashed < size && !(await this.readBack(st, index, a.hashed, size, a.hash))) {
          // Bytes gone from disk under us (a file deleted or truncated): not the peers' fault.
          pk.pieceFailed(index);
          this.fillAll();
          return;
        }
        if (this.stopped) return;
        digest = a.hash.digest();
      }
      if (!digest.equals(meta.pieces.subarray(index * 20, index * 20 + 20))) {
        const piece = await this.readPiece(st, index, size);
        if (this.stopped) return;
        this.hashFailed(index, piece, senders);
        return;
      }
      if (this.t.smartBan.hasFailed(index)) {
        const piece = await this.readPiece(st, index, size);
        if (this.stopped) return;
        if (piece) for (const b of this.t.smartBan.piecePassed(index, blockDigests(piece))) this.t.ban(b.address, b.reason);
      }
      this.passed(index, senders);
    } catch (e) {
      if (this.stopped) return;
      // A disk error: the piece goes back to the pool; the torrent reports the error.
      pk.pieceFailed(index);
      this.t.events.emit('error', e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.verifying.delete(index);
      this.removePending(size - a.writeBytes);
    }
  }

  /** Hashes bytes [from, to) of piece `index` as written on disk, a chunk at a time;
   *  false if some are missing. */
  private async readBack(st: Storage, index: number, from: number, to: number, hash: Hash): Promise<boolean> {
    const buf = this.scratch.pop() ?? Buffer.allocUnsafeSlow(READ_BACK_BYTES);
    try {
      for (let off = from; off < to; off += READ_BACK_BYTES) {
        const chunk = buf.subarray(0, Math.min(READ_BACK_BYTES, to - off));
        if (!(await st.readUnverified(index, off, chunk))) return false;
        hash.update(chunk);
      }
      return true;
    } finally {
      if (this.scratch.length < 4) this.scratch.push(buf);
    }
  }

  /** The whole piece as written on disk (smart ban's per-block digests); null if some of
   *  it is missing. */
  private async readPiece(st: Storage, index: number, size: number): Promise<Buffer | null> {
    const buf = Buffer.allocUnsafe(size);
    return (await st.readUnverified(index, 0, buf)) ? buf : null;
  }

  private hashFailed(index: number, buf: Buffer | null, senders: number[]): void {
    const pk = this.t.picker!;
    pk.pieceFailed(index);
    this.t.events.emit('hash-failed', { index });
    const digests = buf ? blockDigests(buf) : new Map<number, string>();
    const blocks: BlockAttribution[] = senders.map((id, b) => ({
      address: this.banKeyOf(id),
      begin: b * BLOCK_SIZE,
      digest: digests.get(b * BLOCK_SIZE) ?? '',
    }));
    for (const d of this.t.smartBan.pieceFailed(index, blocks)) this.t.ban(d.address, d.reason);
    this.fillAll();
  }

  /** Peer ids are per connection; smart ban needs addresses that outlive it. */
  private readonly idToBanKey = new Map<number, string>();

  /** A new peer starts paused if the disk is behind. Its connection keeps our requests in
   *  peer.outstanding: one table per peer, which the connection checks arriving blocks
   *  against and this reads for timeouts and snubbing. */
  rememberPeer(peer: Peer): void {
    peer.conn.useRequestTable(peer.outstanding);
    if (this.readingPaused) peer.conn.pauseReading();
    if (this.idToBanKey.size > 100_000) this.idToBanKey.clear();
    this.idToBanKey.set(peer.id, peer.banKey);
  }

  private banKeyOf(id: number): string | undefined {
    return this.idToBanKey.get(id);
  }

  private addressesOf(ids: number[]): string[] {
    const out: string[] = [];
    let last = -2;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === last) continue; // a piece's blocks mostly come in runs from one peer
      last = id;
      const k = this.idToBanKey.get(id);
      if (k !== undefined && !out.includes(k)) out.push(k);
    }
    return out;
  }

  /** Requests outstanding in all (diagnostics). */
  outstandingCount(): number {
    let n = 0;
    for (const p of this.t.peers.values()) n += p.outstanding.size;
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const a of this.assembling.values()) if (a.buf) this.aligned.give(a.buf);
    this.assembling.clear();
    for (const a of this.ready) if (a.buf !== null) this.releaseDirect(a);
    this.ready = [];
    this.scratch.length = 0;
  }
}

function blockDigests(buf: Buffer): Map<number, string> {
  const out = new Map<number, string>();
  for (let begin = 0; begin < buf.length; begin += BLOCK_SIZE) {
    out.set(begin, createHash('sha1').update(buf.subarray(begin, Math.min(buf.length, begin + BLOCK_SIZE))).digest('hex'));
  }
  return out;
}

export type { BlockRequest };
