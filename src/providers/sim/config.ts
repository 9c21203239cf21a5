import { z } from 'zod';
import { parseProviderSettings } from '../../config/issues.js';

/** The simulator's settings (providers.<name> with type: sim); checked without starting anything. */
export const simConfigSchema = z
  .object({
    type: z.literal('sim'),
    /** the lane's rate, parts per second; 0 = unlimited */
    tps: z.number().nonnegative().default(200),
    /** the rate the simulated carrier enforces (over it: throttled); default = tps */
    carrierTps: z.number().nonnegative().optional(),
    maxBatch: z.number().int().positive().max(10000).default(1000),
    latencyMs: z.number().nonnegative().default(2),
    /** per submission: fraction answered 429 / 503 / accepted-then-no-answer */
    throttleRate: z.number().min(0).max(1).default(0),
    unavailableRate: z.number().min(0).max(1).default(0),
    ambiguousRate: z.number().min(0).max(1).default(0),
    /** per message: failure code -> fraction whose delivery report fails with it */
    failureRates: z.record(z.string(), z.number().min(0).max(1)).default({}),
    dlrDelayMs: z.number().nonnegative().default(50),
    seed: z.number().int().default(1),
    /** the carrier's own log of what it accepted (default: beside the journal) */
    store: z.string().optional(),
    /** most submissions of one message that may have reached the provider, across runs; then it is unknown */
    maxSubmits: z.number().int().min(1).max(100).default(5),
    /** while this file exists the carrier is down (503 for everything): pull the plug from outside */
    outageFile: z.string().optional(),
  })
  .strict();

export type SimConfig = z.infer<typeof simConfigSchema>;

/** providers.<name> as sim settings, or an InputError `providers.<name>.<key>: <what is wrong>`. */
export function parseSimConfig(name: string, config: Record<string, unknown>): SimConfig {
  return parseProviderSettings(simConfigSchema, name, config);
}
