// The piece picker: which blocks to request from which peer. Rarest first with random
// ties, pieces already in progress finished first, endgame (duplicate requests with
// cancels) once every missing block is requested. Pure state: the session tells it what
// peers have and what arrived; it answers with block requests.
import type { Bitfield } from '../../util/index.js';
import { BLOCK_SIZE, ENDGAME_MAX_REQUESTERS } from './limits.js';

export interface BlockRequest {
  piece: number;
  begin: number;
  length: number;
}

/** What the picker needs to know about one peer when choosing for it. */
export interface PickerPeer {
  /** The session's small integer id for the connection. */
  readonly id: number;
  /** Pieces the peer has (its bitfield, updated by HAVE). */
  readonly has: Bitfield;
  /** The peer chokes us: only its allowed-fast pieces (BEP 6) may be requested. */
  readonly choking: boolean;
  readonly allowedFast?: ReadonlySet<number>;
}

export interface PickerOptions {
  pieceCount: number;
  pieceLength: number;
  totalLength: number;
  /** Verified pieces at start (copied). */
  have: Bitfield;
  /** Pieces to fetch; undefined = all. */
  wanted?: Bitfield;
  /** Random source in [0, 1) for ties; tests pass a seeded one. */
  random?: () => number;
  /** Pieces in progress at most (each holds state, a hash and written blocks while it assembles): bounds
   *  memory whatever the number of peers and their pipelines. Default: no bound. */
  maxPartials?: number;
}

/** Equally rare pieces are picked an extent of this many bytes at a time (see rebuildOrder). */
export const EXTENT_BYTES = 4 * 1024 * 1024;

const FREE = 0;
const REQUESTED = 1;
const RECEIVED = 2;

/** A piece with at least one block requested or received. */
class PartialPiece {
  readonly state: Uint8Array;
  /** First requester (REQUESTED) or sender (RECEIVED) of each block; -1 none. */
  readonly peer: Int32Array;
  /** Extra endgame requesters per block index. */
  dup: Map<number, number[]> | null = null;
  free: number;
  received = 0;
  /** All blocks received; waiting for the hash check. */
  get complete(): boolean {
    return this.received === this.state.length;
  }
  constructor(
    readonly index: number,
    blockCount: number,
  ) {
    this.state = new Uint8Array(blockCount);
    this.peer = new Int32Array(blockCount).fill(-1);
    this.free = blockCount;
  }
}

export interface BlockResult {
  /** accepted: counts toward the piece. duplicate: already had it (endgame race).
   *  unexpected: a block of a piece we have or never asked for. */
  readonly status: 'accepted' | 'duplicate' | 'unexpected';
  /** Peers that also hold a request for this block: send them CANCEL (endgame). */
  readonly cancel: readonly number[];
  /** Every block of the piece is here: assemble and verify it. */
  readonly pieceComplete: boolean;
}

/** Results without cancels, shared (blockReceived runs once per 16 KiB block; only the
 *  endgame has peers to cancel). Read them, never change them. */
const NO_CANCEL: readonly number[] = Object.freeze([]);
const UNEXPECTED: BlockResult = Object.freeze({ status: 'unexpected', cancel: NO_CANCEL, pieceComplete: false });
const DUPLICATE: BlockResult = Object.freeze({ status: 'duplicate', cancel: NO_CANCEL, pieceComplete: false });
const ACCEPTED: BlockResult = Object.freeze({ status: 'accepted', cancel: NO_CANCEL, pieceComplete: false });
const ACCEPTED_COMPLETE: BlockResult = Object.freeze({ status: 'accepted', cancel: NO_CANCEL, pieceComplete: true });

/** A plain array of `a`'s values: a loop, which is ~10x cheaper per piece than Array.from's
 *  iteration in code V8 has not optimized (this runs once per piece). */
function toArray(a: Int32Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]!;
  return out;
}

/** A peer's choke state as the endgame sees it: choked or not, and how many allowed-fast
 *  pieces it gave (both change which pieces it may be asked for). */
function endgameKey(peer: PickerPeer): number {
  return peer.choking ? 1 + (peer.allowedFast?.size ?? 0) : 0;
}

