import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runUms, workdir } from '../support/cli.js';

/**
 * Rendering stops at the channel's limit: a row too long to send keeps a bounded prefix of its
 * text in the journal (the reason carries the full size), so a CSV of huge values cannot make a
 * journal of gigabytes (a 300 KB CSV made 147 MB before).
 */
describe('too-long rows keep a bounded prefix', () => {
  it('300 rows of a 1,000-character value repeated 100 times: the journal stays small', async () => {
    const dir = workdir();
    const value = '가'.repeat(1000);
    const rows = Array.from(
      { length: 300 },
      (_, i) => `고객${i},010-${String(2000 + i).padStart(4, '0')}-${String(i).padStart(4, '0')},${value}`,
    );
    fs.writeFileSync(path.join(dir, 'r.csv'), `name,phone,v\n${rows.join('\n')}\n`);
    fs.writeFileSync(path.join(dir, 't.md'), `---\nchannel: auto\n---\n#{name}님 ${'#{v}'.repeat(100)}\n`);
    const db = path.join(dir, 'j.db');
    const r = await runUms(['send', 'r.csv', '-t', 't.md', '--dry-run', '--json', '--db', db], {
      cwd: dir,
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(3); // a dry run that rejects rows (every one is too long) exits 3
    const csvBytes = fs.statSync(path.join(dir, 'r.csv')).size;
    expect(csvBytes).toBeGreaterThan(900_000);
    // every row would be 200,000+ bytes of text: 60 MB of journal if kept whole
    const journalBytes = ['', '-wal', '-shm'].reduce(
      (n, ext) => n + (fs.existsSync(db + ext) ? fs.statSync(db + ext).size : 0),
      0,
    );
    expect(journalBytes).toBeLessThan(8 * 1024 * 1024);
    const sqlite = new Database(db, { readonly: true });
    try {
      const stored = sqlite
        .prepare('SELECT status, reason, bytes, length(body) AS kept FROM messages ORDER BY row')
        .all() as { status: string; reason: string; bytes: number; kept: number }[];
      expect(stored).toHaveLength(300);
      for (const m of stored) {
        expect(m.status).toBe('rejected');
        expect(m.reason).toMatch(/^too_long: 200,0\d\d bytes, over the LMS limit of 2,000$/);
        expect(m.kept).toBeLessThanOrEqual(2000);
      }
    } finally {
      sqlite.close();
    }
  }, 180_000);
});
