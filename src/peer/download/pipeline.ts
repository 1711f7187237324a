// Per-peer request pipelining: how many requests to keep in flight (sized from the
// peer's measured rate) and which ones are outstanding since when (for timeouts and
// for matching arriving blocks). Time is passed in; nothing here reads a clock.
import type { BlockRequest } from './piece-picker.js';
import {
  BLOCK_SIZE,
  DEFAULT_PEER_REQQ,
  INITIAL_PIPELINE,
  MAX_PIPELINE,
  MIN_PIPELINE,
  PIPELINE_TARGET_S,
  REQUEST_TIMEOUT_MS,
  SNUB_AFTER_MS,
} from './limits.js';

export interface DepthInput {
  /** Bytes/s this peer delivered to us recently; undefined before any measurement. */
  rateBps?: number;
  /** The peer's BEP 10 `reqq` (how many requests it queues), if it sent one. */
  peerReqq?: number;
  snubbed?: boolean;
}

/** Requests to keep in flight to one peer: PIPELINE_TARGET_S of its rate, bounded by
 *  MIN/MAX_PIPELINE and by what the peer says it will queue. */
export function pipelineDepth(input: DepthInput): number {
  if (input.snubbed) return 1;
  const reqq = input.peerReqq !== undefined && input.peerReqq > 0 ? input.peerReqq : DEFAULT_PEER_REQQ;
  const fromRate =
    input.rateBps === undefined || input.rateBps <= 0
      ? INITIAL_PIPELINE
      : Math.max(INITIAL_PIPELINE / 4, Math.ceil((input.rateBps * PIPELINE_TARGET_S) / BLOCK_SIZE));
  return Math.max(Math.min(MIN_PIPELINE, reqq), Math.min(fromRate, MAX_PIPELINE, reqq));
}

/** A block's key: piece and block index in one integer, a small one (a V8 Smi: Map
 *  hashes it without a heap number) for pieces below 2^20 of at most 1024 blocks. */
export function blockKey(piece: number, begin: number): number {
  const b = Math.floor(begin / BLOCK_SIZE);
  return piece < 0x100000 && b < 1024 ? piece * 1024 + b : 0x40000000 + piece * 0x100000 + b;
}

/** Requests sent to one peer and not answered yet, oldest first. */
export class OutstandingRequests {
  private readonly sent = new Map<number, { req: BlockRequest; atMs: number }>();
  /** When this peer last delivered a block (or we started asking). */
  lastBlockAtMs: number;

  constructor(nowMs: number) {
    this.lastBlockAtMs = nowMs;
  }

  get size(): number {
    return this.sent.size;
  }

  add(req: BlockRequest, nowMs: number): void {
    if (this.sent.size === 0) this.lastBlockAtMs = Math.max(this.lastBlockAtMs, nowMs);
    this.sent.set(blockKey(req.piece, req.begin), { req, atMs: nowMs });
  }

  has(piece: number, begin: number): boolean {
    return this.sent.has(blockKey(piece, begin));
  }

  /** Removes and returns the request a block answers; undefined if we never asked (or
   *  gave it up). */
  take(piece: number, begin: number, length: number, nowMs: number): BlockRequest | undefined {
    const key = blockKey(piece, begin);
    const e = this.sent.get(key);
    if (!e || e.req.length !== length || e.req.begin !== begin) return undefined;
    this.sent.delete(key);
    this.lastBlockAtMs = nowMs;
    return e.req;
  }

  /** Forget one request (rejected, cancelled). */
  remove(piece: number, begin: number): BlockRequest | undefined {
    const key = blockKey(piece, begin);
    const e = this.sent.get(key);
    if (e) this.sent.delete(key);
    return e?.req;
  }

  /** Every outstanding request, removed (the peer choked us or closed). */
  clear(): BlockRequest[] {
    const all = [...this.sent.values()].map((e) => e.req);
    this.sent.clear();
    return all;
  }

  /** Requests older than `timeoutMs`, removed: hand them to other peers. */
  expire(nowMs: number, timeoutMs = REQUEST_TIMEOUT_MS): BlockRequest[] {
    const out: BlockRequest[] = [];
    for (const [key, e] of this.sent) {
      if (nowMs - e.atMs < timeoutMs) break; // insertion order = send order
      out.push(e.req);
      this.sent.delete(key);
    }
    return out;
  }

  /** Requests are out and nothing came back for SNUB_AFTER_MS. */
  isSnubbing(nowMs: number, snubAfterMs = SNUB_AFTER_MS): boolean {
    return this.sent.size > 0 && nowMs - this.lastBlockAtMs >= snubAfterMs;
  }

  list(): BlockRequest[] {
    return [...this.sent.values()].map((e) => e.req);
  }
}
