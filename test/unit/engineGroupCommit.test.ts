import { describe, expect, it } from 'vitest';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import type {
  DeliveryReport,
  OutboundMessage,
  Provider,
  ReportBatch,
  SubmitResult,
} from '../../src/providers/types.js';
import { plannedJournal } from '../support/journal.js';

/**
 * Answers are committed in groups, a few ms after they came. A provider that pushes a receipt right
 * after its answer (an SMSC's deliver_sm follows its submit_sm_resp at once) must not have it
 * acknowledged before the answer it follows is committed: acked, the provider forgets it, and a
 * kill before the group commit would leave a row `sending` whose receipt is gone.
 */
class EagerReporter implements Provider {
  readonly name = 'p';
  readonly maxBatch = 1;
  readonly tps = 0;
  private handler: ((batch: ReportBatch) => Promise<void>) | null = null;
  /** the row's status when its receipt was acknowledged */
  readonly atAck: string[] = [];
  constructor(private readonly statusOf: (key: string) => string) {}
  subscribeReports(handler: (batch: ReportBatch) => Promise<void>): void {
    this.handler = handler;
  }
  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    const key = batch[0]!.key;
    const providerId = `id-${key}`;
    await new Promise((resolve) => setImmediate(resolve)); // the answer comes over the wire...
    setImmediate(() => {
      // ...and its receipt right behind it
      const report: DeliveryReport = {
        key: null, // an SMPP receipt names the message by the provider's id alone
        providerId,
        status: 'delivered',
        code: 'DELIVRD',
        text: '',
        at: null,
      };
      void this.handler?.({
        reports: [report],
        ack: async () => {
          this.atAck.push(this.statusOf(key));
        },
      });
    });
    return { kind: 'results', outcomes: [{ kind: 'accepted', providerId }] };
  }
  async close(): Promise<void> {}
}

describe('the delivery engine commits answers in groups', () => {
  it('commits an answer before the receipt that follows it is acknowledged', async () => {
    const journal = plannedJournal(30);
    const statusOf = (key: string): string => {
      const row = Number(key.split(':')[1]);
      return [...journal.messages('c')].find((m) => m.row === row)!.status;
    };
    const provider = new EagerReporter(statusOf);
    const engine = new DeliveryEngine(journal.delivery(), {
      campaignId: 'c',
      from: null,
      lanes: [{ channel: 'sms', provider, tps: 0, window: 4 }],
      resendUnknown: false,
      giveUpAfterMs: 60_000,
      reportWaitMs: 2_000,
      groupCommitMs: 60_000, // the group waits: only the engine's own flushes commit it
      signal: new AbortController().signal,
    });
    const outcome = await engine.run();
    expect(outcome.kind).toBe('finished');
    expect(provider.atAck.length).toBe(30);
    // when each receipt was acked, its row's answer was in the journal (and the receipt applied)
    expect(new Set(provider.atAck)).toEqual(new Set(['delivered']));
    expect(journal.delivery().countInStatus('c', 'delivered')).toBe(30);
    journal.close();
  });
});
