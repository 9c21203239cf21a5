import { parse } from 'csv-parse/sync';
import { normalisePhone } from './phone.js';
import { PHONE_COLUMNS } from './plan.js';

export interface OptoutListResult {
  phones: string[];
  invalid: { line: number; value: string; reason: string }[];
}

/**
 * Numbers from an opt-out file, record by record (so a file of any size streams): a CSV with a
 * phone column (DESIGN.md's names), or a plain list with one number per line, in any common
 * format. The first record decides which. Pure.
 */
export class OptoutListReader {
  private column: number | null = null;

  /** One record (its fields, the file line it ends on): a number, an invalid line, or nothing. */
  record(
    fields: string[],
    line: number,
  ): { phone: string } | { invalid: { line: number; value: string; reason: string } } | null {
    if (this.column === null) {
      const header = fields.map((h) => h.trim().toLowerCase());
      const found = PHONE_COLUMNS.map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
      this.column = Math.max(found, 0);
      if (found >= 0) return null;
    }
    const value = (fields[this.column] ?? '').trim();
    if (value === '' || value.startsWith('#')) return null;
    const r = normalisePhone(value);
    return r.ok ? { phone: r.to } : { invalid: { line, value, reason: r.reason } };
  }
}

/** A whole opt-out list held as text (small lists and tests): see OptoutListReader. */
export function parseOptoutList(text: string): OptoutListResult {
  const records = parse(text.replace(/^\uFEFF/, ''), {
    relax_column_count: true,
    skip_empty_lines: true,
    info: true,
  }) as unknown as { record: string[]; info: { lines: number } }[];
  const reader = new OptoutListReader();
  const phones: string[] = [];
  const invalid: OptoutListResult['invalid'] = [];
  for (const { record, info } of records) {
    const r = reader.record(record, info.lines);
    if (r && 'phone' in r) phones.push(r.phone);
    else if (r) invalid.push(r.invalid);
  }
  return { phones, invalid };
}
