import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runUms, workdir } from '../support/cli.js';

/**
 * Large CSVs are stored by a worker thread (src/app/planWriter.ts) while the main thread plans;
 * small ones by the planning thread itself. UMS_PLAN_WRITER forces either: both must leave the
 * very same journal behind, and fail the very same way.
 */

const HEADER = 'name,phone,shop,item,invoice';
/** every 250th row repeats an earlier number, written another way */
const phone = (i: number): string => {
  const n = i % 250 === 0 ? i - 101 : i;
  return (n + i) % 3 === 0
    ? `010-${String(2000 + (n % 7000)).padStart(4, '0')}-${String(n % 9973).padStart(4, '0')}`
    : `+82 10 ${2000 + (n % 7000)} ${String(n % 9973).padStart(4, '0')}`;
};
const ROW = (i: number) => `고객${i},${phone(i)},"한빛, 마트",담요 ${i % 17},6021-${i}`;

function messages(db: string): unknown[] {
  const sqlite = new Database(db, { readonly: true });
  try {
    return sqlite.prepare('SELECT * FROM messages ORDER BY id').raw().all();
  } finally {
    sqlite.close();
  }
}

describe('planning with and without the journal writer thread', () => {
  it('stores the same rows, statuses, reasons and numbering either way', async () => {
    const dir = workdir({ 't.md': 'templates/order-shipped.md' });
    const rows = [HEADER];
    // 100 packets for the worker: past the point where it stops for the WAL to start over (RESTART_WAL_EVERY_PACKETS)
    for (let i = 1; i <= 100_000; i++)
      rows.push(i % 1000 === 7 ? ROW(i).replace(/^([^,]*),[^,]*,/, '$1,010-12,') : ROW(i));
    fs.writeFileSync(path.join(dir, 'r.csv'), `${rows.join('\n')}\n`);
    const dbs: Record<string, string> = {};
    const stdout: string[] = [];
    for (const writer of ['inline', 'worker']) {
      dbs[writer] = path.join(dir, `${writer}.db`);
      const r = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--json', '--db', dbs[writer]!], {
        cwd: dir,
        env: { UMS_PLAN_WRITER: writer },
      });
      expect(r.code, r.stderr).toBe(3); // a dry run that rejects rows (every 1,000th number is broken)
      stdout.push(r.stdout);
    }
    const inline = messages(dbs.inline!) as unknown[][];
    expect(inline.length).toBe(100_000);
    // some rows rejected (invalid numbers) and some skipped (duplicates): not only the easy path
    expect(new Set(inline.map((m) => m[6]))).toEqual(new Set(['planned', 'rejected', 'skipped']));
    expect(messages(dbs.worker!)).toEqual(inline);
    expect(stdout[1]).toBe(stdout[0]);
  });

  it('an error deep in the file leaves no campaign and no rows behind, with the same message', async () => {
    const dir = workdir({ 't.md': 'templates/order-shipped.md' });
    const rows = [HEADER];
    for (let i = 1; i <= 30_000; i++) rows.push(i === 25_000 ? `${ROW(i)},extra` : ROW(i));
    fs.writeFileSync(path.join(dir, 'bad.csv'), `${rows.join('\n')}\n`);
    const stderr: string[] = [];
    for (const writer of ['inline', 'worker']) {
      const r = await runUms(['send', 'bad.csv', '-t', 't.md', '--dry-run', '--db', 'j.db'], {
        cwd: dir,
        env: { UMS_PLAN_WRITER: writer },
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('bad.csv row 25001, line 25001');
      stderr.push(r.stderr);
      expect(messages(path.join(dir, 'j.db'))).toEqual([]);
      const list = await runUms(['campaigns', '--json', '--db', 'j.db'], { cwd: dir });
      expect(JSON.parse(list.stdout)).toEqual([]);
    }
    expect(stderr[1]).toBe(stderr[0]);
  });

  it('keeps the WAL small while the worker writes: it starts over, it does not grow with the plan', async () => {
    const dir = workdir({ 't.md': 'templates/order-shipped.md' });
    const rows = [HEADER];
    for (let i = 1; i <= 300_000; i++) rows.push(ROW(i));
    fs.writeFileSync(path.join(dir, 'r.csv'), `${rows.join('\n')}\n`);
    const wal = path.join(dir, 'j.db-wal');
    let largest = 0;
    const watch = setInterval(() => {
      try {
        largest = Math.max(largest, fs.statSync(wal).size);
      } catch {
        // not there yet, or gone
      }
    }, 10);
    try {
      const r = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--db', 'j.db'], {
        cwd: dir,
        env: { UMS_PLAN_WRITER: 'worker' },
      });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      clearInterval(watch);
    }
    const journalBytes = fs.statSync(path.join(dir, 'j.db')).size;
    // the plan takes ~60 MB; a WAL that never started over would have grown to about as much
    expect(journalBytes).toBeGreaterThan(40 * 1024 * 1024);
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThan(32 * 1024 * 1024);
    expect(fs.existsSync(wal) ? fs.statSync(wal).size : 0).toBe(0); // truncated when planning ends, removed at close
  });
});