export class PiecePicker {
  readonly pieceCount: number;
  readonly pieceLength: number;
  readonly totalLength: number;
  readonly have: Bitfield;
  private wanted: Bitfield | null;
  private readonly availability: Uint32Array;
  private readonly partials = new Map<number, PartialPiece>();
  private readonly random: () => number;
  private readonly maxPartials: number;
  /** Wanted, missing pieces not yet started: when 0 and no partial has a free block, endgame. */
  private untouched = 0;
  /** Wanted pieces not verified. */
  private missing = 0;
  /** Scratch array for candidate sorting, reused across rebuilds. */
  private readonly candKey: Float64Array;
  /** Untouched pieces in picking order (see rebuildOrder). */
  private readonly order: Uint32Array;
  /** Pieces per extent (EXTENT_BYTES, at least 1) and each extent's random start. */
  private readonly extentPieces: number;
  private readonly extentRot: Uint32Array;
  private orderLen = 0;
  private cursor = 0;
  private orderDirty = true;
  private staleHaves = 0;
  /** Peers an endgame pass found nothing for (peer id -> its choke state then: see
   *  endgameKey); cleared by anything that can give a peer endgame picks. In endgame a peer
   *  asks after every block it receives, and with nobody else holding requests (one seed)
   *  each pass would walk every block in progress for nothing: ~500 passes at the end of a
   *  download, enough to make V8 compile pickEndgame (~10-60 ms of compiler time). */
  private readonly endgameDry = new Map<number, number>();

  constructor(opts: PickerOptions) {
    this.pieceCount = opts.pieceCount;
    this.pieceLength = opts.pieceLength;
    this.totalLength = opts.totalLength;
    this.have = opts.have.clone();
    this.wanted = opts.wanted ? opts.wanted.clone() : null;
    this.availability = new Uint32Array(opts.pieceCount);
    this.random = opts.random ?? Math.random;
    this.maxPartials = opts.maxPartials ?? Infinity;
    this.candKey = new Float64Array(opts.pieceCount);
    this.order = new Uint32Array(opts.pieceCount);
    this.extentPieces = Math.max(1, Math.floor(EXTENT_BYTES / opts.pieceLength));
    this.extentRot = new Uint32Array(Math.ceil(opts.pieceCount / this.extentPieces));
    this.recountUntouched();
  }

  pieceSize(i: number): number {
    // Both computed each call, so the last piece's branch has type feedback (see
    // peer/wire pieceSize: its first use otherwise deoptimized the per-block code).
    const last = this.totalLength - this.pieceLength * (this.pieceCount - 1);
    return i === this.pieceCount - 1 ? last : this.pieceLength;
  }

  blockCount(i: number): number {
    return Math.ceil(this.pieceSize(i) / BLOCK_SIZE);
  }

  isWanted(i: number): boolean {
    return this.wanted === null || this.wanted.has(i);
  }

  /** Change the wanted set (e.g. a file deselected). Started pieces stay partial. */
  setWanted(wanted: Bitfield | undefined): void {
    this.wanted = wanted ? wanted.clone() : null;
    this.recountUntouched();
    this.orderDirty = true;
    this.changed();
  }

  /** Every wanted piece is verified (O(1): called after every piece). */
  isDone(): boolean {
    return this.missing === 0;
  }

  /** Wanted pieces not verified yet. */
  missingCount(): number {
    return this.missing;
  }

  availabilityOf(i: number): number {
    return this.availability[i] ?? 0;
  }

  // --- availability (peers' bitfields and HAVEs) ---

  peerHasAll(bf: Bitfield): void {
    for (let i = 0; i < this.pieceCount; i++) if (bf.has(i)) this.availability[i]!++;
    this.orderDirty = true;
    this.changed();
  }

  peerHas(i: number): void {
    if (i < 0 || i >= this.pieceCount) return;
    this.availability[i]!++;
    if (this.isUntouched(i)) this.staleHaves++;
    this.changed();
  }

