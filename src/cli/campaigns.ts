import type { Command } from 'commander';
import { lockedByOther } from '../app/campaignLock.js';
import { summariseCampaign } from '../app/summary.js';
import { isoInZone } from '../time/zone.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';

export function registerCampaigns(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('campaigns')
    .description('list the campaigns in the journal with their state')
    .option('--json', 'print one JSON document on stdout')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action((opts: CommonOptions & { json?: boolean }) => {
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        const list = journal.listCampaigns().map((c) => {
          const s = summariseCampaign(journal, c, 0);
          // a campaign whose planner is gone was interrupted: never sent, discarded by the next run
          const state = c.state === 'planning' && !lockedByOther(journal, c.id) ? 'interrupted' : c.state;
          return {
            id: c.id,
            state,
            rows: c.rows,
            csv: c.csvPath,
            template: c.templatePath,
            createdAt: isoInZone(c.createdAt, config.timezone),
            finishedAt: isoInZone(c.finishedAt, config.timezone),
            statuses: s.statuses,
          };
        });
        if (opts.json) {
          cli.out(JSON.stringify(list, null, 2));
        } else if (list.length === 0) {
          cli.out('no campaigns yet: `ums send recipients.csv -t template.md --dry-run` plans one');
        } else {
          cli.out(`${'campaign'.padEnd(20)} ${'state'.padEnd(11)} ${'rows'.padStart(9)}  statuses`);
          for (const c of list) {
            const st = Object.entries(c.statuses)
              .map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`)
              .join(' · ');
            cli.out(
              `${c.id.padEnd(20)} ${c.state.padEnd(11)} ${c.rows.toLocaleString('en-US').padStart(9)}  ${st}`,
            );
          }
        }
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}
