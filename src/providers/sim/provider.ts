import fs from 'node:fs';
import { sleep } from '../../time/sleep.js';
import { sideStoreOf } from '../sideFiles.js';
import type {
  DeliveryReport,
  MessageOutcome,
  OutboundMessage,
  Provider,
  ProviderContext,
  ReportBatch,
  SubmitResult,
} from '../types.js';
import { type AcceptedRecord, CarrierLog } from './carrierLog.js';
import { parseSimConfig, type SimConfig } from './config.js';
import { prng } from './prng.js';

/**
 * Test numbers: 010-0CCC-Cnnn (any nnn) always ends with code CCCC, e.g. 010-0310-4001 is "not a
 * KakaoTalk user". 1xxx: refused at intake (1061 = opted out); 3xxx: accepted, then the delivery
 * report fails with CCCC (31xx only on AlimTalk/RCS). No real Korean mobile number starts 010-0.
 */
export const SIM_TEST_NUMBER = /^0100(\d{4})\d{3}$/;

export const SIM_CODES: Record<string, string> = {
  '1026': 'duplicate recipient',
  '1029': 'characters outside EUC-KR',
  '1061': 'recipient opted out (080 수신거부)',
  '1062': 'unregistered sender number',
  '3032': 'not a subscriber',
  '3040': 'carrier timeout',
  '3104': 'not a KakaoTalk user',
  '3107': 'KakaoTalk blocked or inactive',
  '4000': 'delivered',
};

function hashKey(seed: number, key: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296;
}

/** The built-in simulated carrier: behaves like one (rate limit, failures, late reports), sends nothing. */
export class SimProvider implements Provider {
  readonly maxBatch: number;
  readonly tps: number;
  readonly maxSubmits: number;
  private readonly cfg: SimConfig;
  private readonly log: CarrierLog;
  private readonly random: () => number;
  /** failure code and fraction, as configured */
  private readonly failureRates: [string, number][];
  /**
   * The simulated CARRIER's count of parts in the last 1,000 ms: it judges (over the rate: throttled),
   * it never paces or waits, so it is not time/rate.ts, ums's own limiter, on purpose: the test of
   * that limiter is whether this count, kept independently as a carrier would, ever objects.
   */
  private readonly rateWindow: { at: number; parts: number }[] = [];
  private windowParts = 0;
  private reportTimer: NodeJS.Timeout | null = null;
  private pushing = false;
  /** the carrier's clock: the injected one (UMS_NOW) when given, so its log shows the time ums saw */
  private readonly clock: () => number;

  constructor(
    readonly name: string,
    cfg: SimConfig,
    ctx: ProviderContext,
  ) {
    this.cfg = cfg;
    this.maxBatch = cfg.maxBatch;
    this.tps = ctx.tps ?? cfg.tps;
    this.maxSubmits = cfg.maxSubmits;
    this.random = prng(cfg.seed);
    this.failureRates = Object.entries(cfg.failureRates);
    this.clock = ctx.now ? () => ctx.now!().getTime() : Date.now;
    this.log = new CarrierLog(sideStoreOf(ctx).log(cfg.store ?? `sim-${name}.jsonl`));
  }

  get reportWaitMs(): number {
    return Math.min(10_000, this.cfg.dlrDelayMs * 2 + 500);
  }

  get storeFile(): string {
    return this.log.file;
  }

