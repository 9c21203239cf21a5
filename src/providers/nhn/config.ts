import { z } from 'zod';
import { parseProviderSettings } from '../../config/issues.js';

/** NHN Cloud's settings (providers.<name> with type: nhn); checked without connecting. */
export const nhnConfigSchema = z
  .object({
    type: z.literal('nhn'),
    /** the appKey (it goes in the path of every request) */
    appKey: z.string().min(1, 'is empty (set it, or the environment variable it names)'),
    /** sent as X-Secret-Key */
    secretKey: z.string().min(1, 'is empty (set it, or the environment variable it names)'),
    /** the KakaoTalk sender profile's key (AlimTalk); default: the template's pfId */
    senderKey: z.string().min(1).optional(),
    /** SMS API host */
    baseUrl: z.string().url().default('https://sms.api.nhncloudservice.com'),
    /** KakaoTalk Bizmessage API host */
    alimtalkBaseUrl: z.string().url().default('https://kakaotalk-bizmessage.api.nhncloudservice.com'),
    /** the lane's rate in parts per second */
    tps: z.number().positive().default(50),
    /** recipients per request (NHN takes up to 1,000) */
    batchSize: z.number().int().positive().max(1000).default(1000),
    /** how long a request may go unanswered before its outcome is ambiguous */
    timeoutMs: z.number().int().positive().default(30_000),
    /** requests in flight at once on a lane */
    window: z.number().int().positive().optional(),
    /** the static X-Toast-Webhook-Signature set in NHN's console (checked by a webhook receiver) */
    webhookSignature: z.string().optional(),
    /** most submissions of one message that may have reached the provider, across runs; then it is unknown */
    maxSubmits: z.number().int().min(1).max(100).default(5),
    /** rows per page when searching (lookups, report polling); NHN allows 1,000 */
    pageSize: z.number().int().min(1).max(1000).default(1000),
  })
  .strict();

export type NhnConfig = z.infer<typeof nhnConfigSchema>;

/** providers.<name> as NHN settings, or an InputError `providers.<name>.<key>: <what is wrong>`. */
export function parseNhnConfig(name: string, config: Record<string, unknown>): NhnConfig {
  return parseProviderSettings(nhnConfigSchema, name, config);
}
