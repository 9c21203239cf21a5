import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseKey } from '../../src/journal/delivery.js';
import { RequestLog } from '../../src/providers/requestLog.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Solapi request log on a full disk', () => {
  it('refuses a record the disk took only part of, and the next record is still read back', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-reqlog-')), 'requests.jsonl');
    const log = new RequestLog(file, parseKey);
    log.record(['c1:1:0', 'c1:100:0'], 1000);
    // the disk is full: write(2) takes the first 7 bytes and stops (a short write, no error)
    const real = fs.writeSync.bind(fs) as (fd: number, b: Buffer) => number;
    const spy = vi
      .spyOn(fs, 'writeSync')
      .mockImplementation(((fd: number, b: Buffer | string) =>
        real(fd, Buffer.from(b).subarray(0, 7))) as typeof fs.writeSync);
    expect(() => log.record(['c1:101:0', 'c1:200:0'], 2000)).toThrow(/disk full/);
    spy.mockRestore();
    log.record(['c1:201:0', 'c1:300:0'], 3000); // space freed
    log.close();

    const again = new RequestLog(file, parseKey);
    // the request refused above never left; the ones either side of it did, and a lookup must know
    expect(again.coverage(['c1:50:0', 'c1:150:0', 'c1:250:0']).sent).toEqual(['c1:50:0', 'c1:250:0']);
    again.close();
  });
});
