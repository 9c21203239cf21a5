import { describe, expect, it } from 'vitest';
import { FAILOVER_GIVE_UP_MARGIN_MS, GIVE_UP_AFTER_MS, giveUpAfterMs } from '../../src/app/sendCampaign.js';
import type { Channel } from '../../src/campaign/types.js';

const order = (routes: Record<string, string[]>): Map<Channel, string[]> =>
  new Map(Object.entries(routes) as [Channel, string[]][]);

describe('giveUpAfterMs: a failover the config asks for happens before the run gives up', () => {
  it('a route with a next provider waits at least failoverAfterMs plus a margin', () => {
    const failover = order({ sms: ['carrier', 'solapi'] });
    expect(giveUpAfterMs(failover, 120_000)).toBe(120_000 + FAILOVER_GIVE_UP_MARGIN_MS);
    expect(giveUpAfterMs(failover, 120_000)).toBeGreaterThan(120_000);
    expect(giveUpAfterMs(failover, 61_000)).toBeGreaterThan(61_000);
  });

  it('the default failover (30 s) and routes without a next provider keep the usual give-up', () => {
    expect(giveUpAfterMs(order({ sms: ['carrier', 'solapi'] }), 30_000)).toBe(GIVE_UP_AFTER_MS);
    expect(giveUpAfterMs(order({ sms: ['solapi'], lms: ['nhn'] }), 300_000)).toBe(GIVE_UP_AFTER_MS);
  });
});
