import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cheapestProvider, failoverOrder, recipientHash, splitProvider } from '../../src/app/routing.js';
import { loadConfig, priceFor, routeFor } from '../../src/config/config.js';
import { clearSecrets } from '../../src/config/secrets.js';
import { Failover } from '../../src/delivery/failover.js';
import { plannedJournal } from '../support/journal.js';

function configIn(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-routes-'));
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), yaml);
  return dir;
}

const PROVIDERS =
  'providers:\n  a: { type: sim }\n  b: { type: sim }\n  carrier: { type: smpp, host: h, systemId: s, password: p }\n';
const load = (more: string) => loadConfig(undefined, {}, configIn(PROVIDERS + more));

afterEach(() => clearSecrets());

describe('routes: the forms', () => {
  it('takes a provider, a failover list, a split and a cheapest route', () => {
    const c = load(
      'routes:\n  default: a\n  sms: [carrier, a]\n  lms: { split: { a: 70, b: 30 } }\n  mms: { cheapest: [a, b] }\n',
    );
    expect(routeFor(c, 'alimtalk')).toEqual({ kind: 'one', providers: ['a'] });
    expect(routeFor(c, 'sms')).toEqual({ kind: 'failover', providers: ['carrier', 'a'] });
    expect(routeFor(c, 'lms')).toEqual({ kind: 'split', providers: ['a', 'b'], weights: [70, 30] });
    expect(routeFor(c, 'mms')).toEqual({ kind: 'cheapest', providers: ['a', 'b'] });
    expect(c.failoverAfterMs).toBe(30_000);
  });

  it.each([
    [
      'routes: { sms: [] }',
      /^ums\.config\.yaml: routes\.sms: a failover list must list at least one provider/,
    ],
    ['routes: { sms: [a, a] }', /^ums\.config\.yaml: routes\.sms: "a" is listed twice$/],
    ['routes: { sms: [a, nope] }', /^ums\.config\.yaml: routes\.sms: "nope" is not a configured provider/],
    [
      'routes: { sms: { split: { a: 70, b: 0 } } }',
      /routes\.sms: split\.b: the weight must be a positive whole number/,
    ],
    [
      'routes: { sms: { split: { a: 70.5, b: 30 } } }',
      /routes\.sms: split\.a: the weight must be a positive whole number/,
    ],
    ['routes: { sms: { split: {} } }', /routes\.sms: split must give each provider a weight/],
    ['routes: { sms: { cheapest: [] } }', /routes\.sms: cheapest must list at least one provider/],
    ['routes: { sms: { fastest: [a] } }', /routes\.sms: name a provider, a failover list \[a, b\], \{ split/],
    ['routes: { sms: 3 }', /routes\.sms: name a provider, a failover list/],
    ['prices: { zz: 3 }', /^ums\.config\.yaml: prices\.zz: not a channel or a configured provider/],
    ['prices: { a: { fax: 3 } }', /^ums\.config\.yaml: prices\.a\.fax: not a channel/],
    [
      'prices: { a: { sms: -1 } }',
      /^ums\.config\.yaml: prices\.a\.sms: a price must be a number of KRW, 0 or more$/,
    ],
    ['failoverAfterMs: -5', /^ums\.config\.yaml: failoverAfterMs: /],
  ])('%s: exit 2 with one line', (yaml, message) => {
    expect(() => load(`${yaml}\n`)).toThrow(message);
  });
});

describe('routes: assignment', () => {
  it('a provider’s own price wins over the channel’s; the others keep the channel’s', () => {
    const c = load('prices: { sms: 13, lms: 35, b: { sms: 11 } }\n');
    expect(priceFor(c, 'b', 'sms')).toBe(11);
    expect(priceFor(c, 'b', 'lms')).toBe(35);
    expect(priceFor(c, 'a', 'sms')).toBe(13);
  });

  it('cheapest picks the lowest price for the channel, ties in list order', () => {
    const c = load(
      'routes: { default: { cheapest: [a, b] } }\nprices: { sms: 13, lms: 35, b: { sms: 11, lms: 40 } }\n',
    );
    const route = routeFor(c, 'sms');
    expect(cheapestProvider(c, route, 'sms', null)).toBe('b');
    expect(cheapestProvider(c, route, 'lms', null)).toBe('a');
    expect(cheapestProvider(c, route, 'mms', null)).toBe('a'); // the same price: the first
    expect(failoverOrder(c, 'sms')).toEqual(['b', 'a']);
  });

  it('a split is stable per number and keeps its weights on 10,000 numbers (±2 %)', () => {
    const route = { kind: 'split' as const, providers: ['a', 'b'], weights: [70, 30] };
    const numbers = Array.from({ length: 10_000 }, (_, i) => `0103${String(i).padStart(7, '0')}`);
    const a = numbers.filter((n) => splitProvider(route, n) === 'a').length;
    expect(Math.abs(a / 10_000 - 0.7)).toBeLessThanOrEqual(0.02);
    for (const n of numbers.slice(0, 100)) expect(splitProvider(route, n)).toBe(splitProvider(route, n));
    expect(recipientHash('01012345678')).toBe(recipientHash('01012345678'));
  });
});

describe('failover', () => {
  it('a provider is out only after failoverAfterMs unavailable (at once when it refuses us), never the last of a route; only waiting rows move', () => {
    const journal = plannedJournal(6);
    const routing = journal.routing();
    routing.assignProviders('c', () => ({ provider: 'a', price: 13 }));
    const d = journal.delivery();
    // row 1 may have reached a (sending), row 2 is unknown on a: neither ever moves
    const [r1, r2] = d.nextPlanned('c', 'sms', 0, 2);
    d.claim([r1!, r2!], 'a');
    d.settle([{ id: r2!.id, kind: 'unknown', reason: 'timeout' }]);
    let now = 1_000_000;
    const f = new Failover({
      routing,
      campaignId: 'c',
      order: new Map([['sms', ['a', 'b']]]),
      afterMs: 500,
      price: (p) => (p === 'b' ? 11 : 13),
      now: () => now,
    });
    expect(f.failing('sms', 'a', 'unavailable', '503', now - 100)).toBe(false);
    expect(f.stopsLane('sms', 'a')).toBe(false);
    now += 1000;
    expect(f.failing('sms', 'a', 'unavailable', '503', now - 600)).toBe(true);
    expect(f.stopsLane('sms', 'a')).toBe(true);
    expect(f.failing('sms', 'b', 'fatal', 'auth', now)).toBe(false); // the last one left: it stops the run instead
    expect(f.moveWaiting()).toBe(4);
    expect(routing.nextPlanned('c', 'sms', 'b', 0, 100).map((m) => m.row)).toEqual([3, 4, 5, 6]);
    expect(routing.nextPlanned('c', 'sms', 'a', 0, 100)).toEqual([]);
    // a row still assigned to a is not claimed by b, nor one of b by a
    expect(d.claim(d.nextPlanned('c', 'sms', 0, 100), 'a')).toEqual([]);
    const moves = routing.moves('c');
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({ from: 'a', to: 'b', count: 4, why: 'unavailable', detail: '503' });
    const stats = Object.fromEntries(routing.providerStats('c').map((s) => [s.provider, s]));
    expect(stats.a).toMatchObject({ messages: 2, waiting: 0 });
    expect(stats.b).toMatchObject({ messages: 0, waiting: 4 });
    journal.close();
  });
});
