/**
 * A lane's rate in parts per second, enforced two ways at once:
 *  - pacing (GCRA): each part costs 1000/rate ms, so sends are spread evenly, not in bursts;
 *  - a hard cap: the parts sent in any 1,000 ms window never exceed the rate.
 * And adapted AIMD-style: a throttle signal halves the rate, each calm second adds back a tenth.
 * rate 0 means unlimited.
 */
/**
 * The cap's window: a second plus a few ms, because the carrier stamps arrivals with its own clock
 * (and ms resolution): two sends exactly 1,000 ms apart here may look 999 ms apart there.
 */
const CAP_WINDOW_MS = 1005;

export class LaneRate {
  private current: number;
  private tat = -Infinity; // theoretical arrival time of the next part (ms); none before the first send
  private readonly log: { at: number; parts: number }[] = [];
  private logHead = 0;
  private logParts = 0;
  private lastChange = 0;
  throttles = 0;

  constructor(
    readonly target: number,
    private readonly now: () => number = () => performance.now(),
    /** how far pacing may catch up after a late timer, in ms */
    private readonly catchUpMs = 50,
  ) {
    this.current = target;
  }

  get rate(): number {
    return this.current;
  }

  get unlimited(): boolean {
    return this.target <= 0;
  }

  /** Parts per send that keep pacing smooth: about 50 sends a second. */
  chunkParts(maxBatch: number): number {
    if (this.unlimited) return maxBatch;
    return Math.max(1, Math.min(maxBatch, Math.floor(this.current / 50)));
  }

  /** 0 when `parts` may go now (and they are counted); else the ms to wait before asking again. */
  tryTake(parts: number): number {
    if (this.unlimited) return 0;
    const now = this.now();
    while (this.logHead < this.log.length && this.log[this.logHead]!.at <= now - CAP_WINDOW_MS) {
      this.logParts -= this.log[this.logHead]!.parts;
      this.logHead++;
    }
    if (this.logHead > 1024) {
      this.log.splice(0, this.logHead);
      this.logHead = 0;
    }
    const cap = Math.floor(this.current);
    // A message bigger than the whole rate may still go, alone in its window.
    if (this.logParts > 0 && this.logParts + parts > cap) return Math.max(1, this.log[this.logHead]!.at + CAP_WINDOW_MS - now);
    // No credit before the first send; after it, a late timer may catch up by catchUpMs at most.
    const start = this.tat === -Infinity ? now : Math.max(this.tat, now - this.catchUpMs);
    if (start > now) return Math.max(1, start - now);
    this.tat = start + (parts * 1000) / this.current;
    this.log.push({ at: now, parts });
    this.logParts += parts;
    this.recover(now);
    return 0;
  }

  /**
   * The parts just taken leave now: stamp them with this instant rather than when they were taken,
   * so work in between (the journal's commit, a busy machine) cannot squeeze two sends into what the
   * carrier sees as one second.
   */
  leavingNow(): void {
    if (this.unlimited) return;
    const last = this.log[this.log.length - 1];
    if (last) last.at = Math.max(last.at, this.now());
  }

  /** Give back parts taken but not sent. */
  refund(parts: number): void {
    if (this.unlimited || parts <= 0) return;
    this.tat -= (parts * 1000) / this.current;
    const last = this.log[this.log.length - 1];
    if (last) {
      const back = Math.min(parts, last.parts);
      last.parts -= back;
      this.logParts -= back;
    }
  }

  /** The provider said "too fast": halve the rate. */
  throttled(): void {
    if (this.unlimited) return;
    this.throttles++;
    const now = this.now();
    this.current = Math.max(1, this.current / 2);
    this.lastChange = now;
    this.tat = Math.max(this.tat, now) + 1000 / this.current;
  }

  private recover(now: number): void {
    if (this.current < this.target && now - this.lastChange >= 1000) {
      this.current = Math.min(this.target, this.current + this.target / 10);
      this.lastChange = now;
    }
  }
}