  /** A peer left: its pieces no longer count. */
  peerGone(bf: Bitfield): void {
    for (let i = 0; i < this.pieceCount; i++) if (bf.has(i) && this.availability[i]! > 0) this.availability[i]!--;
    this.orderDirty = true;
  }

  /** True when the peer has a wanted piece we miss (decides INTERESTED). */
  interestedIn(bf: Bitfield): boolean {
    // Complete (seeding): nothing to want, and no scan of every piece per peer per tick.
    if (bf.isEmpty() || this.missing === 0) return false;
    for (let i = 0; i < this.pieceCount; i++) if (bf.has(i) && !this.have.has(i) && this.isWanted(i)) return true;
    return false;
  }

  /** Endgame: every missing wanted block is requested or received. */
  inEndgame(): boolean {
    if (this.untouched > 0) return false;
    for (const p of this.partials.values()) if (p.free > 0) return false;
    return this.partials.size > 0;
  }

  // --- picking ---

  /** Up to `max` block requests for `peer`, in the order to send them. The rebuild and
   *  the endgame are methods of their own: they run rarely, and code that had not run when
   *  this was optimized (the endgame, at the end of every download) made the JIT throw the
   *  optimized code away and compile it again (~30-70 ms of compiler CPU per download). */
  pickBlocks(peer: PickerPeer, max: number): BlockRequest[] {
    const out: BlockRequest[] = [];
    if (max <= 0) return out;
    const fast = peer.allowedFast;
    if (peer.choking && (!fast || fast.size === 0)) return out;

    // 1. Finish what is started: free blocks of partial pieces, oldest piece first.
    for (const p of this.partials.values()) {
      if (p.free === 0 || !this.usable(peer, p.index)) continue;
      this.takeFree(p, peer.id, max, out);
      if (out.length >= max) return out;
    }

    // 2. New pieces, rarest first, random among equally rare, from the cached order.
    if (this.untouched > 0) {
      if (this.orderDirty || this.staleHaves > (this.orderLen >> 4) + 8) this.rebuildOrder();
      while (this.cursor < this.orderLen && !this.isUntouched(this.order[this.cursor]!)) this.cursor++;
      for (let j = this.cursor; j < this.orderLen && out.length < max && this.partials.size < this.maxPartials; j++) {
        const piece = this.order[j]!;
        if (!this.isUntouched(piece) || !this.usable(peer, piece)) continue;
        const p = new PartialPiece(piece, this.blockCount(piece));
        this.partials.set(piece, p);
        this.untouched--;
        this.takeFree(p, peer.id, max, out);
      }
      if (out.length >= max) return out;
    }

    // 3. Endgame: ask for blocks others already have requested, to not wait on a slow peer.
    if (this.inEndgame()) this.endgame(peer, max, out);
    return out;
  }

  /** Piece `i` may be asked of `peer`: it has it, we want it, and it lets us (choked: only
   *  its allowed-fast pieces). */
  private usable(peer: PickerPeer, i: number): boolean {
    return peer.has.has(i) && !this.have.has(i) && this.isWanted(i) && (!peer.choking || peer.allowedFast!.has(i));
  }

  /** Endgame picks, skipped while nothing changed since a pass found none for this peer. */
  private endgame(peer: PickerPeer, max: number, out: BlockRequest[]): void {
    const key = endgameKey(peer);
    if (this.endgameDry.get(peer.id) === key) return;
    const before = out.length;
    this.pickEndgame(peer, max, out);
    if (out.length === before) this.endgameDry.set(peer.id, key);
  }

  /** Something that may give a peer new endgame picks happened (a block requested or
   *  released, a peer's pieces grew): every peer's dry endgame pass is stale. */
  private changed(): void {
    if (this.endgameDry.size !== 0) this.endgameDry.clear();
  }

