import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PlannedMessage } from '../campaign/types.js';
import { InputError } from '../errors.js';
import type { SideStore } from '../providers/types.js';
import { DeliveryJournal } from './delivery.js';
import { type Dialect, pick } from './dialect.js';
import { InboxJournal } from './inbox.js';
import { MIGRATIONS, migratePostgres } from './migrations.js';
import { OptoutJournal } from './optouts.js';
import { OutcomeJournal } from './outcomes.js';
import { copyValue, isPostgresUrl, PostgresDatabase, redactedUrl } from './postgres.js';
import { ReportSeriesJournal } from './reportSeries.js';
import { RoutingJournal } from './routing.js';
import { type CampaignSettings, readSettings, readState } from './settings.js';
import { SideJournal } from './sideLog.js';
import type { CampaignState, MessageStatus } from './states.js';
import { WorkersJournal } from './workers.js';

export type { CampaignSettings } from './settings.js';
export type { CampaignState } from './states.js';

export interface CampaignRecord {
  id: string;
  digest: string;
  csvPath: string;
  templatePath: string;
  state: CampaignState;
  rows: number;
  /** checked when read back (settings.ts): a row ums did not write is refused */
  settings: CampaignSettings;
  createdAt: string;
  plannedAt: string | null;
  finishedAt: string | null;
}

export interface StatusCount {
  status: MessageStatus;
  channel: string | null;
  count: number;
  parts: number;
  costEst: number;
  cost: number;
}

export interface ReasonCount {
  code: string;
  count: number;
  firstRow: number;
  example: string;
}

export interface MessageRecord {
  row: number;
  leg: number;
  to: string | null;
  channel: string | null;
  status: MessageStatus;
  reason: string | null;
  parts: number;
  bytes: number;
  subject: string | null;
  body: string | null;
  costEst: number;
  cost: number | null;
  provider: string | null;
  providerId: string | null;
  attempts: number;
  sentAt: string | null;
  doneAt: string | null;
}

const MESSAGE_COLUMNS = `row, leg, to_addr AS "to", channel, status, reason, parts, bytes, subject, body, cost_est AS "costEst",
  cost, provider, provider_id AS "providerId", attempts, sent_at AS "sentAt", done_at AS "doneAt"`;

interface CampaignRow {
  id: string;
  digest: string;
  csv_path: string;
  template_path: string;
  state: string;
  rows: number;
  settings: string;
  created_at: string;
  planned_at: string | null;
  finished_at: string | null;
}

function toCampaign(file: string, r: CampaignRow): CampaignRecord {
  return {
    id: r.id,
    digest: r.digest,
    csvPath: r.csv_path,
    templatePath: r.template_path,
    state: readState(file, r.id, r.state),
    rows: r.rows,
    settings: readSettings(file, r.id, r.settings),
    createdAt: r.created_at,
    plannedAt: r.planned_at,
    finishedAt: r.finished_at,
  };
}

const PAGE_SIZE = 8192;
const WAL_CHECKPOINT_BYTES = 4 * 1024 * 1024;

/**
 * Each connection's page cache. better-sqlite3 builds SQLite with 16 MB, and its sorter (GROUP BY
 * in the summaries) may take as much again. The journal is appended in row order and read back in
 * row order or by index: measured, 2 MB plans and sends as fast, and a million-row planning peaks
 * ~13 MB lower (the writer thread's cache) and its summary ~9 MB lower.
 */
const CACHE_KIB = 2048;

/** The SQLite journal: the only truth about campaigns and messages. All SQL of ums lives here. */
/** A waiting message's provider and its price per part, by channel and RCS kind (`kindKey`). */
export type KindProviders = Record<string, { provider: string; price: number }>;
export const kindKey = (channel: string, rcsKind: string | null): string => `${channel}|${rcsKind ?? ''}`;

/** The columns planning writes, in insertMessage's order (and COPY's on PostgreSQL). */
const PLANNED_COLUMNS =
  'campaign_id, row, to_addr, channel, status, reason, parts, bytes, subject, body, cost_est, leg, vars, defer_at_night, rcs_kind, provider';

