import { RateWindow } from '../time/rate.js';

/**
 * The cap's window: a second plus a few ms, because the carrier stamps arrivals with its own clock
 * (and ms resolution): two sends exactly 1,000 ms apart here may look 999 ms apart there.
 */
const CAP_WINDOW_MS = 1005;

/**
 * A lane's rate in parts per second: the one rate limiter (time/rate.ts: pacing plus a hard cap over
 * CAP_WINDOW_MS), adapted AIMD-style: a throttle signal halves the rate, each calm second adds back
 * a tenth. rate 0 means unlimited.
 */
export class LaneRate {
  private readonly window: RateWindow;
  private lastChange = 0;
  throttles = 0;

  constructor(
    readonly target: number,
    private readonly now: () => number = () => performance.now(),
    /** how far pacing may catch up after a late timer, in ms */
    catchUpMs = 50,
  ) {
    this.window = new RateWindow(target, { windowMs: CAP_WINDOW_MS, spacingMs: 1000, catchUpMs });
  }

  get rate(): number {
    return this.window.rate;
  }

  get unlimited(): boolean {
    return this.target <= 0;
  }

  /** Parts per send that keep pacing smooth: about 50 sends a second. */
  chunkParts(maxBatch: number): number {
    if (this.unlimited) return maxBatch;
    return Math.max(1, Math.min(maxBatch, Math.floor(this.rate / 50)));
  }

  /** 0 when `parts` may go now (and they are counted); else the ms to wait before asking again. */
  tryTake(parts: number): number {
    if (this.unlimited) return 0;
    const now = this.now();
    const wait = this.window.wait(parts, now);
    if (wait > 0) return wait;
    this.window.take(parts, now);
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
    this.window.stampLast(this.now());
  }

  /** Give back parts taken but not sent. */
  refund(parts: number): void {
    if (this.unlimited) return;
    this.window.refund(parts);
  }

  /** The provider said "too fast": halve the rate. */
  throttled(): void {
    if (this.unlimited) return;
    this.throttles++;
    const now = this.now();
    this.window.slowTo(Math.max(1, this.rate / 2), now);
    this.lastChange = now;
  }

  private recover(now: number): void {
    if (this.rate < this.target && now - this.lastChange >= 1000) {
      this.window.rate = Math.min(this.target, this.rate + this.target / 10);
      this.lastChange = now;
    }
  }
}
