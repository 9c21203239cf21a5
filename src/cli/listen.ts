import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { type Config, providerConfig, unsetMessage } from '../config/config.js';
import { FaultError, InputError } from '../errors.js';
import type { Journal } from '../journal/journal.js';
import { parseSolapiWebhook } from '../providers/solapi/webhook.js';
import { type Cli, type CommonOptions, EXIT, openConfig, openJournal } from './context.js';

interface ListenOptions extends CommonOptions {
  port: string;
  host: string;
  provider?: string;
  maxBody: string;
}

const SECRET_HEADER = 'x-webhook-secret';

function sameSecret(given: string, secret: string): boolean {
  // compare digests: constant time, and the length of the secret does not leak
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

/** The secret may come in the X-Webhook-Secret header or as the URL's last path segment. */
function authorized(req: http.IncomingMessage, pathname: string, secret: string): boolean {
  const header = req.headers[SECRET_HEADER];
  if (typeof header === 'string' && sameSecret(header, secret)) return true;
  const last = pathname.split('/').filter(Boolean).at(-1);
  if (last === undefined) return false;
  try {
    return sameSecret(decodeURIComponent(last), secret);
  } catch {
    return false;
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

function pickProvider(
  config: Config,
  requested: string | undefined,
): { name: string; secret: string | null } {
  const name = requested ?? Object.entries(config.providers).find(([, p]) => p.type === 'solapi')?.[0];
  if (!name)
    throw new InputError(
      'no provider of type solapi in the config: `ums listen` receives Solapi delivery report webhooks',
    );
  const pc = providerConfig(config, name);
  if (!pc)
    throw new InputError(
      `--provider ${name}: no such provider (providers: ${Object.keys(config.providers).join(', ')})`,
    );
  if (pc.type !== 'solapi')
    throw new InputError(
      `--provider ${name}: its type is ${pc.type}; \`ums listen\` receives Solapi webhooks`,
    );
  const variable = config.missingEnv.get(`providers.${name}.webhookSecret`);
  if (variable)
    throw new InputError(`${config.label}: ${unsetMessage([[`providers.${name}.webhookSecret`, variable]])}`);
  const raw = pc.webhookSecret;
  if (raw !== undefined && typeof raw !== 'string')
    throw new InputError(`providers.${name}.webhookSecret: must be a string`);
  return { name, secret: raw ? raw : null };
}

export function registerListen(program: Command, cli: Cli, setExit: (code: number) => void): void {
  program
    .command('listen')
    .description(
      'receive Solapi delivery reports (webhook POSTs) and store them in the journal; answers 200 once they are committed',
    )
    .option('--port <n>', 'port to listen on (0: any free port)', '8787')
    .option('--host <addr>', 'address to bind (put a TLS proxy in front for the internet)', '127.0.0.1')
    .option(
      '--provider <name>',
      'the solapi provider the reports belong to (default: the first of type solapi)',
    )
    .option('--max-body <bytes>', 'largest request body accepted', String(1024 * 1024))
    .option('--config <file>', 'config file')
    .option('--db <file>', 'journal file')
    .action(async (opts: ListenOptions) => {
      const port = Number(opts.port);
      if (!/^\d+$/.test(opts.port) || port > 65535)
        throw new InputError(`--port "${opts.port}": use a port number 0-65535`);
      const maxBody = Number(opts.maxBody);
      if (!/^\d+$/.test(opts.maxBody) || maxBody < 1)
        throw new InputError(`--max-body "${opts.maxBody}": use a number of bytes`);
      const config = openConfig(cli, opts);
      const { name, secret } = pickProvider(config, opts.provider);
      const journal = openJournal(cli, config, opts);
      try {
        await serve(cli, journal, { name, secret, host: opts.host, port, maxBody });
        setExit(EXIT.ok);
      } finally {
        journal.close();
      }
    });
}

interface ServeOptions {
  name: string;
  secret: string | null;
  host: string;
  port: number;
  maxBody: number;
}

async function serve(cli: Cli, journal: Journal, o: ServeOptions): Promise<void> {
  const d = journal.delivery();
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: Record<string, unknown>, close = false): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        ...(close ? { connection: 'close' } : {}),
      });
      res.end(text);
      // a refused request's body is not read: drop the connection instead
      if (close) res.once('finish', () => req.destroy());
    };
    let pathname = '/';
    try {
      pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      /* keep "/" */
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return reply(405, { error: 'only POST: this endpoint receives Solapi delivery reports' }, true);
    }
    if (o.secret && !authorized(req, pathname, o.secret)) {
      cli.err('ums listen: refused a POST without the webhook secret (401)');
      return reply(401, { error: 'missing or wrong webhook secret' }, true);
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > o.maxBody) return reply(413, { error: `body over ${o.maxBody} bytes` }, true);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > o.maxBody) {
        refused = true;
        reply(413, { error: `body over ${o.maxBody} bytes` }, true);
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (refused) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        cli.err('ums listen: refused a POST whose body is not JSON (400)');
        return reply(400, { error: 'the body is not JSON' });
      }
      const parsed = parseSolapiWebhook(body);
      if (!parsed.ok) {
        cli.err(`ums listen: refused a POST that is not a Solapi message report (400): ${parsed.reason}`);
        return reply(400, { error: parsed.reason });
      }
      for (const r of parsed.refused.slice(0, 3))
        cli.err(`ums listen: refused one element of a POST (the others are kept): ${r.reason}`);
      if (parsed.refused.length > 3)
        cli.err(`ums listen: refused ${parsed.refused.length - 3} more elements of that POST`);
      // reports of messages ums did not send (no key of ours) are none of the journal's business
      const ours = parsed.reports.filter((r) => r.key !== null);
      let applied: number;
      try {
        applied = d.applyReports(o.name, ours);
      } catch (err) {
        // not committed: Solapi retries a webhook that is not answered 200
        cli.err(
          `ums listen: could not store ${ours.length} reports, answered 500 (Solapi will retry): ${(err as Error).message}`,
        );
        return reply(500, { error: 'not stored; retry' });
      }
      cli.err(
        `ums listen: ${parsed.messages} messages, ${ours.length} reports stored, ${applied} changed a message`,
      );
      reply(200, { received: parsed.messages, stored: ours.length, applied, refused: parsed.refused.length });
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void =>
      reject(new FaultError(`cannot listen on ${o.host}:${o.port}: ${err.code ?? err.message}`));
    server.once('error', fail);
    server.listen(o.port, o.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  cli.out(
    `ums listen: receiving Solapi delivery reports for provider "${o.name}" on http://${host}:${addr.port}/${o.secret ? '<webhookSecret>' : ''}`,
  );
  if (!o.secret)
    cli.err(
      `ums listen: providers.${o.name}.webhookSecret is not set: anyone who can reach this port can post reports`,
    );
  if (!o.secret && !isLoopback(o.host))
    cli.err('ums listen: warning: listening beyond this machine without a webhook secret');

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      cli.err('ums listen: stopping (requests in progress are finished first)');
      const force = setTimeout(() => server.closeAllConnections(), 5_000);
      force.unref();
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
