import type { ProviderModule } from '../types.js';
import { solapiConfigSchema } from './config.js';
import { SOLAPI_LIMITS } from './limits.js';
import { solapiWebhook } from './webhook.js';

/** Solapi (type: solapi): SMS, LMS, MMS, AlimTalk and RCS over one HTTP API; reports by polling and webhook. */
export const solapiModule: ProviderModule = {
  type: 'solapi',
  configSchema: solapiConfigSchema,
  limits: SOLAPI_LIMITS,
  create: async (name, config, ctx) =>
    (await import('./provider.js')).createSolapiProvider(name, config, ctx),
  webhook: solapiWebhook,
};
