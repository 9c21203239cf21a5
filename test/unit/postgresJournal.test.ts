import { describe, expect, it } from 'vitest';
import type { PlannedMessage } from '../../src/campaign/types.js';
import { FaultError, InputError } from '../../src/errors.js';
import { Journal } from '../../src/journal/journal.js';
import { PostgresDatabase } from '../../src/journal/postgres.js';
import {
  freshPostgresUrl,
  openTestJournal,
  plannedSms,
  secondConnection,
  testDialect,
} from '../support/journal.js';

/** What only the PostgreSQL driver does (vitest.config.ts's `postgres` project runs it; SQLite skips it). */

function message(row: number, over: Partial<PlannedMessage> = {}): PlannedMessage {
  return plannedSms(row, { to: `0104000${String(row).padStart(4, '0')}`, body: 'x', ...over });
}

describe.skipIf(testDialect !== 'postgres')('the journal on PostgreSQL', () => {
  it('stores through COPY what it was given: tabs, line ends, backslashes, \\N, NULLs, Korean', () => {
    const j = openTestJournal();
    const bodies = ['a\tb', 'line\nnext\r\n', 'back\\slash \\N \\t', '\\N', '안녕하세요 😀', ''];
    j.createCampaign({ id: 'c', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
    j.insertPlanned(
      'c',
      bodies.map((body, i) => message(i + 1, { body, subject: i === 0 ? null : `s\t${i}`, cost: 13.5 })),
    );
    j.markPlanned('c', bodies.length, {});
    const rows = [...j.messages('c')];
    expect(rows.map((m) => m.body)).toEqual(bodies);
    expect(rows.map((m) => m.subject)).toEqual([null, 's\t1', 's\t2', 's\t3', 's\t4', 's\t5']);
    expect(rows.every((m) => m.costEst === 13.5 && m.cost === null)).toBe(true);
    j.close();
  });

  it('reads a large result a page at a time, and a loop left early closes its cursor', () => {
    const j = openTestJournal();
    j.createCampaign({ id: 'c', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
    j.insertPlanned(
      'c',
      Array.from({ length: 4500 }, (_, i) => message(i + 1)),
    );
    j.markPlanned('c', 4500, {});
    expect([...j.messages('c')].map((m) => m.row)).toEqual(Array.from({ length: 4500 }, (_, i) => i + 1));
    for (let k = 0; k < 3; k++) {
      let n = 0;
      for (const _ of j.messages('c')) if (++n === 10) break;
    }
    // no cursor left open on the journal's connection (pg_cursors lists a session's own)
    const conn = (j as unknown as { db: PostgresDatabase }).db;
    expect(conn.query('SELECT count(*) FROM pg_cursors', []).rows).toEqual([[0]]);
    expect(j.statusCounts('c')).toEqual([
      { status: 'planned', channel: 'sms', count: 4500, parts: 4500, costEst: 58500, cost: 0 },
    ]);
    j.close();
  });

  it('nests transactions as savepoints: an inner one undone, the outer one kept', () => {
    const j = openTestJournal();
    j.createCampaign({ id: 'c', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
    j.insertPlanned('c', [message(1), message(2), message(3)]);
    j.markPlanned('c', 3, {});
    const d = j.delivery();
    // a group with a number opted out inside it: the group's claim is undone (a savepoint), then one by one
    j.optouts().add(['01040000002'], 'manual');
    expect(d.claim(d.nextPlanned('c', 'sms', 0, 10), 'sim').map((m) => m.row)).toEqual([1, 3]);
    expect([...j.messages('c')].map((m) => m.status)).toEqual(['sending', 'skipped', 'sending']);
    j.close();
  });

  it('a write lock held past its wait is a fault (exit 1, resume), and leaves the connection usable', () => {
    const j = openTestJournal();
    const conn = (j as unknown as { db: PostgresDatabase }).db;
    conn.exec("SET lock_timeout = '200ms'");
    const other = secondConnection(j) as unknown as PostgresDatabase;
    other.query('SELECT pg_advisory_lock($1)', [0x756d7301]); // the journal's write lock, held by another
    let error: unknown;
    try {
      j.optouts().add(['01011110000'], 'manual'); // a transaction: it takes the write lock first
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FaultError);
    expect((error as FaultError).localised?.key).toBe('err.journal.postgresBusy');
    other.close();
    // not left inside an aborted transaction: the next one goes through
    j.optouts().add(['01022220000'], 'manual');
    expect(j.optouts().has('01022220000')).toBe(true);
    expect(j.optouts().has('01011110000')).toBe(false);
    j.close();
  });

  it("never migrates into another program's database, whatever its tables are called", () => {
    for (const foreign of [
      'CREATE TABLE payroll (id int)',
      'CREATE TABLE schema_migrations (version varchar PRIMARY KEY)', // Rails
      'CREATE TABLE schema_migrations (version bigint NOT NULL, dirty boolean NOT NULL)', // golang-migrate
    ]) {
      const url = freshPostgresUrl();
      const db = PostgresDatabase.open(url);
      db.exec(foreign);
      db.close();
      let error: unknown;
      try {
        Journal.open(url).close();
      } catch (err) {
        error = err;
      }
      expect(error, foreign).toBeInstanceOf(InputError);
      expect((error as InputError).localised?.key, foreign).toBe('err.journal.pgOtherDb');
    }
  });

  it('stores a NUL from a provider (a reply, a report) as U+FFFD, not a failed statement', () => {
    const j = openTestJournal();
    j.inbox().store('carrier', [
      {
        from: '01011110000',
        to: '0212345678',
        text: 'a\u0000b',
        receivedAt: new Date().toISOString(),
        providerId: null,
        optOut: false,
      },
    ]);
    expect(
      j
        .inbox()
        .list(10)
        .map((m) => m.text),
    ).toEqual(['a\uFFFDb']);
    j.close();
  });

  it('a server gone mid-run is a fault (exit 1) naming the URL, never a hang', () => {
    const j = openTestJournal();
    expect(j.listCampaigns()).toEqual([]);
    const admin = secondConnection(j) as unknown as PostgresDatabase;
    const db = new URL(j.file).pathname.slice(1);
    admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [db],
    );
    admin.close();
    let error: unknown;
    try {
      j.listCampaigns();
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(FaultError);
    expect((error as FaultError).localised?.key).toBe('err.journal.postgresDown');
    expect((error as Error).message).toContain(j.file);
    j.close();
  });
});
