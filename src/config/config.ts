import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { InputError } from '../campaign/errors.js';
import { MAX_CONFIG_BYTES, readInputFile } from '../input/readableFile.js';
import { QUOTE_NUMBER } from '../campaign/template.js';
import { DEFAULT_QUIET_HOURS, parseClock, type QuietHours } from '../campaign/quietHours.js';
import { CHANNELS, DEFAULT_PRICES, RCS_PRICE_KEYS, type Channel, type Prices } from '../campaign/types.js';

const providerSchema = z.object({ type: z.string().min(1), tps: z.number().nonnegative().optional() }).passthrough();

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
    providers: z.record(z.string(), providerSchema).default({ sim: { type: 'sim', tps: 200 } }),
    routes: z.record(z.string(), z.string()).default({}),
    prices: z.object(Object.fromEntries([...CHANNELS, ...RCS_PRICE_KEYS].map((c) => [c, z.number().nonnegative().optional()]))).strict().default({}),
  })
  .strict();

export type ProviderConfig = z.infer<typeof providerSchema>;

export interface Config {
  /** where the config came from, or null for the built-in defaults */
  file: string | null;
  journal: string;
  from: string | null;
  timezone: string;
  providers: Record<string, ProviderConfig>;
  /** channel (or "default") -> provider name */
  routes: Record<string, string>;
  prices: Prices;
  senders: string[] | null;
  senderName: string | null;
  quietHours: QuietHours;
  /** config paths whose ${VAR} was not set: an error only if that provider is used */
  missingEnv: Map<string, string>;
}

/**
 * Load the config: --config, else $UMS_CONFIG, else ./ums.config.yaml, else the built-in
 * defaults (the sim provider). ${VAR} is expanded from `env`.
 */
export function loadConfig(explicit: string | undefined, env: NodeJS.ProcessEnv, cwd: string): Config {
  const chosen = explicit ?? env['UMS_CONFIG'];
  const file = chosen ? path.resolve(cwd, chosen) : path.join(cwd, 'ums.config.yaml');
  let raw: unknown = {};
  let source: string | null = null;
  // the default file is optional; one named by --config or UMS_CONFIG must exist
  if (chosen || fs.existsSync(file)) {
    source = file;
    const bytes = readInputFile(file, { what: 'config file', name: chosen ?? 'ums.config.yaml', maxBytes: MAX_CONFIG_BYTES, allowEmpty: true });
    const text = bytes.toString('utf8');
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: false, lineCounter });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      throw new InputError(`${chosen ?? 'ums.config.yaml'} line ${lineCounter.linePos(problem.pos[0]).line}: ${problem.message.split('\n')[0]}`);
    }
    try {
      raw = doc.toJS({ maxAliasCount: 50 }) ?? {};
    } catch (err) {
      // an alias bomb ("billion laughs") and the like: refused, never expanded
      throw new InputError(`${chosen ?? 'ums.config.yaml'}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const missingEnv = new Map<string, string>();
  const expanded = expandEnv(raw, env, '', missingEnv);
  const parsed = configSchema.safeParse(expanded);
  const name = chosen ?? 'ums.config.yaml';
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.code === 'unrecognized_keys' ? [...issue.path, ...(issue as { keys: string[] }).keys].join('.') : issue.path.join('.');
    throw new InputError(`${name}: ${key ? `"${key}": ` : ''}${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}`);
  }
  const c = parsed.data;
  const prices: Prices = { ...DEFAULT_PRICES };
  // the finer RCS keys stay unset unless given: an unset one falls back to the rcs price
  for (const key of [...CHANNELS, ...RCS_PRICE_KEYS]) {
    const p = (c.prices as Partial<Record<keyof Prices, number>>)[key];
    if (p !== undefined) prices[key] = p;
  }
  const providers: Record<string, ProviderConfig> = { sim: { type: 'sim', tps: 200 }, ...c.providers };
  for (const [route, provider] of Object.entries(c.routes)) {
    if (!providers[provider]) throw new InputError(`${name}: routes.${route} names provider "${provider}", which is not under providers:`);
  }
  let quietHours: QuietHours = { ...DEFAULT_QUIET_HOURS, timeZone: c.timezone };
  if (c.quietHours) {
    const start = parseClock(c.quietHours.start);
    const end = parseClock(c.quietHours.end);
    if (start === null || end === null) throw new InputError(`${name}: quietHours: use HH:MM times, e.g. { start: "21:00", end: "08:00" }`);
    quietHours = { start, end, timeZone: c.timezone };
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: c.timezone });
  } catch {
    throw new InputError(`${name}: timezone "${c.timezone}" is not a time zone (e.g. Asia/Seoul)`);
  }
  return {
    file: source,
    journal: c.journal,
    from: c.from ?? null,
    timezone: c.timezone,
    providers,
    routes: c.routes,
    prices,
    senders: c.senders?.map((x) => x.replace(/[\s\-.()]/g, '')) ?? null,
    senderName: c.senderName ?? null,
    quietHours,
    missingEnv,
  };
}

function expandEnv(value: unknown, env: NodeJS.ProcessEnv, at: string, missing: Map<string, string>): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        missing.set(at, name);
        return '';
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandEnv(v, env, `${at}[${i}]`, missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandEnv(v, env, at ? `${at}.${k}` : k, missing)]));
  }
  return value;
}

/** The provider a channel is routed to. */
export function providerFor(config: Config, channel: Channel, override?: string): string {
  return override ?? config.routes[channel] ?? config.routes['default'] ?? 'sim';
}
