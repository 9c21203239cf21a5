import { describe, expect, it } from 'vitest';
import { Failover } from '../../src/delivery/failover.js';
import { plannedJournal } from '../support/journal.js';

describe('failback', () => {
  it('a provider out for being unavailable is probed after failbackAfterMs; once it answers, only the waiting rows its route gave it come back (journaled `recovered`), never one another provider may hold', () => {
    const journal = plannedJournal(8);
    const routing = journal.routing();
    // a split-like plan: odd rows home on a, even rows home on b
    const homeOf = (to: string | null): string => (Number(to?.slice(-1)) % 2 === 0 ? 'a' : 'b');
    routing.assignProviders('c', (r) => ({ provider: homeOf(r.to), price: 13 }));
    let now = 1_000_000;
    const f = new Failover({
      routing,
      campaignId: 'c',
      order: new Map([['sms', ['a', 'b']]]),
      afterMs: 500,
      failbackAfterMs: 2000,
      home: (row) => homeOf(row.to),
      price: (p) => (p === 'b' ? 11 : 13),
      now: () => now,
    });
    expect(f.nextProbeInMs()).toBeNull();
    expect(f.failing('sms', 'a', 'unavailable', '503', now - 600)).toBe(true);
    expect(f.moveWaiting()).toBe(4);
    const d = journal.delivery();
    // b takes one of a's rows (sending: b may hold it) and one of its own
    const onB = routing.nextPlanned('c', 'sms', 'b', 0, 100);
    expect(onB).toHaveLength(8);
    const [first, second] = onB;
    expect(d.claim([first!, second!], 'b')).toHaveLength(2);
    expect(f.dueProbes()).toEqual([]);
    expect(f.nextProbeInMs()).toBe(2000);
    now += 2000;
    expect(f.dueProbes()).toEqual(['a']);
    f.stillOut('a'); // the probe found it silent: asked again later, nothing moves
    expect(f.dueProbes()).toEqual([]);
    expect(f.isOut('a')).toBe(true);
    now += 2000;
    expect(f.dueProbes()).toEqual(['a']);
    // it answers: a's waiting rows come back (3: the one b claimed stays with b), b's own stay on b
    expect(f.recovered('a')).toBe(3);
    expect(f.isOut('a')).toBe(false);
    expect(f.stopsLane('sms', 'a')).toBe(false);
    const backOnA = routing.nextPlanned('c', 'sms', 'a', 0, 100);
    expect(backOnA.every((m) => homeOf(m.to) === 'a')).toBe(true);
    expect(backOnA).toHaveLength(3);
    const leftOnB = routing.nextPlanned('c', 'sms', 'b', 0, 100);
    expect(leftOnB.every((m) => homeOf(m.to) === 'b')).toBe(true);
    expect(leftOnB).toHaveLength(3);
    // a row b may hold is never claimed by a
    expect(d.claim([first!], 'a')).toEqual([]);
    const moves = routing.moves('c').map((m) => [m.from, m.to, m.count, m.why]);
    expect(moves).toEqual([
      ['a', 'b', 4, 'unavailable'],
      ['b', 'a', 3, 'recovered'],
    ]);
    journal.close();
  });

  it('without failbackAfterMs nothing is ever probed: a provider out stays out for the run', () => {
    const journal = plannedJournal(2);
    const routing = journal.routing();
    routing.assignProviders('c', () => ({ provider: 'a', price: 13 }));
    let now = 1_000_000;
    const f = new Failover({
      routing,
      campaignId: 'c',
      order: new Map([['sms', ['a', 'b']]]),
      afterMs: 500,
      price: () => 13,
      now: () => now,
    });
    expect(f.failing('sms', 'a', 'unavailable', '503', now - 600)).toBe(true);
    now += 1_000_000;
    expect(f.dueProbes()).toEqual([]);
    expect(f.nextProbeInMs()).toBeNull();
    journal.close();
  });
});
