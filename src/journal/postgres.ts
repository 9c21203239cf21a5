/**
 * The journal on PostgreSQL (`journal: postgres://…`): a Database and Statements offering the part
 * of better-sqlite3's synchronous API that src/journal uses, so that every journal class runs on
 * either. Each call runs on a client in a worker thread (postgresWorker.ts) while this thread waits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSyncFn } from 'synckit';
import { FaultError, InputError } from '../errors.js';
import type { WorkerOp, WorkerResult } from './postgresWorker.js';

/** `postgres://…` or `postgresql://…`: a journal on PostgreSQL, not a file. */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s.trim());
}

/** The URL as it may be shown: its password, if any (in the user part or the query), as `***`. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (/password/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return url.replace(/^(\w+:\/\/[^:/@]*):[^@]*@/, '$1:***@').replace(/(password=)[^&]*/gi, '$1***');
  }
}

/**
 * `?`, `@name` and `:name` placeholders (as better-sqlite3 takes them) as PostgreSQL's `$1..$n`,
 * outside quoted strings, quoted identifiers and comments. `names`: for named placeholders, the
 * name of each `$i` (i - 1), else null.
 */
export function toPositional(sql: string): { sql: string; names: string[] | null } {
  let out = '';
  let n = 0;
  const names: string[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'" || c === '"') {
      let j = i + 1;
      for (; j < sql.length; j++) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      const end = j < 0 ? sql.length : j;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && next === '*') {
      const j = sql.indexOf('*/', i + 2);
      const end = j < 0 ? sql.length : j + 2;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '?') {
      out += `$${++n}`;
      i++;
    } else if (c === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if ((c === '@' || c === ':') && next !== undefined && /[A-Za-z_]/.test(next)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))!;
      let k = names.indexOf(m[0]);
      if (k < 0) k = names.push(m[0]) - 1;
      out += `$${k + 1}`;
      i += 1 + m[0].length;
    } else {
      out += c;
      i++;
    }
  }
  if (n > 0 && names.length > 0) throw new Error('a statement mixes ? and named placeholders');
  return { sql: out, names: names.length ? names : null };
}

/** PostgreSQL's error: its SQLSTATE (or a socket's code, ECONNREFUSED) as `code`, as SqliteError has one. */
export class PostgresError extends Error {
  override readonly name = 'PostgresError';
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

/**
 * The server is not there (or went away, or stalled): a socket's error (ECONNREFUSED, ETIMEDOUT,
 * EAI_AGAIN: not Node's ERR_… of a bad URL), SQLSTATE class 08 (connection), 57P (shutdown) or
 * 53300 (too many connections: it passes).
 */
function unreachable(code: string | null): boolean {
  return (
    code !== null &&
    ((/^E[A-Z_]+$/.test(code) && !code.startsWith('ERR_')) ||
      code.startsWith('08') ||
      code.startsWith('57P') ||
      code === '53300')
  );
}

/** Another process held the journal's write lock past lock_timeout (55P03), or a deadlock (40P01). */
function busy(code: string | null): boolean {
  return code === '55P03' || code === '40P01';
}

/**
 * How long this thread waits for one call before the journal is taken for unreachable. A stalled
 * network would otherwise block it for ever, Ctrl-C included (it runs only between calls): the
 * worker's own query timeout (postgresWorker.ts) comes first.
 */
const CALL_TIMEOUT_MS = 130_000;

/** Built JavaScript runs the worker beside this file; from sources (tests), the build's copy. */
function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? path.resolve(path.dirname(here), '../../dist/journal/postgresWorker.js')
    : path.join(path.dirname(here), 'postgresWorker.js');
}

let call: ((op: WorkerOp) => WorkerResult) | undefined;
function worker(op: WorkerOp): WorkerResult {
  if (!call) {
    const file = workerFile();
    // from sources (a test run) without a build: say so, not a worker's module error
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
    call = createSyncFn<(op: WorkerOp) => Promise<WorkerResult>>(file, { timeout: CALL_TIMEOUT_MS });
  }
  try {
    return call(op);
  } catch (err) {
    // synckit's own timeout: the worker never answered
    return { ok: false, message: (err as Error)?.message ?? String(err), code: 'ETIMEDOUT' };
  }
}

