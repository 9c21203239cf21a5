import { InputError } from '../campaign/errors.js';
import type { ProviderConfig } from '../config/config.js';
import { createSimProvider } from './sim/index.js';
import { createSmppProvider } from './smpp/index.js';
import { createSolapiProvider } from './solapi/index.js';
import type { Provider, ProviderContext, ProviderFactory } from './types.js';

/** Provider types by name: adding a provider is one folder and one line here. */
const FACTORIES: Record<string, ProviderFactory> = {
  sim: createSimProvider,
  smpp: createSmppProvider,
  solapi: createSolapiProvider,
};

export function createProvider(name: string, config: ProviderConfig, ctx: ProviderContext): Provider {
  const factory = FACTORIES[config.type];
  if (!factory) throw new InputError(`providers.${name}.type "${config.type}": unknown provider type (known: ${Object.keys(FACTORIES).join(', ')})`);
  return factory(name, config, ctx);
}
