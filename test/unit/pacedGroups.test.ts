import { describe, expect, it } from 'vitest';
import { DeliveryEngine } from '../../src/delivery/engine.js';
import type { OutboundMessage, Provider, SubmitResult } from '../../src/providers/types.js';
import { plannedJournal } from '../support/journal.js';

/** One message per request (as SMPP), answered at once; remembers each request's key. */
class OnePerRequest implements Provider {
  readonly maxBatch = 1;
  readonly sent: string[] = [];
  constructor(
    readonly name: string,
    readonly tps: number,
  ) {}
  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    this.sent.push(batch[0]!.key);
    return { kind: 'results', outcomes: [{ kind: 'accepted', providerId: `id-${batch[0]!.key}` }] };
  }
  async close(): Promise<void> {}
}

async function run(tps: number, window: number, rows: number) {
  const journal = plannedJournal(rows);
  const delivery = journal.delivery();
  const claims: number[] = [];
  const claim = delivery.claim.bind(delivery);
  delivery.claim = (batch, ...rest) => {
    claims.push(batch.length);
    return claim(batch, ...rest);
  };
  const provider = new OnePerRequest('p', tps);
  const outcome = await new DeliveryEngine(delivery, {
    campaignId: 'c',
    from: null,
    lanes: [{ channel: 'sms', provider, tps, window }],
    resendUnknown: false,
    giveUpAfterMs: 60_000,
    reportWaitMs: 0,
    signal: new AbortController().signal,
  }).run();
  const sentRows = delivery.countInStatus('c', 'sent');
  journal.close();
  return { outcome, claims, provider, sentRows };
}

describe('a paced lane of one message per request claims in groups', () => {
  it('at 500/s, window 10: groups of 5 (a hundredth of a second, half the window), everyone once', async () => {
    const { outcome, claims, provider, sentRows } = await run(500, 10, 60);
    expect(outcome.kind).toBe('finished');
    expect(sentRows).toBe(60);
    expect(new Set(provider.sent).size).toBe(60);
    expect(provider.sent).toHaveLength(60);
    expect(Math.max(...claims)).toBe(5);
    expect(claims.length).toBeLessThanOrEqual(14); // 12 groups, and a smaller one where a read block ends
  });

  it('half the window at most: at 500/s with a window of 4, groups of 2', async () => {
    const { claims, sentRows } = await run(500, 4, 20);
    expect(sentRows).toBe(20);
    expect(Math.max(...claims)).toBe(2);
  });

  it('a slow lane (under 200/s) still claims one message at a time', async () => {
    const { claims, sentRows } = await run(150, 10, 6);
    expect(sentRows).toBe(6);
    expect(claims.every((n) => n === 1)).toBe(true);
  });
});
