import { InputError } from '../campaign/errors.js';
import type { ProviderConfig } from '../config/config.js';
import type { Provider, ProviderContext, ProviderFactory } from './types.js';

/**
 * Provider types by name: adding a provider is one folder and one line here. Loaded when a campaign
 * uses them: every `ums` command starts without the SMPP codec or the HTTP client it does not need.
 */
const FACTORIES: Record<string, () => Promise<ProviderFactory>> = {
  sim: async () => (await import('./sim/index.js')).createSimProvider,
  smpp: async () => (await import('./smpp/index.js')).createSmppProvider,
  solapi: async () => (await import('./solapi/index.js')).createSolapiProvider,
};

export async function createProvider(name: string, config: ProviderConfig, ctx: ProviderContext): Promise<Provider> {
  const load = FACTORIES[config.type];
  if (!load) throw new InputError(`providers.${name}.type "${config.type}": unknown provider type (known: ${Object.keys(FACTORIES).join(', ')})`);
  return (await load())(name, config, ctx);
}
