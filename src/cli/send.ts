import type { Command } from 'commander';
import { sheetRowOf } from '../app/campaignIdentity.js';
import { maskPhoneCell, normalisePhone } from '../campaign/phone.js';
import { InputError } from '../errors.js';
import { t } from '../i18n/index.js';
import type { CampaignRecord } from '../journal/journal.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';
import type { DeliverOptions } from './deliver.js';

interface SendOptions extends CommonOptions {
  template: string;
  campaign?: string;
  provider?: string;
  tps?: string;
  dryRun?: boolean;
  encoding: string;
  limit?: string;
  json?: boolean;
  yes?: boolean;
  phoneColumn?: string;
  test?: string;
  rows?: string;
}

/** `--test 010-1234-5678,010-…`: mobile (or international) numbers, digits as sent. */
export function parseTestPhones(v: string): string[] {
  const out: string[] = [];
  for (const raw of v.split(',')) {
    const p = normalisePhone(raw.trim());
    if (!p.ok || p.kind === 'landline')
      throw InputError.of('test.badPhone', { value: maskPhoneCell(raw.trim().slice(0, 40)) });
    if (!out.includes(p.to)) out.push(p.to);
  }
  return out;
}

/** `--rows 2,5`: spreadsheet rows (the header is row 1); default: the first data row. */
export function parseSheetRows(v: string | undefined): number[] {
  if (v === undefined) return [2];
  const out: number[] = [];
  for (const raw of v.split(',')) {
    const r = raw.trim();
    const n = /^\d{1,9}$/.test(r) ? Number(r) : NaN;
    if (n === 1) throw InputError.of('test.rowIsHeader');
    if (!Number.isSafeInteger(n) || n < 2) throw InputError.of('test.badRow', { value: r.slice(0, 20) });
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

export function registerSend(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('send')
    .description('plan a campaign from a recipient CSV and a template, then send it')
    .argument('<recipients.csv>', 'recipient list: a header row, one recipient per row')
    .requiredOption('-t, --template <file>', 'message template (YAML front matter + body)')
    .option('--campaign <id>', 'campaign id (default: a digest of the CSV and template)')
    .option('--provider <name>', 'send every channel through this provider')
    .option('--tps <n>', "override the provider's messages-per-second (parts)")
    .option('--dry-run', 'plan and show the plan; send nothing')
    .option('--encoding <enc>', 'CSV encoding: auto, utf8 or cp949', 'auto')
    .option('--phone-column <name>', 'the column holding phone numbers')
    .option('--limit <n>', 'send at most N messages in this run (the rest stay planned for the next run)')
    .option(
      '--test <phones>',
      'a test send: the messages of --rows, to these numbers only (comma-separated), journaled as <campaign>.test-N',
    )
    .option(
      '--rows <rows>',
      'with --test: the spreadsheet rows to send (header = row 1; default: 2, the first)',
    )
    .option('--json', 'print one JSON document on stdout')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--config <file>', 'config file (default ./ums.config.yaml)')
    .option('--db <file>', 'journal file (default from the config, ./.ums/journal.db)')
    .action(async (csv: string, opts: SendOptions) => {
      if (!['auto', 'utf8', 'cp949'].includes(opts.encoding))
        throw new InputError(`--encoding "${opts.encoding}": use auto, utf8 or cp949`, {
          key: 'err.sendEncoding',
          params: { value: opts.encoding },
        });
      const deliverOptions: DeliverOptions = {
        provider: opts.provider,
        tps: parsePositive(opts.tps, '--tps'),
        limit: parseCount(opts.limit, '--limit'),
        json: Boolean(opts.json),
        yes: Boolean(opts.yes),
      };
      if (opts.rows !== undefined && opts.test === undefined) throw InputError.of('test.rowsAlone');
      const test =
        opts.test !== undefined
          ? { phones: parseTestPhones(opts.test), sheetRows: parseSheetRows(opts.rows) }
          : undefined;
      const config = openConfig(cli, opts);
      (await import('../app/lanes.js')).checkProviders(config, opts.provider); // before planning, a dry run too
      const journal = openJournal(cli, config, opts);
      let release: (() => void) | null = null;
      // Ctrl-C or SIGTERM while planning: the partial plan is discarded (exit 1).
      const planning = new AbortController();
      const onSignal = (): void => planning.abort();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const [{ planCampaign }, { lockCampaign }] = await Promise.all([
          import('../app/planCampaign.js'),
          import('../app/campaignLock.js'),
        ]);
        let campaign: CampaignRecord;
        let created: boolean;
        try {
          ({ campaign, created } = await planCampaign({
            csvFile: csv,
            templateFile: opts.template,
            campaignId: opts.campaign,
            encoding: opts.encoding as 'auto' | 'utf8' | 'cp949',
            phoneColumn: opts.phoneColumn,
            provider: opts.provider,
            config,
            journal,
            lock: (id) => {
              release = lockCampaign(journal, id, opts.dryRun ? 'ums send --dry-run' : 'ums send');
            },
            signal: planning.signal,
            test,
          }));
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        if (opts.dryRun) {
          // a test dry run plans its test campaign only to show it: nothing of it stays in the journal
          try {
            const [
              { summariseCampaign },
              { formatPlanSummary, stateWord },
              { buildReport, hasProblems },
              { lanesView },
            ] = await Promise.all([
              import('../app/summary.js'),
              import('./format.js'),
              import('../app/report.js'),
              import('./deliver.js'),
            ]);
            const summary = summariseCampaign(journal, campaign, 3, { config, provider: opts.provider });
            const lanes = lanesView(summary, config, cli.now(), {
              provider: opts.provider,
              tps: deliverOptions.tps,
            });
            if (opts.json)
              cli.out(
                JSON.stringify(
                  { ...summary, dryRun: true, newlyPlanned: created, lanes: lanes.lanes },
                  null,
                  2,
                ),
              );
            else
              cli.out(
                formatPlanSummary(
                  summary,
                  cli.color,
                  test
                    ? t('cli.dryRun.test')
                    : created
                      ? t('cli.dryRun.planned')
                      : t('cli.dryRun.already', { state: stateWord(campaign.state) }),
                  lanes,
                  sheetRowOf(campaign),
                ),
              );
            // DESIGN.md: a dry run in which some recipients would not be reached (rejected rows) exits 3
            const routing = { config, provider: opts.provider };
            setExit(hasProblems(buildReport(journal, campaign, 0, routing)) ? EXIT.incomplete : EXIT.ok);
          } finally {
            if (test) journal.discardCampaign(campaign.id);
          }
          return;
        }
        const { deliver } = await import('./deliver.js');
        release ??= lockCampaign(journal, campaign.id, 'ums send');
        const code = await deliver(cli, config, journal, campaign, {
          command: 'ums send',
          ...deliverOptions,
          confirmed: true,
          ...(test ? { testSend: true } : {}),
        });
        setExit(code);
      } finally {
        (release as (() => void) | null)?.();
        journal.close();
      }
    });
}

export function parsePositive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n) || n <= 0)
    throw new InputError(`${flag} "${v}": expected a positive number`, {
      key: 'err.positive',
      params: { flag, value: v },
    });
  return n;
}

/** A count of things: a whole number, 1 or more. */
export function parseCount(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new InputError(`${flag} "${v}": expected a whole number, 1 or more`, {
      key: 'err.count',
      params: { flag, value: v },
    });
  return n;
}
