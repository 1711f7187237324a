// Per-peer request pipelining: how many requests to keep in flight (sized from the
// peer's measured rate) and which ones are outstanding since when (for timeouts and
// for matching arriving blocks). Time is passed in; nothing here reads a clock.
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

/** A request's key: piece index and block in one small non-negative integer (a V8 Smi,
 *  which Map hashes without a heap number) for the usual 16 KiB-aligned block of a piece
 *  below 2^20 and 16 MiB; else a negative number while it fits exactly (index below 2^21);
 *  a string past that, and for a length over BLOCK_SIZE (the wire refuses such blocks, so
 *  they never collide with one we asked for). Lengths up to BLOCK_SIZE share the key of
 *  their begin: whoever takes a block checks its length. */
export function requestKey(index: number, begin: number, length: number): number | string {
  if (length <= BLOCK_SIZE && index < 0x100000 && (begin & 0x3fff) === 0 && begin < 0x1000000) return index * 1024 + (begin >>> 14);
  return unusualKey(index, begin, length);
}

/** requestKey past the usual case (kept out of it: it is inlined wherever a request is
 *  sent, answered or looked up). */
function unusualKey(index: number, begin: number, length: number): number | string {
  if (length > BLOCK_SIZE || index >= 0x200000) return `${index}:${begin}:${length}`;
  return -(index * 0x100000000 + begin) - 1;
}

/** Requests sent to one peer and not answered yet (piece, reject, cancel), in send order:
 *  the only table of them. The peer's connection keeps it (it refuses blocks nobody asked
 *  for, and a choke without BEP 6 empties it); the downloader reads it for timeouts and
 *  snubbing. One Map entry per request, its value the send time in whole milliseconds (a
 *  Smi): no object per request. */
export class OutstandingRequests {
  private readonly sent = new Map<number | string, number>();
  /** When this peer last answered a request with a block (or we started asking). */
  lastBlockAtMs: number;

  constructor(nowMs: number) {
    this.lastBlockAtMs = nowMs;
  }

  get size(): number {
    return this.sent.size;
  }

  add(index: number, begin: number, length: number, nowMs: number): void {
    if (this.sent.size === 0 && nowMs > this.lastBlockAtMs) this.lastBlockAtMs = nowMs;
    this.sent.set(requestKey(index, begin, length), Math.floor(nowMs));
  }

  has(index: number, begin: number, length: number): boolean {
    return this.sent.has(requestKey(index, begin, length));
  }

  /** A block arrived: true, and the request forgotten, if it answers one. */
  take(index: number, begin: number, length: number, nowMs: number): boolean {
    if (!this.sent.delete(requestKey(index, begin, length))) return false;
    this.lastBlockAtMs = nowMs;
    return true;
  }

  /** Forgets one request (rejected, cancelled); false if it was not outstanding. */
  remove(index: number, begin: number, length: number): boolean {
    return this.sent.delete(requestKey(index, begin, length));
  }

  clear(): void {
    this.sent.clear();
  }

  /** The keys (requestKey) of every outstanding request. */
  keys(): IterableIterator<number | string> {
    return this.sent.keys();
  }

  /** Requests sent `timeoutMs` or more before `nowMs`, oldest first, as flat
   *  [index, begin, index, begin, ...]. They stay outstanding: cancelling each removes it. */
  expired(nowMs: number, timeoutMs = REQUEST_TIMEOUT_MS): number[] {
    const out: number[] = [];
    for (const [key, atMs] of this.sent) {
      if (nowMs - atMs < timeoutMs) break; // insertion order = send order
      if (typeof key === 'string') {
        const [index, begin] = key.split(':').map(Number) as [number, number];
        out.push(index, begin);
      } else if (key >= 0) {
        out.push(Math.floor(key / 1024), (key % 1024) * BLOCK_SIZE);
      } else {
        const v = -key - 1;
        out.push(Math.floor(v / 0x100000000), v % 0x100000000);
      }
    }
    return out;
  }

  /** Requests are out and nothing came back for SNUB_AFTER_MS. */
  isSnubbing(nowMs: number, snubAfterMs = SNUB_AFTER_MS): boolean {
    return this.sent.size > 0 && nowMs - this.lastBlockAtMs >= snubAfterMs;
  }
}
