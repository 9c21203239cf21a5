import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { PostgresDatabase } from '../../src/journal/postgres.js';

/**
 * A throwaway PostgreSQL for a test run (Debian's server binaries): a cluster in a temporary
 * folder, trust authentication for user `ums`, on a free port of 127.0.0.1, no fsync.
 */
export interface PostgresServer {
  /** the server's `postgres` database, as user ums */
  url: string;
  stop(): void;
}

/** The newest installed server's initdb, or null. */
export function findInitdb(): string | null {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin', 'initdb') : null;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * `password`: connections over TCP must give it (SCRAM), as user ums; else every connection is trusted.
 */
export async function startPostgres(options: { password?: string } = {}): Promise<PostgresServer> {
  const initdb = findInitdb();
  if (!initdb) throw new Error('no PostgreSQL server installed (/usr/lib/postgresql/*/bin/initdb)');
  const bin = path.dirname(initdb);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-pg-'));
  const data = path.join(dir, 'data');
  // the server refuses to run as root: as the postgres user, which must own the folder
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const auth = ['--auth=trust'];
  if (options.password) {
    const pwfile = path.join(dir, 'pw');
    fs.writeFileSync(pwfile, `${options.password}\n`, { mode: 0o644 });
    auth.splice(0, 1, '--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pwfile}`);
  }
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'ums', ...auth, '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const pgCtl = path.join(bin, 'pg_ctl');
  run(pgCtl, [
    '-D',
    data,
    '-l',
    path.join(dir, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
    'start',
  ]);
  return {
    url: `postgres://ums${options.password ? `:${encodeURIComponent(options.password)}` : ''}@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

let created = 0;

/** A new, empty database on the server at `url` (its admin database), named `prefix`…: its URL. */
export function freshDatabase(url: string, prefix = 'ums_t'): string {
  const name = `${prefix}${process.pid}_${Date.now().toString(36)}_${++created}`;
  const admin = PostgresDatabase.open(url);
  try {
    admin.exec(`CREATE DATABASE ${name}`);
  } finally {
    admin.close();
  }
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Whether tests against PostgreSQL run: always in CI (where a server that cannot start fails them), elsewhere when one is installed. */
export const withPostgres = Boolean(process.env.CI || findInitdb());

/**
 * For the tests of one describe: a throwaway server, started before the first and stopped after the
 * last. `journal()` is a new database on it (its URL), one per test.
 */
export function usePostgres(): { journal: () => string } {
  let server: PostgresServer | undefined;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.stop());
  return {
    journal: () => {
      if (!server) throw new Error('the PostgreSQL server did not start');
      return freshDatabase(server.url);
    },
  };
}
