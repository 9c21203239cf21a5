/**
 * The account's rate at the wire, in parts per second: the parts in any window of 1,000 ms plus
 * `guardMs` never exceed the rate, so the SMSC's own 1-second count stays under it despite jitter
 * at its end; and sends are spaced evenly at that rate (GCRA, a little catch-up after a late timer).
 * rate 0 = unlimited.
 */
export class WirePacer {
  private tat = -Infinity;
  private readonly log: { at: number; cost: number }[] = [];
  private head = 0;
  private sum = 0;

  constructor(
    readonly rate: number,
    private readonly guardMs = 50,
    private readonly catchUpMs = 20,
  ) {}

  /** 0 when `cost` parts may go at `now`; else the ms to wait. */
  wait(cost: number, now: number): number {
    if (this.rate <= 0) return 0;
    const span = 1000 + this.guardMs;
    while (this.head < this.log.length && this.log[this.head]!.at <= now - span) this.sum -= this.log[this.head++]!.cost;
    if (this.head > 512) {
      this.log.splice(0, this.head);
      this.head = 0;
    }
    if (this.sum > 0 && this.sum + cost > this.rate) return Math.max(1, this.log[this.head]!.at + span - now);
    const start = Math.max(this.tat, now - this.catchUpMs);
    if (this.tat !== -Infinity && start > now) return Math.max(1, Math.ceil(start - now));
    return 0;
  }

  take(cost: number, now: number): void {
    if (this.rate <= 0) return;
    const start = this.tat === -Infinity ? now : Math.max(this.tat, now - this.catchUpMs);
    this.tat = start + (cost * (1000 + this.guardMs)) / this.rate; // evenly, at the guarded rate
    this.log.push({ at: now, cost });
    this.sum += cost;
  }
}
