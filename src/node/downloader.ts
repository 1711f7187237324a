// The download side of a torrent: keeps each peer's request pipeline full from the piece
// picker, assembles arriving blocks into piece buffers, verifies each piece (SHA-1 on this
// thread), writes it, and feeds hash failures to smart ban.
import { createHash } from 'node:crypto';
import {
  BLOCK_SIZE,
  pipelineDepth,
  type BlockAttribution,
  type BlockRequest,
} from '../peer/download/index.js';
import { Bitfield } from '../util/index.js';
import type { TorrentContext } from './context.js';
import type { Peer } from './peer.js';

/** Spare piece buffers kept for reuse, so a steady download allocates nothing per piece:
 *  up to this many bytes' worth (at least 8 buffers). */
const SPARE_PIECE_BYTES = 32 * 1024 * 1024;

/** Piece writes handed to storage at once (see write()). */
const WRITES_IN_FLIGHT = 1;

/** One write call takes at most this much of a run of neighbouring pieces (see pumpWrites). */
const MAX_WRITE_RUN_BYTES = 4 * 1024 * 1024;

interface PendingWrite {
  piece: Buffer;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Bytes of complete pieces waiting for their hash check or their write. Past this, we
 *  stop reading from peers (TCP then slows them) until the disk catches up to half: the
 *  leecher's memory stays bounded whatever the network outruns. */
const MAX_PENDING_VERIFY_BYTES = 16 * 1024 * 1024;

export class Downloader {
  private readonly buffers = new Map<number, Buffer>();
  private readonly spare: Buffer[] = [];
  /** Pieces being hashed or written. */
  private readonly verifying = new Set<number>();
  private verifyingBytes = 0;
  /** Verified pieces waiting for their write, by index, oldest first (Map order). */
  private readonly writeQueue = new Map<number, PendingWrite>();
  private writesInFlight = 0;
  private readingPaused = false;
  private stopped = false;

  constructor(private readonly t: TorrentContext) {}

  get piecesInMemory(): number {
    return this.buffers.size + this.verifying.size;
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
    const pk = this.t.picker;
    if (!force && peer.depth > 0 && peer.depth - peer.outstanding.size < Math.max(1, peer.depth >> 3)) return;
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
    const reqs = pk.pickBlocks(peer, need);
    const now = this.t.now();
    for (const r of reqs) {
      peer.outstanding.add(r, now);
      conn.sendRequest(r.piece, r.begin, r.length);
    }
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

  onReject(peer: Peer, index: number, begin: number): void {
    if (peer.outstanding.remove(index, begin)) this.t.picker?.releaseBlock(peer.id, index, begin);
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
      const expired = peer.outstanding.expire(now);
      for (const r of expired) {
        pk.releaseBlock(peer.id, r.piece, r.begin);
        peer.conn.sendCancel(r.piece, r.begin, r.length);
      }
      peer.snubbed = peer.outstanding.isSnubbing(now);
      this.updateInterest(peer);
    }
    this.fillAll();
  }

  // --- blocks ---

  onBlock(peer: Peer, index: number, begin: number, block: Buffer): void {
    const pk = this.t.picker;
    if (!pk) return;
    // Only a block we asked this peer for may enter a piece: data pushed unasked (or after a
    // cancel) is dropped, so a peer cannot mix its bytes into pieces others are sending.
    if (!peer.outstanding.take(index, begin, block.length, this.t.now())) {
      this.fill(peer);
      return;
    }
    const size = pk.pieceSize(index);
    if (index >= pk.pieceCount || begin % BLOCK_SIZE !== 0 || block.length !== Math.min(BLOCK_SIZE, size - begin)) {
      return; // not a block we could have asked for; the connection already counted it
    }
    const res = pk.blockReceived(peer.id, index, begin);
    if (res.status === 'accepted') {
      let buf = this.buffers.get(index);
      if (!buf) {
        buf = this.allocPiece();
        this.buffers.set(index, buf);
      }
      buf.set(block, begin);
      this.t.addDownloaded(block.length);
      for (const id of res.cancel) {
        const other = this.t.peers.get(id);
        if (other && other.outstanding.remove(index, begin)) other.conn.sendCancel(index, begin, block.length);
      }
      if (res.pieceComplete) {
        this.buffers.delete(index);
        void this.verify(index, buf);
      }
    }
    this.fill(peer);
  }

  /** A buffer of a whole piece length (its own memory, outside Node's pool slabs); the
   *  piece uses its first pieceSize bytes. */
  private allocPiece(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(this.t.meta!.pieceLength);
  }

  private recycle(buf: Buffer): void {
    const len = this.t.meta?.pieceLength;
    if (buf.length === len && this.spare.length < Math.max(8, SPARE_PIECE_BYTES / len)) this.spare.push(buf);
  }

