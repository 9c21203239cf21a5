import type { TestProject } from 'vitest/node';
import { PostgresDatabase } from '../../src/journal/postgres.js';
import { findInitdb, type PostgresServer, startPostgres } from './postgresServer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** a PostgreSQL server's admin database for the journal tests on PostgreSQL; null: none here */
    postgresUrl: string | null;
    /** what the names of this run's databases begin with (freshDatabase) */
    postgresDbPrefix: string;
  }
}

/**
 * vitest globalSetup: the PostgreSQL the tests use. UMS_TEST_PG_URL names a running server; else a
 * throwaway one is started (postgresServer.ts). In CI (CI set) a server that cannot start fails the
 * run: the PostgreSQL tests never skip there. Elsewhere, without PostgreSQL, they skip.
 */
export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const prefix = `ums_t${Date.now().toString(36)}_`;
  project.provide('postgresDbPrefix', prefix);
  const given = process.env.UMS_TEST_PG_URL;
  if (given) {
    project.provide('postgresUrl', given);
    // a server of its own: this run's databases are dropped, nothing else
    return () => {
      const admin = PostgresDatabase.open(given);
      try {
        const names = admin.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
        for (const [name] of names.rows) admin.exec(`DROP DATABASE "${String(name)}" WITH (FORCE)`);
      } finally {
        admin.close();
      }
    };
  }
  let server: PostgresServer | null = null;
  try {
    if (!process.env.CI && !findInitdb()) throw new Error('PostgreSQL is not installed');
    server = await startPostgres();
  } catch (err) {
    if (process.env.CI) throw new Error(`CI: PostgreSQL could not be started: ${(err as Error).message}`);
    project.provide('postgresUrl', null);
    return undefined;
  }
  project.provide('postgresUrl', server.url);
  return () => server?.stop();
}
