import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { DEFAULT_QUIET_HOURS, parseClock, type QuietHours } from '../campaign/quietHours.js';
import { QUOTE_NUMBER } from '../campaign/template.js';
import { CHANNELS, type Channel, DEFAULT_PRICES, type Prices, RCS_PRICE_KEYS } from '../campaign/types.js';
import { InputError, type Msg } from '../errors.js';
import { MAX_CONFIG_BYTES, readInputFile } from '../input/readableFile.js';
import { formatFirstIssue, issueLocalised } from './issues.js';
import { addSecret } from './secrets.js';

const providerSchema = z
  .object({ type: z.string().min(1), tps: z.number().nonnegative().optional() })
  .passthrough();

const configSchema = z
  .object({
    journal: z.string().default('./.ums/journal.db'),
    from: z.string({ error: QUOTE_NUMBER }).optional(),
    /** registered sender numbers: when given, a template's or config's `from` must be one of them */
    senders: z.array(z.string({ error: QUOTE_NUMBER })).optional(),
    /** the company or service name ads must carry (a template's `sender:` wins) */
    senderName: z.string().optional(),
    quietHours: z.object({ start: z.string(), end: z.string() }).strict().optional(),
    timezone: z.string().default('Asia/Seoul'),
    /** the language of human output: ko | en (default: from LC_ALL/LANG) */
    lang: z.string().optional(),
    providers: z.record(z.string(), providerSchema).optional(),
    // checked by parseRoute (one clear line per form) and by the price checks below
    routes: z.record(z.string(), z.unknown()).default({}),
    prices: z.record(z.string(), z.unknown()).default({}),
    /** how long a provider may stay unavailable before its messages move to the next one of its route */
    failoverAfterMs: z.number().int().nonnegative().default(30_000),
    /** back to the first provider once it answers again: how often a failed-over provider is asked (unset: never) */
    failbackAfterMs: z.number().int().positive().optional(),
    /** PostgreSQL: a sending process's lease (renewed every third of it); its rows are taken over once it runs out */
    leaseMs: z.number().int().min(300).max(600_000).default(30_000),
  })
  .strict();

export type ProviderConfig = z.infer<typeof providerSchema>;

/** A channel's route: one provider; a failover list (in order); a weighted split; the cheapest by price. */
export interface Route {
  kind: 'one' | 'failover' | 'split' | 'cheapest';
  /** in the order the config lists them */
  providers: string[];
  /** split: each provider's weight, in the same order */
  weights?: number[];
}

export interface Config {
  /** where the config came from, or null for the built-in defaults */
  file: string | null;
  /** the config file as the user named it (`ums.config.yaml`, the --config value): what errors name */
  label: string;
  journal: string;
  from: string | null;
  timezone: string;
  /** `lang:` (ko | en), or null: then --lang or LC_ALL/LANG decide */
  lang: 'ko' | 'en' | null;
  providers: Record<string, ProviderConfig>;
  /** channel (or "default") -> its route; look names up with routeFor()/providerFor() (own keys only) */
  routes: Record<string, Route>;
  prices: Prices;
  /** `prices.<provider>.<channel>`: a provider's own prices, over the channel defaults (own keys only) */
  providerPrices: Record<string, Partial<Prices>>;
  /** a provider unavailable this long (or refusing us) hands its messages to the next of its route */
  failoverAfterMs: number;
  /** a provider failed over for being unavailable is asked this often; once it answers, what waits for it comes back (null: it does not) */
  failbackAfterMs: number | null;
  /** a worker's lease (PostgreSQL, `ums resume --join`): what it renews every third of; another takes its lanes once it runs out */
  leaseMs: number;
  senders: string[] | null;
  senderName: string | null;
  quietHours: QuietHours;
  /** provider settings whose ${VAR} was not set (path -> variable names, ", "-joined): an error only if that provider is used */
  missingEnv: Map<string, string>;
}

/**
 * Load the config: --config, else $UMS_CONFIG, else ./ums.config.yaml, else the built-in
 * defaults (the sim provider). ${VAR} is expanded from `env`.
 */
