import path from 'node:path';
import type { Command } from 'commander';
import { campaignArg } from '../app/campaignIdentity.js';
import { EXPORT_COLUMNS, exportRecord } from '../app/exportRows.js';
import { InputError } from '../errors.js';
import { removeTempFiles, writePrivateFile } from '../input/privateFile.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';

interface ExportOptions extends CommonOptions {
  format: string;
  output?: string;
}

export function registerExport(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('export')
    .description('one row per recipient (and fallback leg), full phone numbers')
    .argument('<campaign>', 'campaign id (see `ums campaigns`)', campaignArg)
    .option('--format <fmt>', 'csv (UTF-8 with BOM, for Excel) or json', 'csv')
    .option('-o, --output <file>', 'write here (created 0600) instead of stdout')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (id: string, opts: ExportOptions) => {
      if (opts.format !== 'csv' && opts.format !== 'json')
        throw new InputError(`--format "${opts.format}": use csv or json`);
      if (opts.output !== undefined && opts.output.trim() === '')
        throw new InputError('-o "": name a file (or leave -o out to write to stdout)');
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        const campaign = journal.findCampaign(id);
        if (!campaign || campaign.state === 'planning')
          throw new InputError(`no campaign "${id}" in the journal (see \`ums campaigns\`)`);
        // streamed: to stdout with its backpressure, or to -o through the private-file writer
        const produce = async (write: (s: string) => Promise<void>): Promise<void> => {
          if (opts.format === 'csv') {
            const { stringify } = await import('csv-stringify/sync');
            await write(`\uFEFF${stringify([EXPORT_COLUMNS as unknown as string[]])}`);
            let batch: unknown[][] = [];
            for (const m of journal.messages(id)) {
              const rec = exportRecord(m, true, config.timezone);
              batch.push(EXPORT_COLUMNS.map((c) => rec[c]));
              if (batch.length === 1000) {
                await write(stringify(batch));
                batch = [];
              }
            }
            if (batch.length) await write(stringify(batch));
          } else {
            let text = '[';
            let first = true;
            for (const m of journal.messages(id)) {
              text += (first ? '\n' : ',\n') + JSON.stringify(exportRecord(m, false, config.timezone));
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
            cli.err(`ums: export stopped by ${signal}: ${opts.output} was not written`);
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
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}
