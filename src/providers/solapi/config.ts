import { z } from 'zod';
import { parseProviderSettings } from '../../config/issues.js';

/** Solapi's settings (providers.<name> with type: solapi); checked without connecting. */
export const solapiConfigSchema = z
  .object({
    type: z.literal('solapi'),
    apiKey: z.string().min(1, 'is empty (set it, or the environment variable it names)'),
    apiSecret: z.string().min(1, 'is empty (set it, or the environment variable it names)'),
    baseUrl: z.string().url().default('https://api.solapi.com'),
    /** the lane's rate in parts per second */
    tps: z.number().positive().default(100),
    /** messages per send-many request (Solapi takes up to 10,000) */
    batchSize: z.number().int().positive().max(10000).default(1000),
    /** how long a request may go unanswered before its outcome is ambiguous */
    timeoutMs: z.number().int().positive().default(30_000),
    /** requests in flight at once on a lane */
    window: z.number().int().positive().optional(),
    /** checked by `ums listen` on webhook POSTs (in the path or the X-Webhook-Secret header) */
    webhookSecret: z.string().optional(),
    allowDuplicates: z.boolean().default(false),
    /** most submissions of one message that may have reached the provider, across runs; then it is unknown */
    maxSubmits: z.number().int().min(1).max(100).default(5),
    /** messages per page when listing (lookups, report polling) */
    pageSize: z.number().int().min(1).max(500).default(500),
  })
  .strict();

export type SolapiConfig = z.infer<typeof solapiConfigSchema>;

/** providers.<name> as Solapi settings, or an InputError `providers.<name>.<key>: <what is wrong>`. */
export function parseSolapiConfig(name: string, config: Record<string, unknown>): SolapiConfig {
  return parseProviderSettings(solapiConfigSchema, name, config);
}