  private async verify(index: number, buf: Buffer): Promise<void> {
    const { storage, picker: pk, meta } = this.t;
    if (!storage || !pk || !meta) return;
    const size = pk.pieceSize(index);
    this.verifying.add(index);
    this.verifyingBytes += size;
    if (!this.readingPaused && this.verifyingBytes > MAX_PENDING_VERIFY_BYTES) {
      this.readingPaused = true;
      for (const p of this.t.peers.values()) p.conn.pauseReading();
    }
    const senders = pk.sendersOf(index);
    try {
      // SHA-1 here on the event loop, not in a worker: the round trip of a piece to a worker
      // and back cost more CPU than it spared this thread, and the workers' start-up on top
      // (docs/peer-engine.md, "Where the leecher's CPU goes"). 1 MiB hashes in ~0.6 ms.
      const piece = buf.subarray(0, size);
      const digest = createHash('sha1').update(piece).digest();
      // Act on it after the read that completed the piece is dispatched (as when the hash
      // came back from a worker): a failure may ban and close peers.
      await null;
      if (this.stopped) return;
      if (!digest.equals(meta.pieces.subarray(index * 20, index * 20 + 20))) {
        this.hashFailed(index, piece, senders);
        return;
      }
      await this.write(index, piece);
      if (this.stopped) return;
      if (this.t.smartBan.hasFailed(index)) {
        for (const b of this.t.smartBan.piecePassed(index, blockDigests(piece))) this.t.ban(b.address, b.reason);
      }
      pk.pieceVerified(index);
      const from = this.addressesOf(senders);
      this.t.smartBan.contributed(from);
      this.t.pieceDone(index, from);
    } catch (e) {
      if (this.stopped) return;
      // A disk error: the piece goes back to the pool; the torrent reports the error.
      pk.pieceFailed(index);
      this.t.events.emit('error', e instanceof Error ? e : new Error(String(e)));
    } finally {
      this.verifying.delete(index);
      this.verifyingBytes -= size;
      if (this.readingPaused && this.verifyingBytes <= MAX_PENDING_VERIFY_BYTES / 2) {
        this.readingPaused = false;
        for (const p of this.t.peers.values()) p.conn.resumeReading();
      }
      this.recycle(buf);
    }
  }

  /** Writes go out WRITES_IN_FLIGHT (one) at a time: a buffered write holds the file's
   *  inode lock while it copies into the page cache, and a second write into the same
   *  file spins on that lock (rwsem_spin_on_owner) for the whole copy. With two in flight
   *  perf counted ~10% of the leecher's CPU in that spin on a 1 GiB download; with one it
   *  is gone, and the copy (not the queue) is what bounds the writing thread anyway. */
  private write(index: number, piece: Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.writeQueue.set(index, { piece, resolve, reject });
      this.pumpWrites();
    });
  }

  /** Starts the oldest queued write, together with the queued pieces next to it (the
   *  picker takes equally rare pieces an extent at a time, so they finish as neighbours):
   *  one writev per run instead of a write per piece. Each write costs ~0.1 ms of the
   *  event loop (promises, the thread pool's round trip) whatever its size, which made
   *  16 KiB pieces crawl. */
  private pumpWrites(): void {
    const st = this.t.storage;
    while (st && this.writesInFlight < WRITES_IN_FLIGHT && this.writeQueue.size > 0) {
      const q = this.writeQueue;
      let first = q.keys().next().value as number;
      let last = first;
      let bytes = q.get(first)!.piece.length;
      while (bytes < MAX_WRITE_RUN_BYTES && q.has(last + 1)) bytes += q.get(++last)!.piece.length;
      while (bytes < MAX_WRITE_RUN_BYTES && q.has(first - 1)) bytes += q.get(--first)!.piece.length;
      const run: PendingWrite[] = [];
      for (let i = first; i <= last; i++) {
        run.push(q.get(i)!);
        q.delete(i);
      }
      this.writesInFlight++;
      st.writePieces(
        first,
        run.map((w) => w.piece),
      )
        .then(
          () => {
            for (const w of run) w.resolve();
          },
          (e: unknown) => {
            for (const w of run) w.reject(e);
          },
        )
        .finally(() => {
          this.writesInFlight--;
          this.pumpWrites();
        });
    }
  }

  private hashFailed(index: number, buf: Buffer, senders: number[]): void {
    const pk = this.t.picker!;
    pk.pieceFailed(index);
    this.t.events.emit('hash-failed', { index });
    const digests = blockDigests(buf);
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

  /** A new peer starts paused if the disk is behind. */
  rememberPeer(peer: Peer): void {
    if (this.readingPaused) peer.conn.pauseReading();
    if (this.idToBanKey.size > 100_000) this.idToBanKey.clear();
    this.idToBanKey.set(peer.id, peer.banKey);
  }

  private banKeyOf(id: number): string | undefined {
    return this.idToBanKey.get(id);
  }

  private addressesOf(ids: number[]): string[] {
    const out = new Set<string>();
    for (const id of ids) {
      const k = this.idToBanKey.get(id);
      if (k) out.add(k);
    }
    return [...out];
  }

  /** Requests outstanding in all (diagnostics). */
  outstandingCount(): number {
    let n = 0;
    for (const p of this.t.peers.values()) n += p.outstanding.size;
    return n;
  }

  stop(): void {
    this.stopped = true;
    this.buffers.clear();
    this.spare.length = 0;
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
