import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import BetterSqlite from 'better-sqlite3';
import { inject } from 'vitest';
import type { PlannedMessage } from '../../src/campaign/types.js';
import { Journal } from '../../src/journal/journal.js';
import { PostgresDatabase } from '../../src/journal/postgres.js';
import { freshDatabase } from './postgresServer.js';

/**
 * The journal the journal tests run on: SQLite, or with UMS_TEST_JOURNAL=postgres (vitest.config.ts's
 * `postgres` project) a fresh database on the test run's PostgreSQL (test/support/postgresSetup.ts).
 */
export const testDialect: 'sqlite' | 'postgres' =
  process.env.UMS_TEST_JOURNAL === 'postgres' ? 'postgres' : 'sqlite';

const urls = new WeakMap<Journal, string>();

/** A new, empty database on the test run's PostgreSQL: its URL. */
export function freshPostgresUrl(): string {
  const admin = inject('postgresUrl');
  if (!admin) throw new Error('no PostgreSQL server for the tests (see test/support/postgresSetup.ts)');
  return freshDatabase(admin, inject('postgresDbPrefix'));
}

/** A new, empty journal: a file in a new temporary folder (named `name`), or a new PostgreSQL database. */
export function openTestJournal(name = 'j.db'): Journal {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-journal-'));
  if (testDialect === 'sqlite') return Journal.open(path.join(dir, name));
  const url = freshPostgresUrl();
  const journal = Journal.open(url, { stateDir: dir });
  urls.set(journal, url);
  return journal;
}

/** The same journal opened again (what a restarted process, or another worker, would open). */
export function reopenTestJournal(journal: Journal): Journal {
  const url = urls.get(journal);
  if (!url) return Journal.open(journal.file);
  const again = Journal.open(url, { stateDir: journal.stateDir });
  urls.set(again, url);
  return again;
}

/** Another connection to the same journal (what a second process would have). */
export function secondConnection(journal: Journal): Database.Database {
  const url = urls.get(journal);
  return url ? (PostgresDatabase.open(url) as unknown as Database.Database) : new BetterSqlite(journal.file);
}

/**
 * A fresh journal holding campaign `c`, planned: `rows` SMS rows to 0102000xxxx, each changed by
 * `row(i)` (0-based) where a test needs it.
 */
export function plannedJournal(
  rows: number,
  row: (i: number) => Partial<PlannedMessage> = () => ({}),
): Journal {
  const journal = openTestJournal();
  journal.createCampaign({ id: 'c', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  const planned: PlannedMessage[] = Array.from({ length: rows }, (_, i) =>
    plannedSms(i + 1, { to: `0102000${String(i).padStart(4, '0')}`, ...row(i) }),
  );
  journal.insertPlanned('c', planned);
  journal.markPlanned('c', rows, {});
  return journal;
}

/** A planned SMS row of campaign fixtures: one part, 13 KRW, to 0102000 and the row. */
export function plannedSms(row: number, over: Partial<PlannedMessage> = {}): PlannedMessage {
  return {
    row,
    to: `0102000${String(row).padStart(4, '0')}`,
    channel: 'sms',
    status: 'planned',
    reason: null,
    parts: 1,
    bytes: 10,
    subject: null,
    body: '안내',
    cost: 13,
    leg: 0,
    vars: null,
    rcsKind: null,
    deferrable: false,
    ...over,
  };
}
