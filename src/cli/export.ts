import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { exportRecord, EXPORT_COLUMNS } from '../app/exportRows.js';
import { InputError } from '../campaign/errors.js';
import { EXIT, openConfig, openJournal, type Cli, type CommonOptions } from './context.js';

interface ExportOptions extends CommonOptions {
  format: string;
  output?: string;
}

export function registerExport(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('export')
    .description('one row per recipient (and fallback leg), full phone numbers')
    .argument('<campaign>', 'campaign id (see `ums campaigns`)')
    .option('--format <fmt>', 'csv (UTF-8 with BOM, for Excel) or json', 'csv')
    .option('-o, --output <file>', 'write here (created 0600) instead of stdout')
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (id: string, opts: ExportOptions) => {
      if (opts.format !== 'csv' && opts.format !== 'json') throw new InputError(`--format "${opts.format}": use csv or json`);
      const config = openConfig(cli, opts);
      const journal = openJournal(cli, config, opts);
      try {
        const campaign = journal.findCampaign(id);
        if (!campaign || campaign.state === 'planning') throw new InputError(`no campaign "${id}" in the journal (see \`ums campaigns\`)`);
        const chunks: string[] = [];
        const emit = opts.output ? (s: string) => chunks.push(s) : (s: string) => process.stdout.write(s);
        if (opts.format === 'csv') {
          const { stringify } = await import('csv-stringify/sync');
          emit('\uFEFF' + stringify([EXPORT_COLUMNS as unknown as string[]]));
          let batch: unknown[][] = [];
          for (const m of journal.messages(id)) {
            const rec = exportRecord(m, true);
            batch.push(EXPORT_COLUMNS.map((c) => rec[c]));
            if (batch.length === 1000) {
              emit(stringify(batch));
              batch = [];
            }
          }
          if (batch.length) emit(stringify(batch));
        } else {
          emit('[');
          let first = true;
          for (const m of journal.messages(id)) {
            emit((first ? '\n' : ',\n') + JSON.stringify(exportRecord(m, false)));
            first = false;
          }
          emit('\n]\n');
        }
        if (opts.output) writePrivateFile(path.resolve(cli.cwd, opts.output), chunks.join(''));
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}

/** Write atomically with mode 0600: exports hold full phone numbers. */
function writePrivateFile(file: string, content: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, content, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
