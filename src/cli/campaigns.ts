import path from 'node:path';
import type { Command } from 'commander';
import { lockedByOther } from '../app/campaignLock.js';
import { summariseCampaign } from '../app/summary.js';
import { t } from '../i18n/index.js';
import { isoInZone } from '../time/zone.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';
import { forTerminal, padW, padWStart, stateWord, statusWord, termWidth } from './format.js';

export function registerCampaigns(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('campaigns')
    .description('list the campaigns in the journal: date, files, state and counts')
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
          cli.out(t('cli.campaigns.none'));
        } else {
          const table = list.map((c) => [
            forTerminal(c.id),
            shownTime(c.createdAt, config.timezone),
            forTerminal(path.basename(c.csv)),
            forTerminal(path.basename(c.template)),
            stateWord(c.state),
            c.rows.toLocaleString('en-US'),
            Object.entries(c.statuses)
              .map(([k, v]) => `${statusWord(k)} ${v.toLocaleString('en-US')}`)
              .join(' · '),
          ]);
          const head = (['campaign', 'created', 'csv', 'template', 'state', 'rows', 'statuses'] as const).map(
            (h) => t(`cli.campaigns.head.${h}`),
          );
          const widths = head.map((h, i) => Math.max(termWidth(h), ...table.map((r) => termWidth(r[i]!))));
          const line = (cells: string[]): string =>
            cells
              .map((cell, i) =>
                i === cells.length - 1
                  ? cell
                  : i === 5
                    ? padWStart(cell, widths[i]!)
                    : padW(cell, widths[i]!),
              )
              .join('  ')
              .trimEnd();
          cli.out(line(head));
          for (const r of table) cli.out(line(r));
        }
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}

/**
 * An ISO time as a person reads it in the configured zone: `2026-12-02 09:00`. The one place this
 * command formats a time (a shared time-zone module can take its place).
 */
export function shownTime(iso: string | null, timeZone: string): string {
  if (!iso) return '-';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '-';
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
