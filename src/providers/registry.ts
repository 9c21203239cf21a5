import type { ProviderConfig } from '../config/config.js';
import { InputError } from '../errors.js';
import { parseNhnConfig } from './nhn/config.js';
import { NHN_IMAGE_LIMITS } from './nhn/limits.js';
import { parseSimConfig } from './sim/config.js';
import { SIM_IMAGE_LIMITS } from './sim/limits.js';
import { parseSmppConfig } from './smpp/config.js';
import { parseSolapiConfig } from './solapi/config.js';
import { SOLAPI_IMAGE_LIMITS } from './solapi/limits.js';
import type { Provider, ProviderContext, ProviderFactory, ProviderImageLimits } from './types.js';

interface ProviderType {
  /** the settings checked, without connecting or loading the provider's module */
  check: (name: string, config: Record<string, unknown>) => unknown;
  /** loaded when a campaign uses it: every `ums` command starts without the SMPP codec or the HTTP client it does not need */
  load: () => Promise<ProviderFactory>;
  /** the images it takes (none: it cannot send MMS or RCS images) */
  images?: ProviderImageLimits;
}

/** Provider types by name: adding a provider is one folder and one entry here. */
const TYPES: Record<string, ProviderType> = Object.assign(
  Object.create(null) as Record<string, ProviderType>,
  {
    sim: {
      check: parseSimConfig,
      load: async () => (await import('./sim/index.js')).createSimProvider,
      images: SIM_IMAGE_LIMITS,
    },
    nhn: {
      check: parseNhnConfig,
      load: async () => (await import('./nhn/index.js')).createNhnProvider,
      images: NHN_IMAGE_LIMITS,
    },
    smpp: { check: parseSmppConfig, load: async () => (await import('./smpp/index.js')).createSmppProvider },
    solapi: {
      check: parseSolapiConfig,
      load: async () => (await import('./solapi/index.js')).createSolapiProvider,
      images: SOLAPI_IMAGE_LIMITS,
    },
  },
);

export const PROVIDER_TYPES: readonly string[] = Object.keys(TYPES);

/** The images provider type `type` takes (nothing for an unknown type). */
export function imageLimits(type: string): ProviderImageLimits {
  return (Object.hasOwn(TYPES, type) ? TYPES[type]!.images : undefined) ?? {};
}

function typeOf(name: string, config: ProviderConfig): ProviderType {
  const t =
    typeof config.type === 'string' && Object.hasOwn(TYPES, config.type) ? TYPES[config.type] : undefined;
  if (!t)
    throw new InputError(
      `providers.${name}.type: unknown provider type "${String(config.type)}" (known: ${PROVIDER_TYPES.join(', ')})`,
    );
  return t;
}

/** A URL with a user or password in it (`https://user:pass@host`): credentials belong in their own settings, from the environment. */
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i;

/**
 * A provider's settings checked as it would check them, without connecting: an InputError
 * `providers.<name>.<key>: <what is wrong>` (the caller names the file). No value is ever quoted.
 */
export function checkProviderConfig(name: string, config: ProviderConfig): void {
  const t = typeOf(name, config);
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === 'string' && URL_WITH_CREDENTIALS.test(value.trim())) {
      throw new InputError(
        `providers.${name}.${key}: a URL must not carry credentials (user:password@); put them in the provider's own settings, from the environment`,
      );
    }
  }
  t.check(name, config);
}

export async function createProvider(
  name: string,
  config: ProviderConfig,
  ctx: ProviderContext,
): Promise<Provider> {
  checkProviderConfig(name, config);
  return (await typeOf(name, config).load())(name, config, ctx);
}
