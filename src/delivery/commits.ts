import type { DeliveryJournal, Settlement } from '../journal/delivery.js';
import type { RunState } from './lane.js';

/** A group is committed once it holds this many messages' results... */
const GROUP_MESSAGES = 512;
/** ...or this long after its first result (ms), whichever comes first. */
export const GROUP_DELAY_MS = 5;
/** How far ahead a paced lane's next claim may be for a group to wait for it (ms). */
const RIDE_MS = 25;

/**
 * Answers committed in groups: one transaction for many requests' results instead of one each
 * (bench/send.js, bench/smpp.js). A result waits at most GROUP_DELAY_MS; what depends on it being
 * written (resending a released message, acknowledging the provider's reports) runs only after
 * flush(): the engine flushes before it applies and acks reports, so a result is always committed
 * before its reports are acknowledged. A kill loses at most the uncommitted group: those rows are
 * still `sending`, and resume asks the provider about them (or reports them unknown).
 */
export class GroupCommit {
  private settlements: Settlement[] = [];
  private optedOut: string[] = [];
  private after: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** when a paced lane will claim next (performance.now()): the group rides along with that claim */
  private claimDueAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly journal: DeliveryJournal,
    private readonly run: RunState,
    private readonly onOptedOut?: (phones: string[]) => void,
    private readonly delayMs = GROUP_DELAY_MS,
  ) {}

  /** Results waiting to be committed. */
  get pending(): number {
    return this.after.length;
  }

  /**
   * A lane will claim its next group at `at` (performance.now()), within RIDE_MS: what is answered
   * until then is committed in that claim's transaction (claimWith), one commit instead of two, and
   * its timer is set past that instant, so that it does not wake the process for nothing
   * (bench/smpp.js paced: a timer and a commit per group were a third of its CPU).
   */
  expectClaim(at: number): void {
    const now = performance.now();
    if (at - now > RIDE_MS || at >= this.claimDueAt) return;
    this.claimDueAt = at;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.flush(), at - now + this.delayMs);
    }
  }

  /** Queue one request's settlements; `after` runs once they are committed. */
  add(settlements: Settlement[], optedOut: string[], after: () => void): void {
    for (const s of settlements) this.settlements.push(s);
    for (const p of optedOut) this.optedOut.push(p);
    this.after.push(after);
    if (this.settlements.length >= GROUP_MESSAGES) this.flush();
    else if (!this.timer) {
      const ride = this.claimDueAt === Number.POSITIVE_INFINITY ? 0 : this.claimDueAt - performance.now();
      this.timer = setTimeout(() => this.flush(), this.delayMs + Math.min(RIDE_MS, Math.max(0, ride)));
    }
  }

  /** Commit what is queued; false when the journal could not be written (the run then stops). */
  flush(): boolean {
    const queued = this.take();
    if (!queued) return !this.run.journalFailed;
    try {
      this.write(queued);
    } catch (err) {
      // The outcomes could not be recorded: the rows stay `sending`, and resume asks the provider.
      this.run.journalFault(err);
      return false;
    }
    for (const f of queued.after) f();
    return true;
  }

  /**
   * `claim` in one transaction with what is queued, written first: the rules hold (a result is
   * committed before what depends on it runs, `sending` before the request leaves) with one commit.
   * Throws what the journal throws: then neither is written, and the run stops on a journal fault.
   */
  claimWith<T>(claim: () => T): T {
    const queued = this.take();
    if (!queued) return claim();
    const out = this.journal.transaction(() => {
      this.write(queued);
      return claim();
    });
    for (const f of queued.after) f();
    return out;
  }

  private take(): Queued | null {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.claimDueAt = Number.POSITIVE_INFINITY;
    if (!this.after.length) return null;
    const queued = { settlements: this.settlements, optedOut: this.optedOut, after: this.after };
    this.settlements = [];
    this.optedOut = [];
    this.after = [];
    return queued;
  }

  private write({ settlements, optedOut }: Queued): void {
    // opted-out numbers are on the suppression list before their outcome is settled
    if (optedOut.length) this.onOptedOut?.(optedOut);
    this.run.progress.failed += this.journal.settle(settlements); // early reports that failed a message
  }
}

interface Queued {
  settlements: Settlement[];
  optedOut: string[];
  after: (() => void)[];
}
