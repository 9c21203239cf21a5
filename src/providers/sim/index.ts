import type { ProviderModule } from '../types.js';
import { simConfigSchema } from './config.js';
import { SIM_LIMITS } from './limits.js';

/** The built-in simulated carrier (type: sim): behaves like one, sends nothing. */
export const simModule: ProviderModule = {
  type: 'sim',
  configSchema: simConfigSchema,
  limits: SIM_LIMITS,
  create: async (name, config, ctx) => (await import('./provider.js')).createSimProvider(name, config, ctx),
};
