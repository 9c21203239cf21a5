export interface RateWindowOptions {
  /** the hard cap's window (ms): the parts sent in any such window never exceed the rate */
  windowMs: number;
  /** pacing: each part costs spacingMs / rate ms, so sends are spread evenly, not in bursts (0: a cap only) */
  spacingMs: number;
  /** how far pacing may catch up after a late timer (ms) */
  catchUpMs: number;
}

/**
 * The one rate limiter, in parts per second, enforced two ways at once: pacing (GCRA) and a hard
 * cap over a sliding window. The caller passes the clock. rate <= 0 means unlimited. `rate` may be
 * changed while it runs (the engine's lane adapts it: delivery/laneRate.ts).
 */
export class RateWindow {
  private tat = -Infinity; // theoretical arrival time of the next part (ms); none before the first send
  private readonly log: { at: number; parts: number }[] = [];
  private head = 0;
  private sum = 0;

  constructor(
    public rate: number,
    private readonly opts: RateWindowOptions,
  ) {}

  /** 0 when `parts` may go at `now`; else the ms to wait before asking again. */
  wait(parts: number, now: number): number {
    if (this.rate <= 0) return 0;
    this.expire(now);
    // A message bigger than the whole rate may still go, alone in its window.
    if (this.sum > 0 && this.sum + parts > Math.floor(this.rate))
      return Math.max(1, this.log[this.head]!.at + this.opts.windowMs - now);
    // No credit before the first send; after it, a late timer may catch up by catchUpMs at most.
    if (this.tat !== -Infinity) {
      const start = Math.max(this.tat, now - this.opts.catchUpMs);
      if (start > now) return Math.max(1, Math.ceil(start - now));
    }
    return 0;
  }

  /**
   * Parts the cap's window still holds room for at `now` (a cap: spacingMs 0). An empty window has
   * room for anything, as wait() lets a message bigger than the whole rate go alone in its window
   * (else a 15-part LMS over binds capped at 5, or a cap under 1/s, waited for ever).
   */
  room(now: number): number {
    if (this.rate <= 0) return Number.POSITIVE_INFINITY;
    this.expire(now);
    if (this.sum === 0) return Number.POSITIVE_INFINITY;
    return Math.max(0, Math.floor(this.rate) - this.sum);
  }

  private expire(now: number): void {
    while (this.head < this.log.length && this.log[this.head]!.at <= now - this.opts.windowMs)
      this.sum -= this.log[this.head++]!.parts;
    if (this.head > 1024) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Count `parts` as sent at `now` (after wait() said 0). */
  take(parts: number, now: number): void {
    if (this.rate <= 0) return;
    const start = this.tat === -Infinity ? now : Math.max(this.tat, now - this.opts.catchUpMs);
    this.tat = start + (parts * this.opts.spacingMs) / this.rate;
    this.log.push({ at: now, parts });
    this.sum += parts;
  }

  /** The parts last taken leave at `now`, not when they were taken. */
  stampLast(now: number): void {
    const last = this.log[this.log.length - 1];
    if (last) last.at = Math.max(last.at, now);
  }

  /** Give back parts taken but not sent. */
  refund(parts: number): void {
    if (this.rate <= 0 || parts <= 0) return;
    this.tat -= (parts * this.opts.spacingMs) / this.rate;
    const last = this.log[this.log.length - 1];
    if (last) {
      const back = Math.min(parts, last.parts);
      last.parts -= back;
      this.sum -= back;
    }
  }

  /**
   * The parts sent at `at` did not count where they went (the carrier refused them for rate): take
   * them out of the cap's window. `at` is their stamp; when no part has exactly that stamp, the
   * newest one sent at or before it.
   */
  uncount(at: number): void {
    for (let i = this.log.length - 1; i >= this.head; i--) {
      const e = this.log[i]!;
      if (e.at > at || e.parts === 0) continue;
      this.sum -= e.parts;
      e.parts = 0;
      return;
    }
  }

  /** Parts counted in (from, to]. */
  partsIn(from: number, to: number): number {
    let n = 0;
    for (let i = this.head; i < this.log.length; i++) {
      const e = this.log[i]!;
      if (e.at > from && e.at <= to) n += e.parts;
    }
    return n;
  }

  /** Slow down to `rate` from `now`: the next part waits one spacing at the new rate. */
  slowTo(rate: number, now: number): void {
    this.rate = rate;
    this.tat = Math.max(this.tat, now) + this.opts.spacingMs / this.rate;
  }
}
