import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseKey } from '../../src/journal/delivery.js';
import { RequestLog } from '../../src/providers/requestLog.js';
import { fileSideStore } from '../../src/providers/sideFiles.js';
import { type AcceptedRecord, CarrierLog } from '../../src/providers/sim/carrierLog.js';
import type { SideStore } from '../../src/providers/types.js';
import { openTestJournal, reopenTestJournal, testDialect } from '../support/journal.js';

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

/** Each store, and how a restarted process (or another worker) opens it again. */
type Opened = { store: SideStore; again: () => SideStore; close: () => void };

function stores(): {
  what: string;
  open: () => { store: SideStore; again: () => SideStore; close: () => void };
}[] {
  const out: { what: string; open: () => Opened }[] = [
    {
      what: 'journal',
      open: () => {
        const j = openTestJournal();
        const opened = [j];
        return {
          store: j.sideLogs(),
          again: () => {
            const k = reopenTestJournal(j);
            opened.push(k);
            return k.sideLogs();
          },
          close: () => {
            for (const o of opened) o.close();
          },
        };
      },
    },
  ];
  // the files only once (they are the same on either dialect's run)
  if (testDialect === 'sqlite')
    out.push({
      what: 'files',
      open: () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-side-'));
        return { store: fileSideStore(dir), again: () => fileSideStore(dir), close: () => undefined };
      },
    });
  return out;
}

describe.each(stores())("providers' side logs ($what)", ({ open }) => {
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
