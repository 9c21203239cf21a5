import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { t } from '../i18n/index.js';
import { type Cli, EXIT } from './context.js';

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What `ums init` writes, from the package's own examples. */
const EXAMPLES: { from: string; to: string }[] = [
  { from: 'examples/ums.config.yaml', to: 'ums.config.yaml' },
  { from: 'templates/order-shipped.md', to: 'template.md' },
  { from: 'fixtures/orders.csv', to: 'recipients.csv' },
];

export function registerInit(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('init')
    .description('write an example config, template and recipient CSV into the current folder')
    .action(() => {
      for (const e of EXAMPLES) {
        const target = path.join(cli.cwd, e.to);
        if (fs.existsSync(target)) {
          cli.out(`  ${t('cli.init.kept', { file: e.to })}`);
          continue;
        }
        fs.copyFileSync(path.join(PACKAGE_ROOT, e.from), target, fs.constants.COPYFILE_EXCL);
        cli.out(`  ${t('cli.init.wrote', { file: e.to })}`);
      }
      cli.out('');
      cli.out(t('cli.init.next'));
      setExit(EXIT.ok);
    });
}
