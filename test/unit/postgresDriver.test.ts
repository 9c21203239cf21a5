import { describe, expect, it } from 'vitest';
import { copyValue, isPostgresUrl, redactedUrl, toPositional } from '../../src/journal/postgres.js';

describe('the PostgreSQL driver, without a server', () => {
  it('tells a URL from a journal file', () => {
    expect(isPostgresUrl('postgres://ums@db/ums')).toBe(true);
    expect(isPostgresUrl('postgresql://ums@db/ums')).toBe(true);
    expect(isPostgresUrl('./.ums/journal.db')).toBe(false);
    expect(isPostgresUrl('postgres.db')).toBe(false);
  });

  it('never shows a password', () => {
    expect(redactedUrl('postgres://ums:s3cret@db:5432/ums')).toBe('postgres://ums:***@db:5432/ums');
    expect(redactedUrl('postgres://ums@db/ums')).toBe('postgres://ums@db/ums');
    expect(redactedUrl('postgres://ums:p%40ss@db/ums')).not.toContain('p%40ss');
    // libpq's query parameters carry passwords too
    const q = redactedUrl('postgres://ums@db/ums?sslmode=require&password=s3cretQS&sslpassword=k3y');
    expect(q).not.toMatch(/s3cretQS|k3y/);
    expect(q).toContain('sslmode=require');
    expect(redactedUrl('postgres://ums@db:x/ums?password=s3cretQS')).not.toContain('s3cretQS'); // not a URL Node reads
  });

  it('numbers placeholders outside strings, quoted names and comments', () => {
    expect(toPositional('SELECT ? , \'?\', "a?" -- ?\n, ? /* ? */ FROM t WHERE x = ?').sql).toBe(
      'SELECT $1 , \'?\', "a?" -- ?\n, $2 /* ? */ FROM t WHERE x = $3',
    );
    expect(toPositional("SELECT 'it''s ?', ?").sql).toBe("SELECT 'it''s ?', $1");
    expect(toPositional('SELECT CAST(x AS TEXT)::text, ?').sql).toBe('SELECT CAST(x AS TEXT)::text, $1');
    const named = toPositional('INSERT INTO c (a, b, c) VALUES (@id, @name, @id)');
    expect(named).toEqual({ sql: 'INSERT INTO c (a, b, c) VALUES ($1, $2, $1)', names: ['id', 'name'] });
    expect(toPositional("SELECT ':x' , :y").names).toEqual(['y']);
  });

  it("writes COPY's text format: NULL as \\N, backslash, tab and line ends escaped", () => {
    expect(copyValue(null)).toBe('\\N');
    expect(copyValue(12.5)).toBe('12.5');
    expect(copyValue('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
    expect(copyValue('\\N')).toBe('\\\\N');
    expect(copyValue('안녕')).toBe('안녕');
  });
});
