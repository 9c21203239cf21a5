import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type AcceptedRecord, CarrierLog, readCarrierLog } from '../../src/providers/sim/carrierLog.js';

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
});
