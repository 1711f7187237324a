// An upload rate limit (bytes per second) as a token bucket that may go into debt: a block
// is sent while the balance is positive and its length is taken even if that makes the
// balance negative, so a 16 KiB block never waits for a 16 KiB balance and the long-run rate
// is exact. The balance refills with time up to `burst`. Pure: time comes in.

export class UploadRateLimit {
  private balance: number;
  private lastMs: number;

  /** `rateBps` > 0. `burst`: the most that may go out at once after an idle spell
   *  (default a tenth of a second's worth, at least one 16 KiB block). */
  constructor(
    readonly rateBps: number,
    nowMs: number,
    readonly burst = Math.max(16 * 1024, rateBps / 10),
  ) {
    if (!(rateBps > 0)) throw new RangeError(`upload rate ${rateBps} must be positive`);
    this.balance = this.burst;
    this.lastMs = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.lastMs) {
      this.balance = Math.min(this.burst, this.balance + ((nowMs - this.lastMs) * this.rateBps) / 1000);
      this.lastMs = nowMs;
    }
  }

  /** May a block go out now? */
  ready(nowMs: number): boolean {
    this.refill(nowMs);
    return this.balance > 0;
  }

  /** Counts `bytes` sent (after ready() said yes). */
  take(bytes: number, nowMs: number): void {
    this.refill(nowMs);
    this.balance -= bytes;
  }

  /** Milliseconds until ready() turns true (0 if it is). */
  waitMs(nowMs: number): number {
    this.refill(nowMs);
    return this.balance > 0 ? 0 : Math.ceil(((-this.balance + 1) * 1000) / this.rateBps);
  }
}
