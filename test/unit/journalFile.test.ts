import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { Journal } from '../../src/journal/journal.js';

const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'ums-journal-'));

describe('the journal file', () => {
  it('creates new journals with 8 KB pages, WAL and mode 0600', () => {
    const file = path.join(tmp(), 'j.db');
    Journal.open(file).close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('page_size', { simple: true })).toBe(8192);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it('opens a journal made with 4 KB pages as it is (its page size cannot change in WAL mode)', () => {
    const file = path.join(tmp(), 'old.db');
    const old = new Database(file);
    old.pragma('page_size = 4096');
    old.pragma('journal_mode = WAL');
    // a journal (its migrations table) that an older ums made with SQLite's default pages
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    old.close();
    const j = Journal.open(file);
    j.createCampaign({ id: 'c', digest: 'd', csvPath: 'a.csv', templatePath: 't.md', settings: {} });
    expect(j.findCampaign('c')?.state).toBe('planning');
    j.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('page_size', { simple: true })).toBe(4096);
    db.close();
  });

  it('a bulk writer leaves checkpoints to another connection, and nothing is lost', () => {
    const file = path.join(tmp(), 'bulk.db');
    const other = Journal.open(file);
    const writer = Journal.open(file);
    writer.stopAutoCheckpoint();
    writer.createCampaign({ id: 'c', digest: 'd', csvPath: 'a.csv', templatePath: 't.md', settings: {} });
    const body = '[한빛마트] 고객님, 주문하신 상품이 오늘 발송되었습니다. 송장번호 1234-5678-9012 '.repeat(2);
    const batch = (from: number) =>
      Array.from({ length: 5000 }, (_, i) => ({
        row: from + i,
        to: `010${String(10_000_000 + from + i)}`,
        channel: 'lms' as const,
        status: 'planned' as const,
        reason: null,
        parts: 1,
        bytes: 180,
        subject: null,
        body,
        cost: 35,
        leg: 0,
        vars: null,
        rcsKind: null,
        deferrable: false,
      }));
    for (let b = 0; b < 16; b++) writer.insertPlanned('c', batch(1 + b * 5000));
    // a journal's connections checkpoint (and start the WAL over) at 4 MB: this writer did not
    const pages = fs.statSync(`${file}-wal`).size / 8192;
    expect(pages).toBeGreaterThan(2000);
    expect(fs.statSync(file).size).toBeLessThan(1 << 20);
    other.checkpoint();
    expect(fs.statSync(file).size / 8192).toBeGreaterThan(2000);
    writer.insertPlanned('c', batch(80_001));
    writer.close();
    other.close();
    const db = new Database(file, { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n, MAX(row) AS last FROM messages').get()).toEqual({
      n: 85_000,
      last: 85_000,
    });
    db.close();
  });
});

describe('a campaign row ums did not write is refused when read back', () => {
  /** A journal holding campaign `c`, its settings (and state) then overwritten as another program might. */
  function tampered(settings: string, state = 'draft'): string {
    const file = path.join(tmp(), 'j.db');
    const j = Journal.open(file);
    j.createCampaign({
      id: 'c',
      digest: 'd',
      csvPath: 'a.csv',
      templatePath: 't.md',
      settings: { ad: false },
    });
    j.markPlanned('c', 0, { ad: false, encoding: 'auto', detectedEncoding: 'ascii' });
    j.close();
    const db = new Database(file);
    db.prepare('UPDATE campaigns SET settings = ?, state = ?').run(settings, state);
    db.close();
    return file;
  }

  const refusal = (journal: Journal, read: (j: Journal) => unknown): InputError => {
    try {
      read(journal);
    } catch (err) {
      return err as InputError;
    } finally {
      journal.close();
    }
    throw new Error('read back without a word');
  };

  it.each([
    ['not JSON', '{"ad": fal', /campaign c: its stored settings are not JSON/],
    [
      'not an object',
      'null',
      /campaign c: its stored settings are damaged \(Invalid input: expected object, received null\)/,
    ],
    [
      'a list',
      '[1, 2]',
      /campaign c: its stored settings are damaged \(Invalid input: expected object, received array\)/,
    ],
    [
      'a key of the wrong form',
      '{"ad": "yes"}',
      /campaign c: its stored settings are damaged \(ad: Invalid input: expected boolean/,
    ],
    [
      'an unknown encoding',
      '{"encoding": "latin1"}',
      /campaign c: its stored settings are damaged \(encoding: /,
    ],
    [
      'an identity without its digests',
      '{"identity": {"csv": 1}}',
      /\(identity\.csv: Invalid input: expected string/,
    ],
  ])('settings %s: one InputError naming the journal and the campaign', (_, settings, message) => {
    const file = tampered(settings);
    for (const read of [(j: Journal) => j.findCampaign('c'), (j: Journal) => j.listCampaigns()]) {
      const err = refusal(Journal.open(file), read);
      expect(err).toBeInstanceOf(InputError);
      expect(err.message.startsWith(`${file}: `)).toBe(true);
      expect(err.message).toMatch(message);
      expect(err.message).toMatch(/the journal was changed by something other than ums/);
      expect(err.message).not.toMatch(/\n/);
    }
  });

  it('a state that is not one of the lifecycle', () => {
    const file = tampered('{}', 'exploded');
    const err = refusal(Journal.open(file), (j) => j.findCampaign('c'));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(
      `${file}: campaign c: its state is not one of planning, draft, armed, done, cancelled: the journal was changed by something other than ums; restore it from a copy, or name another journal with --db`,
    );
  });

  it('settings an older ums wrote (fewer keys, keys unknown here) are read as they are', () => {
    const old = JSON.stringify({
      rcs: { brandId: 'B1', templateId: null },
      phoneColumn: undefined,
      future: { x: 1 },
    });
    const journal = Journal.open(tampered(old));
    expect(journal.findCampaign('c')?.settings).toEqual({
      rcs: { brandId: 'B1', templateId: null },
      future: { x: 1 },
    });
    journal.close();
  });
});
