import type { DeliveryJournal, Settlement } from '../journal/delivery.js';
import type { RunState } from './lane.js';

/** A group is committed once it holds this many messages' results... */
const GROUP_MESSAGES = 512;
/** ...or this long after its first result (ms), whichever comes first. */
export const GROUP_DELAY_MS = 5;

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

  /** Queue one request's settlements; `after` runs once they are committed. */
  add(settlements: Settlement[], optedOut: string[], after: () => void): void {
    for (const s of settlements) this.settlements.push(s);
    for (const p of optedOut) this.optedOut.push(p);
    this.after.push(after);
    if (this.settlements.length >= GROUP_MESSAGES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Commit what is queued; false when the journal could not be written (the run then stops). */
  flush(): boolean {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.after.length) return !this.run.journalFailed;
    const { settlements, optedOut, after } = this;
    this.settlements = [];
    this.optedOut = [];
    this.after = [];
    try {
      // opted-out numbers are on the suppression list before their outcome is settled
      if (optedOut.length) this.onOptedOut?.(optedOut);
      this.run.progress.failed += this.journal.settle(settlements); // early reports that failed a message
    } catch (err) {
      // The outcomes could not be recorded: the rows stay `sending`, and resume asks the provider.
      this.run.journalFault(err);
      return false;
    }
    for (const f of after) f();
    return true;
  }
}