  /** Endgame picks: blocks requested from others, at most ENDGAME_MAX_REQUESTERS each. */
  private pickEndgame(peer: PickerPeer, max: number, out: BlockRequest[]): void {
    for (const p of this.partials.values()) {
      if (p.complete || !this.usable(peer, p.index)) continue;
      for (let b = 0; b < p.state.length && out.length < max; b++) {
        if (p.state[b] !== REQUESTED || p.peer[b] === peer.id) continue;
        const extra = p.dup?.get(b);
        if (extra && (extra.includes(peer.id) || extra.length + 1 >= ENDGAME_MAX_REQUESTERS)) continue;
        if (!p.dup) p.dup = new Map();
        if (extra) extra.push(peer.id);
        else p.dup.set(b, [peer.id]);
        out.push(this.block(p.index, b));
      }
      if (out.length >= max) break;
    }
  }

  private isUntouched(i: number): boolean {
    return this.isWanted(i) && !this.have.has(i) && !this.partials.has(i);
  }

  /** Sorts the untouched pieces by availability with a random tie-break: one number per
   *  piece (availability 11 bits, random 10 bits, position 32 bits) and one native sort. Picks
   *  then walk this order; it is rebuilt when pieces return to the pool, peers come or go,
   *  or enough HAVEs changed availability (a slightly stale order only blurs "rarest").
   *  The random tie-break is drawn per extent of EXTENT_BYTES (libtorrent's piece extent
   *  affinity), with a random rotation inside it: equally rare pieces are taken a whole
   *  extent at a time, in index order from a random start, so pieces in progress are mostly
   *  neighbours on disk (a disk seeks less), while which
   *  extent comes first, and where in it, stays random. */
  private rebuildOrder(): void {
    let n = 0;
    const e = this.extentPieces;
    const rots = this.extentRot;
    let tie = 0;
    for (let i = 0; i < this.pieceCount; i++) {
      const x = Math.floor(i / e);
      const start = x * e;
      const len = Math.min(e, this.pieceCount - start);
      if (i === start) {
        tie = Math.floor(this.random() * 1024);
        rots[x] = Math.floor(this.random() * len);
      }
      if (!this.isUntouched(i)) continue;
      const avail = Math.min(this.availability[i]!, 2047);
      // Position inside the extent counted from its random start (wrapping around).
      const pos = start + ((i - start - rots[x]! + len) % len);
      this.candKey[n++] = (avail * 1024 + tie) * 2 ** 32 + pos;
    }
    const keys = this.candKey.subarray(0, n).sort();
    for (let k = 0; k < n; k++) {
      const pos = keys[k]! % 2 ** 32;
      const x = Math.floor(pos / e);
      const start = x * e;
      const len = Math.min(e, this.pieceCount - start);
      this.order[k] = start + ((pos - start + rots[x]!) % len);
    }
    this.orderLen = n;
    this.cursor = 0;
    this.orderDirty = false;
    this.staleHaves = 0;
  }

  private takeFree(p: PartialPiece, peerId: number, max: number, out: BlockRequest[]): void {
    for (let b = 0; b < p.state.length && out.length < max; b++) {
      if (p.state[b] !== FREE) continue;
      p.state[b] = REQUESTED;
      p.peer[b] = peerId;
      p.free--;
      out.push(this.block(p.index, b));
    }
    this.changed();
  }

  private block(piece: number, b: number): BlockRequest {
    const begin = b * BLOCK_SIZE;
    return { piece, begin, length: Math.min(BLOCK_SIZE, this.pieceSize(piece) - begin) };
  }

  // --- outcomes ---

  /** A block arrived from `peerId`. */
  blockReceived(peerId: number, piece: number, begin: number): BlockResult {
    const p = this.partials.get(piece);
    const b = begin / BLOCK_SIZE;
    if (!p || this.have.has(piece) || !Number.isInteger(b) || b < 0 || b >= p.state.length) {
      return UNEXPECTED;
    }
    if (p.state[b] === RECEIVED) {
      this.dropDup(p, b, peerId);
      return DUPLICATE;
    }
    let cancel: readonly number[] | number[] = NO_CANCEL;
    if (p.state[b] === REQUESTED) {
      const owner = p.peer[b]!;
      if (owner !== peerId && owner >= 0) cancel = [owner];
    } else {
      p.free--; // arrived after its request was given up: still good data
    }
    const extra = p.dup?.get(b);
    if (extra) {
      for (const id of extra) if (id !== peerId) cancel = [...cancel, id];
      p.dup!.delete(b);
    }
    p.state[b] = RECEIVED;
    p.peer[b] = peerId;
    p.received++;
    if (cancel === NO_CANCEL) return p.complete ? ACCEPTED_COMPLETE : ACCEPTED;
    return { status: 'accepted', cancel, pieceComplete: p.complete };
  }

