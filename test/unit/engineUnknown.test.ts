import { describe, expect, it } from 'vitest';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import type { OutboundMessage, Provider, SubmitResult } from '../../src/providers/types.js';
import { plannedJournal } from '../support/journal.js';

/**
 * The engine's own rules for rows whose outcome is unknown, with a provider that never answers and
 * cannot be asked right now (Solapi during an outage): such a row may go out again only on a
 * definite "not here" from a lookup, whatever --resend-unknown says about rows a past run left.
 */
class SilentProvider implements Provider {
  readonly name = 'p';
  readonly maxBatch = 10;
  readonly tps = 0;
  readonly submitted = new Map<string, number>();
  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    for (const m of batch) this.submitted.set(m.key, (this.submitted.get(m.key) ?? 0) + 1);
    return { kind: 'ambiguous', message: 'no answer (test)' };
  }
  async lookup(): Promise<Map<string, { providerId: string }>> {
    throw new Error('the provider cannot be asked (test)');
  }
  async close(): Promise<void> {}
}

describe('the delivery engine and unknown rows', () => {
  for (const resendUnknown of [false, true]) {
    it(`never submits a row twice when its answer was lost and the lookup fails (--resend-unknown ${resendUnknown ? 'on' : 'off'})`, async () => {
      const journal = plannedJournal(5);
      const provider = new SilentProvider();
      const engine = new DeliveryEngine(journal.delivery(), {
        campaignId: 'c',
        from: null,
        lanes: [{ channel: 'sms', provider, tps: 0, window: 1 }],
        resendUnknown,
        giveUpAfterMs: 60_000,
        reportWaitMs: 0,
        signal: new AbortController().signal,
      });
      const outcome = await engine.run();
      expect(outcome.kind).toBe('fault'); // the run does not finish with rows nobody could ask about
      expect([...provider.submitted.values()]).toEqual([1, 1, 1, 1, 1]);
      expect(journal.delivery().countInStatus('c', 'unknown')).toBe(5);
      journal.close();
    }, 20_000);
  }
});
