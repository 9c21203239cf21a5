import { z } from 'zod';
import { parseProviderSettings } from '../../config/issues.js';

const byte = z.number().int().min(0).max(255);

/** One bind of several: what it leaves out is the provider's (host, port, systemId, password, tps, window). */
const bindSchema = z
  .object({
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    systemId: z.string().min(1).optional(),
    /** from the environment (`"${SMPP_PASSWORD_2}"`); never printed */
    password: z.string().optional(),
    /** this bind's rate in parts per second (0 = unlimited) */
    tps: z.number().nonnegative().optional(),
    /** submit_sm in flight on this bind */
    window: z.number().int().positive().max(1000).optional(),
  })
  .strict();

export const smppConfigSchema = z
  .object({
    type: z.literal('smpp'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(2775),
    systemId: z.string().min(1),
    /** from the environment (`"${SMPP_PASSWORD}"`); never printed */
    password: z.string(),
    systemType: z.string().default(''),
    serviceType: z.string().default(''),
    /** each bind's rate in parts per second (0 = unlimited); the lane's is their sum */
    tps: z.number().nonnegative().default(50),
    /**
     * headroom for the SMSC's clock (ms over a second): the lane's pacer, the only one, counts 5 ms
     * itself and runs at tps x 1005 / (1000 + rateGuardMs) when this is more (for an SMSC whose
     * stalls bunch arrivals); with several binds, each bind's cap counts it over its second too
     */
    rateGuardMs: z.number().int().min(0).max(1000).default(5),
    /** submit_sm in flight per connection (per bind) */
    window: z.number().int().positive().max(1000).default(10),
    /**
     * several binds (carriers hand out N, each with its own TPS and window): a count of binds like
     * the provider's, or a list of them, each taking what it leaves out from the provider
     */
    binds: z.union([z.number().int().min(1).max(64), z.array(bindSchema).min(1).max(64)]).optional(),
    sourceTon: byte.default(0),
    sourceNpi: byte.default(1),
    destTon: byte.default(0),
    destNpi: byte.default(1),
    /** sender when the campaign has none */
    sourceAddr: z.string().optional(),
    /** KS C 5601 (0x0E) or UCS-2 (0x08); international numbers and non-KS X 1001 text always go as UCS-2 */
    dataCoding: z.enum(['ucs2', 'ksc5601']).default('ksc5601'),
    /** long texts: UDH concatenation, one message_payload, or sar_* TLVs */
    longMessages: z.enum(['udh', 'payload', 'sar']).default('udh'),
    udhRefBits: z.union([z.literal(8), z.literal(16)]).default(8),
    /** how the SMSC writes message ids in submit_sm_resp */
    idFormat: z.enum(['hex', 'dec']).default('hex'),
    enquireLinkMs: z.number().int().positive().default(30_000),
    /** every request's answer timer (bind, submit_sm, enquire_link) */
    requestTimeoutMs: z.number().int().positive().default(10_000),
    /** a submit that finds no bound connection for this long is answered "unavailable" (nothing left) */
    unavailableAfterMs: z.number().int().positive().default(10_000),
    /**
     * longest pause between reconnects: short enough that a link back after an outage is found well
     * within the engine's 60 s give-up (with 30 s, a 30 s outage was rebound only after 51-64 s)
     */
    reconnectMaxMs: z.number().int().positive().default(8_000),
    registeredDelivery: z.boolean().default(true),
    /** most submissions of one message that may have reached the provider, across runs; then it is unknown */
    maxSubmits: z.number().int().min(1).max(100).default(5),
    /** how long a run waits at its end for receipts (ms) */
    reportWaitMs: z.number().int().nonnegative().default(5_000),
    /** the time zone of the receipts' dates (unconfirmed: Korean carriers write local time) */
    receiptUtcOffset: z
      .string()
      .regex(/^[+-]\d{2}:\d{2}$/)
      .default('+09:00'),
    /** MO texts that put the sender on the suppression list */
    optoutWords: z.array(z.string().min(1)).default(['수신거부', '거부', 'STOP']),
  })
  .strict();

export type SmppConfig = z.infer<typeof smppConfigSchema>;

export interface SmppBind {
  host: string;
  port: number;
  systemId: string;
  password: string;
  tps: number;
  window: number;
}

/** The binds a provider opens: `binds` filled in from the provider's own settings (one when unset). */
export function smppBinds(cfg: SmppConfig): SmppBind[] {
  const base: SmppBind = {
    host: cfg.host,
    port: cfg.port,
    systemId: cfg.systemId,
    password: cfg.password,
    tps: cfg.tps,
    window: cfg.window,
  };
  if (cfg.binds === undefined) return [base];
  if (typeof cfg.binds === 'number') return Array.from({ length: cfg.binds }, () => ({ ...base }));
  return cfg.binds.map((b) => ({
    host: b.host ?? base.host,
    port: b.port ?? base.port,
    systemId: b.systemId ?? base.systemId,
    password: b.password ?? base.password,
    tps: b.tps ?? base.tps,
    window: b.window ?? base.window,
  }));
}

/** providers.<name> as SMPP settings, or an InputError `providers.<name>.<key>: <what is wrong>`. */
export function parseSmppConfig(name: string, config: Record<string, unknown>): SmppConfig {
  return parseProviderSettings(smppConfigSchema, name, config);
}

/** registeredDelivery: false asks the SMSC for no receipts: the messages stay `sent`. */
export function smppAsksForReports(config: Record<string, unknown>): boolean {
  return config.registeredDelivery !== false;
}
