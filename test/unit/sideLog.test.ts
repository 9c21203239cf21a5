import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { parseKey } from '../../src/journal/delivery.js';
import { coverageWith, RequestLog } from '../../src/providers/requestLog.js';
import { type AcceptedRecord, CarrierLog } from '../../src/providers/sim/carrierLog.js';
import type { SideStore } from '../../src/providers/types.js';
import { openTestJournal, reopenTestJournal, secondConnection } from '../support/journal.js';
import { sideStores } from '../support/sideStores.js';

const record = (key: string, to: string, due = 2): AcceptedRecord => ({
  t: 'acc',
  key,
  id: `SIM-${key}`,
  to,
  ch: 'sms',
  parts: 1,
  at: 1,
  dlr: 'delivered',
  code: '4000',
  due,
});

describe.each(sideStores())("providers' side logs ($what)", ({ open }) => {
  it('gives back the lines appended, in order, also after a restart; names are apart', () => {
    const s = open();
    const a = s.store.log('sim-a.jsonl');
    const b = s.store.log('sim-b.jsonl');
    a.append('one\n');
    b.append('other\n');
    a.append('two\nthree\n');
    expect(a.lines().filter(Boolean)).toEqual(['one', 'two', 'three']);
    a.close();
    b.close();
    const again = s.again().log('sim-a.jsonl');
    expect(again.lines().filter(Boolean)).toEqual(['one', 'two', 'three']);
    again.append('four\n');
    expect(s.again().log('sim-a.jsonl').lines().filter(Boolean)).toEqual(['one', 'two', 'three', 'four']);
    expect(s.again().log('sim-b.jsonl').lines().filter(Boolean)).toEqual(['other']);
    again.close();
    s.close();
  });

  it('keeps one value by name (the poll checkpoint), replaced by the next put', () => {
    const s = open();
    expect(s.store.state('solapi-x-poll.json').get()).toBeNull();
    s.store.state('solapi-x-poll.json').put('{"since":1}\n');
    s.store.state('solapi-x-poll.json').put('{"since":2}\n');
    s.store.state('solapi-y-poll.json').put('{"since":9}\n');
    expect(s.again().state('solapi-x-poll.json').get()).toBe('{"since":2}\n');
    s.close();
  });

  it("a carrier log's pending reports and a request log's coverage are read back by another process", () => {
    const s = open();
    const carrier = new CarrierLog(s.store.log('sim-sim.jsonl'));
    carrier.append([record('c:1:0', '01000000001', 5), record('c:2:0', '01000000002', 5)]);
    carrier.ack([carrier.due(10, 1)[0]!]);
    const requests = new RequestLog(s.store.log('solapi-s-requests.jsonl'), parseKey);
    requests.record(['c:1:0', 'c:3:0'], 1000);
    carrier.close();
    requests.close();

    const other = s.again();
    const seen = new CarrierLog(other.log('sim-sim.jsonl'));
    expect([...seen.accepted.keys()]).toEqual(['c:1:0', 'c:2:0']);
    expect(seen.due(10, 10).map((r) => r.key)).toEqual(['c:2:0']); // c:1:0's report was taken
    const log = new RequestLog(other.log('solapi-s-requests.jsonl'), parseKey);
    expect(log.coverage(['c:1:0', 'c:2:0', 'c:3:0'])).toEqual({
      sent: ['c:1:0', 'c:2:0', 'c:3:0'],
      since: 1000,
    });
    expect(log.firstAt()).toBe(1000);
    seen.close();
    log.close();
    s.close();
  });
});

describe('side logs in the journal, shared by the workers of a campaign', () => {
  /** this worker's journal and another worker's (its own connection) */
  function two(): { mine: SideStore; theirs: SideStore; raw: Database.Database; close: () => void } {
    const j = openTestJournal();
    const k = reopenTestJournal(j);
    const raw = secondConnection(j);
    return {
      mine: j.sideLogs(),
      theirs: k.sideLogs(),
      raw,
      close: () => {
        raw.close();
        k.close();
        j.close();
      },
    };
  }

  it("gives a worker the lines another appended since it last read, never its own, and one committed after a later one's", () => {
    const t = two();
    const mine = t.mine.log('x.jsonl');
    const theirs = t.theirs.log('x.jsonl');
    expect(mine.shared).toBe(true);
    expect(mine.lines().filter(Boolean)).toEqual([]);
    mine.append('m1\n');
    theirs.append('t1\n');
    mine.append('m2\n');
    theirs.append('t2\nt3\n');
    expect(mine.fresh().filter(Boolean)).toEqual(['t1', 't2', 't3']);
    expect(mine.fresh()).toEqual([]);
    // an append whose seq was drawn before the last one read but that commits after it
    theirs.append('late\n');
    theirs.append('t4\n');
    const late = t.raw.prepare("SELECT seq FROM side_log WHERE text = 'late\n'").pluck().get() as number;
    t.raw.prepare('DELETE FROM side_log WHERE seq = ?').run(late); // not committed yet
    expect(mine.fresh().filter(Boolean)).toEqual(['t4']);
    t.raw.prepare("INSERT INTO side_log (seq, name, text) VALUES (?, 'x.jsonl', 'late\n')").run(late);
    expect(mine.fresh().filter(Boolean)).toEqual(['late']);
    expect(t.mine.log('x.jsonl').lines().filter(Boolean)).toEqual([
      'm1',
      't1',
      'm2',
      't2',
      't3',
      'late',
      't4',
    ]);
    t.close();
  });

  it('a worker finds, before a look-up, what a worker that died had sent to the simulated carrier, and pushes its report', () => {
    const t = two();
    const survivor = new CarrierLog(t.mine.log('sim-sim.jsonl'));
    const dead = new CarrierLog(t.theirs.log('sim-sim.jsonl'));
    dead.append([record('c:1:0', '01000000001', 5), record('c:2:0', '01000000002', 5)]);
    dead.ack([dead.due(10, 1)[0]!]); // c:1:0's report was taken before it died
    expect(survivor.accepted.has('c:2:0')).toBe(false);
    survivor.refresh();
    expect([...survivor.accepted.keys()]).toEqual(['c:1:0', 'c:2:0']);
    expect(survivor.due(10, 10).map((r) => r.key)).toEqual(['c:2:0']);
    t.close();
  });

  it('two workers give the simulated carrier ids that never meet, though they read the same log in the same ms', () => {
    const t = two();
    const a = new CarrierLog(t.mine.log('sim-sim.jsonl'));
    const b = new CarrierLog(t.theirs.log('sim-sim.jsonl'));
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) {
      ids.add(a.nextId());
      ids.add(b.nextId());
    }
    expect(ids.size).toBe(1000);
    t.close();
  });

  it("a request log's coverage is exact across workers: a look-up searches from the dead worker's request, not from the hint", () => {
    const t = two();
    const survivor = new RequestLog(t.mine.log('solapi-s-requests.jsonl'), parseKey);
    const dead = new RequestLog(t.theirs.log('solapi-s-requests.jsonl'), parseKey);
    survivor.record(['c:1:0'], 1000);
    dead.record(['c:5:0', 'c:6:0'], 2000);
    // c:7:0 was claimed by the dead worker but never left: never sent, whatever the hint says
    expect(coverageWith(survivor, ['c:5:0', 'c:6:0', 'c:7:0'], { sentSince: 500 })).toEqual({
      sent: ['c:5:0', 'c:6:0'],
      since: 2000,
    });
    t.close();
  });
});
