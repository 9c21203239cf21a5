import { parse } from 'csv-parse';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { InputError, located } from '../campaign/errors.js';
import { DecodeError, DecodeStream, type TextEncoding } from './decode.js';

/** A field or line longer than this is not a recipient list (and would blow the memory bound). */
export const MAX_RECORD_CHARS = 64 * 1024;

export interface CsvHandlers {
  /** Called once with the header row; may throw InputError to stop before any row. */
  onHeader(header: string[]): void;
  /** Called for each data row, in order, synchronously: backpressure is the caller's work. */
  onRow(values: string[], row: number): void;
}

export interface CsvResult {
  rows: number;
  encoding: TextEncoding | 'ascii';
}

/** Fail early with a one-line reason when `file` cannot be a CSV at all. */
export function checkReadableFile(file: string, what: string): number {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`${file}: ${code === 'ENOENT' ? `no such ${what}` : code === 'EACCES' ? 'permission denied' : (err as Error).message}`);
  }
  if (st.isDirectory()) throw new InputError(`${file}: is a directory, not a ${what}`);
  if (st.size === 0) throw new InputError(`${file}: the ${what} is empty`);
  return st.size;
}

/** SHA-256 of a file's bytes, streamed. */
export async function digestFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * Stream a recipient CSV: memory stays flat whatever the file's size. Every problem
 * becomes an InputError naming the file, line, row and column.
 */
export async function readRecipients(file: string, encoding: 'auto' | TextEncoding, handlers: CsvHandlers): Promise<CsvResult> {
  checkReadableFile(file, 'recipient CSV');
  const decoder = new DecodeStream(encoding);
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_CHARS,
    relax_column_count: false,
  });
  let header: string[] | null = null;
  let rows = 0;
  let failure: Error | null = null;
  parser.on('data', (record: string[]) => {
    if (failure) return;
    try {
      if (header === null) {
        header = record.map((h) => h.trim());
        checkHeader(header, file);
        handlers.onHeader(header);
      } else {
        rows++;
        handlers.onRow(record, rows);
      }
    } catch (err) {
      failure = err as Error;
      parser.destroy(failure);
    }
  });
  try {
    await pipeline(fs.createReadStream(file, { highWaterMark: 256 * 1024 }), decoder, parser);
  } catch (err) {
    throw describeCsvError(failure ?? (err as Error), file, header === null ? -1 : rows);
  }
  if (header === null) throw new InputError(`${file}: the recipient CSV has no header row`);
  if (rows === 0) throw new InputError(located(file, { line: 2 }, 'the recipient CSV has a header but no rows'));
  return { rows, encoding: decoder.encoding === 'ascii-so-far' ? 'ascii' : decoder.encoding };
}

function checkHeader(header: string[], file: string): void {
  const blank = header.findIndex((h) => h === '');
  if (blank >= 0) throw new InputError(located(file, { line: 1, column: blank + 1 }, 'a header column has no name'));
  const seen = new Set<string>();
  for (const [i, h] of header.entries()) {
    if (seen.has(h)) throw new InputError(located(file, { line: 1, column: i + 1 }, `column "${h}" appears twice in the header`));
    seen.add(h);
  }
}

interface CsvParseError extends Error {
  code?: string;
  lines?: number;
  records?: number;
  column?: number | string | null;
}

function describeCsvError(err: Error, file: string, rowsSoFar: number): Error {
  if (err instanceof InputError) return err;
  if (err instanceof DecodeError) return new InputError(`${file} byte ${err.byteOffset}: the file ${err.problem}`);
  const e = err as CsvParseError;
  if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR') return new InputError(`${file}: ${e.message}`);
  if (!e.code?.startsWith('CSV_')) return err;
  const row = rowsSoFar + 1;
  const where = { line: e.lines, row: rowsSoFar >= 0 ? row : undefined, column: typeof e.column === 'number' ? e.column + 1 : undefined };
  const text: Record<string, string> = {
    CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed (unbalanced ")',
    CSV_INVALID_CLOSING_QUOTE: 'a quote inside an unquoted field or after a closing quote (write "" for a literal quote)',
    CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text after a closing quote',
    CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: `the row has a different number of fields than the header${fieldCounts(e.message)}`,
    CSV_MAX_RECORD_SIZE: `a field or row is longer than ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters`,
  };
  return new InputError(located(file, where, text[e.code] ?? e.message.split('\n')[0]!));
}

function fieldCounts(message: string): string {
  const m = /expect (\d+), got (\d+)/.exec(message);
  return m ? ` (expected ${m[1]}, got ${m[2]})` : '';
}
