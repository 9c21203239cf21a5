import { describe, expect, it } from 'vitest';
import { DeliveryEngine, type LanePins, type LaneSpec } from '../../src/delivery/engine.js';
import type { OutboundMessage, Provider, SubmitResult } from '../../src/providers/types.js';
import { plannedJournal } from '../support/journal.js';

/** Takes everything, and remembers the order: the channel of each message submitted. */
class TakingProvider implements Provider {
  readonly name = 'p';
  readonly maxBatch = 1;
  readonly tps = 0;
  readonly order: string[] = [];
  /** when each channel's first message was submitted (ms) */
  readonly first = new Map<string, number>();
  private n = 0;
  async lookup(): Promise<Map<string, { providerId: string }>> {
    return new Map();
  }
  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    for (const m of batch) {
      this.order.push(m.channel);
      if (!this.first.has(m.channel)) this.first.set(m.channel, Date.now());
    }
    return { kind: 'results', outcomes: batch.map(() => ({ kind: 'accepted', providerId: `P${++this.n}` })) };
  }
  async close(): Promise<void> {}
}

describe('a worker takes over a lane another worker let go of', () => {
  it("while its own lane still runs (not when its pass ends), the rows the last holder left sending looked up first, after the cap's window", async () => {
    // rows 1-60 SMS (this worker's lane, 25/s: 2.4 s), rows 61-65 LMS (another worker's lane)
    const journal = plannedJournal(65, (i) => (i >= 60 ? { channel: 'lms' } : {}));
    const d = journal.delivery();
    const provider = new TakingProvider();
    // the other worker had claimed row 31 before it died: sending, never written
    d.worker = 7;
    expect(d.claim(d.nextPlanned('c', 'lms', 0, 1), 'p')).toHaveLength(1);
    d.worker = null;
    const sms: LaneSpec = { channel: 'sms', provider, tps: 25, window: 1 };
    const lms: LaneSpec = { channel: 'lms', provider, tps: 0, window: 1 };
    const freeAt = Date.now() + 200; // the other worker's connection closes then
    const released: string[] = [];
    let takenAt = 0;
    const pins: LanePins = {
      retryMs: 50,
      tryHold: async (spec) => {
        if (spec === sms) return true;
        if (Date.now() < freeAt) return false;
        takenAt ||= Date.now();
        return true;
      },
      left: (spec) =>
        [...journal.messages('c')].filter(
          (m) => m.channel === spec.channel && (m.status === 'planned' || m.status === 'sending'),
        ).length,
      release: (spec) => released.push(spec.channel),
      sentSince: () => 0,
    };
    const engine = new DeliveryEngine(d, {
      campaignId: 'c',
      from: null,
      lanes: [sms, lms],
      pins,
      resendUnknown: false,
      giveUpAfterMs: 60_000,
      reportWaitMs: 0,
      signal: new AbortController().signal,
    });
    const outcome = await engine.run();
    expect(outcome.kind).toBe('finished');
    expect(provider.order.filter((c) => c === 'lms')).toHaveLength(5); // row 31 too: never written, looked up, sent
    expect(provider.order.lastIndexOf('lms')).toBeLessThan(provider.order.lastIndexOf('sms'));
    // the last holder's last second is not in this worker's window: none of the lane's sends before it ends
    expect(provider.first.get('lms')! - takenAt).toBeGreaterThanOrEqual(1000);
    expect([...journal.messages('c')].every((m) => m.status === 'sent')).toBe(true);
    journal.close();
  });
});

/** Never answers, and cannot be asked (Solapi during an outage). */
class SilentProvider implements Provider {
  readonly name = 'q';
  readonly maxBatch = 10;
  readonly tps = 0;
  submitted = 0;
  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    this.submitted += batch.length;
    return { kind: 'ambiguous', message: 'no answer (test)' };
  }
  async lookup(): Promise<Map<string, { providerId: string }>> {
    throw new Error('the provider cannot be asked (test)');
  }
  async close(): Promise<void> {}
}

describe('a worker standing by for another worker', () => {
  it('asks about its own unknown rows instead of standing by for ever (the other may be standing by for them)', async () => {
    // rows 1-3 SMS on this worker's lane; rows 4-5 LMS on a lane another worker holds for good
    const journal = plannedJournal(5, (i) => (i >= 3 ? { channel: 'lms' } : {}));
    const d = journal.delivery();
    const provider = new SilentProvider();
    const sms: LaneSpec = { channel: 'sms', provider, tps: 0, window: 1 };
    const lms: LaneSpec = { channel: 'lms', provider, tps: 0, window: 1 };
    const pins: LanePins = {
      retryMs: 20,
      tryHold: async (spec) => spec === sms,
      left: (spec, withUnknown) =>
        [...journal.messages('c')].filter(
          (m) =>
            m.channel === spec.channel &&
            (m.status === 'planned' || m.status === 'sending' || (withUnknown && m.status === 'unknown')),
        ).length,
      release: () => undefined,
      sentSince: () => 0,
    };
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), 15_000); // standing by for ever: interrupted then
    const engine = new DeliveryEngine(d, {
      campaignId: 'c',
      from: null,
      lanes: [sms, lms],
      pins,
      resendUnknown: false,
      giveUpAfterMs: 60_000,
      reportWaitMs: 0,
      signal: stop.signal,
    });
    const outcome = await engine.run();
    clearTimeout(timer);
    expect(outcome.kind).toBe('fault');
    expect(outcome.kind === 'fault' && outcome.message).toMatch(/^3 messages are unknown/);
    expect(provider.submitted).toBe(3); // never sent again
    journal.close();
  }, 30_000);
});
