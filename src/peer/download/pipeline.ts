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

/** A free slot of the request table (no Smi key is negative). */
const FREE = -1;
/** Fibonacci hashing: the key times 2^32/phi, its top bits the slot. */
const HASH_MUL = 0x9e3779b1 | 0;
/** Slots a request table starts with: twice the initial pipeline (at most half full). */
const INITIAL_TABLE_SLOTS = 2 * INITIAL_PIPELINE;

/** Requests sent to one peer and not answered yet (piece, reject, cancel), in send order:
 *  the only table of them. The peer's connection keeps it (it refuses blocks nobody asked
 *  for, and a choke without BEP 6 empties it); the downloader reads it for timeouts and
 *  snubbing. The usual request (a Smi key, see requestKey) lives in an open-addressed
 *  table of typed arrays (linear probing, backward-shift delete; power-of-two capacity,
 *  grown only when over half full): adding and answering requests first-in first-out
 *  allocates nothing, where a Map kept reallocating its hash table. Any other key goes in
 *  a Map. Each entry keeps its send time in whole ms and a sequence number for send
 *  order (what expired() reports by). */
export class OutstandingRequests {
  private keysAt: Int32Array;
  private sentAt: Float64Array;
  private seqAt: Float64Array;
  private mask: number;
  private shift: number;
  private count = 0;
  /** Requests whose key is not a Smi key: key -> [send time, sequence number]. */
  private readonly other = new Map<number | string, [number, number]>();
  private seq = 0;
  /** When this peer last answered a request with a block (or we started asking). */
  lastBlockAtMs: number;

  constructor(nowMs: number, capacity = INITIAL_TABLE_SLOTS) {
    this.lastBlockAtMs = nowMs;
    let slots = 8;
    while (slots < capacity) slots *= 2;
    this.keysAt = new Int32Array(slots).fill(FREE);
    this.sentAt = new Float64Array(slots);
    this.seqAt = new Float64Array(slots);
    this.mask = slots - 1;
    this.shift = 32 - Math.log2(slots);
  }

  get size(): number {
    return this.count + this.other.size;
  }

  /** The slot of `key` (a Smi key), or the free slot ending its probe run, as ~slot. */
  private find(key: number): number {
    const keys = this.keysAt;
    const mask = this.mask;
    let i = Math.imul(key, HASH_MUL) >>> this.shift;
    for (;;) {
      const k = keys[i]!;
      if (k === key) return i;
      if (k === FREE) return ~i;
      i = (i + 1) & mask;
    }
  }

  add(index: number, begin: number, length: number, nowMs: number): void {
    if (this.size === 0 && nowMs > this.lastBlockAtMs) this.lastBlockAtMs = nowMs;
    const key = requestKey(index, begin, length);
    const at = Math.floor(nowMs);
    if (typeof key !== 'number' || key < 0) {
      this.addOther(key, at);
      return;
    }
    let i = this.find(key);
    if (i >= 0) {
      this.sentAt[i] = at; // asked again: a new time, its place in send order kept (as a Map's set)
      return;
    }
    if ((this.count + 1) * 2 > this.mask + 1) {
      this.grow();
      i = this.find(key);
    }
    i = ~i;
    this.keysAt[i] = key;
    this.sentAt[i] = at;
    this.seqAt[i] = this.seq++;
    this.count++;
  }

  private addOther(key: number | string, at: number): void {
    const e = this.other.get(key);
    if (e) e[0] = at;
    else this.other.set(key, [at, this.seq++]);
  }

  /** Twice the slots, every entry placed again. */
  private grow(): void {
    const keys = this.keysAt;
    const sent = this.sentAt;
    const seqs = this.seqAt;
    const slots = keys.length * 2;
    this.keysAt = new Int32Array(slots).fill(FREE);
    this.sentAt = new Float64Array(slots);
    this.seqAt = new Float64Array(slots);
    this.mask = slots - 1;
    this.shift--;
    for (let j = 0; j < keys.length; j++) {
      const k = keys[j]!;
      if (k === FREE) continue;
      const i = ~this.find(k);
      this.keysAt[i] = k;
      this.sentAt[i] = sent[j]!;
      this.seqAt[i] = seqs[j]!;
    }
  }

  /** Empties slot `i`, moving later entries of its probe run back (no tombstones). */
  private deleteAt(i: number): void {
    const keys = this.keysAt;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k === FREE) break;
      const home = Math.imul(k, HASH_MUL) >>> this.shift;
      // The entry at j may move to i if i lies on its probe path (from home to j).
      if (((j - home) & mask) >= ((j - i) & mask)) {
        keys[i] = k;
        this.sentAt[i] = this.sentAt[j]!;
        this.seqAt[i] = this.seqAt[j]!;
        i = j;
      }
    }
    keys[i] = FREE;
    this.count--;
  }

  has(index: number, begin: number, length: number): boolean {
    const key = requestKey(index, begin, length);
    if (typeof key !== 'number' || key < 0) return this.other.has(key);
    return this.find(key) >= 0;
  }

  /** A block arrived: true, and the request forgotten, if it answers one. */
  take(index: number, begin: number, length: number, nowMs: number): boolean {
    if (!this.remove(index, begin, length)) return false;
    this.lastBlockAtMs = nowMs;
    return true;
  }

  /** Forgets one request (rejected, cancelled); false if it was not outstanding. */
  remove(index: number, begin: number, length: number): boolean {
    const key = requestKey(index, begin, length);
    if (typeof key !== 'number' || key < 0) return this.other.delete(key);
    const i = this.find(key);
    if (i < 0) return false;
    this.deleteAt(i);
    return true;
  }

  clear(): void {
    if (this.count > 0) this.keysAt.fill(FREE);
    this.count = 0;
    this.other.clear();
  }

  /** The keys (requestKey) of every outstanding request, in send order. */
  keys(): Array<number | string> {
    return this.entries().map((e) => e.key);
  }

  /** Every entry, in send order (for the rare paths: a choke, expiry). */
  private entries(): Array<{ key: number | string; at: number; seq: number }> {
    const out: Array<{ key: number | string; at: number; seq: number }> = [];
    const keys = this.keysAt;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== FREE) out.push({ key: keys[i]!, at: this.sentAt[i]!, seq: this.seqAt[i]! });
    for (const [key, [at, seq]] of this.other) out.push({ key, at, seq });
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Requests sent `timeoutMs` or more before `nowMs`, oldest first, as flat
   *  [index, begin, index, begin, ...]: those sent before the first request (in send
   *  order) that has not timed out. They stay outstanding: cancelling each removes it. */
  expired(nowMs: number, timeoutMs = REQUEST_TIMEOUT_MS): number[] {
    const out: number[] = [];
    // The common case, without sorting: nothing has timed out (one pass over the slots).
    let any = false;
    const keys = this.keysAt;
    for (let i = 0; i < keys.length && !any; i++) if (keys[i] !== FREE && nowMs - this.sentAt[i]! >= timeoutMs) any = true;
    if (!any) for (const [at] of this.other.values()) if (nowMs - at >= timeoutMs) any = true;
    if (!any) return out;
    for (const { key, at } of this.entries()) {
      if (nowMs - at < timeoutMs) break; // send order
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
    return this.size > 0 && nowMs - this.lastBlockAtMs >= snubAfterMs;
  }
}
