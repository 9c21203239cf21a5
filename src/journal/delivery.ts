import type Database from 'better-sqlite3';
import type { RcsKind } from '../campaign/rcs.js';
import type { Channel } from '../campaign/types.js';
import { redact } from '../config/secrets.js';
import type { DeliveryReport } from '../providers/types.js';
import { dialectOf, pick } from './dialect.js';
import { PartsJournal } from './parts.js';
import type { MessageStatus, ReportStatus } from './states.js';

/** Thrown inside claimAll's savepoint to undo a group claim that did not take every message. */
const PARTIAL_CLAIM = new Error('partial claim');

/** Thrown inside applyKeyedRun's savepoint to undo a run of reports whose keys did not all match. */
const UNMATCHED_RUN = new Error('unmatched run');

/**
 * The reports from `from` on that carry a key (taken apart), up to the first without one or with a
 * key seen before in the run: a run whose reports each move a message of their own.
 */
function keyedRun(
  reports: DeliveryReport[],
  from: number,
): { report: DeliveryReport; key: { campaignId: string; row: number; leg: number } }[] {
  const run: { report: DeliveryReport; key: { campaignId: string; row: number; leg: number } }[] = [];
  const seen = new Set<string>();
  for (let i = from; i < reports.length; i++) {
    const r = reports[i]!;
    const key = r.key ? parseKey(r.key) : null;
    if (!key || seen.has(r.key!)) break;
    seen.add(r.key!);
    run.push({ report: r, key });
  }
  return run;
}

/** A message ready to go, as the engine reads it. */
export interface SendableMessage {
  id: number;
  row: number;
  leg: number;
  to: string;
  channel: Channel;
  subject: string | null;
  body: string;
  parts: number;
  attempts: number;
  /** JSON of the row's variables, for providers that substitute them (AlimTalk, RCS) */
  vars: string | null;
  /** 1: an ad without night consent (held back in quiet hours) */
  deferrable: number;
  /** the RCS kind planned for an RCS message; null on other channels */
  rcsKind: RcsKind | null;
}

/** What to write for one message once its provider answered. */
export type Settlement =
  | { id: number; kind: 'sent'; providerId: string; at: string; partIds?: string[] }
  | { id: number; kind: 'failed'; reason: string; at: string }
  | { id: number; kind: 'unknown'; reason: string }
  /** the provider did not take it (a lookup found nothing, a retryable refusal): back to planned, to be sent again */
  | { id: number; kind: 'release' }
  /**
   * certainly never taken (a throttle, a 503, a request refused before any byte left): back to
   * planned with its attempt given back, since only submissions that may have reached the provider count
   */
  | { id: number; kind: 'unclaim' };

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

export interface LaneStats {
  provider: string;
  channel: string;
  messages: number;
  parts: number;
  firstSentAt: string;
  lastSentAt: string;
}

export interface ListedMessage {
  row: number;
  leg: number;
  to: string | null;
  channel: string | null;
  status: MessageStatus;
  reason: string | null;
}

interface StoredReport {
  id: number;
  provider: string;
  providerId: string | null;
  key: string | null;
  to: string | null;
  /** as the report said: delivered | failed */
  status: string;
  code: string | null;
  text: string | null;
  at: string | null;
  receivedAt: string;
}

/**
 * A SendableMessage as nextPlanned's statement returns it, in its columns' order (plannedCols): all
 * but the channel, the one asked for (not read: a string less per row).
 */
type PlannedRowArray = [
  number,
  number,
  number,
  string,
  string | null,
  string,
  number,
  number,
  string | null,
  number,
  RcsKind | null,
];

function plannedRow(r: PlannedRowArray, channel: Channel): SendableMessage {
  return {
    id: r[0],
    row: r[1],
    leg: r[2],
    to: r[3],
    channel,
    subject: r[4],
    body: r[5],
    parts: r[6],
    attempts: r[7],
    vars: r[8],
    deferrable: r[9],
    rcsKind: r[10],
  };
}

/** A request's accepted messages, settled in one statement. */
interface AcceptedGroup {
  at: string;
  ids: number[];
  providerIds: string[];
}

/** A message the provider split: its parts' ids go to message_parts (one sent whole has its id alone). */
function split(x: { partIds?: string[] }): x is { partIds: string[] } {
  return (x.partIds?.length ?? 0) > 1;
}

/** Each id one more than the one before it. */
function consecutive(ids: readonly number[]): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1]! + 1) return false;
  return true;
}

/** Final states (states.ts): no report, late or duplicate, may change them. */
export { FINAL_STATES } from './states.js';

export function messageKey(campaignId: string, row: number, leg: number): string {
  return `${campaignId}:${row}:${leg}`;
}

