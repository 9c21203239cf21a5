import { RateWindow } from '../time/rate.js';

/**
 * The cap's window: a second plus a few ms, because the carrier stamps arrivals with its own clock
 * (and ms resolution): two sends exactly 1,000 ms apart here may look 999 ms apart there.
 */
export const CAP_WINDOW_MS = 1005;

/** A congestion event whose carrier limit cannot be read off the last second halves the rate. */
const DECREASE = 0.5;

/** Below what the carrier took in the second before its refusal: room for its clock and ours. */
const MARGIN = 0.98;

/**
 * How long the limit a carrier showed (what it took in the second before it refused) stays the
 * ceiling of the additive recovery; then recovery probes on towards the lane's target.
 */
const CEILING_HOLD_MS = 30_000;

/**
 * A lane's rate in parts per second, and the lane's ONLY pacer: the engine asks it before it claims
 * a message, and the provider writes what it is given at once (the SMPP link no longer paces: two
 * pacers at different rates left claimed rows waiting in the link's queue, `unknown` after a kill
 * although they never left). Pacing here, before the claim, means a message is claimed no earlier
 * than it can be written. time/rate.ts does pacing plus a hard cap over CAP_WINDOW_MS.
 *
 * AIMD: one decrease per congestion event, additive recovery (a tenth of the target per calm
 * second). A throttled answer to a request written before the last decrease belongs to that
 * decrease's event and only takes its parts out of the cap's window (the carrier did not count
 * them). A new event lowers the rate to what the carrier took in the second before it refused
 * (less 2%), which is the carrier's limit as it enforces it, or halves it when that second is not
 * known yet; that limit is the recovery's ceiling for CEILING_HOLD_MS. rate 0 means unlimited.
 */
export class LaneRate {
  private readonly window: RateWindow;
  private lastChange = 0;
  private decreasedAt = -Infinity;
  private firstTake = -Infinity;
  private lastStamp = -Infinity;
  private ceiling = Infinity;
  /** throttled answers seen */
  throttles = 0;
  /** congestion events: decreases of the rate */
  decreases = 0;

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
    if (this.firstTake === -Infinity) this.firstTake = now;
    this.lastStamp = now;
    this.recover(now);
    return 0;
  }

  /**
   * The parts just taken leave now: stamp them with this instant rather than when they were taken,
   * so work in between (the journal's commit, a busy machine) cannot squeeze two sends into what the
   * carrier sees as one second. Returns the stamp: pass it to throttled() if their answer is one.
   */
  leavingNow(): number {
    const now = this.now();
    if (this.unlimited) return now;
    this.window.stampLast(now);
    this.lastStamp = now;
    return now;
  }

  /** Give back parts taken but not sent. */
  refund(parts: number): void {
    if (this.unlimited) return;
    this.window.refund(parts);
  }

  /**
   * The provider said "too fast" to the request stamped `sentAt` (leavingNow()'s value; without
   * it, the newest send is taken: after a decrease nothing is sent for a while, so answers to
   * requests written before it still arrive before the next send).
   */
  throttled(sentAt?: number): void {
    if (this.unlimited) return;
    this.throttles++;
    const now = this.now();
    const at = sentAt ?? this.lastStamp;
    this.window.uncount(at);
    if (at <= this.decreasedAt) return; // written before the last decrease: the same congestion event
    this.decreases++;
    const took = this.window.partsIn(at - 1000, at);
    let next: number;
    if (at - this.firstTake >= 1000) {
      // a whole second of sends is known: the carrier took `took` in it, and refused this one
      next = Math.min(this.rate, took) * MARGIN;
      this.ceiling = next;
    } else if (took * MARGIN > this.rate * DECREASE) {
      // the carrier refused before a second had passed, having taken more than half the rate
      next = Math.min(this.rate, took) * MARGIN;
      this.ceiling = next;
    } else {
      next = this.rate * DECREASE;
    }
    this.window.slowTo(Math.max(1, next), now);
    this.decreasedAt = now;
    this.lastChange = now;
  }

  private recover(now: number): void {
    const hold = now - this.decreasedAt < CEILING_HOLD_MS;
    const top = hold ? Math.min(this.target, Math.max(this.ceiling, 1)) : this.target;
    if (this.rate < top && now - this.lastChange >= 1000) {
      this.window.rate = Math.min(top, this.rate + this.target / 10);
      this.lastChange = now;
    }
  }
}
