import type { ProviderModule } from '../types.js';
import { nhnConfigSchema } from './config.js';
import { NHN_LIMITS } from './limits.js';
import { nhnWebhook } from './webhook.js';

/** NHN Cloud (type: nhn): SMS v3.0 (SMS, LMS, MMS, ads) and KakaoTalk Bizmessage AlimTalk v2.3; reports by polling and webhook. */
export const nhnModule: ProviderModule = {
  type: 'nhn',
  configSchema: nhnConfigSchema,
  limits: NHN_LIMITS,
  create: async (name, config, ctx) => (await import('./provider.js')).createNhnProvider(name, config, ctx),
  webhook: nhnWebhook,
};