export function loadConfig(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Config {
  const chosen = explicit ?? env.UMS_CONFIG;
  const file = chosen ? path.resolve(cwd, chosen) : path.join(cwd, 'ums.config.yaml');
  const name = chosen ?? 'ums.config.yaml';
  let raw: unknown = {};
  let source: string | null = null;
  // the default file is optional; one named by --config or UMS_CONFIG must exist
  if (chosen || fs.existsSync(file)) {
    source = file;
    const bytes = readInputFile(file, {
      what: 'config file',
      name: chosen ?? 'ums.config.yaml',
      maxBytes: MAX_CONFIG_BYTES,
      allowEmpty: true,
    });
    const text = bytes.toString('utf8');
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: false, lineCounter });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      throw InputError.at(
        name,
        { line: lineCounter.linePos(problem.pos[0]).line },
        problem.message.split('\n')[0]!,
      );
    }
    try {
      raw = doc.toJS({ maxAliasCount: 50 }) ?? {};
    } catch (err) {
      // an alias bomb ("billion laughs") and the like: refused, never expanded
      throw new InputError(`${name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const proto = protoKey(raw, '');
  if (proto !== null) throw InputError.of('cfg.protoKey', { file: name, key: proto });
  const unset = new Map<string, string>();
  const expanded = expandEnv(raw, env, '', unset);
  // Outside providers: every command needs them (journal, from, routes...): all unset ones named at once.
  const missingEnv = new Map([...unset].filter(([at]) => at.startsWith('providers.')));
  const needed = [...unset].filter(([at]) => !at.startsWith('providers.'));
  if (needed.length)
    throw new InputError(`${name}: ${unsetMessage(needed)}`, {
      key: 'err.config.unsetEnv',
      params: { file: name, names: unsetNames(needed) },
    });
  const parsed = configSchema.safeParse(expanded);
  if (!parsed.success)
    throw new InputError(
      `${name}: ${formatFirstIssue(parsed.error)}`,
      issueLocalised(parsed.error.issues[0]!, '', name),
    );
  const c = parsed.data;
  // Own keys only, in objects without a prototype: `constructor` or `__proto__` is never a provider or a route.
  const givenRoutes = ownRecord(c.routes);
  for (const key of Object.keys(givenRoutes)) {
    if (key === 'default' || (CHANNELS as readonly string[]).includes(key)) continue;
    const near = nearest(key, ['default', ...CHANNELS]);
    throw InputError.of('cfg.routeKey', {
      file: name,
      key,
      hint: near
        ? { key: 'cfg.didYouMean', params: { near } }
        : { key: 'cfg.useChannels', params: { channels: CHANNELS.join(', ') } },
    });
  }
  const routes = Object.create(null) as Record<string, Route>;
  for (const [key, value] of Object.entries(givenRoutes))
    routes[key] = parseRoute(value, `${name}: routes.${key}`);
  // The built-in simulator only when no provider is configured, or a route names it.
  const providers = ownRecord(c.providers ?? {});
  if (
    Object.keys(providers).length === 0 ||
    (Object.values(routes).some((r) => r.providers.includes('sim')) && !Object.hasOwn(providers, 'sim'))
  )
    providers.sim = { type: 'sim', tps: 200 };
  for (const [route, r] of Object.entries(routes)) {
    for (const provider of r.providers)
      if (!Object.hasOwn(providers, provider))
        throw new InputError(
          `${name}: routes.${route}: "${provider}" is not a configured provider (providers: ${Object.keys(providers).join(', ')})`,
          {
            key: 'err.config.routeProvider',
            params: { file: name, route, provider, providers: Object.keys(providers).join(', ') },
          },
        );
  }
  const { prices, providerPrices } = parsePrices(ownRecord(c.prices), providers, name);
  let quietHours: QuietHours = { ...DEFAULT_QUIET_HOURS, timeZone: c.timezone };
  if (c.quietHours) {
    const start = parseClock(c.quietHours.start);
    const end = parseClock(c.quietHours.end);
    if (start === null || end === null)
      throw new InputError(`${name}: quietHours: use HH:MM times, e.g. { start: "21:00", end: "08:00" }`, {
        key: 'err.config.quietHours',
        params: { file: name },
      });
    quietHours = { start, end, timeZone: c.timezone };
  }
  if (c.lang !== undefined && c.lang !== 'ko' && c.lang !== 'en')
    throw new InputError(`${name}: lang "${c.lang}": use ko or en`, {
      key: 'err.configLang',
      params: { file: name, value: c.lang },
    });
  try {
    new Intl.DateTimeFormat('en', { timeZone: c.timezone });
  } catch {
    throw new InputError(`${name}: timezone "${c.timezone}" is not a time zone (e.g. Asia/Seoul)`, {
      key: 'err.config.timezone',
      params: { file: name, value: c.timezone },
    });
  }
  return {
    file: source,
    label: name,
    journal: c.journal,
    from: c.from ?? null,
    timezone: c.timezone,
    lang: c.lang === 'ko' || c.lang === 'en' ? c.lang : null,
    providers,
    routes,
    prices,
    providerPrices,
    failoverAfterMs: c.failoverAfterMs,
    failbackAfterMs: c.failbackAfterMs ?? null,
    leaseMs: c.leaseMs,
    senders: c.senders?.map((x) => x.replace(/[\s\-.()]/g, '')) ?? null,
    senderName: c.senderName ?? null,
    quietHours,
    missingEnv,
  };
}

/** `A (journal), B (providers.x.apiKey)`: every unset variable, each with where it is used. */
export function unsetMessage(entries: [string, string][]): string {
  const names = entries.flatMap(([at, vars]) => vars.split(', ').map((v) => `${v} (${at})`));
  return `environment variable${names.length > 1 ? 's' : ''} not set: ${names.join(', ')}`;
}

/** `A (journal), B (providers.x.apiKey)`: the names of unsetMessage, for the translated line. */
export function unsetNames(entries: [string, string][]): string {
  return entries.flatMap(([at, vars]) => vars.split(', ').map((v) => `${v} (${at})`)).join(', ');
}

/** Where a `__proto__` key is (it would be lost, or change an object's prototype): refused, never read. */
function protoKey(value: unknown, at: string): string | null {
  if (!value || typeof value !== 'object') return null;
  for (const [k, v] of Object.entries(value)) {
    const here = at ? `${at}.${k}` : k;
    if (k === '__proto__') return here;
    const inner = protoKey(v, here);
    if (inner !== null) return inner;
  }
  return null;
}

function ownRecord<T>(from: Record<string, T>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const key of Object.keys(from)) out[key] = from[key]!;
  return out;
}

/** The closest of `names` to `word` (edit distance at most 2, or a third of its length), if any. */
function nearest(word: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const n of names) {
    const d = editDistance(word.toLowerCase(), n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return best;
}

/** Levenshtein distance, a swap of two neighbours counting as one edit (defualt -> default). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(
        d[i - 1]![j]! + 1,
        row[j - 1]! + 1,
        d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** Config keys whose values enter every message: a `${VAR}` there is a convenience, not a secret. */
const MESSAGE_CONTENT = /^(from|senderName|senders\[\d+\])$/;

function expandEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  at: string,
  missing: Map<string, string>,
): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        const before = missing.get(at);
        if (!before?.split(', ').includes(name)) missing.set(at, before ? `${before}, ${name}` : name);
        return '';
      }
      // what every recipient reads (the sender number and name) is message content, not a secret:
      // scrubbing it would hide from the operator the very text the dry run asks them to check
      if (!MESSAGE_CONTENT.test(at)) addSecret(v);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${at}[${i}]`, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, at ? `${at}.${k}` : k, missing)]),
    );
  }
  return value;
}

