import type { MessageRecord } from '../journal/journal.js';
import { DEFAULT_TIME_ZONE, isoInZone } from '../time/zone.js';

export const EXPORT_COLUMNS = [
  'row',
  'to',
  'channel',
  'status',
  'reason',
  'parts',
  'bytes',
  'provider',
  'provider_id',
  'attempts',
  'cost',
  'sent_at',
  'done_at',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

/**
 * A journal message as an export row (DESIGN.md's columns). For CSV, text a spreadsheet would
 * run as a formula (=, +, -, @, tab, CR first) is prefixed with ' so opening the file runs nothing.
 */
export function exportRecord(
  m: MessageRecord,
  forSpreadsheet: boolean,
  timeZone: string = DEFAULT_TIME_ZONE,
): Record<ExportColumn, string | number | null> {
  const text = (s: string | null): string | null => (s !== null && forSpreadsheet ? neutraliseFormula(s) : s);
  return {
    row: m.row,
    to: m.to,
    channel: m.channel,
    status: m.status,
    reason: text(m.reason),
    parts: m.parts,
    bytes: m.bytes,
    provider: text(m.provider),
    provider_id: text(m.providerId),
    attempts: m.attempts,
    cost: m.cost,
    sent_at: isoInZone(m.sentAt, timeZone),
    done_at: isoInZone(m.doneAt, timeZone),
  };
}

export function neutraliseFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}
