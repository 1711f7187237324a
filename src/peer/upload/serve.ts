// Serving requests: whether an incoming REQUEST is answered, rejected (BEP 6) or is a
// protocol violation, and the per-peer queue of requests waiting to be read from disk
// and sent (CANCEL removes from it; CHOKE empties it). Pure.
import type { Bitfield } from '../../util/index.js';

/** BEP 3 clients request 16 KiB; we serve at most 16 KiB per request (larger are refused,
 *  as libtorrent and Transmission do) so one request never pins more memory than that. */
export const MAX_SERVED_BLOCK = 16 * 1024;

/** Requests queued per peer beyond this are rejected: the BEP 10 `reqq` we advertise.
 *  Deep enough for a fast loopback leecher (500 x 16 KiB = 8 MiB), bounded per peer. */
export const MAX_UPLOAD_QUEUE = 1000;

export interface ServeContext {
  /** Pieces we have verified: only these are served. */
  have: Bitfield;
  pieceCount: number;
  pieceLength: number;
  totalLength: number;
  /** We choke this peer. */
  choking: boolean;
  /** Pieces we told this peer it may request while choked (BEP 6). */
  allowedFast?: ReadonlySet<number>;
  /** Requests already queued for this peer. */
  queued: number;
  maxQueue?: number;
}

/** serve: queue it. reject: answer REJECT (fast extension) or drop silently (without it).
 *  violation: the request is malformed (outside the torrent, oversized): close the peer. */
export type ServeVerdict = { action: 'serve' } | { action: 'reject'; why: string } | { action: 'violation'; why: string };

export function judgeRequest(piece: number, begin: number, length: number, ctx: ServeContext): ServeVerdict {
  if (!Number.isInteger(piece) || piece < 0 || piece >= ctx.pieceCount) {
    return { action: 'violation', why: `request for piece ${piece} outside 0..${ctx.pieceCount - 1}` };
  }
  const size = piece === ctx.pieceCount - 1 ? ctx.totalLength - ctx.pieceLength * (ctx.pieceCount - 1) : ctx.pieceLength;
  if (length <= 0 || length > MAX_SERVED_BLOCK) return { action: 'violation', why: `request of ${length} bytes` };
  if (begin < 0 || begin + length > size) {
    return { action: 'violation', why: `request ${begin}+${length} past the end of piece ${piece} (${size} bytes)` };
  }
  if (!ctx.have.has(piece)) return { action: 'reject', why: `piece ${piece} not verified here` };
  if (ctx.choking && !ctx.allowedFast?.has(piece)) return { action: 'reject', why: 'peer is choked' };
  if (ctx.queued >= (ctx.maxQueue ?? MAX_UPLOAD_QUEUE)) return { action: 'reject', why: 'upload queue full' };
  return { action: 'serve' };
}

export interface UploadRequest {
  piece: number;
  begin: number;
  length: number;
}

/** One peer's requests waiting to be served, in arrival order. */
export class UploadQueue {
  private readonly q = new Map<string, UploadRequest>();
  /** Requests waiting per piece (so the server can tell whether reading ahead pays). */
  private readonly perPiece = new Map<number, number>();

  get size(): number {
    return this.q.size;
  }

  push(r: UploadRequest): boolean {
    const k = `${r.piece}:${r.begin}:${r.length}`;
    if (this.q.has(k)) return false; // a repeated request is served once
    this.q.set(k, r);
    this.perPiece.set(r.piece, (this.perPiece.get(r.piece) ?? 0) + 1);
    return true;
  }

  /** How many requests for `piece` are waiting. */
  waiting(piece: number): number {
    return this.perPiece.get(piece) ?? 0;
  }

  private removed(piece: number): void {
    const n = (this.perPiece.get(piece) ?? 1) - 1;
    if (n > 0) this.perPiece.set(piece, n);
    else this.perPiece.delete(piece);
  }

  /** CANCEL: true if it was still waiting (then it will not be sent). */
  cancel(piece: number, begin: number, length: number): boolean {
    if (!this.q.delete(`${piece}:${begin}:${length}`)) return false;
    this.removed(piece);
    return true;
  }

  /** Next request to serve, removed from the queue. */
  shift(): UploadRequest | undefined {
    for (const [k, r] of this.q) {
      this.q.delete(k);
      this.removed(r.piece);
      return r;
    }
    return undefined;
  }

  /** We choked the peer: everything waiting is dropped, except allowed-fast pieces
   *  (BEP 6). Returns the dropped ones (to REJECT when the peer speaks BEP 6). */
  chokeDrop(allowedFast?: ReadonlySet<number>): UploadRequest[] {
    const dropped: UploadRequest[] = [];
    for (const [k, r] of this.q) {
      if (allowedFast?.has(r.piece)) continue;
      this.q.delete(k);
      this.removed(r.piece);
      dropped.push(r);
    }
    return dropped;
  }

  clear(): void {
    this.q.clear();
    this.perPiece.clear();
  }
}
