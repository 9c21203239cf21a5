import path from 'node:path';
import { sheetRow } from '../campaign/sheetRow.js';
import { csvRecords } from '../input/csvRecords.js';
import { digestFile } from '../input/recipients.js';
import type { CampaignRecord, Journal, MessageRecord } from '../journal/journal.js';
import { isoInZone, offsetMinutes } from '../time/zone.js';

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
  'sheet_row',
  'leg',
  'reached',
  'text',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];
export type ExportValue = string | number | boolean | null;

/** What a record needs beyond its message: see exportRecord. */
export interface RecordContext {
  /** some leg of this recipient's row was delivered (a delivered fallback counts) */
  reached: boolean;
  /** IANA zone the times are written in (ISO 8601 with its offset); none: as stored (UTC) */
  zone?: string;
}

/** The spreadsheet row of data row `row` (src/campaign/sheetRow.ts: the one definition, human output uses it too). */
export { sheetRow };

/**
 * A journal message as an export row (DESIGN.md's columns). For CSV, text a spreadsheet would
 * run as a formula (=, +, -, @, tab, CR first) is prefixed with ' so opening the file runs nothing.
 */
export function exportRecord(
  m: MessageRecord,
  forSpreadsheet: boolean,
  ctx: RecordContext = { reached: m.status === 'delivered' },
): Record<ExportColumn, ExportValue> {
  const text = (s: string | null): string | null => (s !== null && forSpreadsheet ? neutraliseFormula(s) : s);
  const time = (t: string | null): string | null => (t !== null && ctx.zone ? isoInZone(t, ctx.zone) : t);
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
    sent_at: time(m.sentAt),
    done_at: time(m.doneAt),
    sheet_row: sheetRow(m.row),
    leg: m.leg,
    reached: ctx.reached,
    text: text(m.body),
  };
}

export function neutraliseFormula(s: string): string {
  return /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
}

// ---- times in a zone ----

/**
 * A Date whose UTC fields are the wall-clock time in `zone`: what a spreadsheet date cell (which has
 * no zone) must hold to show the zone's time.
 */
export function wallClock(iso: string, zone: string): Date | null {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  return new Date(ms + offsetMinutes(ms, zone) * 60_000);
}

// ---- the rows of a campaign, with the recipient CSV's own columns ----

export interface ExportRow {
  message: MessageRecord;
  reached: boolean;
  /** the CSV row's values, in `customerColumns` order; null when the CSV could not be read again */
  customer: string[] | null;
}

export interface ExportSource {
  /** the recipient CSV's own column names, as written (a name equal to one of ours gets `csv_` before it) */
  customerColumns: string[];
  /** why the CSV's own columns are missing (the file moved or changed since planning); null when they are there */
  missing: string | null;
  rows(): AsyncGenerator<ExportRow>;
}

/**
 * The campaign's messages in row order (each leg a row), each with whether its recipient was reached
 * and the recipient CSV's own values for that row. Those are read again from the CSV the campaign was
 * planned from, streamed beside the journal, once its bytes are checked against the digest stored at
 * planning: the journal does not keep them (storing them would slow planning; see README).
 */
export async function openExport(
  journal: Journal,
  campaign: CampaignRecord,
  cwd: string,
): Promise<ExportSource> {
  const s = campaign.settings;
  const csvFile = typeof s.csvFile === 'string' ? s.csvFile : path.resolve(cwd, campaign.csvPath);
  const wanted = s.identity?.csv;
  let missing: string | null = null;
  let records: AsyncGenerator<string[]> | null = null;
  let header: string[] = [];
  if (!wanted) missing = `${campaign.csvPath}: planned by an older ums, which kept no digest of the CSV`;
  else {
    let digest: string | null = null;
    try {
      digest = await digestFile(csvFile);
    } catch {
      missing = `${campaign.csvPath}: cannot be read any more`;
    }
    if (digest !== null && digest !== wanted)
      missing = `${campaign.csvPath}: changed since the campaign was planned`;
    if (missing === null) {
      const read =
        s.detectedEncoding === 'cp949' ? 'cp949' : s.detectedEncoding ? 'utf8' : (s.encoding ?? 'auto');
      records = csvRecords(csvFile, read);
      const first = await records.next();
      header = first.done ? [] : first.value.map((h) => h.trim());
    }
  }
  const ours = new Set<string>(EXPORT_COLUMNS);
  const customerColumns = header.map((h) => (ours.has(h) ? `csv_${h}` : h));
  async function* rows(): AsyncGenerator<ExportRow> {
    let at = 0; // data rows read from the CSV so far
    let values: string[] | null = null;
    const customerOf = async (row: number): Promise<string[] | null> => {
      if (!records) return null;
      while (at < row) {
        const next = await records.next();
        if (next.done) {
          records = null;
          return null;
        }
        values = next.value;
        at++;
      }
      return at === row ? values : null;
    };
    let group: MessageRecord[] = [];
    try {
      for (const m of journal.messages(campaign.id)) {
        if (group.length && group[0]!.row !== m.row) {
          const customer = await customerOf(group[0]!.row);
          const reached = group.some((g) => g.status === 'delivered');
          for (const g of group) yield { message: g, reached, customer };
          group = [];
        }
        group.push(m);
      }
      if (group.length) {
        const customer = await customerOf(group[0]!.row);
        const reached = group.some((g) => g.status === 'delivered');
        for (const g of group) yield { message: g, reached, customer };
      }
    } finally {
      await records?.return(undefined);
    }
  }
  return { customerColumns, missing, rows };
}

// ---- the summary (the workbook's summary sheet) ----

export interface ExportSummary {
  recipients: number;
  reached: number;
  /** messages by status, then by channel and status (each leg counts) */
  byStatus: { status: string; count: number }[];
  byChannel: { channel: string; status: string; count: number }[];
  costEstimated: number;
  cost: number;
}

/** Counts over every message of the campaign (one pass over the journal, nothing kept per row). */
export function exportSummary(journal: Journal, campaign: CampaignRecord): ExportSummary {
  const counts = journal.statusCounts(campaign.id);
  const byStatus = new Map<string, number>();
  for (const c of counts) byStatus.set(c.status, (byStatus.get(c.status) ?? 0) + c.count);
  let recipients = 0;
  let reached = 0;
  let row = -1;
  let rowReached = false;
  for (const m of journal.messages(campaign.id)) {
    if (m.row !== row) {
      if (rowReached) reached++;
      recipients++;
      row = m.row;
      rowReached = false;
    }
    if (m.status === 'delivered') rowReached = true;
  }
  if (rowReached) reached++;
  return {
    recipients,
    reached,
    byStatus: [...byStatus].map(([status, count]) => ({ status, count })),
    byChannel: counts.map((c) => ({ channel: c.channel ?? '(none)', status: c.status, count: c.count })),
    costEstimated: counts.reduce((a, c) => a + c.costEst, 0),
    cost: counts.reduce((a, c) => a + c.cost, 0),
  };
}
