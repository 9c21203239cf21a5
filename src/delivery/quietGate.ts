import { inQuietHours, type QuietHours } from '../campaign/quietHours.js';
import type { SendableMessage } from '../journal/delivery.js';

/**
 * The quiet-hours gate, the one place the engine asks it: ads marked deferrable (no night consent)
 * never go out inside these hours. Without hours (not an ad campaign) it is never closed.
 */
export class QuietGate {
  constructor(
    private readonly hours: QuietHours | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Inside the quiet hours now. */
  closed(): boolean {
    return this.hours !== undefined && inQuietHours(this.now(), this.hours);
  }

  /** The messages that may go now: all of them outside quiet hours, else those not deferrable. */
  admit(batch: SendableMessage[]): SendableMessage[] {
    if (!batch.some((m) => m.deferrable) || !this.closed()) return batch;
    return batch.filter((m) => !m.deferrable);
  }
}
