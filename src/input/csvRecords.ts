import fs from 'node:fs';
import { parse } from 'csv-parse';
import { DecodeStream, type TextEncoding } from './decode.js';
import { openInputFile } from './readableFile.js';
import { MAX_RECORD_CHARS, RECORD_DELIMITERS } from './recipients.js';

/**
 * The records of a recipient CSV read again (the header first, then data row 1, 2, ...), pulled one
 * at a time with the stream's backpressure: for `ums export`, which pairs each row with its messages.
 * Parsed as planning's csv-parse pass parses them (the same options), so record n is data row n of
 * the plan when the file's bytes are the ones planned (the caller checks the campaign's CSV digest).
 */
export async function* csvRecords(file: string, encoding: 'auto' | TextEncoding): AsyncGenerator<string[]> {
  const { fd } = openInputFile(file, { what: 'recipient CSV', allowEmpty: true });
  const input = fs.createReadStream('', { fd, highWaterMark: 256 * 1024 });
  const parser = parse({
    bom: true,
    record_delimiter: RECORD_DELIMITERS,
    skip_empty_lines: true,
    max_record_size: MAX_RECORD_CHARS,
    relax_column_count: false,
  });
  const decoder = new DecodeStream(encoding);
  const fail = (err: Error): void => {
    parser.destroy(err);
  };
  input.on('error', fail);
  decoder.on('error', fail);
  input.pipe(decoder).pipe(parser);
  try {
    for await (const record of parser) yield record as string[];
  } finally {
    input.destroy();
    decoder.destroy();
    parser.destroy();
  }
}
