import type { Command } from 'commander';
import { campaignArg } from '../app/campaignIdentity.js';
import { t } from '../i18n/index.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';
import { namedCampaign } from './resume.js';

export function registerCancel(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('cancel')
    .description(
      'cancel a campaign: rows not yet sent become `cancelled` and nothing sends them; rows already with a provider keep their state',
    )
    .argument('<campaign>', 'campaign id (see `ums campaigns`)', campaignArg)
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action((id: string, opts: CommonOptions & { json?: boolean }) => {
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        const before = namedCampaign(journal, id);
        const cancelled = journal.cancel(id);
        const inFlight =
          journal.delivery().countInStatus(id, 'sending') + journal.delivery().countInStatus(id, 'sent');
        if (opts.json) {
          cli.out(
            JSON.stringify(
              {
                campaign: id,
                state: journal.findCampaign(id)?.state ?? before.state,
                cancelled: cancelled ?? 0,
                awaitingReports: inFlight,
              },
              null,
              2,
            ),
          );
        } else if (cancelled === null) {
          cli.out(t(before.state === 'done' ? 'cli.cancel.finished' : 'cli.cancel.already', { id }));
        } else {
          const n = cancelled.toLocaleString('en-US');
          const inFlightNote = inFlight
            ? t('cli.cancel.inFlight', { n: inFlight.toLocaleString('en-US') })
            : '';
          cli.out(
            t(cancelled === 1 ? 'cli.cancel.done1' : 'cli.cancel.done', { id, n, inFlight: inFlightNote }),
          );
        }
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}