/** A configured provider's settings: own keys only (`constructor` is not a provider). */
export function providerConfig(config: Config, name: string): ProviderConfig | undefined {
  return Object.hasOwn(config.providers, name) ? config.providers[name] : undefined;
}

/**
 * A channel's route (DESIGN.md): `--provider` (which must be configured: every message goes there),
 * else routes.<channel>, else routes.default, else the only configured provider. Several providers
 * and no route for the channel: exit 2 naming it.
 */
export function routeFor(config: Config, channel: Channel, override?: string): Route {
  if (override !== undefined) {
    if (!providerConfig(config, override))
      throw new InputError(
        `--provider "${override}": not a configured provider (providers: ${Object.keys(config.providers).join(', ')})`,
        {
          key: 'err.providerFlag',
          params: { value: override, providers: Object.keys(config.providers).join(', ') },
        },
      );
    return { kind: 'one', providers: [override] };
  }
  const routed =
    (Object.hasOwn(config.routes, channel) ? config.routes[channel] : undefined) ??
    (Object.hasOwn(config.routes, 'default') ? config.routes.default : undefined);
  if (routed !== undefined) return routed;
  const names = Object.keys(config.providers);
  if (names.length === 1) return { kind: 'one', providers: [names[0]!] };
  throw new InputError(
    `${config.label}: the campaign sends ${channel}, which has no route: add routes.${channel} or routes.default (providers: ${names.join(', ')})`,
    { key: 'err.noRoute', params: { file: config.label, channel, providers: names.join(', ') } },
  );
}

/** The first provider of a channel's route (the one of a single-provider route, a failover list's primary). */
export function providerFor(config: Config, channel: Channel, override?: string): string {
  return routeFor(config, channel, override).providers[0]!;
}

/**
 * Every provider a send can use: --provider, or each one a route names, or the only one. The
 * channels without a route are checked against what the campaign plans (providerFor).
 */
export function reachableProviders(config: Config, override?: string): string[] {
  if (override !== undefined) return [providerFor(config, 'sms', override)];
  const names = new Set(Object.values(config.routes).flatMap((r) => r.providers));
  const all = Object.keys(config.providers);
  if (!Object.hasOwn(config.routes, 'default') && all.length === 1) names.add(all[0]!);
  return [...names];
}

