import type { Command } from 'commander';
import { maskPhone, normalisePhone } from '../campaign/phone.js';
import { InputError } from '../errors.js';
import { currentLang, t } from '../i18n/index.js';
import { readOptoutFile } from '../input/optoutFile.js';
import { humanTime, isoInZone } from '../time/zone.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';
import { forTerminal } from './format.js';
import { placeText } from './lang.js';
import { ownReasonText } from './reasons.js';

function normaliseAll(numbers: string[]): string[] {
  return numbers.map((n) => {
    const r = normalisePhone(n);
    // the reason in the current language where it is one of ours (a number's shape), else as given
    if (!r.ok)
      throw new InputError(r.reason, {
        key: 'err.nodeText',
        params: { text: ownReasonText(r.reason) ?? r.reason },
      });
    return r.to;
  });
}

export function registerOptout(program: Command, cli: Cli, setExit: (code: number) => void): void {
  const optout = program
    .command('optout')
    .description('the suppression list: numbers that are never messaged (skipped at planning)');
  const withJournal =
    <T extends CommonOptions>(fn: (journal: ReturnType<typeof openJournal>, opts: T) => number) =>
    (opts: T) => {
      const journal = openJournal(cli, openConfig(cli, opts), opts);
      try {
        setExit(fn(journal, opts));
      } finally {
        journal.close();
      }
    };
  const withJournalAsync =
    <T extends CommonOptions>(
      fn: (journal: ReturnType<typeof openJournal>, opts: T, timeZone: string) => Promise<number>,
    ) =>
    async (opts: T) => {
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        setExit(await fn(journal, opts, config.timezone));
      } finally {
        journal.close();
      }
    };
  const common = (c: Command): Command =>
    c.option('--config <file>', 'config file').option('--db <file>', 'journal file');

  common(
    optout
      .command('add')
      .description('add numbers (any format)')
      .argument('<numbers...>')
      .option('--note <text>', 'why'),
  ).action((numbers: string[], opts: CommonOptions & { note?: string }) =>
    withJournal<CommonOptions & { note?: string }>((j, o) => {
      const phones = normaliseAll(numbers);
      const added = j.optouts().add(phones, 'manual', o.note ?? null);
      cli.out(t('cli.optout.added', { added, listed: phones.length - added }));
      return EXIT.ok;
    })(opts),
  );

  common(optout.command('remove').description('remove numbers').argument('<numbers...>')).action(
    (numbers: string[], opts: CommonOptions) =>
      withJournal((j) => {
        const removed = j.optouts().remove(normaliseAll(numbers));
        cli.out(t('cli.optout.removed', { removed, unlisted: numbers.length - removed }));
        return EXIT.ok;
      })(opts),
  );

  common(
    optout
      .command('list')
      .description('the list (numbers masked; --json gives them whole)')
      .option('--json', 'one JSON document'),
  ).action((opts: CommonOptions & { json?: boolean }) =>
    withJournalAsync<CommonOptions & { json?: boolean }>(async (j, o, timeZone) => {
      // streamed from the journal, through stdout's backpressure: millions of numbers in flat memory
      let text = '';
      let first = true;
      const put = async (s: string): Promise<void> => {
        text += s;
        if (text.length >= 64 * 1024) {
          await cli.write(text);
          text = '';
        }
      };
      for (const e of j.optouts().iterate()) {
        if (o.json)
          await put(
            (first ? '[\n  ' : ',\n  ') +
              JSON.stringify({ ...e, createdAt: isoInZone(e.createdAt, timeZone) }, null, 2).replace(
                /\n/g,
                '\n  ',
              ),
          );
        else
          await put(
            `${maskPhone(e.phone).padEnd(16)} ${e.source.padEnd(8)} ${humanTime(e.createdAt, timeZone)}${e.note ? `  ${forTerminal(e.note)}` : ''}\n`,
          );
        first = false;
      }
      if (o.json) await put(first ? '[]\n' : '\n]\n');
      else if (first) await put(`${t('cli.optout.empty')}\n`);
      if (text) await cli.write(text);
      return EXIT.ok;
    })(opts),
  );

  common(
    optout
      .command('import')
      .description(
        'add every number of a CSV (phone column) or a plain list, one per line; FILE may be a pipe, or - for stdin',
      )
      .argument('<file>')
      .option(
        '-y, --yes',
        "import it even if it looks like a recipients list (other columns, or a campaign's CSV)",
      ),
  ).action((file: string, opts: CommonOptions & { yes?: boolean }) =>
    withJournalAsync<CommonOptions & { yes?: boolean }>(async (j, o) => {
      // streamed: numbers are stored in batches as they are read (an error stops the import; the
      // numbers before it stay listed: more suppression, never less)
      let added = 0;
      const r = await readOptoutFile(
        file,
        (phones) => {
          added += j.optouts().add(phones, 'import', file);
        },
        {
          force: Boolean(o.yes),
          // a campaign's own recipients CSV (the SHA-256 planning kept): every customer would be opted out
          campaignOfCsv: (sha) => j.listCampaigns().find((c) => c.settings.identity?.csv === sha)?.id,
        },
      );
      cli.out(
        `${file}: ${t('cli.optout.imported', { added, listed: r.numbers - added, invalid: r.invalidCount })}`,
      );
      for (const bad of r.invalid)
        cli.err(
          `  ${forTerminal(placeText(file, { line: bad.line }))}: ${forTerminal(currentLang() === 'en' ? bad.reason : (ownReasonText(bad.reason) ?? bad.reason))}`,
        );
      if (r.invalidCount > r.invalid.length)
        cli.err(`  ${t('cli.optout.moreInvalid', { n: r.invalidCount - r.invalid.length })}`);
      return r.invalidCount ? EXIT.incomplete : EXIT.ok;
    })(opts),
  );
}
