import type { Command } from 'commander';
import { startListening } from '../app/listen.js';
import { InputError } from '../errors.js';
import { t } from '../i18n/index.js';
import { humanTime } from '../time/zone.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';

interface ListenOptions extends CommonOptions {
  port: string;
  host: string;
  provider?: string;
  maxBody: string;
}

export function registerListen(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('listen')
    .description(
      'receive provider webhooks (delivery reports) at /hooks/<provider name> and store them in the journal; answers 200 once they are committed',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8787')
    .option('--host <addr>', 'address to bind (put a TLS proxy in front for the internet)', '127.0.0.1')
    .option(
      '--provider <name>',
      'serve only this provider (default: every configured provider that has a webhook)',
    )
    .option('--max-body <bytes>', 'largest request body accepted', String(1024 * 1024))
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (opts: ListenOptions) => {
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port > 65535)
        throw new InputError(`--port "${opts.port}": use a port number 0-65535`, {
          key: 'err.port',
          params: { value: opts.port },
        });
      const maxBody = Number(opts.maxBody);
      if (!/^\d+$/.test(opts.maxBody) || maxBody < 1)
        throw new InputError(`--max-body "${opts.maxBody}": use a number of bytes`, {
          key: 'err.maxBody',
          params: { value: opts.maxBody },
        });
      const config = openConfig(cli, opts);
      const listening = await startListening({
        config,
        openJournal: () => openJournal(cli, config, opts),
        host: opts.host,
        port,
        maxBody,
        provider: opts.provider,
        // each request's line says when, in the configured zone (a log read later, in KST)
        log: (line) => cli.err(`${humanTime(cli.now(), config.timezone, true)} ${line}`),
      });
      for (const h of listening.hooks)
        cli.out(
          `ums listen: ${t('cli.listen.receiving', { what: h.receives, provider: h.provider, url: h.url })}`,
        );
      cli.err(`ums listen: ${t('cli.listen.legacy', { provider: listening.legacy })}`);
      for (const w of listening.warnings) cli.err(`ums listen: ${w}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          cli.err(`ums listen: ${t('cli.listen.stopping')}`);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await listening.close();
      setExit(EXIT.ok);
    });
}