export interface JournalOpenOptions {
  /**
   * Where provider side files go (request logs, the simulator's carrier log) for a journal on
   * PostgreSQL (the config's folder's `.ums`); an SQLite journal keeps them beside its file.
   */
  stateDir?: string;
}

export class Journal {
  private readonly db: Database.Database;
  private readonly stmts;
  /** `sqlite`, or `postgres` for a journal named by a postgres:// URL */
  readonly dialect: Dialect;

  private constructor(
    db: Database.Database,
    /** the journal's file, or its URL without the password: what messages name */
    readonly file: string,
    /** the folder provider side files go to (lanes.ts) */
    readonly stateDir: string,
    private readonly pg: PostgresDatabase | null = null,
  ) {
    this.db = db;
    this.dialect = pg ? 'postgres' : 'sqlite';
    const d = this.dialect;
    this.stmts = {
      findCampaign: db.prepare<[string], CampaignRow>('SELECT * FROM campaigns WHERE id = ?'),
      listCampaigns: db.prepare<[], CampaignRow>('SELECT * FROM campaigns ORDER BY created_at, id'),
      insertCampaign: db.prepare(
        `INSERT INTO campaigns (id, digest, csv_path, template_path, state, settings, created_at)
         VALUES (@id, @digest, @csvPath, @templatePath, 'planning', @settings, @createdAt)`,
      ),
      deleteMessages: db.prepare<[string]>('DELETE FROM messages WHERE campaign_id = ?'),
      deleteCampaign: db.prepare<[string]>('DELETE FROM campaigns WHERE id = ?'),
      markPlanned: db.prepare<[number, string, string, string]>(
        `UPDATE campaigns SET state = 'draft', rows = ?, settings = ?, planned_at = ? WHERE id = ? AND state = 'planning'`,
      ),
      arm: db.prepare<[string]>(
        `UPDATE campaigns SET state = 'armed' WHERE id = ? AND state IN ('draft', 'armed')`,
      ),
      // `ums resume C --retry-failed`: a finished campaign with new attempts to send is armed again
      reopen: db.prepare<[string]>(
        `UPDATE campaigns SET state = 'armed', finished_at = NULL WHERE id = ? AND state = 'done'`,
      ),
      // A new attempt (leg 2, 3, …) for each recipient not reached whose latest leg failed: a copy of
      // that leg, planned. Never a row with a leg delivered or on its way (sent, sending, unknown,
      // planned, held), never a number on the opt-out list (the claim checks it again). The failed
      // leg stays failed: a late report for it can change nothing, and names its own key.
      retryFailed: db.prepare<[string, string | null, string | null]>(
        `INSERT INTO messages (campaign_id, row, to_addr, channel, status, parts, bytes, subject, body, cost_est, leg, vars, defer_at_night, rcs_kind)
         SELECT m.campaign_id, m.row, m.to_addr, m.channel, 'planned', m.parts, m.bytes, m.subject, m.body, m.cost_est,
                CASE WHEN m.leg + 1 > 2 THEN m.leg + 1 ELSE 2 END, m.vars, m.defer_at_night, m.rcs_kind
         FROM messages m
         WHERE m.campaign_id = ? AND m.status = 'failed'
           AND m.leg = (SELECT MAX(leg) FROM messages l WHERE l.campaign_id = m.campaign_id AND l.row = m.row)
           AND NOT EXISTS (SELECT 1 FROM messages o WHERE o.campaign_id = m.campaign_id AND o.row = m.row
                           AND o.status IN ('delivered', 'sent', 'sending', 'unknown', 'planned', 'held'))
           AND NOT EXISTS (SELECT 1 FROM optouts WHERE phone = m.to_addr)
           AND (CAST(? AS TEXT) IS NULL OR (CASE WHEN instr(m.reason, ':') > 0 THEN substr(m.reason, 1, instr(m.reason, ':') - 1) ELSE m.reason END) = ?)
         ORDER BY m.row`,
      ),
      finish: db.prepare<[string, string]>(
        `UPDATE campaigns SET state = 'done', finished_at = ? WHERE id = ? AND state = 'armed'`,
      ),
      cancelCampaign: db.prepare<[string, string]>(
        `UPDATE campaigns SET state = 'cancelled', finished_at = ? WHERE id = ? AND state IN ('draft', 'armed')`,
      ),
      cancelMessages: db.prepare<[string, string]>(
        `UPDATE messages SET status = 'cancelled', reason = 'cancelled: \`ums cancel\`', done_at = ? WHERE campaign_id = ? AND status IN ('planned', 'held')`,
      ),
      insertMessage: db.prepare(
        `INSERT INTO messages (${PLANNED_COLUMNS})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      statusCounts: db.prepare<[string], StatusCount>(
        `SELECT status, channel, COUNT(*) AS count, SUM(parts) AS parts, SUM(cost_est) AS "costEst", COALESCE(SUM(cost), 0) AS cost
         FROM messages WHERE campaign_id = ? GROUP BY status, channel ORDER BY status, channel NULLS FIRST`,
      ),
      // SQLite fills the bare column `reason` from the row that MIN(row) picked: the first example
      // (PostgreSQL: the first of the group's reasons in row order).
      reasonCounts: db.prepare<[string, number], ReasonCount>(
        `SELECT CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END AS code,
                COUNT(*) AS count, MIN(row) AS "firstRow", ${pick(d, 'reason', '(array_agg(reason ORDER BY row, leg))[1]')} AS example
         FROM messages WHERE campaign_id = ? AND reason IS NOT NULL
         GROUP BY code ORDER BY count DESC, "firstRow" LIMIT ?`,
      ),
      subjectUpgrades: db.prepare<[string], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE campaign_id = ? AND channel = 'lms' AND subject IS NOT NULL AND bytes <= 90
           AND status NOT IN ('rejected', 'skipped')`,
      ),
      firstMessages: db.prepare<[string, MessageStatus, number], MessageRecord>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE campaign_id = ? AND status = ? ORDER BY row, leg LIMIT ?`,
      ),
      allMessages: db.prepare<[string], MessageRecord>(
        `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE campaign_id = ? ORDER BY row, leg`,
      ),
    };
  }

  /**
   * Open (creating with mode 0600) and migrate the journal at `file`; a postgres:// URL opens (and
   * migrates) a journal on PostgreSQL.
   */
  static open(file: string, options: JournalOpenOptions = {}): Journal {
    if (isPostgresUrl(file)) return Journal.openPostgres(file, options);
    prepareJournalFile(file);
    const fresh = fs.statSync(file).size === 0;
    const db = new Database(file);
    try {
      refuseNewerSchema(db, file);
      // only now that it is known to be a journal (ours, or a new one) is its mode ours to change
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        try {
          if ((fs.statSync(f).mode & 0o777) !== 0o600) fs.chmodSync(f, 0o600);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        }
      }
    } catch (err) {
      db.close();
      throw err;
    }
    // A journal is mostly rows of ~250 bytes appended in bulk: 8 KB pages store them with ~10%
    // less CPU than SQLite's 4 KB default. Only a new file can take it (before WAL is on).
    if (fresh) db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    // SQLite checkpoints every 1,000 pages: keep that at 4 MB of WAL whatever the page size (a
    // journal on a nearly full disk needs room for the WAL and for its copy into the database).
    db.pragma(
      `wal_autocheckpoint = ${Math.round(WAL_CHECKPOINT_BYTES / (db.pragma('page_size', { simple: true }) as number))}`,
    );
    // NORMAL in WAL mode survives any process crash (kill -9); only a power cut can lose the last commits.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.pragma(`cache_size = ${-CACHE_KIB}`);
    migrate(db);
    return new Journal(db, file, path.dirname(file));
  }

  private static openPostgres(url: string, options: JournalOpenOptions): Journal {
    const label = redactedUrl(url);
    const pg = PostgresDatabase.open(url);
    try {
      migratePostgres(pg, label);
      const stateDir = options.stateDir ?? path.resolve('.ums');
      return new Journal(pg as unknown as Database.Database, label, stateDir, pg);
    } catch (err) {
      pg.close();
      throw err;
    }
  }

  close(): void {
    this.db.close();
  }

  /**
   * Leave checkpoints (copying the WAL into the database file) to another connection: see
   * checkpoint(). For a connection that only appends in bulk: the WAL grows until someone checkpoints.
   */
  stopAutoCheckpoint(): void {
    if (this.pg) return;
    this.db.pragma('wal_autocheckpoint = 0');
  }

  /**
   * Copy what the WAL holds into the database file. PASSIVE: without waiting for (or blocking) a
   * writer. TRUNCATE, when no one else writes: all of it, and the WAL file is cut back to nothing.
   */
  checkpoint(mode: 'PASSIVE' | 'TRUNCATE' = 'PASSIVE'): void {
    if (this.pg) return;
    this.db.pragma(`wal_checkpoint(${mode})`);
  }

  /** The statements the delivery engine needs, over the same connection. */
  delivery(): DeliveryJournal {
    return (this.deliveryJournal ??= new DeliveryJournal(this.db));
  }

  private deliveryJournal: DeliveryJournal | undefined;

  /** Routes across providers: assignments, each lane's planned rows, failover moves. */
  routing(): RoutingJournal {
    return (this.routingJournal ??= new RoutingJournal(this.db));
  }

  private routingJournal: RoutingJournal | undefined;

  /** The suppression list. */
  optouts(): OptoutJournal {
    return (this.optoutJournal ??= new OptoutJournal(this.db));
  }

  private optoutJournal: OptoutJournal | undefined;

  /**
   * Where providers keep what they reconcile with (request logs, poll checkpoint, the simulator's
   * carrier log): in the journal on PostgreSQL, where every worker reaches it; on SQLite undefined,
   * and they stay files in stateDir (as fast as before: the carrier log is on the send path).
   */
  sideStore(): SideStore | undefined {
    return this.pg ? this.sideLogs() : undefined;
  }

  /** The journal's side logs and state (on either dialect: sideStore() says when providers use them). */
  sideLogs(): SideJournal {
    return (this.sideJournal ??= new SideJournal(this.db));
  }

  private sideJournal: SideJournal | undefined;

  /** The workers sending a campaign (their leases) and the lanes pinned to them. */
  workers(): WorkersJournal {
    return (this.workersJournal ??= new WorkersJournal(this.db));
  }

  private workersJournal: WorkersJournal | undefined;

  /** Messages recipients sent us (MO). */
  inbox(): InboxJournal {
    return (this.inboxJournal ??= new InboxJournal(this.db, this.optouts()));
  }

  private inboxJournal: InboxJournal | undefined;

  /** What became of each recipient (reports count recipients first). */
  outcomes(): OutcomeJournal {
    return (this.outcomeJournal ??= new OutcomeJournal(this.db));
  }

  private outcomeJournal: OutcomeJournal | undefined;

  /** The series the HTML report draws (bucketed in SQL). */
  reportSeries(): ReportSeriesJournal {
    return (this.reportSeriesJournal ??= new ReportSeriesJournal(this.db));
  }

  private reportSeriesJournal: ReportSeriesJournal | undefined;

  findCampaign(id: string): CampaignRecord | undefined {
    const r = this.stmts.findCampaign.get(id);
    return r ? toCampaign(this.file, r) : undefined;
  }

  listCampaigns(): CampaignRecord[] {
    return this.stmts.listCampaigns.all().map((r) => toCampaign(this.file, r));
  }

  /** Start a campaign in state `planning`: it is never sent until markPlanned. */
  createCampaign(c: {
    id: string;
    digest: string;
    csvPath: string;
    templatePath: string;
    settings: Record<string, unknown>;
  }): void {
    this.stmts.insertCampaign.run({
      ...c,
      settings: JSON.stringify(c.settings),
      createdAt: new Date().toISOString(),
    });
  }

  /** Remove a campaign whose planning failed or was interrupted, with all its messages. */
  discardCampaign(id: string): void {
    this.db.transaction(() => {
      this.stmts.deleteMessages.run(id);
      this.stmts.deleteCampaign.run(id);
    })();
  }

  /**
   * Append planned messages in one transaction; `providers` gives the waiting ones of a channel (and
   * RCS kind) their provider and its price per part as they are written (routes that are not a split:
   * bench/plan, a second pass over every row doubled planning's time).
   */
  insertPlanned(campaignId: string, batch: PlannedMessage[], providers?: KindProviders): void {
    const insert = this.stmts.insertMessage;
    const assigned = (channel: string | null, status: string, rcsKind: string | null) =>
      providers && channel && (status === 'planned' || status === 'held')
        ? providers[kindKey(channel, rcsKind)]
        : undefined;
    if (this.pg) {
      this.copyPlanned(this.pg, campaignId, batch, assigned);
      return;
    }
    this.db.transaction(() => {
      for (const m of batch) {
        const a = assigned(m.channel, m.status, m.rcsKind ?? null);
        insert.run(
          campaignId,
          m.row,
          m.to,
          m.channel,
          m.status,
          m.reason,
          m.parts,
          m.bytes,
          m.subject,
          m.body,
          a ? m.parts * a.price : m.cost,
          m.leg,
          m.vars,
          m.deferrable ? 1 : 0,
          m.rcsKind ?? null,
          a?.provider ?? null,
        );
        const f = m.fallback;
        const fa = f ? assigned(f.channel, f.status, null) : undefined;
        if (f)
          insert.run(
            campaignId,
            f.row,
            f.to,
            f.channel,
            f.status,
            f.reason,
            f.parts,
            f.bytes,
            f.subject,
            f.body,
            fa ? f.parts * fa.price : f.cost,
            1,
            null,
            f.deferrable ? 1 : 0,
            null,
            fa?.provider ?? null,
          );
      }
    })();
  }

  /**
   * insertPlanned on PostgreSQL: the batch as one COPY (text format), the same columns and values
   * insertMessage writes, in the same order.
   */
  private copyPlanned(
    pg: PostgresDatabase,
    campaignId: string,
    batch: PlannedMessage[],
    assigned: (
      channel: string | null,
      status: string,
      rcsKind: string | null,
    ) => { provider: string; price: number } | undefined,
  ): void {
    const id = copyValue(campaignId);
    const lines: string[] = [];
    const line = (
      m: Omit<PlannedMessage, 'fallback' | 'leg' | 'vars' | 'rcsKind'>,
      leg: number,
      vars: string | null,
      rcsKind: string | null,
    ): void => {
      const a = assigned(m.channel, m.status, rcsKind);
      lines.push(
        [
          id,
          m.row,
          copyValue(m.to),
          copyValue(m.channel),
          copyValue(m.status),
          copyValue(m.reason),
          m.parts,
          m.bytes,
          copyValue(m.subject),
          copyValue(m.body),
          a ? m.parts * a.price : m.cost,
          leg,
          copyValue(vars),
          m.deferrable ? 1 : 0,
          copyValue(rcsKind),
          copyValue(a?.provider ?? null),
        ].join('\t'),
      );
    };
    for (const m of batch) {
      line(m, m.leg, m.vars, m.rcsKind ?? null);
      if (m.fallback) line(m.fallback, 1, null, null);
    }
    if (!lines.length) return;
    pg.copyIn(`COPY messages (${PLANNED_COLUMNS}) FROM STDIN`, `${lines.join('\n')}\n`);
  }

  /** The campaign is whole: every row is in the journal, and it may be sent. */
  markPlanned(id: string, rows: number, settings: Record<string, unknown>): void {
    this.stmts.markPlanned.run(rows, JSON.stringify(settings), new Date().toISOString(), id);
  }

  /** The operator confirmed: the campaign may be sent (by this run, and by `ums resume` after it). */
  arm(id: string): void {
    this.stmts.arm.run(id);
  }

  /**
   * `ums resume C --retry-failed [--reason CODE]`: plan a new attempt for every recipient not reached
   * whose latest leg failed (with that reason code, if given), and arm the campaign again if it was
   * done; one transaction. Returns the attempts planned.
   */
  retryFailed(id: string, code: string | null): number {
    return this.db.transaction(() => {
      const n = this.stmts.retryFailed.run(id, code, code).changes;
      if (n > 0) this.stmts.reopen.run(id);
      return n;
    })();
  }

  /** Nothing left to send. A cancelled campaign stays cancelled. */
  finish(id: string): void {
    this.stmts.finish.run(new Date().toISOString(), id);
  }

  /**
   * `ums cancel`: rows not yet claimed (planned, and fallback legs held) become `cancelled`, in one
   * transaction with the campaign's state; rows already with a provider keep their state (their
   * reports still arrive). Safe beside a running send: a claim takes `planned` rows only.
   * Returns the rows cancelled, or null when the campaign was not a draft or armed.
   */
  cancel(id: string): number | null {
    return this.db
      .transaction(() => {
        const at = new Date().toISOString();
        if (this.stmts.cancelCampaign.run(at, id).changes === 0) return null;
        return this.stmts.cancelMessages.run(at, id).changes;
      })
      .immediate();
  }

  statusCounts(id: string): StatusCount[] {
    return this.stmts.statusCounts.all(id);
  }

  topReasons(id: string, limit: number): ReasonCount[] {
    return this.stmts.reasonCounts.all(id, limit);
  }

  countSubjectUpgrades(id: string): number {
    return this.stmts.subjectUpgrades.get(id)?.n ?? 0;
  }

  firstMessages(id: string, status: MessageStatus, limit: number): MessageRecord[] {
    return this.stmts.firstMessages.all(id, status, limit);
  }

  /** Every message of a campaign in row order, streamed. */
  messages(id: string): IterableIterator<MessageRecord> {
    return this.stmts.allMessages.iterate(id);
  }
}

/** Apply the migrations a journal lacks; several processes may open a new journal at once. */
/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Before SQLite touches `file`: its folder exists and is private (0700: one we create, or the default
 * `.ums` even if it existed; any other existing folder, such as the working folder, is left as it
 * is), and the file is a journal or nothing yet. A file that is not SQLite (a CSV, a text file, a
 * device) is refused, naming it, with its content and mode untouched; a new file is made 0600, an
 * existing SQLite file once it is known to be a journal (Journal.open; SQLite gives -wal/-shm its mode).
 */
function prepareJournalFile(file: string): void {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  else if (path.basename(dir) === '.ums') {
    try {
      if ((fs.statSync(dir).mode & 0o777) !== 0o700) fs.chmodSync(dir, 0o700);
    } catch {
      // not ours to change (another owner): SQLite will say whether it can write there
    }
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO is refused below instead of waiting for a writer
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOCTTY | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw InputError.of('err.journal.isDir', { file });
    if (code === 'EACCES') throw InputError.of('err.journal.denied', { file });
    if (code !== 'ENOENT')
      throw InputError.of('err.journal.cannotOpen', {
        file,
        text: (err as Error).message.replace(/^\w+:\s*/, ''),
      });
    // Create the file ourselves so it is 0600 from its first byte.
    fs.closeSync(fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600));
    fs.chmodSync(file, 0o600);
    return;
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw InputError.of('err.journal.isDir', { file });
    if (!st.isFile()) throw InputError.of('err.journal.notFile', { file });
    if (st.size > 0) {
      const head = Buffer.alloc(SQLITE_HEADER.length);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      if (n < head.length || !head.equals(SQLITE_HEADER)) {
        throw InputError.of('err.journal.notSqlite', { file });
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** A journal whose schema is newer than this ums knows is refused before anything is written to it. */
function refuseNewerSchema(db: Database.Database, file: string): void {
  let version = 0;
  try {
    const table = db
      .prepare("SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
      .get();
    if (table)
      version =
        db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get()?.v ?? 0;
    else {
      // an SQLite database of another program (a --db typo): never migrated into, never chmodded
      const others = db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name LIMIT 4",
        )
        .all();
      if (others.length) {
        const names =
          others
            .slice(0, 3)
            .map((o) => o.name)
            .join(', ') + (others.length > 3 ? ', ...' : '');
        throw InputError.of('err.journal.otherDb', { file, names });
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as { code?: string }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
      throw InputError.of('err.journal.damaged', { file });
    throw err;
  }
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  if (version > latest) {
    throw InputError.of('err.atFile', {
      file,
      problem: { key: 'err.journal.newer', params: { version, latest } },
    });
  }
}

function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
  );
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
  const current = (): number =>
    db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get()?.v ?? 0;
  if (current() > latest) throw InputError.of('err.journal.newer', { version: current(), latest });
  if (current() >= latest) return;
  // The version is read again inside the write lock: another process may have migrated meanwhile.
  db.transaction(() => {
    const from = current();
    for (const m of MIGRATIONS) {
      if (m.version <= from) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        m.version,
        new Date().toISOString(),
      );
    }
  }).immediate();
}