/**
 * `pg_advisory_xact_lock` key every transaction takes first: the journal's transactions run one at a
 * time across every process, as SQLite's writers do (its write lock), so that two of them never
 * deadlock on rows each locked in another order (a cancel beside a send's claims). A statement run
 * on its own (planning's COPY, a report's read) waits for none.
 */
const WRITE_LOCK_KEY = 0x756d7301;

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

type Params = unknown[];

/** Rows fetched at a time by iterate(). */
const CURSOR_PAGE = 2000;

/** A prepared statement: the subset of better-sqlite3's Statement that src/journal uses. */
export class PostgresStatement {
  private readonly text: string;
  private readonly names: string[] | null;
  private readonly returnsId: boolean;
  private plucked = false;
  private rawRows = false;

  constructor(
    private readonly db: PostgresDatabase,
    readonly source: string,
  ) {
    const p = toPositional(source);
    this.text = p.sql;
    this.names = p.names;
    this.returnsId = /\bRETURNING\s+(?:\w+\s+AS\s+)?id\b/i.test(source);
  }

  private values(args: Params): unknown[] {
    let list: unknown[] = args;
    if (this.names) {
      const o = (args[0] ?? {}) as Record<string, unknown>;
      list = this.names.map((n) => o[n]);
    } else if (args.length === 1 && Array.isArray(args[0])) list = args[0] as unknown[];
    return list.map((v) =>
      v === undefined
        ? null
        : typeof v === 'bigint'
          ? v.toString()
          : typeof v === 'string'
            ? withoutNul(v)
            : v,
    );
  }

  private query(args: Params): { fields: string[]; rows: unknown[][]; rowCount: number } {
    return this.db.query(this.text, this.values(args), true);
  }

  private shape(fields: string[], r: unknown[]): unknown {
    if (this.plucked) return r[0];
    if (this.rawRows) return r;
    const o: Record<string, unknown> = {};
    for (let i = 0; i < fields.length; i++) o[fields[i]!] = r[i];
    return o;
  }

  run(...args: Params): RunResult {
    const r = this.query(args);
    const id = this.returnsId && r.rows[0] ? Number(r.rows[0][0]) : 0;
    return { changes: r.rowCount, lastInsertRowid: id };
  }

  get(...args: Params): unknown {
    const r = this.query(args);
    return r.rows[0] ? this.shape(r.fields, r.rows[0]) : undefined;
  }

  all(...args: Params): unknown[] {
    const r = this.query(args);
    return r.rows.map((row) => this.shape(r.fields, row));
  }

  /**
   * The rows a page at a time, through a cursor WITH HOLD (it outlives the transaction it was
   * declared in, or the statement's own): a million rows never cross the thread boundary at once.
   */
  *iterate(...args: Params): IterableIterator<unknown> {
    const cursor = this.db.cursorName();
    this.db.query(`DECLARE ${cursor} NO SCROLL CURSOR WITH HOLD FOR ${this.text}`, this.values(args));
    try {
      for (;;) {
        const r = this.db.query(`FETCH FORWARD ${CURSOR_PAGE} FROM ${cursor}`, []);
        for (const row of r.rows) yield this.shape(r.fields, row);
        if (r.rows.length < CURSOR_PAGE) return;
      }
    } finally {
      this.db.query(`CLOSE ${cursor}`, []);
    }
  }

  pluck(toggle = true): this {
    this.plucked = toggle;
    if (toggle) this.rawRows = false;
    return this;
  }

  raw(toggle = true): this {
    this.rawRows = toggle;
    if (toggle) this.plucked = false;
    return this;
  }
}

type TxFn<F extends (...a: never[]) => unknown> = F & { deferred: F; immediate: F; exclusive: F };

/** A connection: the subset of better-sqlite3's Database that src/journal uses, plus COPY. */
export class PostgresDatabase {
  private depth = 0;
  private readonly names = new Map<string, string>();
  private closed = false;

  private constructor(
    private readonly id: number,
    readonly url: string,
  ) {}

  /** Connect; an unreachable server is a FaultError (exit 1), any other refusal an InputError (exit 2). */
  static open(url: string): PostgresDatabase {
    const r = worker({ op: 'open', url });
    if (!r.ok) throw connectError(url, r.message, r.code);
    return new PostgresDatabase(r.id!, url);
  }

  private cursors = 0;

