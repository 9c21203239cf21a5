import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { OptoutListReader } from '../campaign/optoutList.js';
import { InputError } from '../errors.js';
import { DecodeError, DecodeStream } from './decode.js';
import { openInputFile } from './readableFile.js';

export interface OptoutFileResult {
  /** valid numbers read (duplicates included) */
  numbers: number;
  /** invalid lines: the count, and the first few */
  invalidCount: number;
  invalid: { line: number; value: string; reason: string }[];
}

const BATCH = 10_000;
const KEEP_INVALID = 10;

/**
 * Stream an opt-out list (a regular file, a FIFO, or `-` for stdin) of any size: numbers are handed
 * to `onBatch` in batches as they are read, whenever a batch is full or the input has nothing more
 * for now (so a slow pipe's numbers are stored before its end). UTF-8 or CP949, strictly decoded.
 */
export interface OptoutFileChecks {
  /** import even a file that looks like a recipients list (`--yes`) */
  force?: boolean;
  /** the campaign whose recipients CSV has this SHA-256 (settings.identity.csv), if any */
  campaignOfCsv?: (sha256: string) => string | undefined;
}

/**
 * Unless `checks.force`: refuse (InputError, before a number is stored) a file that is a recipients
 * list rather than an opt-out list: a campaign's own CSV (a regular file: its bytes hashed first), or
 * a header with columns an opt-out list has no use for (name, item...). Importing one would opt every
 * customer out.
 */
export async function readOptoutFile(
  file: string,
  onBatch: (phones: string[]) => void,
  checks: OptoutFileChecks = {},
): Promise<OptoutFileResult> {
  const { fd, pipe } = openInputFile(file, { what: 'opt-out list', allowPipe: true, allowEmpty: true });
  if (!checks.force && !pipe && fd !== 0 && checks.campaignOfCsv) {
    const campaign = checks.campaignOfCsv(sha256OfFd(fd));
    if (campaign !== undefined) {
      fs.closeSync(fd);
      throw InputError.of('err.optoutFile.campaignCsv', { file, campaign });
    }
  }
  const source = fd === 0 ? process.stdin : fs.createReadStream('', { fd, highWaterMark: 64 * 1024 });
  const decoder = new DecodeStream('auto');
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
    max_record_size: 64 * 1024,
  });
  const reader = new OptoutListReader();
  const result: OptoutFileResult = { numbers: 0, invalidCount: 0, invalid: [] };
  let batch: string[] = [];
  const flush = (): void => {
    if (!batch.length) return;
    onBatch(batch);
    batch = [];
  };
  let failure: unknown = null;
  let headerChecked = false;
  const fail = (err: unknown): void => {
    failure ??= err;
    parser.destroy();
  };
  source.on('error', fail);
  decoder.on('error', fail);
  source.pipe(decoder).pipe(parser);
  try {
    for await (const { record, info } of parser as Readable &
      AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const r = reader.record(record, info.lines);
      if (!headerChecked) {
        headerChecked = true; // the first record: a header, if the file has one
        if (!checks.force && reader.otherColumns.length > 0)
          throw InputError.of('err.optoutFile.recipientsColumns', {
            file,
            columns: reader.otherColumns
              .slice(0, 4)
              .map((c) => `"${c.slice(0, 30)}"`)
              .join(', '),
          });
      }
      if (r && 'phone' in r) {
        batch.push(r.phone);
        result.numbers++;
      } else if (r) {
        result.invalidCount++;
        if (result.invalid.length < KEEP_INVALID) result.invalid.push(r.invalid);
      }
      if (batch.length >= BATCH || parser.readableLength === 0) flush();
    }
  } catch (err) {
    failure ??= err;
  } finally {
    if (fd !== 0) (source as fs.ReadStream).destroy();
  }
  if (failure) {
    const err = failure as Error & { code?: string; lines?: number };
    if (err instanceof InputError) throw err;
    if (err instanceof DecodeError)
      throw InputError.atKey(file, { line: err.line }, 'err.optoutFile.decode', {
        problem: err.msg
          ? {
              ...err.msg,
              ...(err.msg.key === 'decode.notUtf8' ? { key: 'decode.notUtf8Plain' as const } : {}),
              en: err.problem.replace(/ \(pass --encoding[^)]*\)/, ''),
            }
          : err.problem.replace(/ \(pass --encoding[^)]*\)/, ''),
      });
    if (err.code === 'CSV_MAX_RECORD_SIZE') throw InputError.of('err.optoutFile.longLine', { file });
    throw new InputError(`${file}: ${err.message.split('\n')[0]!.replace(/^\w+:\s*/, '')}`);
  }
  flush();
  return result;
}

/** SHA-256 of a regular file's bytes, by positional reads (the fd's own position stays at 0). */
function sha256OfFd(fd: number): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (let pos = 0; ; ) {
    const n = fs.readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    pos += n;
  }
  return hash.digest('hex');
}
