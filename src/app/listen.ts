import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Config, unsetMessage, unsetNames } from '../config/config.js';
import { FaultError, InputError } from '../errors.js';
import { t } from '../i18n/index.js';
import type { Journal } from '../journal/journal.js';
import { providerModule } from '../providers/registry.js';
import type { WebhookEndpoint } from '../providers/types.js';

/** Where `ums listen` serves a provider: `/hooks/<provider name>` and what its module puts after it. */
export const HOOKS_PREFIX = '/hooks/';

export interface ListenRequest {
  config: Config;
  /** opened once the config is known to have something to serve; closed by `close()` */
  openJournal: () => Journal;
  host: string;
  port: number;
  /** largest request body accepted (bytes) */
  maxBody: number;
  /** serve only this provider (it must have a webhook); default: every configured one that has */
  provider?: string;
  /** one line for the operator (stderr): refusals, what was stored */
  log: (line: string) => void;
}

export interface ServedHook {
  provider: string;
  receives: string;
  /** the URL as a person reads it: the secret only named (`…/hooks/solapi/<webhookSecret>`) */
  url: string;
}

export interface Listening {
  hooks: ServedHook[];
  /**
   * The provider that also answers at every path outside /hooks/: the URLs before /hooks/ existed
   * (`/solapi/<webhookSecret>`, or any path with the secret in the header) keep working.
   */
  legacy: string;
  /** said once at the start (a secret not set, a public address without one) */
  warnings: string[];
  /** stop taking connections (requests in progress are finished first, 5 s at most), then close the journal */
  close(): Promise<void>;
}

