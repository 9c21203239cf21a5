import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { parse } from 'csv-parse';
import { headerKey } from '../campaign/plan.js';
import { sheetRow } from '../campaign/sheetRow.js';
import { InputError, type Msg, type MsgParams } from '../errors.js';
import type { MessageKey } from '../i18n/en.js';
import { DecodeError, DecodeStream, type TextEncoding } from './decode.js';
import { checkReadableFile, openInputFile } from './readableFile.js';

const readAsync = promisify(fs.read);

/** The CSV opened again for one more pass: still a regular file (opened without waiting, checked by fstat). */
function openCsv(file: string): number {
  return openInputFile(file, { what: 'recipient CSV', allowEmpty: true }).fd;
}

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

/** SHA-256 of a file's bytes, streamed. */
export async function digestFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await forEachChunk(file, READ_CHUNK, (bytes) => hash.update(bytes));
  return hash.digest('hex');
}

/**
 * About how many rows a CSV of `size` bytes holds: its size over the length of the lines in its first
 * READ_CHUNK bytes (the rows of one file are much alike), exact when that is the whole file.
 */
export function estimateRows(file: string, size: number): number {
  const sample = Buffer.allocUnsafe(Math.min(size, READ_CHUNK));
  const fd = openCsv(file);
  let read = 0;
  try {
    while (read < sample.length) {
      const n = fs.readSync(fd, sample, read, sample.length - read, read);
      if (n === 0) break;
      read += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  let lines = 0;
  for (let at = sample.indexOf(0x0a, 0); at >= 0 && at < read; at = sample.indexOf(0x0a, at + 1)) lines++;
  if (read >= size) return lines + (read > 0 && sample[read - 1] !== 0x0a ? 1 : 0);
  return Math.ceil((size * Math.max(lines, 1)) / read);
}

/**
 * Stream a recipient CSV: memory stays flat whatever the file's size. Every problem
 * becomes an InputError naming the file, line, row and column.
 */
export async function readRecipients(
  file: string,
  encoding: 'auto' | TextEncoding,
  handlers: CsvHandlers,
): Promise<CsvResult> {
  checkReadableFile(file, 'recipient CSV');
  // Nearly every CSV is plain enough for SimpleCsvParser (several times faster than csv-parse:
  // bench/fastpaths.js). When it meets anything it is not sure of, csv-parse reads the file again
  // from the start, passing over the records already handed out, and has the last word on everything
  // after them: the records and every error are csv-parse's either way (test/unit/fastPaths.test.ts).
  const fast = new RecordSink(file, handlers, 0);
  const done = await readSimple(file, encoding, fast);
  if (done !== null) return done;
  return readWithCsvParse(file, encoding, new RecordSink(file, handlers, fast.delivered));
}

/** Hands records to the handlers: the first is the header. */
class RecordSink {
  header: string[] | null = null;
  rows = 0;
  /** records handed to the handlers so far, header included */
  delivered = 0;

  constructor(
    private readonly file: string,
    private readonly handlers: CsvHandlers,
    /** records an earlier pass already handed out: only counted this time */
    private readonly replay: number,
  ) {}

  record(record: string[]): void {
    const replaying = this.delivered < this.replay;
    this.delivered++;
    if (this.header === null) {
      this.header = record.map((h) => h.trim());
      if (replaying) return;
      checkHeader(this.header, this.file);
      this.handlers.onHeader(this.header);
    } else {
      this.rows++;
      if (replaying) return;
      this.handlers.onRow(record, this.rows);
    }
  }

  result(decoder: DecodeStream): CsvResult {
    if (this.header === null) throw InputError.of('csv.noHeader', { file: this.file });
    if (this.rows === 0) throw InputError.atKey(this.file, { line: 2 }, 'csv.noRows');
    return { rows: this.rows, encoding: decoder.encoding === 'ascii-so-far' ? 'ascii' : decoder.encoding };
  }
}

/** Bytes per read (and per decoded chunk: the encoding is detected on the first chunk with a non-ASCII byte). */
const READ_CHUNK = 256 * 1024;

/**
 * `onChunk` with each READ_CHUNK bytes of the file in turn (the last may be shorter), all in one
 * buffer that is reused: reading a large file leaves no garbage behind (a stream allocates a new
 * buffer per chunk, tens of MB of memory before the GC catches up).
 */
async function forEachChunk(file: string, size: number, onChunk: (bytes: Buffer) => void): Promise<void> {
  const fd = openCsv(file);
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (;;) {
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await readAsync(fd, buffer, filled, size - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled > 0) onChunk(buffer.subarray(0, filled));
      if (filled < size) return;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Decoded text is handed on in pieces of about this many bytes, so that each string stays below V8's
 * large-object size (128 KiB, at 2 bytes a character) and dies young with the rows parsed from it,
 * instead of piling up in the old generation until a full GC: tens of MB of a large file's plan.
 */
const DECODE_PIECE = 48 * 1024;

/**
 * DecodeStream driven by hand (its transform and flush are synchronous): the text of `bytes`
 * (null: the end of the file), in pieces. A chunk is decoded piece by piece only where that cannot
 * change a thing: after the first chunk (BOM, UTF-16), once the encoding is known or if the chunk is
 * all ASCII (the encoding is detected on the rest of the chunk with the first non-ASCII byte), with
 * no NUL in it (reported first, wherever it is), cut after a newline (a character boundary in both
 * UTF-8 and CP949: error offsets come out the same), all pieces decoded before any text is used.
 */
function decodeSync(decoder: DecodeStream, bytes: Buffer | null, first: boolean): string[] {
  let failure: Error | null | undefined = null;
  const pieces: string[] = [];
  const done = (err?: Error | null, out?: string): void => {
    failure = err;
    if (!err && out) pieces.push(out);
  };
  if (bytes === null) {
    decoder._flush(done);
  } else if (
    first ||
    bytes.length <= DECODE_PIECE ||
    (decoder.encoding === 'ascii-so-far' && !isAscii(bytes)) ||
    bytes.indexOf(0) >= 0
  ) {
    decoder._transform(bytes, 'binary', done); // the encoding argument is unused for Buffers
  } else {
    let from = 0;
    while (from < bytes.length && !failure) {
      let to = bytes.length;
      if (to - from > DECODE_PIECE) {
        const newline = bytes.lastIndexOf(0x0a, from + DECODE_PIECE - 1);
        to = newline >= from ? newline + 1 : bytes.length;
      }
      decoder._transform(bytes.subarray(from, to), 'binary', done);
      from = to;
    }
  }
  if (failure) throw failure;
  return pieces;
}

/** The whole file through SimpleCsvParser, or null as soon as the file needs csv-parse. */
async function readSimple(
  file: string,
  encoding: 'auto' | TextEncoding,
  sink: RecordSink,
): Promise<CsvResult | null> {
  const decoder = new DecodeStream(encoding);
  const parser = new SimpleCsvParser((record) => sink.record(record));
  try {
    let first = true;
    await forEachChunk(file, READ_CHUNK, (bytes) => {
      for (const text of decodeSync(decoder, bytes, first)) parser.write(text, false);
      first = false;
    });
    for (const text of decodeSync(decoder, null, false)) parser.write(text, false);
    parser.write('', true);
  } catch (err) {
    if (err === NOT_SIMPLE) return null;
    throw describeCsvError(err as Error, file, sink.header === null ? -1 : sink.rows);
  }
  return sink.result(decoder);
}

async function readWithCsvParse(
  file: string,
  encoding: 'auto' | TextEncoding,
  sink: RecordSink,
): Promise<CsvResult> {
  const decoder = new DecodeStream(encoding);
  const parser = parse({
    bom: true,
    record_delimiter: RECORD_DELIMITERS,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_CHARS,
    relax_column_count: false,
  });
  let failure: Error | null = null;
  parser.on('data', (record: string[]) => {
    if (failure) return;
    try {
      sink.record(record);
    } catch (err) {
      failure = err as Error;
      parser.destroy(failure);
    }
  });
  try {
    await pipeline(
      fs.createReadStream('', { fd: openCsv(file), highWaterMark: READ_CHUNK }),
      decoder,
      parser,
    );
  } catch (err) {
    throw describeCsvError(failure ?? (err as Error), file, sink.header === null ? -1 : sink.rows);
  }
  return sink.result(decoder);
}

/** Thrown by SimpleCsvParser where csv-parse must decide. */
const NOT_SIMPLE = new Error('not a simple CSV: csv-parse decides');

const COMMA = 0x2c;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
/**
 * A record longer than this (UTF-16 units, so at most 3 UTF-8 bytes each) goes to csv-parse,
 * which counts max_record_size in bytes and names the line.
 */
const SIMPLE_MAX_RECORD = Math.floor(MAX_RECORD_CHARS / 3) - 16;

/**
 * The CSV csv-parse reads with readRecipients' options, in its common form only: "," between
 * fields, '"' quotes with "" inside them, one kind of line ending all through the file (\n or
 * \r\n), empty lines skipped, every record as wide as the first. Where csv-parse would report an
 * error or might read the text another way (a leading BOM, a lone \r, a \n in a \r\n file or a
 * \r\n in a \n file, a quote inside a field, a short row, a huge record...) it throws NOT_SIMPLE,
 * having handed out only records csv-parse would have produced the same way: csv-parse, which
 * ends a record at any of RECORD_DELIMITERS, reads the rest. (Kept to one kind of ending on
 * purpose: the loop is the planning benchmark's hottest, and files that mix are rare.)
 */
export class SimpleCsvParser {
  private rest = '';
  /** 0: no line ending seen yet; LF; or CR for \r\n */
  private ending = 0;
  private started = false;
  private width = -1;

  constructor(private readonly onRecord: (record: string[]) => void) {}

  /** Parse what `text` completes; `end`: there is no more text. */
  write(text: string, end: boolean): void {
    const s = this.rest.length === 0 ? text : this.rest + text;
    this.rest = '';
    const n = s.length;
    if (n === 0) return;
    if (!this.started) {
      this.started = true;
      if (s.charCodeAt(0) === 0xfeff) throw NOT_SIMPLE; // csv-parse's bom option strips it
    }
    if (this.ending === 0) {
      const lf = s.indexOf('\n');
      const cr = s.indexOf('\r');
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        if (cr + 1 < n) {
          if (s.charCodeAt(cr + 1) !== LF) throw NOT_SIMPLE; // old Mac \r endings
          this.ending = CR;
        } else if (end) {
          throw NOT_SIMPLE;
        } else {
          this.rest = s; // is this \r the start of \r\n? the next text tells
          return;
        }
      } else if (lf >= 0) {
        this.ending = LF;
      }
    }
    const crlf = this.ending === CR;
    let pos = 0;
    // Where the next quote and \r are (-1: none in s): lines with neither take the fast path.
    let quote = s.indexOf('"');
    let cr = crlf ? -1 : s.indexOf('\r');
    records: while (pos < n) {
      const start = pos;
      // skip_empty_lines: a line with nothing on it is no record
      let c = s.charCodeAt(pos);
      if (c === LF) {
        if (crlf) throw NOT_SIMPLE;
        pos++;
        continue;
      }
      if (c === CR) {
        if (!crlf) throw NOT_SIMPLE;
        if (pos + 1 >= n) {
          if (end) throw NOT_SIMPLE;
          this.keep(s, start);
          return;
        }
        if (s.charCodeAt(pos + 1) !== LF) throw NOT_SIMPLE;
        pos += 2;
        continue;
      }
      // The fast path: a whole line, no quote, no stray \r; fields between commas.
      const lf = s.indexOf('\n', pos);
      if (lf >= 0) {
        if (quote >= 0 && quote < pos) quote = s.indexOf('"', pos);
        if (cr >= 0 && cr < pos) cr = s.indexOf('\r', pos);
        const stop = crlf ? lf - 1 : lf; // where the last field ends
        if ((quote < 0 || quote > lf) && (crlf ? s.indexOf('\r', pos) === stop : cr < 0 || cr > lf)) {
          const line: string[] = [];
          let i = pos;
          for (;;) {
            const comma = s.indexOf(',', i);
            if (comma < 0 || comma > stop) break;
            line.push(s.slice(i, comma));
            i = comma + 1;
          }
          line.push(s.slice(i, stop));
          this.emit(line, lf + 1 - start);
          pos = lf + 1;
          continue;
        }
      }
      const record: string[] = [];
      let i = pos;
      for (;;) {
        // one field, from i
        if (i < n && s.charCodeAt(i) === QUOTE) {
          let value = '';
          let from = i + 1;
          let j = from;
          for (;;) {
            const q = s.indexOf('"', j);
            if (q < 0 || q + 1 >= n) {
              // the closing quote, or what follows it, is in text still to come
              if (!end) {
                this.keep(s, start);
                return;
              }
              if (q < 0) throw NOT_SIMPLE; // unclosed quote
              value += s.slice(from, q);
              i = q + 1;
              break;
            }
            if (s.charCodeAt(q + 1) === QUOTE) {
              value += s.slice(from, q + 1);
              from = j = q + 2;
              continue;
            }
            value += s.slice(from, q);
            i = q + 1;
            break;
          }
          if (!lineEndingsAgree(value, crlf)) throw NOT_SIMPLE;
          record.push(value);
        } else {
          let j = i;
          while (j < n) {
            c = s.charCodeAt(j);
            if (c === COMMA || c === LF || c === CR || c === QUOTE) break;
            j++;
          }
          if (j < n && c === QUOTE) throw NOT_SIMPLE; // a quote inside a field
          record.push(s.slice(i, j));
          i = j;
        }
        // after a field: ",", the line ending, or the end of the text
        if (i >= n) {
          if (!end) {
            this.keep(s, start);
            return;
          }
          this.emit(record, i - start);
          pos = n;
          continue records;
        }
        c = s.charCodeAt(i);
        if (c === COMMA) {
          i++;
          continue;
        }
        if (c === LF) {
          if (crlf) throw NOT_SIMPLE;
          i++;
        } else if (c === CR) {
          if (!crlf) throw NOT_SIMPLE;
          if (i + 1 >= n) {
            if (end) throw NOT_SIMPLE;
            this.keep(s, start);
            return;
          }
          if (s.charCodeAt(i + 1) !== LF) throw NOT_SIMPLE;
          i += 2;
        } else {
          throw NOT_SIMPLE; // text after a closing quote
        }
        this.emit(record, i - start);
        pos = i;
        continue records;
      }
    }
  }

  private keep(s: string, from: number): void {
    if (s.length - from > SIMPLE_MAX_RECORD) throw NOT_SIMPLE;
    this.rest = s.slice(from);
  }

  private emit(record: string[], span: number): void {
    if (span > SIMPLE_MAX_RECORD) throw NOT_SIMPLE;
    if (this.width < 0) this.width = record.length;
    else if (record.length !== this.width) throw NOT_SIMPLE;
    this.onRecord(record);
  }
}

/** A quoted value's own line breaks are all of the file's kind (csv-parse keeps them as they are). */
function lineEndingsAgree(value: string, crlf: boolean): boolean {
  const cr = value.indexOf('\r');
  if (!crlf) return cr < 0;
  const lf = value.indexOf('\n');
  if (cr < 0 && lf < 0) return true;
  return value.replaceAll('\r\n', '').search(/[\r\n]/) < 0;
}

/**
 * Every record end csv-parse accepts, in this order (\r\n before \r): any of them ends a record
 * outside quotes, wherever it is, as in SimpleCsvParser. (csv-parse's default takes the first
 * one it finds and reads the others as text: a lone \n in a \r\n file merged two recipients.)
 */
export const RECORD_DELIMITERS = ['\r\n', '\n', '\r'];

function checkHeader(header: string[], file: string): void {
  const blank = header.findIndex((h) => headerKey(h) === '');
  if (blank >= 0) throw InputError.atKey(file, { line: 1, column: blank + 1 }, 'csv.blankHeader');
  const seen = new Map<string, number>();
  for (const [i, h] of header.entries()) {
    const key = headerKey(h);
    const first = seen.get(key);
    if (first !== undefined) {
      const what: Msg =
        header[first] === h
          ? { key: 'csv.headerTwice' as const, params: { name: h } }
          : { key: 'csv.headerSame' as const, params: { a: header[first]!, b: h } };
      throw InputError.atKey(file, { line: 1, column: i + 1 }, 'csv.headerRename', {
        what,
        first: first + 1,
        second: i + 1,
      });
    }
    seen.set(key, i);
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
  if (err instanceof DecodeError)
    return InputError.of('csv.decode', {
      file,
      line: err.line,
      byte: err.byteOffset,
      problem: err.msg ?? err.problem,
    });
  const e = err as CsvParseError;
  if (e.code === 'ENOENT' || e.code === 'EACCES' || e.code === 'EISDIR')
    return new InputError(`${file}: ${e.message}`);
  // csv-parse's codes start CSV_, except INVALID_OPENING_QUOTE (a quote inside an unquoted field)
  if (!e.code?.startsWith('CSV_') && e.code !== 'INVALID_OPENING_QUOTE') return err;
  // the row being read (data row rowsSoFar + 1), named as a spreadsheet shows it (header = row 1)
  const where = {
    line: e.lines,
    row: rowsSoFar >= 0 ? sheetRow(rowsSoFar + 1) : undefined,
    column: typeof e.column === 'number' ? e.column + 1 : undefined,
  };
  const text: Record<string, { key: MessageKey; params?: MsgParams }> = {
    CSV_QUOTE_NOT_CLOSED: { key: 'csv.quoteNotClosed' },
    CSV_INVALID_CLOSING_QUOTE: { key: 'csv.badClosingQuote' },
    INVALID_OPENING_QUOTE: { key: 'csv.badOpeningQuote' },
    CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: { key: 'csv.afterClosingQuote' },
    CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: { key: 'csv.fieldCount', params: fieldCounts(e.message) },
    CSV_MAX_RECORD_SIZE: { key: 'csv.recordSize', params: { max: MAX_RECORD_CHARS.toLocaleString('en-US') } },
  };
  const known = e.code ? text[e.code] : undefined;
  if (known) return InputError.atKey(file, where, known.key, known.params);
  return InputError.at(file, where, e.message.split('\n')[0]!);
}

/** `csv.fieldCount`'s parameters: ` (expected 3, got 4)` where csv-parse says so, else nothing. */
function fieldCounts(message: string): MsgParams {
  const m = /expect (\d+), got (\d+)/.exec(message);
  return { counts: m ? { key: 'csv.fieldCounts', params: { expected: m[1]!, got: m[2]! } } : '' };
}
