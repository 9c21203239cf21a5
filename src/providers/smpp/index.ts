import type { ProviderModule } from '../types.js';
import { smppAsksForReports, smppConfigSchema } from './config.js';

/** SMPP 3.4 (type: smpp): a direct carrier or aggregator link; SMS and LMS text, receipts and replies (MO) pushed. */
export const smppModule: ProviderModule = {
  type: 'smpp',
  configSchema: smppConfigSchema,
  /** text only: no images, no AlimTalk, no RCS */
  limits: { images: {} },
  asksForReports: smppAsksForReports,
  create: async (name, config, ctx) => (await import('./provider.js')).createSmppProvider(name, config, ctx),
};