  async submit(batch: OutboundMessage[]): Promise<SubmitResult> {
    // Stamped when the request leaves ums: the carrier's rate window is free of simulated jitter.
    const now = this.clock();
    if (this.cfg.outageFile && fs.existsSync(this.cfg.outageFile)) {
      if (this.cfg.latencyMs > 0) await sleep(this.cfg.latencyMs);
      return { kind: 'unavailable', message: '503 Service Unavailable (simulated outage)' };
    }
    const roll = this.random();
    const carrierTps = this.cfg.carrierTps ?? this.cfg.tps;
    const parts = batch.reduce((n, m) => n + m.parts, 0);
    let overRate = false;
    if (carrierTps > 0 && roll >= this.cfg.unavailableRate) {
      while (this.rateWindow.length && this.rateWindow[0]!.at <= now - 1000)
        this.windowParts -= this.rateWindow.shift()!.parts;
      overRate = this.windowParts + parts > carrierTps;
      if (!overRate) {
        this.rateWindow.push({ at: now, parts });
        this.windowParts += parts;
      }
    }
    if (this.cfg.latencyMs > 0) await sleep(this.cfg.latencyMs * (0.5 + this.random()));
    if (roll < this.cfg.unavailableRate)
      return { kind: 'unavailable', message: '503 Service Unavailable (simulated)' };
    if (overRate) return { kind: 'throttled', message: `over the carrier's ${carrierTps} parts/s` };
    if (roll < this.cfg.unavailableRate + this.cfg.throttleRate)
      return { kind: 'throttled', message: '429 Too Many Requests (simulated)' };
    const outcomes: MessageOutcome[] = [];
    const accepted: AcceptedRecord[] = [];
    for (const m of batch) {
      const code = SIM_TEST_NUMBER.exec(m.to)?.[1];
      if (code?.startsWith('1')) {
        outcomes.push({
          kind: 'rejected',
          code,
          message: SIM_CODES[code] ?? 'refused',
          retryable: false,
          optedOut: code === '1061',
        });
        continue;
      }
      // 31xx are Kakao's codes (3104 not a KakaoTalk user): they fail AlimTalk/RCS, not the SMS fallback.
      const kakaoOnly = code?.startsWith('31') && m.channel !== 'alimtalk' && m.channel !== 'rcs';
      const failCode = code?.startsWith('3') && !kakaoOnly ? code : this.drawFailure(m.key);
      const rec: AcceptedRecord = {
        t: 'acc',
        key: m.key,
        id: this.log.nextId(),
        to: m.to,
        ch: m.channel,
        parts: m.parts,
        at: now,
        dlr: failCode ? 'failed' : 'delivered',
        code: failCode ?? '4000',
        // whole ms, as the report's time shows it (a Date drops the fraction): a float's digits
        // cost its log line more than the rest of it
        due: Math.floor(now + this.cfg.dlrDelayMs * (0.5 + hashKey(this.cfg.seed, m.key))),
      };
      accepted.push(rec);
      outcomes.push({ kind: 'accepted', providerId: rec.id });
    }
    // The carrier has them once this write returns, whatever becomes of the answer. A write that
    // failed may have stored part of them: ambiguous (a throw would mean nothing left).
    try {
      this.log.append(accepted);
    } catch (err) {
      return {
        kind: 'ambiguous',
        message: `the simulated carrier's log could not be written (${(err as Error).message})`,
      };
    }
    if (this.random() < this.cfg.ambiguousRate)
      return { kind: 'ambiguous', message: 'no answer within the timeout (simulated)' };
    return { kind: 'results', outcomes };
  }

  private drawFailure(key: string): string | undefined {
    if (this.failureRates.length === 0) return undefined;
    let r = hashKey(this.cfg.seed + 7, key);
    for (const [code, rate] of this.failureRates) {
      if (r < rate) return code;
      r -= rate;
    }
    return undefined;
  }

  async lookup(keys: string[]): Promise<Map<string, { providerId: string }>> {
    this.log.refresh();
    const found = new Map<string, { providerId: string }>();
    for (const k of keys) {
      const rec = this.log.accepted.get(k);
      if (rec) found.set(k, { providerId: rec.id });
    }
    return found;
  }

  subscribeReports(handler: (batch: ReportBatch) => Promise<void>): void {
    const tick = async (): Promise<void> => {
      if (this.pushing) return;
      this.pushing = true;
      try {
        const batch = this.dueReports();
        if (batch.reports.length) await handler(batch);
      } finally {
        this.pushing = false;
      }
    };
    this.reportTimer = setInterval(
      () => void tick().catch(() => undefined),
      Math.max(10, Math.min(200, this.cfg.dlrDelayMs / 2)),
    );
  }

  async pollReports(): Promise<ReportBatch> {
    return this.dueReports();
  }

  private dueReports(): ReportBatch {
    const due = this.log.due(this.clock(), 5000);
    const reports: DeliveryReport[] = due.map((r) => ({
      key: r.key,
      providerId: r.id,
      status: r.dlr,
      code: r.code,
      text: SIM_CODES[r.code] ?? (r.dlr === 'delivered' ? 'delivered' : 'failed'),
      at: new Date(r.due).toISOString(),
    }));
    return { reports, ack: async () => this.log.ack(due) };
  }

  async close(): Promise<void> {
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.log.close();
  }
}

export function createSimProvider(
  name: string,
  config: Record<string, unknown>,
  ctx: ProviderContext,
): Provider {
  return new SimProvider(name, parseSimConfig(name, config), ctx);
}
