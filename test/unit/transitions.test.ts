import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import type { PlannedMessage, PlanStatus } from '../../src/campaign/types.js';
import type { Journal } from '../../src/journal/journal.js';
import {
  CAMPAIGN_STATES,
  CAMPAIGN_TRANSITIONS,
  eventsFor,
  FINAL_STATES,
  INITIAL_CAMPAIGN_STATE,
  INITIAL_MESSAGE_STATUSES,
  LEGACY_CAMPAIGN_STATES,
  MESSAGE_STATUSES,
  MESSAGE_TRANSITIONS,
  PART_TRANSITIONS,
} from '../../src/journal/states.js';
import type { DeliveryReport } from '../../src/providers/types.js';
import { openTestJournal, secondConnection, testDialect } from '../support/journal.js';

type Table = Record<string, { readonly from: readonly (string | null)[]; readonly to: readonly string[] }>;
const TABLES: Record<string, { table: Table; column: string }> = {
  messages: { table: MESSAGE_TRANSITIONS, column: 'status' },
  campaigns: { table: CAMPAIGN_TRANSITIONS, column: 'state' },
  message_parts: { table: PART_TRANSITIONS, column: 'status' },
};

/** Every allowed (from, to) of a table. */
function pairs(table: Table): string[] {
  return Object.values(table).flatMap((t) => t.from.flatMap((f) => t.to.map((to) => `${f} -> ${to}`)));
}

// ---------------------------------------------------------------------------------------------
// Dynamic: a journal driven through its methods, every change of a status recorded by SQLite.

interface Move {
  tbl: string;
  old: string | null;
  new: string | null;
  kind: 'insert' | 'update';
}

/**
 * Triggers in the journal file itself (installed by a second connection, so the journal's own
 * connection fires them, its triggers' updates included) that record every status/state written.
 */
function record(journal: Journal): () => Move[] {
  const db = secondConnection(journal);
  if (testDialect === 'postgres') {
    db.exec(
      `CREATE TABLE seen_moves (seq BIGINT GENERATED ALWAYS AS IDENTITY, tbl TEXT NOT NULL, old TEXT, new TEXT, kind TEXT NOT NULL)`,
    );
    for (const [tbl, { column }] of Object.entries(TABLES)) {
      db.exec(`
        CREATE FUNCTION seen_${tbl}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN INSERT INTO seen_moves (tbl, old, new, kind) VALUES ('${tbl}', NULL, NEW.${column}, 'insert');
          ELSE INSERT INTO seen_moves (tbl, old, new, kind) VALUES ('${tbl}', OLD.${column}, NEW.${column}, 'update');
          END IF;
          RETURN NULL;
        END $$;
        CREATE TRIGGER seen_${tbl}_update AFTER UPDATE OF ${column} ON ${tbl} FOR EACH ROW EXECUTE FUNCTION seen_${tbl}();
        CREATE TRIGGER seen_${tbl}_insert AFTER INSERT ON ${tbl} FOR EACH ROW EXECUTE FUNCTION seen_${tbl}();
      `);
    }
    return () => db.prepare<[], Move>('SELECT tbl, old, new, kind FROM seen_moves ORDER BY seq').all();
  }
  db.exec(`CREATE TABLE seen_moves (tbl TEXT NOT NULL, old TEXT, new TEXT, kind TEXT NOT NULL)`);
  for (const [tbl, { column }] of Object.entries(TABLES)) {
    db.exec(`
      CREATE TRIGGER seen_${tbl}_update AFTER UPDATE OF ${column} ON ${tbl}
      BEGIN INSERT INTO seen_moves VALUES ('${tbl}', OLD.${column}, NEW.${column}, 'update'); END;
      CREATE TRIGGER seen_${tbl}_insert AFTER INSERT ON ${tbl}
      BEGIN INSERT INTO seen_moves VALUES ('${tbl}', NULL, NEW.${column}, 'insert'); END;
    `);
  }
  return () => db.prepare<[], Move>('SELECT tbl, old, new, kind FROM seen_moves ORDER BY rowid').all();
}

const at = (): string => new Date().toISOString();