/** A key's parts (what providers get as ProviderContext.readKey: they never take a key apart). */
export function parseKey(key: string): { campaignId: string; row: number; leg: number } | null {
  const m = /^(.+):(\d+):(\d+)$/.exec(key);
  return m ? { campaignId: m[1]!, row: Number(m[2]), leg: Number(m[3]) } : null;
}

/**
 * The delivery engine's statements. The state machine lives in their WHERE clauses:
 * `sending` is claimed from `planned` only, results settle `sending`/`unknown` only, and
 * reports never touch a final state. Each move is one of states.ts's MESSAGE_TRANSITIONS (the
 * statement of the same name); test/unit/transitions.test.ts holds them to it.
 */
export class DeliveryJournal {
  private readonly s;
  private readonly parts: PartsJournal;
  /**
   * PostgreSQL: a report whose key names its message (byKey), applied (report) and stored
   * (insertReport) in one statement: one round trip to the server instead of three, which were a
   * send's pace on the simulator (1,600 messages a second for 20,000). Null on SQLite (no round trips).
   */
  private readonly reportByKey: Database.Statement<unknown[], { target: number; changed: number }> | null;
  /** PostgreSQL: reportByKey for a run of reports at once (applyKeyedRun). Null on SQLite. */
  private readonly reportsByKey: Database.Statement<
    unknown[],
    { matched: number; changed: number; failed: number }
  > | null;
  /**
   * Runs `fn` in a transaction of its own, or in a savepoint when nested. Made once: better-sqlite3's
   * transaction() builds its wrappers on every call, a cost per claim and per settle that showed in
   * bench/smpp.js's profile.
   */
  private readonly savepoint: <T>(fn: () => T) => T;
  /**
   * Runs `fn` in one transaction, or in the one already open: a claim with the answers committed
   * meanwhile (GroupCommit.claimWith) is one transaction, not a savepoint for each (what fails there
   * fails it all).
   */
  private readonly tx: <T>(fn: () => T) => T;
  /** This process's row in workers (sendCampaign registers it on PostgreSQL): what each claim names. */
  worker: number | null = null;
  constructor(private readonly db: Database.Database) {
    this.parts = new PartsJournal(db);
    this.savepoint = db.transaction((fn: () => unknown) => fn()) as <T>(fn: () => T) => T;
    this.tx = (fn) => (db.inTransaction ? fn() : this.savepoint(fn));
    const d = dialectOf(db);
    this.reportByKey =
      d === 'postgres'
        ? db.prepare(
            `WITH t AS (
               SELECT id FROM messages WHERE campaign_id = ? AND row = ? AND leg = ? AND provider = ?
                 AND (provider_id IS NULL OR provider_id = '' OR provider_id = ?)),
             u AS (
               UPDATE messages SET status = ?, reason = ?, done_at = ? WHERE id IN (SELECT id FROM t) AND status IN ('sending', 'sent', 'unknown')
               RETURNING id),
             i AS (
               INSERT INTO reports (provider, provider_id, message_key, message_id, status, code, text, reported_at, received_at, applied, to_addr)
               SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), t.id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),
                      CAST(? AS TEXT), CAST(? AS TEXT), (SELECT COUNT(*) FROM u), CAST(? AS TEXT) FROM t)
             SELECT id AS target, (SELECT COUNT(*) FROM u) AS changed FROM t`,
          )
        : null;
    this.reportsByKey =
      d === 'postgres'
        ? db.prepare(
            `WITH r AS (
               SELECT * FROM json_to_recordset(CAST(? AS json)) AS r(n integer, cid text, rw integer, lg integer, pid text, st text,
                 reason text, done text, rkey text, code text, txt text, rat text, toa text)),
             t AS (
               SELECT r.n, m.id FROM r JOIN messages m ON m.campaign_id = r.cid AND m.row = r.rw AND m.leg = r.lg
                 AND m.provider = CAST(? AS TEXT) AND (m.provider_id IS NULL OR m.provider_id = '' OR m.provider_id = r.pid)),
             u AS (
               UPDATE messages SET status = CASE r.st WHEN 'failed' THEN 'failed' ELSE 'delivered' END, reason = r.reason, done_at = r.done
               FROM t JOIN r ON r.n = t.n WHERE messages.id = t.id AND status IN ('sending', 'sent', 'unknown')
               RETURNING t.n, r.st),
             i AS (
               INSERT INTO reports (provider, provider_id, message_key, message_id, status, code, text, reported_at, received_at, applied, to_addr)
               SELECT CAST(? AS TEXT), r.pid, r.rkey, t.id, r.st, r.code, r.txt, r.rat, CAST(? AS TEXT), CASE WHEN u.n IS NULL THEN 0 ELSE 1 END, r.toa
               FROM t JOIN r ON r.n = t.n LEFT JOIN u ON u.n = t.n ORDER BY t.n)
             SELECT (SELECT COUNT(*) FROM t) AS matched, (SELECT COUNT(*) FROM u) AS changed,
                    (SELECT COUNT(*) FROM u WHERE u.st = 'failed') AS failed`,
          )
        : null;
    const cols = `id, row, leg, to_addr AS "to", channel, subject, body, parts, attempts, vars, defer_at_night AS "deferrable", rcs_kind AS "rcsKind"`;
    const plannedCols =
      'id, row, leg, to_addr, subject, body, parts, attempts, vars, defer_at_night, rcs_kind';
    this.s = {
      // One JSON text per block, parsed at once: better-sqlite3 (on Node 20) makes each column of
      // each row a JavaScript value through a call of its own, most of this read's cost (a third
      // fewer instructions for it in bench/send.js). The rows as arrays (PlannedRowArray), in row order.
      nextPlanned: db
        .prepare<[string, number, string, number, number], string>(
          `SELECT ${pick(d, `json_group_array(json_array(${plannedCols}))`, `json_agg(json_build_array(${plannedCols}) ORDER BY row, leg)`)} FROM (
             SELECT ${plannedCols} FROM messages WHERE campaign_id = ? AND row > ? AND status = 'planned' AND channel = ? AND defer_at_night <= ?
             ORDER BY row, leg LIMIT ?) AS p`,
        )
        .pluck(true),
      countDeferrable: db.prepare<[string], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE campaign_id = ? AND status = 'planned' AND defer_at_night = 1`,
      ),
      deferrableByChannel: db.prepare<[string], { channel: string; n: number }>(
        `SELECT channel, COUNT(*) AS n FROM messages WHERE campaign_id = ? AND status = 'planned' AND defer_at_night = 1 AND channel IS NOT NULL GROUP BY channel ORDER BY channel`,
      ),
      plannedChannels: db.prepare<[string], { channel: string }>(
        // in the order of their first rows (SQLite's DISTINCT, reading messages_by_row)
        `SELECT ${pick(d, 'DISTINCT channel', 'channel')} FROM messages WHERE campaign_id = ? AND status IN ('planned', 'sending', 'unknown', 'held') AND channel IS NOT NULL${pick(d, '', ' GROUP BY channel ORDER BY MIN(row), MIN(leg)')}`,
      ),
      inStatus: db.prepare<
        [string, 'sending' | 'unknown'],
        SendableMessage & { provider: string | null; worker: number | null }
      >(
        `SELECT ${cols}, provider, worker FROM messages WHERE campaign_id = ? AND status = ? ORDER BY row, leg`,
      ),
      // The opt-out list is read again here, not only at planning: a number that opted out since
      // (an \`optout import\`, an MO "수신거부" overnight) is never claimed (정보통신망법 §50).
      // Only a row planned for this provider (or for none yet): one moved to another provider of its
      // route meanwhile (failover, routing.ts) is that one's, never claimed by two.
      // Each claim names its worker (the process's row in workers; null on SQLite, one process): rows
      // a dead worker left `sending` are known as its once its lease runs out (WorkersJournal).
      claim: db.prepare<[string, number | null, number, string]>(
        `UPDATE messages SET status = 'sending', attempts = attempts + 1, provider = ?, worker = ? WHERE id = ? AND status = 'planned'
           AND (provider IS NULL OR provider = ?) AND NOT EXISTS (SELECT 1 FROM optouts WHERE phone = messages.to_addr)`,
      ),
      // A whole group in one statement (bench/send.js: a statement per message was a third of the
      // profile): the ids from..to when they are consecutive (nothing else is in between), else a
      // JSON list. Same guards as claim; when it claims fewer than asked, claim() takes them one by one.
      // PostgreSQL: the rows are locked FOR UPDATE SKIP LOCKED in a subquery, a guard against another
      // worker's claim of the same rows (the lane's pin, sendCampaign's LanePins, is what keeps them apart).
      claimRange: db.prepare<[string, number | null, number, number, string]>(
        `UPDATE messages SET status = 'sending', attempts = attempts + 1, provider = ?, worker = ? WHERE ${pick(d, '', 'id IN (SELECT id FROM messages WHERE ')}id BETWEEN ? AND ? AND status = 'planned'
           AND (provider IS NULL OR provider = ?)
           AND NOT EXISTS (SELECT 1 FROM optouts WHERE phone = messages.to_addr)${pick(d, '', ' FOR UPDATE SKIP LOCKED)')}`,
      ),
      claimList: db.prepare<[string, number | null, string, string]>(
        `UPDATE messages SET status = 'sending', attempts = attempts + 1, provider = ?, worker = ? WHERE ${pick(d, '', 'id IN (SELECT id FROM messages WHERE ')}id IN (${pick(d, 'SELECT value FROM json_each(?)', 'SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json))')}) AND status = 'planned'
           AND (provider IS NULL OR provider = ?)
           AND NOT EXISTS (SELECT 1 FROM optouts WHERE phone = messages.to_addr)${pick(d, '', ' FOR UPDATE SKIP LOCKED)')}`,
      ),
      skipOptedOut: db.prepare<[string, number]>(
        `UPDATE messages SET status = 'skipped', reason = 'opted_out: the number opted out after the campaign was planned', done_at = ?
         WHERE id = ? AND status = 'planned' AND EXISTS (SELECT 1 FROM optouts WHERE phone = messages.to_addr)`,
      ),
      sent: db.prepare<[string, string, number]>(
        `UPDATE messages SET status = 'sent', provider_id = ?, sent_at = ?, cost = cost_est, reason = NULL WHERE id = ? AND status IN ('sending', 'unknown')`,
      ),
      // a request's accepted messages in one statement: their sent_at, and a JSON object of provider id by message id
      sentList: db.prepare<[string, string]>(
        `UPDATE messages SET status = 'sent', provider_id = j.value, sent_at = ?, cost = cost_est, reason = NULL
         FROM ${pick(d, 'json_each(?)', 'json_each_text(CAST(? AS json))')} AS j WHERE messages.id = CAST(j.key AS ${pick(d, 'INTEGER', 'BIGINT')}) AND status IN ('sending', 'unknown')`,
      ),
      // the same when their ids are consecutive (the usual request): a JSON array of provider ids,
      // the first message's id added to each one's place in it (bench/send.js: 7% less for the statement)
      sentRange: db.prepare<[string, string, number]>(
        `UPDATE messages SET status = 'sent', provider_id = j.value, sent_at = ?, cost = cost_est, reason = NULL
         FROM ${pick(d, 'json_each(?) AS j', 'json_array_elements_text(CAST(? AS json)) WITH ORDINALITY AS j(value, key)')}
         WHERE messages.id = ? + j.key${pick(d, '', ' - 1')} AND status IN ('sending', 'unknown')`,
      ),
      failed: db.prepare<[string, string, number]>(
        `UPDATE messages SET status = 'failed', reason = ?, done_at = ? WHERE id = ? AND status IN ('sending', 'unknown')`,
      ),
      unknown: db.prepare<[string, number]>(
        `UPDATE messages SET status = 'unknown', reason = ? WHERE id = ? AND status = 'sending'`,
      ),
      release: db.prepare<[number]>(
        `UPDATE messages SET status = 'planned' WHERE id = ? AND status IN ('sending', 'unknown')`,
      ),
      unclaim: db.prepare<[number]>(
        `UPDATE messages SET status = 'planned', attempts = attempts - 1 WHERE id = ? AND status = 'sending'`,
      ),
      // A report moves only a message of the provider that sent it and, once the message has a
      // provider id, only when the report names that id: a key alone (which any POST can carry)
      // never settles another provider's message or another submission's.
      byKey: db.prepare<
        [string, number, number, string, string | null],
        { id: number; status: MessageStatus }
      >(
        `SELECT id, status FROM messages WHERE campaign_id = ? AND row = ? AND leg = ? AND provider = ?
         AND (provider_id IS NULL OR provider_id = '' OR provider_id = ?)`,
      ),
      messageRefs: db.prepare<
        [number],
        {
          campaignId: string;
          row: number;
          leg: number;
          provider: string | null;
          providerId: string | null;
          to: string | null;
        }
      >(
        'SELECT campaign_id AS "campaignId", row, leg, provider, provider_id AS "providerId", to_addr AS "to" FROM messages WHERE id = ?',
      ),
      anyEarly: db.prepare<[], { n: number }>(
        'SELECT CASE WHEN EXISTS (SELECT 1 FROM early_reports) THEN 1 ELSE 0 END AS n',
      ),
      earlyByRef: db.prepare<[string, string, string], { reportId: number }>(
        'SELECT report_id AS "reportId" FROM early_reports WHERE provider = ? AND ref_kind = ? AND ref = ?',
      ),
      earlyReport: db.prepare<[number], StoredReport>(
        `SELECT id, provider, provider_id AS "providerId", message_key AS key, to_addr AS "to", status, code, text, reported_at AS at, received_at AS "receivedAt"
         FROM reports WHERE id = ? AND message_id IS NULL`,
      ),
      earlyRefs: db.prepare<[number], { ref: string }>(
        `SELECT ref FROM early_reports WHERE report_id = ? AND ref_kind = 'id'`,
      ),
      addEarly: db.prepare<[number, string, string, string]>(
        'INSERT INTO early_reports (report_id, provider, ref_kind, ref) VALUES (?, ?, ?, ?)',
      ),
      dropEarly: db.prepare<[number]>('DELETE FROM early_reports WHERE report_id = ?'),
      matchReport: db.prepare<[number, number, number]>(
        'UPDATE reports SET message_id = ?, applied = ? WHERE id = ?',
      ),
      byProviderId: db.prepare<[string, string], { id: number; status: MessageStatus }>(
        'SELECT id, status FROM messages WHERE provider = ? AND provider_id = ?',
      ),
      report: db.prepare<[ReportStatus, string | null, string, number]>(
        `UPDATE messages SET status = ?, reason = ?, done_at = ? WHERE id = ? AND status IN ('sending', 'sent', 'unknown')`,
      ),
      insertReport: db.prepare(
        `INSERT INTO reports (provider, provider_id, message_key, message_id, status, code, text, reported_at, received_at, applied, to_addr)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)${pick(d, '', ' RETURNING id')}`,
      ),
      lockHolder: db.prepare<[string], LockHolder & { campaign_id: string }>(
        'SELECT campaign_id, pid, host, command, started_at AS "startedAt" FROM locks WHERE campaign_id = ?',
      ),
      takeLock: db.prepare<[string, number, string, string, string]>(
        `INSERT INTO locks (campaign_id, pid, host, command, started_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (campaign_id) DO UPDATE SET pid = excluded.pid, host = excluded.host, command = excluded.command, started_at = excluded.started_at`,
      ),
      dropLock: db.prepare<[string, number]>('DELETE FROM locks WHERE campaign_id = ? AND pid = ?'),
      deliveredLatencies: db.prepare<[string], { ms: number }>(
        `SELECT (julianday(done_at) - julianday(sent_at)) * 86400000.0 AS ms FROM messages
         WHERE campaign_id = ? AND status = 'delivered' AND sent_at IS NOT NULL AND done_at IS NOT NULL ORDER BY ms`,
      ),
      laneStats: db.prepare<[string], LaneStats>(
        `SELECT provider, channel, COUNT(*) AS messages, SUM(parts) AS parts, MIN(sent_at) AS "firstSentAt", MAX(sent_at) AS "lastSentAt"
         FROM messages WHERE campaign_id = ? AND sent_at IS NOT NULL GROUP BY provider, channel ORDER BY provider NULLS FIRST, channel NULLS FIRST`,
      ),
      problemRows: db.prepare<[string, number], ListedMessage>(
        `SELECT row, leg, to_addr AS "to", channel, status, reason FROM messages
         WHERE campaign_id = ? AND status IN ('failed', 'rejected', 'unknown') ORDER BY row, leg LIMIT ?`,
      ),
      fallbackLegs: db.prepare<[string], { status: MessageStatus; n: number; cost: number }>(
        `SELECT status, COUNT(*) AS n, COALESCE(SUM(cost), 0) AS cost FROM messages WHERE campaign_id = ? AND leg = 1 GROUP BY status ORDER BY status`,
      ),
      countInStatus: db.prepare<[string, MessageStatus], { n: number }>(
        'SELECT COUNT(*) AS n FROM messages WHERE campaign_id = ? AND status = ?',
      ),
      unmatchedReports: db.prepare<[], { n: number }>(
        'SELECT COUNT(*) AS n FROM reports WHERE message_id IS NULL',
      ),
    };
  }

  plannedChannels(campaignId: string): Channel[] {
    return this.s.plannedChannels.all(campaignId).map((r) => r.channel as Channel);
  }

  /** Planned messages after `afterRow`; inside quiet hours (`quiet`), only those that may go at night. */
  nextPlanned(
    campaignId: string,
    channel: Channel,
    afterRow: number,
    limit: number,
    quiet = false,
  ): SendableMessage[] {
    const text = this.s.nextPlanned.get(campaignId, afterRow, channel, quiet ? 0 : 1, limit) ?? '[]';
    const rows = (JSON.parse(text) as PlannedRowArray[]).map((r) => plannedRow(r, channel));
    // an aggregate's order is its input's, the subquery's ORDER BY, in practice: made sure of
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1]!, rows[i]!];
      if (a.row > b.row || (a.row === b.row && a.leg > b.leg))
        return rows.sort((x, y) => x.row - y.row || x.leg - y.leg);
    }
    return rows;
  }

  /** Planned ads without night consent: what quiet hours hold back. */
  countDeferrable(campaignId: string): number {
    return this.s.countDeferrable.get(campaignId)?.n ?? 0;
  }

  /** countDeferrable by channel (the lanes they go through). */
  deferrableByChannel(campaignId: string): Record<string, number> {
    return Object.fromEntries(this.s.deferrableByChannel.all(campaignId).map((r) => [r.channel, r.n]));
  }

  inStatus(
    campaignId: string,
    status: 'sending' | 'unknown',
  ): (SendableMessage & { provider: string | null; worker: number | null })[] {
    return this.s.inStatus.all(campaignId, status);
  }

  /**
   * Mark messages `sending` before their request leaves; returns those actually claimed. A number on
   * the opt-out list is not claimed: its row is `skipped` (opted_out) in the same transaction.
   * `quietNow` is asked once they are marked, in the same transaction: if the quiet hours have begun
   * meanwhile (a claim takes milliseconds, more on a loaded machine), the deferrable ones (ads
   * without night consent) stay planned, their attempt not counted. All or nothing either way.
   */
  claim(
    messages: SendableMessage[],
    provider: string,
    quietNow: () => boolean = () => false,
  ): SendableMessage[] {
    return this.tx(() => {
      const claimed = this.claimAll(messages, provider) ? messages : this.claimEach(messages, provider);
      if (!claimed.some((m) => m.deferrable) || !quietNow()) return claimed;
      for (const m of claimed) if (m.deferrable) this.s.unclaim.run(m.id);
      return claimed.filter((m) => !m.deferrable);
    });
  }

  /**
   * Claims the whole group in one statement (inside claim()'s transaction), or nothing: when one of
   * them cannot be claimed (opted out since planning), the statement is undone and false returned.
   */
  private claimAll(messages: SendableMessage[], provider: string): boolean {
    const n = messages.length;
    if (n < 2) return false;
    let inRange = true;
    for (let i = 1; i < n && inRange; i++) inRange = messages[i]!.id === messages[i - 1]!.id + 1;
    try {
      this.savepoint(() => {
        const changes = inRange
          ? this.s.claimRange.run(provider, this.worker, messages[0]!.id, messages[n - 1]!.id, provider)
              .changes
          : this.s.claimList.run(provider, this.worker, JSON.stringify(messages.map((m) => m.id)), provider)
              .changes;
        if (changes !== n) throw PARTIAL_CLAIM; // the savepoint is rolled back
      });
      return true;
    } catch (err) {
      if (err === PARTIAL_CLAIM) return false;
      throw err;
    }
  }

  /** One by one: an opted-out number's row is `skipped` instead. */
  private claimEach(messages: SendableMessage[], provider: string): SendableMessage[] {
    let at: string | undefined;
    return messages.filter((m) => {
      if (this.s.claim.run(provider, this.worker, m.id, provider).changes === 1) return true;
      this.s.skipOptedOut.run((at ??= new Date().toISOString()), m.id); // else another claim took it: nothing to do
      return false;
    });
  }

  /** `fn` in one transaction (nested ones are savepoints): a claim with the results answered meanwhile. */
  transaction<T>(fn: () => T): T {
    return this.tx(fn);
  }

  /** Returns how many messages early reports applied here made `failed`. */
  settle(settlements: Settlement[]): number {
    return this.tx(() => {
      const sent: number[] = [];
      // reports that came before their answer's commit need each accepted row's own change count
      const early = this.s.anyEarly.get()?.n === 1;
      // accepted ones by their sent_at (one per request), in order
      const byAt = new Map<string, AcceptedGroup>();
      let last: AcceptedGroup | undefined;
      const parts: { id: number; partIds: string[] }[] = [];
      for (const x of settlements) {
        if (x.kind === 'sent' && !early) {
          if (last?.at !== x.at) {
            last = byAt.get(x.at);
            if (!last) byAt.set(x.at, (last = { at: x.at, ids: [], providerIds: [] }));
          }
          last.ids.push(x.id);
          last.providerIds.push(x.providerId);
          if (split(x)) parts.push({ id: x.id, partIds: x.partIds });
        } else if (x.kind === 'sent') {
          if (this.s.sent.run(x.providerId, x.at, x.id).changes) sent.push(x.id);
          if (split(x)) this.parts.record(x.id, x.partIds);
        } else if (x.kind === 'failed') this.s.failed.run(redact(x.reason), x.at, x.id);
        else if (x.kind === 'unknown') this.s.unknown.run(redact(x.reason), x.id);
        else if (x.kind === 'unclaim') this.s.unclaim.run(x.id);
        else this.s.release.run(x.id);
      }
      for (const { at, ids, providerIds } of byAt.values()) {
        if (consecutive(ids)) this.s.sentRange.run(at, JSON.stringify(providerIds), ids[0]!);
        else {
          let entries = '';
          for (let i = 0; i < ids.length; i++)
            entries += `${i ? ',' : ''}"${ids[i]}":${JSON.stringify(providerIds[i])}`;
          this.s.sentList.run(at, `{${entries}}`);
        }
      }
      if (parts.length) this.parts.recordMany(parts);
      let failed = 0;
      if (sent.length && early) for (const id of sent) failed += this.applyEarly(id);
      return failed;
    });
  }

  /**
   * Reports that arrived before this message's ids were committed (a receipt faster than the
   * answer's commit), applied now, in the order they were received, as if they came this instant.
   */
  private applyEarly(messageId: number): number {
    const m = this.s.messageRefs.get(messageId);
    if (!m?.provider) return 0;
    let failed = 0;
    const refs: [string, string][] = [['key', messageKey(m.campaignId, m.row, m.leg)]];
    for (const id of new Set([m.providerId, ...this.parts.parts(messageId).map((p) => p.providerId)]))
      if (id) refs.push(['id', id]);
    const ids = new Set<number>();
    for (const [kind, ref] of refs)
      for (const r of this.s.earlyByRef.all(m.provider, kind, ref)) ids.add(r.reportId);
    for (const reportId of [...ids].sort((a, b) => a - b)) {
      const stored = this.s.earlyReport.get(reportId);
      if (!stored) continue;
      const spellings = this.s.earlyRefs.all(reportId).map((x) => x.ref);
      const report: DeliveryReport = {
        key: stored.key,
        providerId: stored.providerId,
        altProviderIds: spellings.filter((x) => x !== stored.providerId),
        to: stored.to,
        status: stored.status === 'failed' ? 'failed' : 'delivered',
        code: stored.code ?? '',
        text: stored.text ?? '',
        at: stored.at,
      };
      const {
        target,
        changed,
        failed: madeFailed,
      } = this.applyOne(stored.provider, report, stored.receivedAt);
      if (!target) continue;
      if (madeFailed) failed++;
      this.s.matchReport.run(target, changed, reportId);
      this.s.dropEarly.run(reportId);
    }
    return failed;
  }

  /** Match one report to its message and apply it; the message's id (or null) and whether it changed. */
  private applyOne(
    provider: string,
    r: DeliveryReport,
    receivedAt: string,
  ): { target: number | null; changed: number; failed: boolean } {
    let target: { id: number; status: MessageStatus | '' } | undefined;
    const k = r.key ? parseKey(r.key) : null;
    if (k) target = this.s.byKey.get(k.campaignId, k.row, k.leg, provider, r.providerId ?? null);
    // a part of a message the provider split (SMPP): the message moves when its parts roll up
    let status: ReportStatus | null = r.status;
    if (!target) {
      const part = this.parts.apply(provider, r, receivedAt);
      if (part) [target, status] = [{ id: part.messageId, status: '' }, part.status];
    }
    if (!target && r.providerId) target = this.s.byProviderId.get(provider, r.providerId);
    const reason = status === 'failed' ? redact(`${r.code}: ${r.text}`) : null;
    const changed =
      target && status ? this.s.report.run(status, reason, r.at ?? receivedAt, target.id).changes : 0;
    return { target: target?.id ?? null, changed, failed: changed > 0 && status === 'failed' };
  }

  /**
   * applyOne and the report's row in one statement, when its key names its message (PostgreSQL:
   * reportByKey); null, with nothing written, when it does not (the report goes the usual way).
   */
  private applyByKey(provider: string, r: DeliveryReport, receivedAt: string): { changed: number } | null {
    const k = this.reportByKey && r.key ? parseKey(r.key) : null;
    if (!k) return null;
    const found = this.reportByKey!.get(
      k.campaignId,
      k.row,
      k.leg,
      provider,
      r.providerId ?? null,
      r.status,
      r.status === 'failed' ? redact(`${r.code}: ${r.text}`) : null,
      r.at ?? receivedAt,
      provider,
      r.providerId,
      r.key,
      r.status,
      r.code,
      redact(r.text),
      r.at,
      receivedAt,
      r.to ?? null,
    );
    return found ? { changed: found.changed } : null;
  }

  /**
   * Store reports and apply those that move a message forward. Returns how many changed a
   * message; the rest (late, duplicate, unmatched) are kept in `reports` all the same, and an
   * unmatched one is applied when its message's ids are committed (see settle()).
   */
  applyReports(provider: string, reports: DeliveryReport[]): number {
    return this.applyReportBatch(provider, reports).applied;
  }

  /** applyReports, also saying how many messages the reports made `failed` (the run's failed counter). */
  applyReportBatch(provider: string, reports: DeliveryReport[]): { applied: number; failed: number } {
    const receivedAt = new Date().toISOString();
    return this.tx(() => {
      const total = { applied: 0, failed: 0 };
      if (!this.reportsByKey) {
        for (const r of reports) this.storeReport(provider, r, receivedAt, total);
        return total;
      }
      let i = 0;
      while (i < reports.length) {
        const run = keyedRun(reports, i);
        i += Math.max(1, run.length);
        if (run.length >= 2 && this.applyKeyedRun(provider, run, receivedAt, total)) continue;
        for (const r of run.length ? run.map((x) => x.report) : [reports[i - 1]!])
          this.storeReport(provider, r, receivedAt, total);
      }
      return total;
    });
  }

  /**
   * PostgreSQL: a run of reports with distinct keys (keyedRun), each matched by its key, applied and
   * stored, in one statement (reportsByKey). It is what applying them one by one writes: each message
   * is moved by one report at most, and the triggers' moves (a held fallback leg) are of rows no
   * report moves. Only when every key named its message: else undone (a savepoint), and false.
   */
  private applyKeyedRun(
    provider: string,
    run: { report: DeliveryReport; key: { campaignId: string; row: number; leg: number } }[],
    receivedAt: string,
    total: { applied: number; failed: number },
  ): boolean {
    const rows = run.map(({ report: r, key: k }, n) => ({
      n,
      cid: k.campaignId,
      rw: k.row,
      lg: k.leg,
      pid: r.providerId ?? null,
      st: r.status,
      reason: r.status === 'failed' ? redact(`${r.code}: ${r.text}`) : null,
      done: r.at ?? receivedAt,
      rkey: r.key,
      code: r.code,
      txt: redact(r.text),
      rat: r.at ?? null,
      toa: r.to ?? null,
    }));
    try {
      const counts = this.savepoint(() => {
        const c = this.reportsByKey!.get(JSON.stringify(rows), provider, provider, receivedAt);
        if (!c || c.matched !== run.length) throw UNMATCHED_RUN; // the savepoint is rolled back
        return c;
      });
      total.applied += counts.changed;
      total.failed += counts.failed;
      return true;
    } catch (err) {
      if (err === UNMATCHED_RUN) return false;
      throw err;
    }
  }

  /** One report matched (by its key, its parts, its provider id), applied, and stored; kept as early if it matched nothing. */
  private storeReport(
    provider: string,
    r: DeliveryReport,
    receivedAt: string,
    total: { applied: number; failed: number },
  ): void {
    const byKey = this.applyByKey(provider, r, receivedAt);
    if (byKey) {
      total.applied += byKey.changed;
      if (byKey.changed > 0 && r.status === 'failed') total.failed++;
      return;
    }
    const { target, changed, failed: madeFailed } = this.applyOne(provider, r, receivedAt);
    total.applied += changed;
    if (madeFailed) total.failed++;
    const row = this.s.insertReport.run(
      provider,
      r.providerId,
      r.key,
      target,
      r.status,
      r.code,
      redact(r.text),
      r.at,
      receivedAt,
      changed,
      r.to ?? null,
    );
    if (target !== null) return;
    const reportId = Number(row.lastInsertRowid);
    for (const id of new Set([r.providerId, ...(r.altProviderIds ?? [])]))
      if (id) this.s.addEarly.run(reportId, provider, 'id', id);
    if (r.key) this.s.addEarly.run(reportId, provider, 'key', r.key);
  }

  /**
   * Take the campaign's lock for this process; a holder that `holds` says is gone (its process on
   * this host, its lease on another) is replaced. Returns the live holder when the lock is someone else's.
   */
  acquireLock(
    campaignId: string,
    pid: number,
    host: string,
    command: string,
    holds: (holder: LockHolder) => boolean,
  ): LockHolder | null {
    return this.db
      .transaction(() => {
        const holder = this.s.lockHolder.get(campaignId);
        if (holder && (holder.pid !== pid || holder.host !== host) && holds(holder)) {
          return { pid: holder.pid, host: holder.host, command: holder.command, startedAt: holder.startedAt };
        }
        this.s.takeLock.run(campaignId, pid, host, command, new Date().toISOString());
        return null;
      })
      .immediate();
  }

  lockHolder(campaignId: string): LockHolder | null {
    const h = this.s.lockHolder.get(campaignId);
    return h ? { pid: h.pid, host: h.host, command: h.command, startedAt: h.startedAt } : null;
  }

  releaseLock(campaignId: string, pid: number): void {
    this.s.dropLock.run(campaignId, pid);
  }

  deliveredLatenciesMs(campaignId: string): number[] {
    return this.s.deliveredLatencies.all(campaignId).map((r) => r.ms);
  }

  laneStats(campaignId: string): LaneStats[] {
    return this.s.laneStats.all(campaignId);
  }

  problemRows(campaignId: string, limit: number): ListedMessage[] {
    return this.s.problemRows.all(campaignId, limit);
  }

  /** Fallback legs by status, with what the sent ones cost. */
  fallbackLegs(campaignId: string): { status: MessageStatus; n: number; cost: number }[] {
    return this.s.fallbackLegs.all(campaignId);
  }

  countInStatus(campaignId: string, status: MessageStatus): number {
    return this.s.countInStatus.get(campaignId, status)?.n ?? 0;
  }

  unmatchedReports(): number {
    return this.s.unmatchedReports.get()?.n ?? 0;
  }
}
