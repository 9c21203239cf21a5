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
  /**
   * The header's columns beyond the phone column and those an opt-out list carries (when, why, from
   * where: optoutColumn): a recipients list's name, item, amount... Set by the first record.
   */
  otherColumns: string[] = [];

  /** One record (its fields, the file line it ends on): a number, an invalid line, or nothing. */
  record(
    fields: string[],
    line: number,
  ): { phone: string } | { invalid: { line: number; value: string; reason: string } } | null {
    if (this.column === null) {
      const header = fields.map((h) => h.trim().toLowerCase());
      const found = PHONE_COLUMNS.map((n) => header.indexOf(n)).find((i) => i >= 0) ?? -1;
      this.column = Math.max(found, 0);
      if (found >= 0) {
        this.otherColumns = fields.filter((h, i) => i !== found && !optoutColumn(h)).map((h) => h.trim());
        return null;
      }
    }
    const value = (fields[this.column] ?? '').trim();
    if (value === '' || value.startsWith('#')) return null;
    const r = normalisePhone(value);
    return r.ok ? { phone: r.to } : { invalid: { line, value, reason: r.reason } };
  }
}

/** English header words an opt-out list's other columns are made of (`created_at`, `optout_date`, `reason`). */
const OPTOUT_WORDS =
  /^(?:opt|optout|opted|out|unsubscribe|unsubscribed|unsub|created|added|updated|received|requested|date|time|datetime|timestamp|at|on|reason|source|via|memo|note|notes|comment|comments|remark|remarks|no|seq)+$/;
/** Korean ones: 수신거부일시, 등록일자, 거부사유, 메모, 비고, 출처... */
const OPTOUT_KO = /일시|날짜|일자|시간|시각|등록일|거부일|사유|메모|비고|출처|경로|순번/;

/** Whether a header cell is one an opt-out list carries besides the number (or empty, or another phone column). */
export function optoutColumn(header: string): boolean {
  const key = header.trim().toLowerCase();
  if (key === '' || PHONE_COLUMNS.includes(key)) return true;
  return OPTOUT_WORDS.test(key.replace(/[\s_\-./()#]/g, '')) || OPTOUT_KO.test(key);
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
