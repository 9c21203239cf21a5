import type { Command } from 'commander';
import fs from 'node:fs';
import { iconvLite } from '../text/cp949.js';
import { InputError } from '../campaign/errors.js';
import { parseOptoutList } from '../campaign/optoutList.js';
import { maskPhone, normalisePhone } from '../campaign/phone.js';
import { checkReadableFile } from '../input/readableFile.js';
import { EXIT, openConfig, openJournal, type Cli, type CommonOptions } from './context.js';
import { forTerminal } from './format.js';

function normaliseAll(numbers: string[]): string[] {
  return numbers.map((n) => {
    const r = normalisePhone(n);
    if (!r.ok) throw new InputError(r.reason);
    return r.to;
  });
}

export function registerOptout(program: Command, cli: Cli, setExit: (code: number) => void): void {
  const optout = program.command('optout').description('the suppression list: numbers that are never messaged (skipped at planning)');
  const withJournal = <T extends CommonOptions>(fn: (journal: ReturnType<typeof openJournal>, opts: T) => number) => (opts: T) => {
    const journal = openJournal(cli, openConfig(cli, opts), opts);
    try {
      setExit(fn(journal, opts));
    } finally {
      journal.close();
    }
  };
  const common = (c: Command): Command => c.option('--config <file>', 'config file').option('--db <file>', 'journal file');

  common(optout.command('add').description('add numbers (any format)').argument('<numbers...>').option('--note <text>', 'why'))
    .action((numbers: string[], opts: CommonOptions & { note?: string }) =>
      withJournal<CommonOptions & { note?: string }>((j, o) => {
        const phones = normaliseAll(numbers);
        const added = j.optouts().add(phones, 'manual', o.note ?? null);
        cli.out(`added ${added}, already listed ${phones.length - added}`);
        return EXIT.ok;
      })(opts),
    );

  common(optout.command('remove').description('remove numbers').argument('<numbers...>'))
    .action((numbers: string[], opts: CommonOptions) =>
      withJournal((j) => {
        const removed = j.optouts().remove(normaliseAll(numbers));
        cli.out(`removed ${removed}, not listed ${numbers.length - removed}`);
        return EXIT.ok;
      })(opts),
    );

  common(optout.command('list').description('the list (numbers masked; --json gives them whole)').option('--json', 'one JSON document'))
    .action((opts: CommonOptions & { json?: boolean }) =>
      withJournal<CommonOptions & { json?: boolean }>((j, o) => {
        const list = j.optouts().list();
        if (o.json) cli.out(JSON.stringify(list, null, 2));
        else if (!list.length) cli.out('the opt-out list is empty');
        else for (const e of list) cli.out(`${maskPhone(e.phone).padEnd(16)} ${e.source.padEnd(8)} ${e.createdAt}${e.note ? `  ${forTerminal(e.note)}` : ''}`);
        return EXIT.ok;
      })(opts),
    );

  common(optout.command('import').description('add every number of a CSV (phone column) or a plain list, one per line').argument('<file>'))
    .action((file: string, opts: CommonOptions) =>
      withJournal((j) => {
        checkReadableFile(file, 'opt-out list');
        const bytes = fs.readFileSync(file);
        if (bytes.includes(0)) throw new InputError(`${file}: not a text file (NUL byte)`);
        let text: string;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        } catch {
          text = iconvLite().decode(bytes, 'cp949');
        }
        let parsed;
        try {
          parsed = parseOptoutList(text);
        } catch (err) {
          throw new InputError(`${file}: ${(err as Error).message.split('\n')[0]}`);
        }
        const added = j.optouts().add(parsed.phones, 'import', file);
        cli.out(`${file}: added ${added}, already listed ${parsed.phones.length - added}, invalid ${parsed.invalid.length}`);
        for (const bad of parsed.invalid.slice(0, 10)) cli.err(`  ${forTerminal(file)} line ${bad.line}: ${forTerminal(bad.reason)}`);
        return parsed.invalid.length ? EXIT.incomplete : EXIT.ok;
      })(opts),
    );
}
