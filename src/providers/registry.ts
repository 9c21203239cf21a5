import type { ProviderConfig } from '../config/config.js';
import { parseProviderSettings } from '../config/issues.js';
import { InputError } from '../errors.js';
import { nhnModule } from './nhn/index.js';
import { simModule } from './sim/index.js';
import { smppModule } from './smpp/index.js';
import { solapiModule } from './solapi/index.js';
import type { Provider, ProviderContext, ProviderImageLimits, ProviderModule } from './types.js';

/** Every provider type ums knows: adding a provider is one folder and one line here. */
export const PROVIDER_MODULES: readonly ProviderModule[] = [simModule, smppModule, solapiModule, nhnModule];

// --- thin look-ups over the list ----------------------------------------------------------------

export const PROVIDER_TYPES: readonly string[] = PROVIDER_MODULES.map((m) => m.type);

/** The module of provider type `type`, or undefined. */
export function providerModule(type: unknown): ProviderModule | undefined {
  return PROVIDER_MODULES.find((m) => m.type === type);
}

/** The images provider type `type` takes (nothing for an unknown type). */
export function imageLimits(type: string): ProviderImageLimits {
  return providerModule(type)?.limits.images ?? {};
}

/** Whether a provider's settings ask for delivery reports (an unknown provider: assumed yes). */
export function asksForReports(config: ProviderConfig | undefined): boolean {
  if (!config) return true;
  return providerModule(config.type)?.asksForReports?.(config) ?? true;
}

function moduleOf(name: string, config: ProviderConfig): ProviderModule {
  const m = providerModule(config.type);
  if (!m)
    throw InputError.of('err.providerType', {
      name,
      type: String(config.type),
      known: PROVIDER_TYPES.join(', '),
    });
  return m;
}

/** A URL with a user or password in it (`https://user:pass@host`): credentials belong in their own settings, from the environment. */
const URL_WITH_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i;

/**
 * A provider's settings checked as it would check them, without connecting: an InputError
 * `providers.<name>.<key>: <what is wrong>` (the caller names the file). No value is ever quoted.
 */
export function checkProviderConfig(name: string, config: ProviderConfig): void {
  const m = moduleOf(name, config);
  for (const [key, value] of Object.entries(config)) {
    if (typeof value === 'string' && URL_WITH_CREDENTIALS.test(value.trim())) {
      throw InputError.of('err.urlCredentials', { name, key });
    }
  }
  parseProviderSettings(m.configSchema, name, config);
}

/**
 * The parts per second a lane on this provider is paced at (0: unlimited), from its settings as
 * checked (defaults filled), without connecting; `override` is --tps.
 */
export function laneTps(name: string, config: ProviderConfig, override?: number): number {
  if (override !== undefined) return override;
  const m = moduleOf(name, config);
  const parsed = parseProviderSettings(m.configSchema, name, config) as Record<string, unknown>;
  if (m.tps) return m.tps(parsed);
  return typeof parsed.tps === 'number' ? parsed.tps : 0;
}

export async function createProvider(
  name: string,
  config: ProviderConfig,
  ctx: ProviderContext,
): Promise<Provider> {
  checkProviderConfig(name, config);
  return moduleOf(name, config).create(name, config, ctx);
}
