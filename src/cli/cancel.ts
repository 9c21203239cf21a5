import type { Command } from 'commander';
import { campaignArg } from '../app/campaignIdentity.js';
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
          cli.out(
            `campaign ${id} is ${before.state === 'done' ? 'finished' : 'already cancelled'}: nothing to cancel`,
          );
        } else {
          const n = cancelled.toLocaleString('en-US');
          cli.out(
            `campaign ${id} cancelled: ${n} message${cancelled === 1 ? '' : 's'} not yet sent will not be${inFlight ? `; ${inFlight.toLocaleString('en-US')} already with the provider keep their state (their reports still arrive)` : ''}`,
          );
        }
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}
