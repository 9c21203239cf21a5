import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { MIGRATIONS } from '../../src/journal/migrations.js';
import { plannedJournal } from '../support/journal.js';

describe('the campaign lifecycle in the journal', () => {
  it('migration 6: a campaign planned by an older ums is a draft; one whose sending began is armed', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ums-life-')), 'j.db');
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)');
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?)').run(m.version, 'then');
    }
    const add = db.prepare(
      `INSERT INTO campaigns (id, digest, csv_path, template_path, state, settings, created_at) VALUES (?, 'd', 'r.csv', 't.md', ?, '{}', ?)`,
    );
    add.run('dry', 'planned', '1');
    add.run('going', 'sending', '2');
    add.run('over', 'done', '3');
    add.run('half', 'planning', '4');
    db.close();
    const j = Journal.open(file);
    expect(j.listCampaigns().map((c) => [c.id, c.state])).toEqual([
      ['dry', 'draft'],
      ['going', 'armed'],
      ['over', 'done'],
      ['half', 'planning'],
    ]);
    j.close();
  });

  it('arms only a draft, finishes only an armed campaign, and cancel leaves rows with a provider alone', () => {
    const j = plannedJournal(4);
    const id = j.listCampaigns()[0]!.id;
    expect(j.findCampaign(id)?.state).toBe('draft');
    j.finish(id);
    expect(j.findCampaign(id)?.state).toBe('draft'); // a draft is never "done" without being sent
    j.arm(id);
    const d = j.delivery();
    const [first] = d.nextPlanned(id, 'sms', 0, 1);
    d.claim([first!], 'sim');
    expect(j.cancel(id)).toBe(3);
    expect(j.findCampaign(id)?.state).toBe('cancelled');
    expect(d.countInStatus(id, 'sending')).toBe(1);
    expect(d.nextPlanned(id, 'sms', 0, 10)).toEqual([]);
    j.finish(id);
    expect(j.findCampaign(id)?.state).toBe('cancelled'); // a run ending after the cancel does not undo it
    expect(j.cancel(id)).toBeNull();
  });

  it('a claim skips a number that opted out after planning, in the same transaction, with its fallback leg', () => {
    const j = plannedJournal(3, (i) =>
      i === 1
        ? {
            channel: 'alimtalk',
            fallback: {
              row: 2,
              to: '01020000001',
              channel: 'sms',
              status: 'held',
              reason: null,
              parts: 1,
              bytes: 10,
              subject: null,
              body: 'y',
              cost: 13,
              leg: 1,
              vars: null,
              rcsKind: null,
              deferrable: false,
            },
          }
        : {},
    );
    const id = j.listCampaigns()[0]!.id;
    const d = j.delivery();
    const rows = [...d.nextPlanned(id, 'sms', 0, 3), ...d.nextPlanned(id, 'alimtalk', 0, 3)].sort(
      (a, b) => a.row - b.row,
    );
    j.optouts().add([rows[1]!.to], 'mo', 'replied 수신거부');
    const claimed = d.claim(rows, 'sim');
    expect(claimed.map((m) => m.row)).toEqual([rows[0]!.row, rows[2]!.row]);
    expect(d.countInStatus(id, 'skipped')).toBe(2);
    expect(d.countInStatus(id, 'held')).toBe(0);
    expect([...j.messages(id)].find((m) => m.row === rows[1]!.row)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^opted_out:/),
    });
  });
});
