import os from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmppProvider, type SmppProvider } from '../../src/providers/smpp/provider.js';
import type { OutboundMessage } from '../../src/providers/types.js';
import { FakeSmsc } from '../support/fakeSmsc.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const msg = (to: string): OutboundMessage => ({
  key: `c:${to}:0`,
  to,
  from: '0212345678',
  channel: 'sms',
  subject: null,
  text: '주문하신 상품이 발송되었습니다.',
  parts: 1,
});

describe('SMPP link under a rate', () => {
  // Found by test/reliability/smpp.test.ts (a 30 s SMSC outage at tps 1000): the connection dropped
  // while the link held a submit back (then its rate, now its window), and after the rebind nothing
  // was ever sent again.
  it('sends again after a rebind when the connection dropped while the window was holding submits back', async () => {
    const smsc = await FakeSmsc.start({ dropAfterSubmits: 3 });
    cleanup.push(() => smsc.stop());
    const p = createSmppProvider(
      'carrier',
      {
        type: 'smpp',
        host: '127.0.0.1',
        port: smsc.port,
        systemId: 'ums',
        password: 'secret',
        tps: 20,
        window: 2,
        requestTimeoutMs: 2000,
        unavailableAfterMs: 5000,
      },
      { stateDir: os.tmpdir() },
    ) as SmppProvider;
    cleanup.push(() => p.close());
    const batch = Array.from({ length: 8 }, (_, i) => msg(`0101111${String(i).padStart(4, '0')}`));
    const results = await Promise.all(batch.map((m) => p.submit([m])));
    expect(p.stats.binds).toBe(2);
    const accepted = batch.filter((_, i) => results[i]!.kind === 'results');
    const ambiguous = batch.filter((_, i) => results[i]!.kind === 'ambiguous');
    expect(accepted.length + ambiguous.length).toBe(8);
    expect(accepted.length).toBeGreaterThanOrEqual(5); // the ones queued behind the drop went after the rebind
    expect(smsc.arrivals.length).toBeGreaterThan(3);
  }, 15_000);
});
