import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { PrivateSink } from '../input/privateFile.js';
import type { CampaignRecord } from '../journal/journal.js';
import {
  EXPORT_COLUMNS,
  type ExportColumn,
  type ExportSource,
  type ExportSummary,
  exportRecord,
  wallClock,
} from './exportRows.js';

/** Columns written as number cells; every other text (`to`, ids, the CSV's own values) is a text cell. */
const NUMBER_COLUMNS = new Set<ExportColumn>([
  'row',
  'parts',
  'bytes',
  'attempts',
  'cost',
  'sheet_row',
  'leg',
]);
const TIME_COLUMNS = new Set<ExportColumn>(['sent_at', 'done_at']);
const DATE_STYLE: Partial<ExcelJS.Style> = Object.freeze({ numFmt: 'yyyy-mm-dd hh:mm:ss' });
const PLAIN_STYLE: Partial<ExcelJS.Style> = Object.freeze({});

/** Data rows per sheet: Excel's 1,048,576 rows, less the header; more go on to `messages 2`, ... */
export const MAX_SHEET_ROWS = 1_048_575;

/** Rows between checks of the output's backpressure. */
const ROWS_PER_TURN = 500;

/**
 * The campaign as an xlsx workbook, streamed (exceljs's WorkbookWriter: memory does not grow with the
 * campaign): a `summary` sheet (recipients reached, messages by status and by channel, cost) and a
 * `messages` sheet with the export's columns (continued on `messages 2`, ... past Excel's row limit). `to` and every CSV value are text cells (a leading 0
 * stays), times date cells showing the wall-clock time in `zone`.
 */
export async function writeXlsx(
  sink: PrivateSink,
  campaign: CampaignRecord,
  source: ExportSource,
  summary: ExportSummary,
  zone: string,
): Promise<void> {
  const excel = createRequire(import.meta.url)('exceljs') as typeof ExcelJS;
  let failed: Error | null = null;
  const out = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, done) {
      sink.write(chunk).then(
        () => done(),
        (err: Error) => {
          failed ??= err;
          done(err);
        },
      );
    },
  });
  // A failed write (a full disk) ends the export: the rows loop checks `failed`, and the workbook's
  // last steps race this (exceljs listens for the stream's errors only once it finalises)
  const broken = new Promise<never>((_, reject) => out.once('error', reject));
  broken.catch(() => undefined);
  const book = new excel.stream.xlsx.WorkbookWriter({
    stream: out,
    useStyles: true,
    useSharedStrings: false,
  });
  book.creator = 'ums';

  const sum = book.addWorksheet('summary');
  sum.columns = [{ width: 24 }, { width: 14 }, { width: 14 }];
  const line = (...values: (string | number)[]): void => sum.addRow(values).commit();
  line('campaign', campaign.id);
  line('time zone', zone);
  line('recipients', summary.recipients);
  line('reached', summary.reached);
  line('reached N of M', `${summary.reached} / ${summary.recipients}`);
  line('cost (estimated, KRW)', summary.costEstimated);
  line('cost (actual, KRW)', summary.cost);
  line('');
  line('status', 'messages');
  for (const s of summary.byStatus) line(s.status, s.count);
  line('');
  line('channel', 'status', 'messages');
  for (const c of summary.byChannel) line(c.channel, c.status, c.count);
  sum.commit();

  const names = [...EXPORT_COLUMNS, ...source.customerColumns];
  let sheets = 0;
  const newSheet = (): ExcelJS.Worksheet => {
    const ws = book.addWorksheet(++sheets === 1 ? 'messages' : `messages ${sheets}`, {
      views: [{ state: 'frozen', ySplit: 1 }],
    });
    ws.columns = names.map((n) => ({
      width: TIME_COLUMNS.has(n as ExportColumn) ? 20 : n === 'text' ? 40 : Math.max(10, n.length + 2),
    }));
    ws.addRow(names).commit();
    return ws;
  };
  let sheet = newSheet();
  let inSheet = 0;
  let n = 0;
  for await (const r of source.rows()) {
    if (failed) throw failed;
    if (inSheet === MAX_SHEET_ROWS) {
      sheet.commit();
      sheet = newSheet();
      inSheet = 0;
    }
    inSheet++;
    const rec = exportRecord(r.message, false, { reached: r.reached });
    const values: (string | number | boolean | Date | null)[] = EXPORT_COLUMNS.map((c) => {
      const v = rec[c];
      if (v === null) return null;
      if (TIME_COLUMNS.has(c)) return wallClock(String(v), zone);
      if (NUMBER_COLUMNS.has(c)) return typeof v === 'number' ? v : Number(v);
      return typeof v === 'boolean' ? v : String(v);
    });
    if (r.customer) values.push(...r.customer);
    const row = sheet.addRow(values);
    // one shared style object per kind: exceljs looks a style up by its object (a WeakMap) before
    // serialising it, and a fresh object per cell made that two thirds of the export's time
    row.eachCell((cell) => {
      cell.style = cell.value instanceof Date ? DATE_STYLE : PLAIN_STYLE;
    });
    row.commit();
    if (++n % ROWS_PER_TURN === 0) {
      // let the zip stream drain into the file before more rows pile up in memory
      await new Promise((resolve) => setImmediate(resolve));
      while (out.writableNeedDrain && !failed)
        await new Promise((resolve) => {
          out.once('drain', resolve);
          out.once('error', resolve);
        });
    }
  }
  sheet.commit();
  await Promise.race([book.commit(), broken]);
  if (failed) throw failed;
}
