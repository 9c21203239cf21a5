import { inQuietHours, type QuietHours } from '../campaign/quietHours.js';
import type { SendableMessage } from '../journal/delivery.js';

/** How long before quiet hours begin the gate closes (claim to carrier takes time). */
export const LEAD_MS = 500;

/**
 * The quiet-hours gate, the one place the engine asks it: ads marked deferrable (no night consent)
 * never go out inside these hours. Without hours (not an ad campaign) it is never closed.
 */
export class QuietGate {
  constructor(
    private readonly hours: QuietHours | undefined,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Inside the quiet hours now, or about to be: an ad claimed at 20:59:59.9 reaches the carrier
   * after 21:00 on a busy machine (seen at load 12 in test/e2e/korean.test.ts), so the gate closes
   * LEAD_MS early. It opens on the hour: at 07:59:59.9 both instants are still inside.
   */
  closed(): boolean {
    if (this.hours === undefined) return false;
    const now = this.now();
    return inQuietHours(now, this.hours) || inQuietHours(new Date(now.getTime() + LEAD_MS), this.hours);
  }

  /** The messages that may go now: all of them outside quiet hours, else those not deferrable. */
  admit(batch: SendableMessage[]): SendableMessage[] {
    if (!batch.some((m) => m.deferrable) || !this.closed()) return batch;
    return batch.filter((m) => !m.deferrable);
  }
}
