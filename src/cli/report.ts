import path from 'node:path';
import type { Command } from 'commander';
import { campaignArg, sheetRowOf } from '../app/campaignIdentity.js';
import { buildReport, hasProblems } from '../app/report.js';
import { currentLang, t } from '../i18n/index.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';
import { formatReport } from './format.js';
import { namedOrLatest } from './resume.js';

interface ReportOptions extends CommonOptions {
  json?: boolean;
  sync?: boolean;
  failed?: boolean;
  html?: string;
}

export function registerReport(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('what happened: totals by status and channel, costs, delivery rate and lag, failures')
    .argument('[campaign]', 'campaign id (default: the latest)', campaignArg)
    .option('--sync', 'first pull delivery reports from providers that are polled')
    .option('--failed', 'list the rows that did not go out (numbers masked)')
    .option('--json', 'print one JSON document on stdout')
    .option('--html <file>', t('report.html.option'))
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (id: string | undefined, opts: ReportOptions) => {
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        const campaign = namedOrLatest(journal, id);
        let synced = 0;
        if (opts.sync) {
          const { syncReports } = await import('../app/syncReports.js');
          synced = await syncReports(config, journal, campaign, cli.now);
        }
        const report = buildReport(journal, journal.findCampaign(campaign.id)!, opts.failed ? 1000 : 0, {
          config,
        });
        if (opts.json) cli.out(JSON.stringify(opts.sync ? { ...report, synced } : report, null, 2));
        else
          cli.out(
            formatReport(report, cli.color, sheetRowOf(campaign)) +
              (opts.sync ? `\n\n  ${t('cli.report.synced', { n: synced.toLocaleString('en-US') })}` : ''),
          );
        if (opts.html !== undefined) {
          const { writeHtmlReport } = await import('../app/htmlReport.js');
          const file = path.resolve(cli.cwd, opts.html);
          await writeHtmlReport(
            journal,
            journal.findCampaign(campaign.id)!,
            { config },
            file,
            `--html ${opts.html}`,
            cli.now(),
            currentLang(),
          );
          // stdout stays one JSON document with --json
          (opts.json ? cli.err : cli.out)(t('report.html.written', { file }));
        }
        setExit(hasProblems(report) ? EXIT.incomplete : EXIT.ok);
      } finally {
        journal.close();
      }
    });
}
