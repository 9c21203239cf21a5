import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type AcceptedRecord,
  CarrierLog,
  readCarrierLog,
  recordLine,
} from '../../src/providers/sim/carrierLog.js';

const record = (key: string, to: string): AcceptedRecord => ({
  t: 'acc',
  key,
  id: `SIM-${key}`,
  to,
  ch: 'sms',
  parts: 1,
  at: 1,
  dlr: 'delivered',
  code: '4000',
  due: 2,
});

describe("the simulated carrier's log", () => {
  it('after a write cut short by a kill, the next record is still read (it is not glued to the fragment)', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-sim-')), 'sim.jsonl');
    const whole = JSON.stringify(record('c:1:0', '01000000001'));
    const cut = JSON.stringify(record('c:2:0', '01000000002')).slice(0, 40); // what a SIGKILL mid-write leaves
    fs.writeFileSync(file, `${whole}\n${cut}`);

    const log = new CarrierLog(file);
    expect([...log.accepted.keys()]).toEqual(['c:1:0']); // the cut record never reached the carrier
    log.append([record('c:2:0', '01000000002'), record('c:3:0', '01000000003')]);
    log.close();

    expect(readCarrierLog(file).map((r) => r.key)).toEqual(['c:1:0', 'c:2:0', 'c:3:0']);
    expect([...new CarrierLog(file).accepted.keys()]).toEqual(['c:1:0', 'c:2:0', 'c:3:0']);
  });

  it('writes each record as JSON.stringify would, whatever its strings hold', () => {
    const plain = record('c-1:2:0', '01000000001');
    expect(recordLine(plain)).toBe(JSON.stringify(plain));
    for (const odd of ['a"b', 'a\\b', 'a\nb', 'a\u0001b', 'a\u2028b', '고객"', 'a\ud800b', '😀\udfff']) {
      const r = { ...record(odd, odd), ch: odd, code: odd };
      expect(JSON.parse(recordLine(r))).toEqual(r);
      expect(recordLine(r)).toBe(JSON.stringify(r)); // a lone surrogate too (written raw, it read back as U+FFFD)
    }
    const late = { ...record('c:1:0', '01000000001'), due: 1.5 };
    expect(recordLine(late)).toBe(JSON.stringify(late));
    expect(JSON.parse(recordLine({ ...late, due: Number.NaN })).due).toBeNull();
  });

  it('keeps the latest record of a key, and what was acknowledged, across a restart', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-sim-')), 'sim.jsonl');
    const log = new CarrierLog(file);
    const first = { ...record('c:1:0', '01000000001'), id: 'A1' };
    log.append([first, { ...record('c:2:0', '01000000002'), id: 'A2' }]);
    expect(log.accepted.get('c:1:0')?.id).toBe('A1');
    log.append([{ ...first, id: 'A3' }]); // submitted again: the carrier's latest is the one it reports
    expect(log.accepted.get('c:1:0')?.id).toBe('A3');
    log.ack(log.due(2, 10).filter((r) => r.id !== 'A2'));
    expect(log.due(2, 10).map((r) => r.id)).toEqual(['A2']);
    log.close();
    const again = new CarrierLog(file);
    expect(again.accepted.get('c:1:0')?.id).toBe('A3');
    expect(again.due(2, 10).map((r) => r.id)).toEqual(['A2']);
    expect(again.nextId()).toMatch(/^SIM[0-9A-Z]+000004$/); // after the 3 records it holds
    again.close();
  });

  it('pushes each report once it is due, an earlier one appended later included', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-sim-')), 'sim.jsonl');
    const log = new CarrierLog(file);
    const at = (id: string, due: number): AcceptedRecord => ({
      ...record(`c:${id}:0`, '01000000001'),
      id,
      due,
    });
    log.append([at('A', 10), at('B', 5)]);
    expect(log.due(4, 10)).toEqual([]);
    expect(log.due(5, 10).map((r) => r.id)).toEqual(['B']);
    expect(log.due(5, 10).map((r) => r.id)).toEqual(['B']); // not acknowledged: pushed again
    log.ack(log.due(5, 10));
    expect(log.due(9, 10)).toEqual([]);
    log.append([at('C', 3)]);
    expect(log.due(3, 10).map((r) => r.id)).toEqual(['C']);
    expect(log.due(10, 1).map((r) => r.id)).toEqual(['A']); // at most max
    expect(log.due(10, 10).map((r) => r.id)).toEqual(['A', 'C']);
    log.close();
    expect(new CarrierLog(file).due(4, 10).map((r) => r.id)).toEqual(['C']);
  });
});