  /** A new name for a cursor of this connection. */
  cursorName(): string {
    return `ums_cursor${++this.cursors}`;
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  /** One statement, its `$n` bound to `params`; `prepared`: as a named prepared statement (parsed once per connection). */
  query(
    sql: string,
    params: unknown[],
    prepared = false,
  ): { fields: string[]; rows: unknown[][]; rowCount: number } {
    let name: string | undefined;
    if (prepared) {
      name = this.names.get(sql);
      if (!name) this.names.set(sql, (name = `ums${this.names.size + 1}`));
    }
    const r = this.call({ op: 'query', id: this.id, sql, params, name });
    return { fields: r.fields ?? [], rows: r.rows ?? [], rowCount: r.rowCount ?? 0 };
  }

  prepare(sql: string): PostgresStatement {
    return new PostgresStatement(this, sql);
  }

  /** Statements separated by `;`, no parameters. */
  exec(sql: string): this {
    this.call({ op: 'exec', id: this.id, sql });
    return this;
  }

  /**
   * `COPY … FROM STDIN` with `text` as its data. Returns once the copy has started: the next call on
   * this connection waits for it to end, and throws its error if it failed.
   */
  copyIn(sql: string, text: string): void {
    this.call({ op: 'copy', id: this.id, sql, text });
  }

  /** Wait for a copyIn still running; throws its error if it failed. */
  sync(): void {
    this.query('SELECT 1', []);
  }

  /**
   * better-sqlite3's transaction(): a function running `fn` in a transaction, or in a savepoint when
   * one is open already. Every transaction takes the journal's write lock as it begins (WRITE_LOCK_KEY,
   * in the same round trip): `.immediate` (SQLite's BEGIN IMMEDIATE) is the same.
   */
  transaction<F extends (...a: never[]) => unknown>(fn: F): TxFn<F> {
    const wrap = () =>
      ((...args: Parameters<F>) => {
        const nested = this.depth > 0;
        const sp = `ums_sp${this.depth}`;
        if (nested) this.exec(`SAVEPOINT ${sp}`);
        else {
          try {
            this.exec(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK_KEY})`);
          } catch (err) {
            // (the lock's wait timed out): not left in an aborted transaction for every later call
            try {
              this.exec('ROLLBACK');
            } catch {
              // the connection is gone: the first error says why
            }
            throw err;
          }
        }
        this.depth++;
        let result: unknown;
        try {
          result = fn(...args);
        } catch (err) {
          this.depth--;
          try {
            if (nested) this.exec(`ROLLBACK TO SAVEPOINT ${sp}; RELEASE SAVEPOINT ${sp}`);
            else this.exec('ROLLBACK');
          } catch {
            // the connection is gone: the server rolled back; the first error says why
          }
          throw err;
        }
        this.depth--;
        if (nested) this.exec(`RELEASE SAVEPOINT ${sp}`);
        else this.exec('COMMIT');
        return result;
      }) as F;
    return Object.assign(wrap(), { deferred: wrap(), immediate: wrap(), exclusive: wrap() });
  }

  /** SQLite's settings have no meaning here: nothing is changed; a read returns nothing. */
  pragma(_source: string, options?: { simple?: boolean }): unknown {
    return options?.simple ? undefined : [];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    worker({ op: 'close', id: this.id });
  }

  private call(op: WorkerOp): Extract<WorkerResult, { ok: true }> {
    if (this.closed) throw new PostgresError('the PostgreSQL journal is closed', null);
    const r = worker(op);
    if (r.ok) return r;
    if (unreachable(r.code))
      throw FaultError.of('err.journal.postgresDown', { url: redactedUrl(this.url), why: r.message });
    if (busy(r.code))
      throw FaultError.of('err.journal.postgresBusy', { url: redactedUrl(this.url), why: r.message });
    throw new PostgresError(r.message, r.code);
  }
}

function connectError(url: string, message: string, code: string | null): Error {
  const params = { url: redactedUrl(url), why: message.split('\n')[0]! };
  return unreachable(code)
    ? FaultError.of('err.journal.postgresDown', params)
    : InputError.of('err.journal.postgres', params);
}

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can): one in a provider's report or a reply is
 * stored as U+FFFD, never a failed statement. (A CSV or template with one is refused before.)
 */
function withoutNul(v: string): string {
  return v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v;
}

/** A value as COPY's text format writes it: `\N` for NULL; backslash, tab, newline and carriage return escaped. */
export function copyValue(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  v = withoutNul(v);
  return /[\\\t\n\r]/.test(v) ? v.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : v;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
