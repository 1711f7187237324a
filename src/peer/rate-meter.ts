// Bytes per second over a sliding window, kept in one-second buckets: adding is O(1) and
// needs no timer; reading sums at most `windowS` buckets. Time comes in as an argument
// (milliseconds from any monotonic clock) so tests drive it.

export const DEFAULT_RATE_WINDOW_S = 10;
const BUCKET_MS = 1000;

export class RateMeter {
  private readonly buckets: Float64Array;
  /** Absolute index (now / BUCKET_MS) of the newest bucket; -1 before the first sample. */
  private head = -1;
  private startMs = 0;
  /** All bytes ever added. */
  total = 0;

  constructor(readonly windowS: number = DEFAULT_RATE_WINDOW_S) {
    if (!Number.isInteger(windowS) || windowS < 1 || windowS > 600) throw new RangeError(`rate window of ${windowS} s`);
    this.buckets = new Float64Array(windowS);
  }

  add(bytes: number, nowMs: number): void {
    this.roll(nowMs);
    this.buckets[this.head % this.buckets.length]! += bytes;
    this.total += bytes;
  }

  /** Average bytes per second over the window (or since the first sample, if later). */
  rate(nowMs: number): number {
    if (this.head < 0) return 0;
    this.roll(nowMs);
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) sum += this.buckets[i]!;
    const windowStart = (this.head - this.buckets.length + 1) * BUCKET_MS;
    const spanMs = nowMs - Math.max(windowStart, this.startMs);
    // Under 100 ms of history a rate means little; do not divide by ~0.
    return (sum * 1000) / Math.max(spanMs, 100);
  }

  private roll(nowMs: number): void {
    const b = Math.floor(nowMs / BUCKET_MS);
    if (this.head < 0) {
      this.head = b;
      this.startMs = nowMs;
      return;
    }
    if (b <= this.head) return;
    const n = this.buckets.length;
    const clear = Math.min(b - this.head, n);
    for (let i = 1; i <= clear; i++) this.buckets[(this.head + i) % n] = 0;
    this.head = b;
  }
}
