import { describe, expect, it } from 'vitest';
import { DEFAULT_QUIET_HOURS } from '../../src/campaign/quietHours.js';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import type { OutboundMessage, Provider, SubmitResult } from '../../src/providers/types.js';
import { plannedJournal } from '../support/journal.js';

/**
 * Ads without night consent never leave inside the quiet hours (21:00-08:00 in Seoul), even when
 * 21:00 strikes between the last look at the clock and the request: here, while the rows are being
 * claimed (a write transaction, which on a loaded machine takes milliseconds). Found in CI as one ad
 * that left at 21:00:00.00x.
 */
const EVENING = Date.parse('2026-11-25T20:59:59.900+09:00');
const NINE = Date.parse('2026-11-25T21:00:00.000+09:00');

/** 20 ad rows; every 5th has night consent */
const adCampaign = (): ReturnType<typeof plannedJournal> =>
  plannedJournal(20, (i) => ({
    bytes: 30,
    body: '(광고) 세일 안내 무료수신거부 0801234567',
    deferrable: i % 5 !== 0,
  }));

class ClockedProvider implements Provider {
  readonly name = 'p';
  readonly maxBatch = 10;
  readonly tps = 0;
  readonly sent: { to: string; at: number }[] = [];
  constructor(private readonly clock: () => number) {}
  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    for (const m of batch) this.sent.push({ to: m.to, at: this.clock() });
    return {
      kind: 'results',
      outcomes: batch.map((_, i) => ({
        kind: 'accepted' as const,
        providerId: `id-${this.sent.length}-${i}`,
      })),
    };
  }
  async close(): Promise<void> {}
}

describe('the delivery engine at 21:00', () => {
  it('puts back the ads it claimed when the quiet hours began during the claim, and sends the consented ones', async () => {
    const journal = adCampaign();
    let now = EVENING;
    const delivery = journal.delivery();
    const claim = delivery.claim.bind(delivery);
    delivery.claim = (messages, provider, quietNow) => {
      now = NINE; // the clock strikes nine while the claim is written: after the engine's last look before it
      return claim(messages, provider, quietNow);
    };
    const provider = new ClockedProvider(() => now);
    const engine = new DeliveryEngine(delivery, {
      campaignId: 'c',
      from: null,
      lanes: [{ channel: 'sms', provider, tps: 0, window: 1 }],
      resendUnknown: false,
      giveUpAfterMs: 60_000,
      reportWaitMs: 0,
      signal: new AbortController().signal,
      quietHours: DEFAULT_QUIET_HOURS,
      now: () => new Date(now),
    });
    const outcome = await engine.run();
    expect(outcome).toMatchObject({ kind: 'deferred', deferred: 16 });
    // nothing without consent left at or after 21:00; the consented rows (1, 6, 11, 16) did
    const consenting = new Set([0, 5, 10, 15].map((i) => `0102000${String(i).padStart(4, '0')}`));
    expect(provider.sent.length).toBeGreaterThan(0);
    expect(provider.sent.filter((s) => s.at >= NINE && !consenting.has(s.to))).toEqual([]);
    expect(delivery.countInStatus('c', 'planned')).toBe(20 - provider.sent.length);
    // a message put back was not attempted
    expect(
      [...journal.messages('c')].filter((m) => m.status === 'planned').every((m) => m.attempts === 0),
    ).toBe(true);
    journal.close();
  });
});
