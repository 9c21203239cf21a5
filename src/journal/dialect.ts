import type Database from 'better-sqlite3';
import { PostgresDatabase } from './postgres.js';

/** Which database a journal is: the statements that cannot be written alike pick their text by it. */
export type Dialect = 'sqlite' | 'postgres';

/** A journal connection: better-sqlite3's, or PostgresDatabase offering the same calls (postgres.ts). */
export function dialectOf(db: Database.Database): Dialect {
  return (db as unknown) instanceof PostgresDatabase ? 'postgres' : 'sqlite';
}

/** `sqlite` on SQLite, `postgres` on PostgreSQL. */
export function pick(dialect: Dialect, sqlite: string, postgres: string): string {
  return dialect === 'postgres' ? postgres : sqlite;
}