function message(row: number, over: Partial<PlannedMessage> = {}): PlannedMessage {
  return {
    row,
    to: `0103000${String(row).padStart(4, '0')}`,
    channel: 'sms',
    status: 'planned',
    reason: null,
    parts: 1,
    bytes: 10,
    subject: null,
    body: 'x',
    cost: 13,
    leg: 0,
    vars: null,
    rcsKind: null,
    deferrable: false,
    ...over,
  };
}

/** An AlimTalk message with an SMS fallback leg, held. */
function withFallback(row: number): PlannedMessage {
  const m = message(row, { channel: 'alimtalk' });
  return { ...m, fallback: { ...message(row), leg: 1, status: 'held' } };
}

function report(over: Partial<DeliveryReport>): DeliveryReport {
  return { key: null, providerId: null, status: 'delivered', code: '0', text: 'ok', at: at(), ...over };
}

/** The journal taken through everything it does to a status: each statement and each trigger. */
function drive(j: Journal): void {
  const d = j.delivery();
  const key = (row: number, leg = 0): string => `a:${row}:${leg}`;

  // campaign a: planned, armed (twice), sent through every outcome, finished
  j.createCampaign({ id: 'a', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  j.insertPlanned('a', [
    ...Array.from({ length: 14 }, (_, i) => message(i + 1)),
    withFallback(20), // leg 0 fails: its fallback goes, and is delivered
    withFallback(21), // leg 0 delivered: its fallback is not needed
    withFallback(22), // leg 0 fails after its number opted out: the fallback is skipped
    withFallback(23), // opted out before its claim: both legs skipped
    message(30, { status: 'rejected', reason: 'bad: number' }),
    message(31, { status: 'skipped', reason: 'duplicate: row 1' }),
  ]);
  j.markPlanned('a', 20, {});
  j.markPlanned('a', 20, {}); // no longer planning: nothing
  j.arm('a');
  j.arm('a');
  j.optouts().add(['01030000009', withFallback(23).to!], 'manual', null);
  const planned = [...d.nextPlanned('a', 'sms', 0, 100), ...d.nextPlanned('a', 'alimtalk', 0, 100)];
  const claimed = d.claim(planned, 'sim'); // row 9 and row 23 (opted out) are skipped here
  const id = (row: number, leg = 0): number => claimed.find((m) => m.row === row && m.leg === leg)?.id ?? -1;
  j.optouts().add([withFallback(22).to!], 'mo', 'STOP');
  d.settle([
    { id: id(1), kind: 'sent', providerId: 'P1', at: at() },
    { id: id(2), kind: 'sent', providerId: 'P2', at: at() },
    { id: id(3), kind: 'failed', reason: 'rejected: 1062', at: at() },
    { id: id(4), kind: 'unknown', reason: 'timeout' },
    { id: id(5), kind: 'unknown', reason: 'timeout' },
    { id: id(6), kind: 'unknown', reason: 'timeout' },
    { id: id(7), kind: 'unclaim' },
    { id: id(8), kind: 'release' },
    { id: id(10), kind: 'sent', providerId: 'P10', at: at(), partIds: ['P10a', 'P10b'] },
    { id: id(11), kind: 'sent', providerId: 'P11', at: at(), partIds: ['P11a', 'P11b'] },
    // 12: reported while sending (its key); 13: a report before its answer's commit, below
    { id: id(20), kind: 'sent', providerId: 'P20', at: at() },
    { id: id(21), kind: 'sent', providerId: 'P21', at: at() },
    { id: id(22), kind: 'sent', providerId: 'P22', at: at() },
  ]);
  // resume: the unknown ones reconciled
  const unknown = (row: number): number => d.inStatus('a', 'unknown').find((m) => m.row === row)?.id ?? -1;
  d.settle([
    { id: unknown(4), kind: 'sent', providerId: 'P4', at: at() },
    { id: unknown(5), kind: 'failed', reason: 'lookup: failed', at: at() },
    { id: unknown(6), kind: 'release' },
  ]);
  d.applyReports('sim', [
    report({ key: key(1), providerId: 'P1' }),
    report({ key: key(2), providerId: 'P2', status: 'failed', code: '3018', text: 'off' }),
    report({ key: key(2), providerId: 'P2' }), // late: never a final state
    report({ key: key(3), status: 'delivered' }), // late: failed stays
    report({ providerId: 'P10a' }),
    report({ providerId: 'P10b' }), // every part delivered: the message is
    report({ providerId: 'P11a', status: 'failed', code: '1', text: 'x' }), // a part failed: the message did
    report({ providerId: 'P11b' }),
    report({ key: key(12), status: 'failed', code: '9', text: 'x' }), // while sending
    report({ key: key(14) }), // while sending
    report({ providerId: 'P13' }), // matches nothing yet: kept, applied at its commit
    report({ key: key(20), providerId: 'P20', status: 'failed', code: '9', text: 'x' }),
    report({ key: key(21), providerId: 'P21' }),
    report({ key: key(22), providerId: 'P22', status: 'failed', code: '9', text: 'x' }),
  ]);
  d.settle([{ id: id(13), kind: 'sent', providerId: 'P13', at: at() }]);
  // the released and unclaimed rows (6, 7, 8), and the fallback that went (20.1), sent again
  const again = d.claim([...d.nextPlanned('a', 'sms', 0, 100)], 'sim');
  const next = (row: number, leg = 0): number => again.find((m) => m.row === row && m.leg === leg)?.id ?? -1;
  d.settle(again.map((m) => ({ id: m.id, kind: 'unknown' as const, reason: 'no answer' })));
  d.applyReports('sim', [
    report({ key: key(6), status: 'delivered' }), // an unknown one reported delivered
    report({ key: key(7), status: 'failed', code: '1', text: 'x' }), // and failed
  ]);
  d.settle([
    { id: next(8), kind: 'sent', providerId: 'P8', at: at() },
    { id: next(20, 1), kind: 'sent', providerId: 'P20b', at: at() },
  ]);
  d.applyReports('sim', [report({ providerId: 'P8', status: 'failed', code: '1', text: 'x' })]);
  d.applyReports('sim', [report({ providerId: 'P20b' })]);
  j.finish('a');
  j.finish('a');
  j.cancel('a'); // done: not cancelled
  // `ums resume a --retry-failed`: new attempts (leg 2) for recipients whose latest leg failed; the
  // failed legs stay failed. Not 22 (opted out), not 20 (its fallback was delivered), not 4 (sent).
  expect(j.retryFailed('a', '3018')).toBe(1); // --reason 3018: row 2 only; the campaign is armed again
  expect(j.retryFailed('a', null)).toBe(6); // the others: 3, 5, 7, 8, 11, 12 (2 has its attempt planned)
  expect(j.retryFailed('a', null)).toBe(0); // again: nothing (every one has an attempt planned)
  const retries = d.claim([...d.nextPlanned('a', 'sms', 0, 100)], 'sim');
  d.settle(retries.map((m) => ({ id: m.id, kind: 'sent' as const, providerId: `R${m.row}`, at: at() })));
  d.applyReports('sim', [
    report({ providerId: 'R2' }),
    report({ key: key(3), providerId: 'P3', status: 'delivered' }), // late, for the failed leg: it stays failed
    report({ providerId: 'R3', status: 'failed', code: '3040', text: 'timeout' }),
  ]);
  j.finish('a');

  // campaign b: a draft cancelled, its planned rows and held legs with it
  j.createCampaign({ id: 'b', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  j.insertPlanned('b', [message(1), withFallback(2)]);
  j.markPlanned('b', 2, {});
  j.finish('b'); // a draft is never done
  j.cancel('b');

  // campaign c: armed, one row with a provider, cancelled; the run ends after it
  j.createCampaign({ id: 'c', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  j.insertPlanned('c', [message(1), message(2)]);
  j.markPlanned('c', 2, {});
  j.arm('c');
  d.claim(d.nextPlanned('c', 'sms', 0, 1), 'sim');
  j.cancel('c');
  j.finish('c');
  j.arm('c');

  // campaign e: its planning failed, discarded
  j.createCampaign({ id: 'e', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  j.insertPlanned('e', [message(1)]);
  j.discardCampaign('e');
}

describe('the journal moves statuses only as states.ts says', () => {
  let journal: Journal;
  let moves: Move[] = [];
  beforeAll(() => {
    journal = openTestJournal();
    const seen = record(journal);
    drive(journal);
    moves = seen();
  });

  it('records what it drove (the recorder works)', () => {
    expect(moves.length).toBeGreaterThan(50);
    const rows = (id: string): string[] =>
      [...journal.messages(id)].map((m) => `${m.row}.${m.leg}:${m.status}`);
    expect(rows('a')).toEqual([
      '1.0:delivered',
      '2.0:failed',
      '2.2:delivered',
      '3.0:failed',
      '3.2:failed',
      '4.0:sent',
      '5.0:failed',
      '5.2:sent',
      '6.0:delivered',
      '7.0:failed',
      '7.2:sent',
      '8.0:failed',
      '8.2:sent',
      '9.0:skipped',
      '10.0:delivered',
      '11.0:failed',
      '11.2:sent',
      '12.0:failed',
      '12.2:sent',
      '13.0:delivered',
      '14.0:delivered',
      '20.0:failed',
      '20.1:delivered',
      '21.0:delivered',
      '21.1:skipped',
      '22.0:failed',
      '22.1:skipped',
      '23.0:skipped',
      '23.1:skipped',
      '30.0:rejected',
      '31.0:skipped',
    ]);
    expect(rows('b')).toEqual(['1.0:cancelled', '2.0:cancelled', '2.1:cancelled']);
    expect(rows('c')).toEqual(['1.0:sending', '2.0:cancelled']);
    expect(journal.listCampaigns().map((c) => `${c.id}:${c.state}`)).toEqual([
      'a:done',
      'b:cancelled',
      'c:cancelled',
    ]);
  });

  it('every change of a status or a state is a move of its table', () => {
    const bad = moves
      .filter((m) => m.kind === 'update')
      .filter((m) => eventsFor(TABLES[m.tbl]!.table, m.old, m.new as string).length === 0)
      .map((m) => `${m.tbl}: ${m.old} -> ${m.new}`);
    expect([...new Set(bad)]).toEqual([]);
  });

  it('every row starts in an initial state', () => {
    const starts = (tbl: string): (string | null)[] => [
      ...new Set(moves.filter((m) => m.tbl === tbl && m.kind === 'insert').map((m) => m.new)),
    ];
    expect(
      starts('messages').every((s) => (INITIAL_MESSAGE_STATUSES as readonly (string | null)[]).includes(s)),
    ).toBe(true);
    expect(starts('campaigns')).toEqual([INITIAL_CAMPAIGN_STATE]);
    expect(starts('message_parts')).toEqual([null]);
  });

  it('every move of the tables happened (no move in the table that nothing makes)', () => {
    for (const [tbl, { table }] of Object.entries(TABLES)) {
      const made = new Set(
        moves.filter((m) => m.tbl === tbl && m.kind === 'update').map((m) => `${m.old} -> ${m.new}`),
      );
      expect(
        pairs(table).filter((p) => !made.has(p)),
        tbl,
      ).toEqual([]);
    }
  });
});

describe('the tables', () => {
  it('never leave a final state, and name only known states', () => {
    for (const t of Object.values(MESSAGE_TRANSITIONS)) {
      for (const f of t.from) expect(FINAL_STATES as readonly string[]).not.toContain(f);
      for (const s of [...t.from, ...t.to]) expect(MESSAGE_STATUSES).toContain(s);
    }
    for (const [event, t] of Object.entries(CAMPAIGN_TRANSITIONS)) {
      // cancelled is final; done is left only by `reopen` (--retry-failed planned new attempts), to armed
      for (const f of t.from)
        expect(event === 'reopen' ? ['cancelled'] : ['done', 'cancelled']).not.toContain(f);
      if (event === 'reopen') expect(t.to).toEqual(['armed']);
      for (const s of [...t.from, ...t.to]) expect(CAMPAIGN_STATES).toContain(s);
    }
  });

  it("planning's statuses are the initial ones", () => {
    expectTypeOf<PlanStatus>().toEqualTypeOf<(typeof INITIAL_MESSAGE_STATUSES)[number]>();
  });
});

// ---------------------------------------------------------------------------------------------
// Static: the SQL of src/journal read as text.

const SRC = path.resolve(__dirname, '../../src/journal');

/** The string literals of a TypeScript file (comments skipped), with the code before each. */
function literals(code: string): { text: string; before: string }[] {
  const out: { text: string; before: string }[] = [];
  let i = 0;
  while (i < code.length) {
    const c = code[i]!;
    if (c === '/' && code[i + 1] === '/')
      i = code.indexOf('\n', i) === -1 ? code.length : code.indexOf('\n', i);
    else if (c === '/' && code[i + 1] === '*') i = code.indexOf('*/', i + 2) + 2;
    else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let text = '';
      while (j < code.length && code[j] !== c) {
        if (code[j] === '\\') {
          text += code[j + 1];
          j += 2;
        } else text += code[j++];
      }
      out.push({ text, before: code.slice(0, i) });
      i = j + 1;
    } else if (c === '/' && /[=(,:!&|?]\s*$/.test(code.slice(Math.max(0, i - 20), i))) {
      // a regular expression literal: skipped, its quotes are not strings
      let j = i + 1;
      while (j < code.length && code[j] !== '/') j += code[j] === '\\' ? 2 : 1;
      i = j + 1;
    } else i++;
  }
  return out;
}

const quoted = (s: string): string[] => [...s.matchAll(/'([^']*)'/g)].map((m) => m[1]!);

/** `text` cut at its first top-level (outside parentheses) match of `re`. */
function splitTop(text: string, re: RegExp): [string, string] {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (depth === 0 && re.test(text.slice(i, i + 12)) && !/\w\w/.test(text.slice(i - 1, i + 1)))
      return [text.slice(0, i), text.slice(i)];
  }
  return [text, ''];
}

/** A column's assignment in a SET list: the expression up to the next top-level comma. */
function assignment(set: string, column: string): string | null {
  const m = new RegExp(`(?:SET|,)\\s*${column}\\s*=\\s*`, 'i').exec(set);
  if (!m) return null;
  return splitTop(set.slice(m.index + m[0].length), /^,/)[0].trim();
}

interface Statement {
  file: string;
  name: string;
  tbl: string;
  from: (string | null)[] | 'any';
  to: string[] | 'parameter';
  legacy: [string, string][];
  sql: string;
}

/** Every UPDATE of a status or state column in src/journal, with what its SQL lets it move. */
function statements(): Statement[] {
  const out: Statement[] = [];
  for (const file of fs.readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
    for (const { text, before } of literals(fs.readFileSync(path.join(SRC, file), 'utf8'))) {
      const sql = text.replace(/--[^\n]*/g, '');
      const prepared = /(\w+):\s*$/.exec(before.slice(0, before.lastIndexOf('db.prepare')))?.[1] ?? '?';
      for (const part of sql.split(';')) {
        const u = /\bUPDATE\s+(\w+)\s+SET\b/i.exec(part);
        if (!u) continue;
        const tbl = u[1]!;
        const spec = TABLES[tbl];
        if (!spec) continue;
        const name = /CREATE\s+TRIGGER\s+(\w+)/i.exec(part)?.[1] ?? prepared;
        const [set, where] = splitTop(part.slice(u.index), /^WHERE\b/i);
        const expr = assignment(set, spec.column);
        if (expr === null) continue; // another column
        const legacy: [string, string][] = [];
        let to: Statement['to'];
        const caseOf = new RegExp(`^CASE\\s+${spec.column}\\b`, 'i').test(expr);
        if (caseOf)
          for (const m of expr.matchAll(/WHEN\s+'(\w+)'\s+THEN\s+'(\w+)'/gi)) legacy.push([m[1]!, m[2]!]);
        if (expr === '?') to = 'parameter';
        else to = caseOf ? [] : quoted(expr);
        const guards = [
          ...where.matchAll(
            new RegExp(`(?<![.\\w])${spec.column}\\s*(=\\s*'\\w+'|IN\\s*\\([^)]*\\)|IS\\s+NULL)`, 'gi'),
          ),
        ];
        const from = guards.length
          ? guards.flatMap((g) => (/^IS/i.test(g[1]!) ? [null] : quoted(g[1]!)))
          : ('any' as const);
        out.push({ file, name, tbl, from, to, legacy, sql: part.slice(u.index).replace(/\s+/g, ' ').trim() });
      }
    }
  }
  return out;
}

describe('the SQL of src/journal', () => {
  const all = statements();

  it('finds the statements (the reader works)', () => {
    const names = all.map((s) => s.name);
    for (const event of [
      ...Object.keys(MESSAGE_TRANSITIONS),
      ...Object.keys(CAMPAIGN_TRANSITIONS),
      ...Object.keys(PART_TRANSITIONS),
    ])
      expect(names).toContain(event);
  });

  it('every UPDATE and trigger moves only as its table says', () => {
    const bad: string[] = [];
    for (const s of all) {
      const { table } = TABLES[s.tbl]!;
      if (s.legacy.length) {
        // migration 6: the states of an older ums, renamed
        for (const [a, b] of s.legacy)
          if ((LEGACY_CAMPAIGN_STATES as Record<string, string>)[a] !== b)
            bad.push(`${s.name}: ${a} -> ${b}: ${s.sql}`);
        continue;
      }
      // the statement of an event's name makes that event; any other must be one of the table's
      const events = s.name in table ? [s.name] : Object.keys(table);
      const fits = events.some((e) => {
        const t = table[e]!;
        const from = s.from === 'any' ? [...MESSAGE_STATUSES, ...CAMPAIGN_STATES, null] : s.from;
        const to = s.to === 'parameter' ? t.to : s.to;
        return from.every((f) => t.from.includes(f)) && to.every((x) => t.to.includes(x)) && to.length > 0;
      });
      if (!fits)
        bad.push(`${s.file} ${s.name}: ${JSON.stringify(s.from)} -> ${JSON.stringify(s.to)}: ${s.sql}`);
    }
    expect(bad).toEqual([]);
  });

  it('every move of a message to an end writes its done_at (which fires the fallback triggers)', () => {
    const ends: readonly string[] = ['failed', 'delivered', 'skipped'];
    const checked: string[] = [];
    const bad: string[] = [];
    for (const s of all) {
      if (s.tbl !== 'messages' || s.file === 'migrations.ts') continue;
      const event = (MESSAGE_TRANSITIONS as Table)[s.name];
      const to = s.to === 'parameter' ? (event?.to ?? MESSAGE_STATUSES) : s.to;
      if (!to.some((x) => ends.includes(x))) continue;
      checked.push(s.name);
      if (!/(?:\bSET|,)\s*done_at\s*=/i.test(s.sql)) bad.push(`${s.file} ${s.name}: ${s.sql}`);
    }
    expect(checked).toEqual(expect.arrayContaining(['skipOptedOut', 'failed', 'report']));
    expect(bad).toEqual([]);
  });

  it('every status or state a statement names is one of the vocabulary', () => {
    const bad: string[] = [];
    for (const file of fs.readdirSync(SRC).filter((f) => f.endsWith('.ts'))) {
      for (const { text } of literals(fs.readFileSync(path.join(SRC, file), 'utf8'))) {
        const sql = text.replace(/--[^\n]*/g, '');
        const named = (re: RegExp): string[] => [...sql.matchAll(re)].flatMap((m) => quoted(m[1]!));
        const statuses = [
          ...named(/\bstatus\s*(?:=|<>|!=)\s*('\w+')/gi),
          ...named(/\bstatus\s+(?:NOT\s+)?IN\s*(\([^)]*\))/gi),
          ...named(/\bSET\s+status\s*=\s*(CASE[\s\S]*?END)/gi),
        ];
        const states = [
          ...named(/\bstate\s*(?:=|<>|!=)\s*('\w+')/gi),
          ...named(/\bstate\s+(?:NOT\s+)?IN\s*(\([^)]*\))/gi),
          ...named(/\bSET\s+state\s*=\s*(CASE[\s\S]*?END)/gi),
        ];
        const legacy = file === 'migrations.ts' ? Object.keys(LEGACY_CAMPAIGN_STATES) : [];
        for (const s of statuses)
          if (!(MESSAGE_STATUSES as readonly string[]).includes(s)) bad.push(`${file}: status '${s}'`);
        for (const s of states)
          if (!(CAMPAIGN_STATES as readonly string[]).includes(s) && !legacy.includes(s))
            bad.push(`${file}: state '${s}'`);
      }
    }
    expect(bad).toEqual([]);
  });
});
