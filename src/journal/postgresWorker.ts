/**
 * The PostgreSQL journal's connection, in a worker thread (synckit): the journal's API is
 * synchronous (it was written for better-sqlite3), node-postgres is asynchronous. The main thread
 * blocks on each call (postgres.ts) while this thread runs it on its client. One thread serves every
 * PostgreSQL journal its process opens: each open() is a client of its own, named by a number.
 *
 * Errors come back as values ({ ok: false, message, code }), never thrown across the thread boundary.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { runAsWorker } from 'synckit';

// int8 (COUNT, ids) and numeric (SUM of bigint) as JavaScript numbers, as SQLite gives them; json as text
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.JSON, (v) => v);
pg.types.setTypeParser(pg.types.builtins.JSONB, (v) => v);

export type WorkerOp =
  | { op: 'open'; url: string }
  | { op: 'query'; id: number; sql: string; params: unknown[]; name?: string }
  | { op: 'exec'; id: number; sql: string }
  | { op: 'copy'; id: number; sql: string; text: string }
  | { op: 'close'; id: number };

export type WorkerResult =
  | { ok: true; id?: number; fields?: string[]; rows?: unknown[][]; rowCount?: number }
  | { ok: false; message: string; code: string | null };

/** The longest one statement may take (a report's read of a million rows takes seconds). */
const QUERY_TIMEOUT_MS = 120_000;

const clients = new Map<number, pg.Client>();
let nextId = 1;

/**
 * Clients whose connection was lost (the server shut down, the backend was terminated, the network
 * went): why, with a code that says so. node-postgres then fails every query with a message and no
 * code ("Client has encountered a connection error and is not queryable").
 */
const lost = new Map<number, { message: string; code: string }>();

/**
 * A COPY still running on a client: copy returns once it has started, so that the main thread
 * prepares the next rows while the server stores these (planning's two halves overlap, as the
 * SQLite writer thread makes them). Every later call on the client waits for it first, and fails
 * with its error if it failed.
 */
const copying = new Map<number, Promise<unknown>>();

async function client(id: number): Promise<pg.Client> {
  const pending = copying.get(id);
  if (pending) {
    copying.delete(id);
    await pending;
  }
  const c = clients.get(id);
  if (!c) throw Object.assign(new Error('the PostgreSQL connection is closed'), { code: 'ECLOSED' });
  return c;
}

async function run(op: WorkerOp): Promise<WorkerResult> {
  switch (op.op) {
    case 'open': {
      // keepAlive and a query timeout: a network that stalls (no reset, no answer) ends in an error
      // (exit 1, to be resumed), never a process waiting for ever that Ctrl-C cannot stop
      const c = new pg.Client({
        connectionString: op.url,
        connectionTimeoutMillis: 10_000,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        query_timeout: QUERY_TIMEOUT_MS,
      });
      const id = nextId++;
      // a connection lost later surfaces at the next query (lost); never an uncaught 'error' here
      c.on('error', (err: Error & { code?: unknown }) => {
        if (!lost.has(id))
          lost.set(id, {
            message: err.message,
            code: typeof err.code === 'string' ? err.code : 'ECONNRESET',
          });
      });
      c.on('end', () => {
        if (clients.has(id) && !lost.has(id))
          lost.set(id, { message: 'the server closed the connection', code: 'ECONNRESET' });
      });
      try {
        await c.connect();
        await c.query("SET TimeZone = 'UTC'");
        // a journal transaction waits this long for another's (postgres.ts's write lock), then fails
        // (exit 1, to be resumed), as SQLite's busy timeout makes a writer give up, never hanging
        await c.query("SET lock_timeout = '30s'");
      } catch (err) {
        lost.delete(id);
        await c.end().catch(() => undefined);
        throw err;
      }
      clients.set(id, c);
      return { ok: true, id };
    }
    case 'query': {
      const r = await (await client(op.id)).query({
        text: op.sql,
        values: op.params,
        rowMode: 'array',
        ...(op.name ? { name: op.name } : {}),
      });
      return {
        ok: true,
        fields: r.fields.map((f) => f.name),
        rows: r.rows as unknown[][],
        rowCount: r.rowCount ?? 0,
      };
    }
    case 'exec': {
      await (await client(op.id)).query(op.sql);
      return { ok: true };
    }
    case 'copy': {
      const stream = (await client(op.id)).query(copyFrom(op.sql));
      const done = pipeline(Readable.from([op.text]), stream);
      // never an unhandled rejection: the next call on the client awaits it and reports its error
      done.catch(() => undefined);
      copying.set(op.id, done);
      return { ok: true };
    }
    case 'close': {
      await client(op.id).catch(() => undefined);
      const c = clients.get(op.id);
      clients.delete(op.id);
      lost.delete(op.id);
      await c?.end().catch(() => undefined);
      return { ok: true };
    }
  }
}

runAsWorker(async (op: WorkerOp): Promise<WorkerResult> => {
  try {
    return await run(op);
  } catch (err) {
    const gone = op.op === 'open' ? undefined : lost.get(op.id);
    if (gone) return { ok: false, message: gone.message, code: gone.code };
    const e = err as { message?: string; code?: unknown; errors?: { code?: unknown }[] };
    // a host with several addresses fails with an AggregateError: its first cause names the reason
    const given =
      typeof e.code === 'string' ? e.code : typeof e.errors?.[0]?.code === 'string' ? e.errors[0].code : null;
    const message = String(e.message || given || err);
    // node-postgres's own timeouts (connecting, a query) have no code: they are the network's
    const code = given ?? (/timeout/i.test(message) ? 'ETIMEDOUT' : null);
    return { ok: false, message, code };
  }
});
