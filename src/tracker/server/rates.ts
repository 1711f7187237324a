// Announces per second, HTTP and UDP, over the last few seconds: a counter the hot path
// bumps, sampled once a second into a small ring by the server's timer.
const SLOTS = 10;

export class RateMeter {
  count = 0;
  private readonly ring = new Float64Array(SLOTS);
  private readonly at = new Float64Array(SLOTS);
  private i = 0;

  /** Called about once a second. */
  sample(nowMs: number): void {
    this.i = (this.i + 1) % SLOTS;
    this.ring[this.i] = this.count;
    this.at[this.i] = nowMs;
  }

  /** Events per second over the ring's span (0 until two samples exist). */
  perSecond(): number {
    const newest = this.i;
    let oldest = (this.i + 1) % SLOTS;
    if (this.at[oldest] === 0) oldest = 1 % SLOTS;
    const dt = this.at[newest]! - this.at[oldest]!;
    return dt > 0 ? ((this.ring[newest]! - this.ring[oldest]!) * 1000) / dt : 0;
  }
}
