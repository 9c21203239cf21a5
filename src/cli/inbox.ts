import type { Command } from 'commander';
import { maskPhone } from '../campaign/phone.js';
import { InputError } from '../errors.js';
import { t } from '../i18n/index.js';
import { humanTime, isoInZone } from '../time/zone.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';
import { oneLine } from './format.js';

interface InboxOptions extends CommonOptions {
  json?: boolean;
  limit: string;
}

/** `ums inbox`: messages recipients sent us (SMPP MO), newest first; numbers masked. */
export function registerInbox(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('inbox')
    .description('list messages recipients sent us (SMPP MO), newest first; opt-out replies are marked')
    .option('--json', 'print one JSON document on stdout')
    .option('--limit <n>', 'show at most N messages', '50')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action((opts: InboxOptions) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit <= 0)
        throw new InputError(`--limit "${opts.limit}": a whole number above 0`, {
          key: 'err.inboxLimit',
          params: { value: opts.limit },
        });
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        const inbox = journal.inbox();
        const total = inbox.count();
        const list = inbox.list(limit).map((m) => ({
          receivedAt: isoInZone(m.receivedAt, config.timezone),
          provider: m.provider,
          from: maskPhone(m.from),
          to: m.to,
          text: m.text,
          optedOut: m.optedOut,
        }));
        if (opts.json) {
          cli.out(JSON.stringify({ total, messages: list }, null, 2));
        } else if (list.length === 0) {
          cli.out(t('cli.inbox.none'));
        } else {
          for (const m of list) {
            const mark = m.optedOut ? cli.color.yellow(` ${t('cli.inbox.optedOut')}`) : '';
            cli.out(
              `${humanTime(m.receivedAt, config.timezone)}  ${m.from.padEnd(15)} ${oneLine(m.text, 70)}${mark}`,
            );
          }
          if (total > list.length)
            cli.out(
              cli.color.dim(t('cli.inbox.older', { n: (total - list.length).toLocaleString('en-US') })),
            );
        }
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}
