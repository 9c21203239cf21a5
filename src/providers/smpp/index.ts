import type { ProviderModule } from '../types.js';
import { type SmppConfig, smppAsksForReports, smppBinds, smppConfigSchema } from './config.js';

/** SMPP 3.4 (type: smpp): a direct carrier or aggregator link; SMS and LMS text, receipts and replies (MO) pushed. */
export const smppModule: ProviderModule = {
  type: 'smpp',
  configSchema: smppConfigSchema,
  /** text only: no images, no AlimTalk, no RCS */
  limits: { images: {} },
  asksForReports: smppAsksForReports,
  /** the binds' rates together (one bind at 0: unlimited), as the provider paces them */
  tps: (config) => {
    const binds = smppBinds(config as SmppConfig);
    return binds.some((b) => b.tps <= 0) ? 0 : binds.reduce((n, b) => n + b.tps, 0);
  },
  create: async (name, config, ctx) => (await import('./provider.js')).createSmppProvider(name, config, ctx),
};