interface Hook {
  name: string;
  endpoint: WebhookEndpoint;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The configured providers `ums listen` serves, each bound to its settings; an InputError when there is none. */
function hooksOf(config: Config, requested: string | undefined): Hook[] {
  const names = requested !== undefined ? [requested] : Object.keys(config.providers);
  if (requested !== undefined && !Object.hasOwn(config.providers, requested))
    throw InputError.of('err.listen.noProvider', {
      name: requested,
      providers: Object.keys(config.providers).join(', '),
    });
  const hooks: Hook[] = [];
  for (const name of names) {
    const pc = config.providers[name]!;
    const webhook = providerModule(pc.type)?.webhook;
    if (!webhook) {
      if (requested !== undefined)
        throw InputError.of('err.listen.noWebhook', { name, type: String(pc.type) });
      continue;
    }
    const unset = webhook.settings.flatMap((key): [string, string][] => {
      const variable = config.missingEnv.get(`providers.${name}.${key}`);
      return variable ? [[`providers.${name}.${key}`, variable]] : [];
    });
    if (unset.length)
      throw new InputError(`${config.label}: ${unsetMessage(unset)}`, {
        key: 'err.config.unsetEnv',
        params: { file: config.label, names: unsetNames(unset) },
      });
    hooks.push({ name, endpoint: webhook.endpoint(name, pc) });
  }
  if (!hooks.length) throw InputError.of('err.listen.noHooks');
  return hooks;
}

/** The path's segments, percent-decoded (a segment that cannot be decoded is kept as it came). */
function segmentsOf(url: string | undefined): string[] {
  let pathname = '/';
  try {
    pathname = new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    /* keep "/" */
  }
  return pathname
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/**
 * `ums listen`: an HTTP server that stores what providers push (delivery reports, replies) in the
 * journal, each provider at `/hooks/<provider name>`, answering 200 only once it is committed (a
 * provider retries anything else). Binds 127.0.0.1 unless told otherwise; limits bodies; checks each
 * provider's secret as its module says; keeps serving while a client stalls mid-request.
 */
export async function startListening(req: ListenRequest): Promise<Listening> {
  const hooks = hooksOf(req.config, req.provider);
  const byName = new Map(hooks.map((h) => [h.name, h]));
  const legacy = hooks[0]!;
  const journal = req.openJournal();
  const d = journal.delivery();
  const { log, maxBody } = req;

  const server = http.createServer((request, res) => {
    const reply = (status: number, body: Record<string, unknown>, close = false): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        ...(close ? { connection: 'close' } : {}),
      });
      res.end(text);
      // a refused request's body is not read: drop the connection instead
      if (close) res.once('finish', () => request.destroy());
    };
    const all = segmentsOf(request.url);
    let hook: Hook | undefined = legacy;
    let segments = all;
    if (all[0] === HOOKS_PREFIX.slice(1, -1)) {
      hook = all[1] === undefined ? undefined : byName.get(all[1]);
      segments = all.slice(2);
    }
    if (!hook) return reply(404, { error: 'no provider webhook here (see /hooks/<provider name>)' }, true);
    const { endpoint, name } = hook;
    if (request.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return reply(405, { error: `only POST: this endpoint receives ${endpoint.receives}` }, true);
    }
    if (!endpoint.authorize({ segments, headers: request.headers })) {
      log(`ums listen: ${t('listen.log.noSecret', { name })}`);
      return reply(401, { error: 'missing or wrong webhook secret' }, true);
    }
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > maxBody) return reply(413, { error: `body over ${maxBody} bytes` }, true);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      if (size > maxBody) {
        refused = true;
        reply(413, { error: `body over ${maxBody} bytes` }, true);
        return;
      }
      chunks.push(c);
    });
    request.on('error', () => undefined);
    request.on('end', () => {
      if (refused) return;
      const parsed = endpoint.parse(Buffer.concat(chunks));
      if (!parsed.ok) {
        log(`ums listen: ${t('listen.log.bad', { name, reason: parsed.reason })}`);
        return reply(400, { error: parsed.reason });
      }
      for (const r of parsed.refused.slice(0, 3))
        log(`ums listen: ${t('listen.log.element', { reason: r.reason })}`);
      if (parsed.refused.length > 3)
        log(`ums listen: ${t('listen.log.moreElements', { n: parsed.refused.length - 3 })}`);
      // reports of messages ums did not send (no key of ours) are none of the journal's business
      const ours = parsed.reports.filter((r) => r.key !== null);
      let applied: number;
      try {
        applied = d.applyReports(name, ours);
        if (parsed.inbound.length) journal.inbox().store(name, parsed.inbound);
        if (parsed.optOuts?.length) journal.optouts().add(parsed.optOuts, 'provider', `${name} webhook`);
      } catch (err) {
        // not committed: a provider retries a webhook that is not answered 200
        log(
          `ums listen: ${t('listen.log.notStored', { n: ours.length, name, why: (err as Error).message })}`,
        );
        return reply(500, { error: 'not stored; retry' });
      }
      log(
        `ums listen: ${t('listen.log.stored', { messages: parsed.messages, reports: ours.length, applied })}`,
      );
      reply(200, { received: parsed.messages, stored: ours.length, applied, refused: parsed.refused.length });
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException): void =>
        reject(
          FaultError.of('err.listen.cannot', {
            host: req.host,
            port: req.port,
            why: err.code ?? err.message,
          }),
        );
      server.once('error', fail);
      server.listen(req.port, req.host, () => {
        server.off('error', fail);
        resolve();
      });
    });
  } catch (err) {
    journal.close();
    throw err;
  }
  const addr = server.address() as AddressInfo;
  const base = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  const warnings = hooks.flatMap((h) => h.endpoint.warnings);
  if (hooks.some((h) => h.endpoint.open) && !isLoopback(req.host)) warnings.push(t('listen.warnOpen'));

  return {
    hooks: hooks.map((h) => ({
      provider: h.name,
      receives: h.endpoint.receives,
      url: `${base}${HOOKS_PREFIX}${encodeURIComponent(h.name)}${h.endpoint.pathSuffix}`,
    })),
    legacy: legacy.name,
    warnings,
    close: () =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 5_000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          journal.close();
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