  /** The request of one block to `peerId` will not be answered (reject, timeout, choke). */
  releaseBlock(peerId: number, piece: number, begin: number): void {
    const p = this.partials.get(piece);
    const b = begin / BLOCK_SIZE;
    if (!p || !Number.isInteger(b) || b < 0 || b >= p.state.length) return;
    this.releaseOne(p, b, peerId);
    this.dropIfEmpty(p);
  }

  /** Every request held by `peerId` is off (the peer closed or choked us without BEP 6). */
  releasePeer(peerId: number): void {
    for (const p of [...this.partials.values()]) {
      for (let b = 0; b < p.state.length; b++) this.releaseOne(p, b, peerId);
      this.dropIfEmpty(p);
    }
  }

  private releaseOne(p: PartialPiece, b: number, peerId: number): void {
    if (p.state[b] !== REQUESTED) return;
    this.changed();
    const extra = p.dup?.get(b);
    if (p.peer[b] === peerId) {
      if (extra && extra.length > 0) {
        p.peer[b] = extra.shift()!;
        if (extra.length === 0) p.dup!.delete(b);
      } else {
        p.state[b] = FREE;
        p.peer[b] = -1;
        p.free++;
      }
    } else if (extra) {
      this.dropDup(p, b, peerId);
    }
  }

  private dropDup(p: PartialPiece, b: number, peerId: number): void {
    const extra = p.dup?.get(b);
    if (!extra) return;
    const k = extra.indexOf(peerId);
    if (k >= 0) extra.splice(k, 1);
    this.changed();
    if (extra.length === 0) p.dup!.delete(b);
  }

  /** A piece nobody works on any more goes back to the rarest-first pool. */
  private dropIfEmpty(p: PartialPiece): void {
    if (p.free === p.state.length) {
      this.partials.delete(p.index);
      if (!this.have.has(p.index) && this.isWanted(p.index)) {
        this.untouched++;
        this.orderDirty = true;
      }
    }
  }

  /** The assembled piece passed its hash. */
  pieceVerified(piece: number): void {
    const p = this.partials.get(piece);
    this.partials.delete(piece);
    if (!this.have.has(piece)) {
      this.have.set(piece);
      if (this.isWanted(piece)) {
        this.missing--;
        if (!p) this.untouched--;
      }
    }
  }

  /** The assembled piece failed its hash: returns who sent each block (by block index),
   *  and the piece goes back to the pool. */
  pieceFailed(piece: number): number[] {
    const p = this.partials.get(piece);
    if (!p) return [];
    const senders = toArray(p.peer);
    this.partials.delete(piece);
    this.changed();
    if (!this.have.has(piece) && this.isWanted(piece)) {
      this.untouched++;
      this.orderDirty = true;
    }
    return senders;
  }

  /** Who sent each block of a piece in progress (for smart ban once it passes). */
  sendersOf(piece: number): number[] {
    const p = this.partials.get(piece);
    return p ? toArray(p.peer) : [];
  }

  /** Requests outstanding to `peerId` in the picker's books (for tests and diagnostics). */
  requestedBy(peerId: number): number {
    let n = 0;
    for (const p of this.partials.values()) {
      for (let b = 0; b < p.state.length; b++) {
        if (p.state[b] === REQUESTED && (p.peer[b] === peerId || p.dup?.get(b)?.includes(peerId))) n++;
      }
    }
    return n;
  }

  private recountUntouched(): void {
    let n = 0;
    let m = 0;
    for (let i = 0; i < this.pieceCount; i++) {
      if (!this.isWanted(i) || this.have.has(i)) continue;
      m++;
      if (!this.partials.has(i)) n++;
    }
    this.untouched = n;
    this.missing = m;
  }
}
