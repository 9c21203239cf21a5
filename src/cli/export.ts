import path from 'node:path';
import type { Command } from 'commander';
import {
  EXPORT_COLUMNS,
  exportRecord,
  exportSummary,
  neutraliseFormula,
  openExport,
} from '../app/exportRows.js';
import { writeXlsx } from '../app/exportXlsx.js';
import { InputError } from '../errors.js';
import { t } from '../i18n/index.js';
import { removeTempFiles, writePrivateFile } from '../input/privateFile.js';
import { iconvLite } from '../text/cp949.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';

interface ExportOptions extends CommonOptions {
  format?: string;
  encoding: string;
  excelText?: boolean;
  output?: string;
}

/** A value Excel would turn into a number and so lose: a leading 0, or more than 15 digits. */
const EXCEL_NUMBER_LOSS = /^(0\d+|\d{16,})$/;

export function registerExport(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('export')
    .description('one row per recipient (and fallback leg), full phone numbers')
    .argument('<campaign>', 'campaign id (see `ums campaigns`)')
    .option(
      '--format <fmt>',
      'csv (UTF-8 with BOM, for Excel), json or xlsx (default: xlsx for -o *.xlsx, else csv)',
    )
    .option('--encoding <enc>', 'CSV only: utf8 (with BOM) or cp949 (older Korean Excel)', 'utf8')
    .option(
      '--excel-text',
      'CSV only: write numbers with a leading 0 (phone numbers) as ="010..." so Excel keeps the 0',
    )
    .option('-o, --output <file>', 'write here (created 0600) instead of stdout')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (id: string, opts: ExportOptions) => {
      if (opts.output !== undefined && opts.output.trim() === '')
        throw InputError.of('err.export.emptyOutput');
      const format =
        opts.format ?? (opts.output && path.extname(opts.output).toLowerCase() === '.xlsx' ? 'xlsx' : 'csv');
      if (format !== 'csv' && format !== 'json' && format !== 'xlsx')
        throw InputError.of('err.export.format', { value: format });
      if (opts.encoding !== 'utf8' && opts.encoding !== 'cp949')
        throw InputError.of('err.export.encoding', { value: opts.encoding });
      if (format !== 'csv' && opts.encoding !== 'utf8')
        throw InputError.of('err.export.encodingNotCsv', { value: opts.encoding, format });
      if (format !== 'csv' && opts.excelText) throw InputError.of('err.export.excelText', { format });
      if (format === 'xlsx' && !opts.output) throw InputError.of('err.export.xlsxStdout');
      const config = openConfig(cli, opts);
      const zone = config.timezone;
      const journal = openJournal(cli, config, opts);
      try {
        const campaign = journal.findCampaign(id);
        if (!campaign || campaign.state === 'planning') throw InputError.of('err.noCampaign', { id });
        const source = await openExport(journal, campaign, cli.cwd);
        if (source.missing) cli.err(`ums: ${t('export.noOwnColumns', { file: source.missing })}`);
        const summary = format === 'xlsx' ? exportSummary(journal, campaign) : null;
        let lost = 0;
        let firstLost = '';
        // streamed: to stdout with its backpressure, or to -o through the private-file writer
        const produce = async (write: (s: string | Buffer) => Promise<void>): Promise<void> => {
          if (format === 'xlsx') {
            await writeXlsx({ write }, campaign, source, summary!, zone);
          } else if (format === 'csv') {
            const { stringify } = await import('csv-stringify/sync');
            const cp949 = opts.encoding === 'cp949';
            const iconv = cp949 ? iconvLite() : null;
            const columns = [...EXPORT_COLUMNS, ...source.customerColumns];
            const excel = (v: string | null): string | null =>
              opts.excelText && v !== null && EXCEL_NUMBER_LOSS.test(v) ? `="${v}"` : v;
            const emit = async (rows: unknown[][]): Promise<void> => {
              const text = stringify(rows);
              if (!iconv) return write(text);
              const bytes = iconv.encode(text, 'cp949');
              if (countQuestionMarks(bytes) !== countQuestionMarks(text)) {
                // characters CP949 has no code for became "?": count them by field, name the first
                for (const r of rows)
                  for (const [i, v] of r.entries()) {
                    const s = typeof v === 'string' ? v : '';
                    if (s && countQuestionMarks(iconv.encode(s, 'cp949')) !== countQuestionMarks(s)) {
                      lost++;
                      firstLost ||= `sheet row ${r[EXPORT_COLUMNS.indexOf('sheet_row')]}, column ${columns[i]}`;
                    }
                  }
              }
              return write(bytes);
            };
            if (!cp949) await write('\uFEFF'); // Excel reads a UTF-8 CSV as UTF-8 only with it
            await emit([columns]);
            let batch: unknown[][] = [];
            for await (const r of source.rows()) {
              const rec = exportRecord(r.message, true, { reached: r.reached, zone });
              const values: unknown[] = EXPORT_COLUMNS.map((c) => {
                const v = rec[c];
                if (c === 'to' || c === 'provider_id') return excel(v as string | null);
                return typeof v === 'boolean' ? String(v) : v;
              });
              if (r.customer) for (const v of r.customer) values.push(excel(neutraliseFormula(v)));
              batch.push(values);
              if (batch.length === 1000) {
                await emit(batch);
                batch = [];
              }
            }
            if (batch.length) await emit(batch);
          } else {
            let text = '[';
            let first = true;
            for await (const r of source.rows()) {
              const rec: Record<string, unknown> = exportRecord(r.message, false, {
                reached: r.reached,
                zone,
              });
              if (r.customer)
                for (const [i, name] of source.customerColumns.entries()) rec[name] = r.customer[i];
              text += (first ? '\n' : ',\n') + JSON.stringify(rec);
              first = false;
              if (text.length >= 64 * 1024) {
                await write(text);
                text = '';
              }
            }
            await write(`${text}\n]\n`);
          }
        };
        if (opts.output) {
          const stop = (signal: NodeJS.Signals): void => {
            removeTempFiles();
            cli.err(`ums: ${t('export.stopped', { signal, file: String(opts.output) })}`);
            process.exit(EXIT.fault);
          };
          // SIGHUP too (the terminal or the ssh session closed), unless no terminal is attached: under
          // nohup (which redirects all three) the hangup is ignored and the export carries on
          const attached = Boolean(process.stdin.isTTY || process.stdout.isTTY || process.stderr.isTTY);
          const signals: NodeJS.Signals[] = attached
            ? ['SIGINT', 'SIGTERM', 'SIGHUP']
            : ['SIGINT', 'SIGTERM'];
          for (const s of signals) process.once(s, stop);
          try {
            await writePrivateFile(path.resolve(cli.cwd, opts.output), `-o ${opts.output}`, (sink) =>
              produce((s) => sink.write(s)),
            );
          } finally {
            for (const s of signals) process.off(s, stop);
          }
        } else {
          await produce(cli.write);
        }
        if (lost)
          cli.err(
            `ums: ${t(lost === 1 ? 'export.cp949Lost1' : 'export.cp949Lost', { n: lost, first: String(firstLost) })}`,
          );
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}

function countQuestionMarks(s: string | Buffer): number {
  let n = 0;
  if (typeof s === 'string') {
    for (let at = s.indexOf('?'); at >= 0; at = s.indexOf('?', at + 1)) n++;
  } else {
    for (let at = s.indexOf(0x3f); at >= 0; at = s.indexOf(0x3f, at + 1)) n++;
  }
  return n;
}
