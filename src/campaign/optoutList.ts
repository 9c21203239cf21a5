import { parse } from 'csv-parse/sync';
import { normalisePhone } from './phone.js';
import { PHONE_COLUMNS } from './plan.js';

export interface OptoutListResult {
  phones: string[];
  invalid: { line: number; value: string; reason: string }[];
}

/**
 * Numbers from an opt-out file: a CSV with a phone column (DESIGN.md's names), or a plain
 * list with one number per line, in any common format. Pure.
 */
export function parseOptoutList(text: string): OptoutListResult {
  const records = parse(text.replace(/^\uFEFF/, ''), { relax_column_count: true, skip_empty_lines: true, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  const header = records[0]?.record.map((h) => h.trim().toLowerCase()) ?? [];
  let column = PHONE_COLUMNS.map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
  const rows = column >= 0 ? records.slice(1) : records;
  if (column < 0) column = 0;
  const phones: string[] = [];
  const invalid: OptoutListResult['invalid'] = [];
  for (const { record, info } of rows) {
    const value = (record[column] ?? '').trim();
    if (value === '' || value.startsWith('#')) continue;
    const r = normalisePhone(value);
    if (r.ok) phones.push(r.to);
    else invalid.push({ line: info.lines, value, reason: r.reason });
  }
  return { phones, invalid };
}