/** A provider's price for one part of a message of this channel (an RCS kind's key, else `rcs`): its own, else the channel's. */
export function priceFor(
  config: Pick<Config, 'prices' | 'providerPrices'>,
  provider: string,
  key: keyof Prices,
): number {
  const own = Object.hasOwn(config.providerPrices, provider) ? config.providerPrices[provider]! : {};
  const rcsBase = key.startsWith('rcs') ? 'rcs' : key;
  return (
    own[key] ??
    (key !== rcsBase ? config.prices[key] : undefined) ??
    own[rcsBase as keyof Prices] ??
    config.prices[rcsBase as keyof Prices] ??
    0
  );
}

/**
 * A route's value: `solapi`; `[carrier, solapi]` (failover, in order); `{ split: { solapi: 70, nhn: 30 } }`;
 * `{ cheapest: [solapi, nhn] }`. Anything else is one clear line (`at` names the file and key).
 */
export function parseRoute(value: unknown, at: string): Route {
  const listOf = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || v.length === 0)
      throw InputError.of('cfg.route.listEmpty', { at, what: listName(what) });
    for (const x of v)
      if (typeof x !== 'string' || x === '')
        throw InputError.of('cfg.route.listNames', { at, what: listName(what) });
    const dup = v.find((x, i) => v.indexOf(x) !== i);
    if (dup !== undefined) throw InputError.of('cfg.route.twice', { at, dup: String(dup) });
    return v as string[];
  };
  if (typeof value === 'string') {
    if (!value) throw InputError.of('cfg.route.empty', { at });
    return { kind: 'one', providers: [value] };
  }
  if (Array.isArray(value)) {
    const providers = listOf(value, 'a failover list');
    return { kind: providers.length === 1 ? 'one' : 'failover', providers };
  }
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const v = value as Record<string, unknown>;
    if (keys.length === 1 && keys[0] === 'cheapest')
      return { kind: 'cheapest', providers: listOf(v.cheapest, 'cheapest') };
    if (keys.length === 1 && keys[0] === 'split') {
      const split = v.split;
      if (!split || typeof split !== 'object' || Array.isArray(split) || Object.keys(split).length === 0)
        throw InputError.of('cfg.route.split', { at });
      const providers: string[] = [];
      const weights: number[] = [];
      for (const [p, w] of Object.entries(split)) {
        if (typeof w !== 'number' || !Number.isInteger(w) || w <= 0)
          throw InputError.of('cfg.route.weight', { at, p });
        providers.push(p);
        weights.push(w);
      }
      return { kind: 'split', providers, weights };
    }
  }
  throw InputError.of('cfg.route.form', { at });
}

/** `a failover list` or `cheapest`, as a route error names the list. */
function listName(what: string): Msg {
  return { key: what === 'cheapest' ? 'cfg.route.cheapest' : 'cfg.route.failoverList', en: what };
}

/** `prices:` channel keys are the defaults; a configured provider's name holds that provider's own. */
function parsePrices(
  given: Record<string, unknown>,
  providers: Record<string, ProviderConfig>,
  name: string,
): { prices: Prices; providerPrices: Record<string, Partial<Prices>> } {
  const keys = [...CHANNELS, ...RCS_PRICE_KEYS] as readonly string[];
  const price = (v: unknown, at: string): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw InputError.of('cfg.price', { file: name, at });
    return v;
  };
  const prices: Prices = { ...DEFAULT_PRICES };
  const providerPrices = Object.create(null) as Record<string, Partial<Prices>>;
  for (const [key, v] of Object.entries(given)) {
    if (keys.includes(key)) {
      // the finer RCS keys stay unset unless given: an unset one falls back to the rcs price
      prices[key as keyof Prices] = price(v, key);
    } else if (Object.hasOwn(providers, key)) {
      if (!v || typeof v !== 'object' || Array.isArray(v))
        throw InputError.of('cfg.providerPrices', { file: name, key });
      const own: Partial<Prices> = {};
      for (const [k, p] of Object.entries(v)) {
        if (!keys.includes(k))
          throw InputError.of('cfg.priceChannel', { file: name, key, k, keys: keys.join(', ') });
        own[k as keyof Prices] = price(p, `${key}.${k}`);
      }
      providerPrices[key] = own;
    } else {
      throw InputError.of('cfg.priceKey', {
        file: name,
        key,
        channels: CHANNELS.join(', '),
        providers: Object.keys(providers).join(', '),
      });
    }
  }
  return { prices, providerPrices };
}

/** True when the provider the name stands for is the built-in simulator (a name no longer configured: the built-in one's name). */
export function isSimulator(config: Config | undefined, name: string): boolean {
  const pc = config ? providerConfig(config, name) : undefined;
  return pc ? pc.type === 'sim' : name === 'sim';
}
