import { inQuietHours, type QuietHours } from '../campaign/quietHours.js';
import type { Channel } from '../campaign/types.js';
import {
  type DeliveryJournal,
  messageKey,
  type SendableMessage,
  type Settlement,
} from '../journal/delivery.js';
import type { InboundMessage, OutboundMessage, Provider, SubmitResult } from '../providers/types.js';
import { Backoff } from '../time/backoff.js';
import { sleep } from '../time/sleep.js';
import { LaneRate } from './laneRate.js';

export interface LaneSpec {
  channel: Channel;
  provider: Provider;
  /** parts per second for this lane (0 = unlimited) */
  tps: number;
  /** requests in flight at once */
  window: number;
}

export interface EngineOptions {
  campaignId: string;
  from: string | null;
  lanes: LaneSpec[];
  /** at most this many messages submitted in this run */
  limit?: number;
  /** resend rows left `unknown` by a provider that cannot look them up (off: report them) */
  resendUnknown: boolean;
  /**
   * most submissions of one message that may have reached a provider, across all runs (the journal's
   * attempts); then it is `unknown`. A provider's own `maxSubmits` wins. Default 5.
   */
  maxSubmits?: number;
  /** how long the whole lane may keep failing with 503/connection errors before the run stops */
  giveUpAfterMs: number;
  /** how long to wait for outstanding delivery reports once everything is submitted */
  reportWaitMs: number;
  signal: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** ads: rows marked deferrable never go out inside these hours */
  quietHours?: QuietHours;
  /** the wall clock quiet hours are judged by (injectable for tests) */
  now?: () => Date;
  /** channel options for a message (AlimTalk/RCS ids, variables, images) */
  messageOptions?: (m: SendableMessage) => Partial<OutboundMessage>;
  /** numbers a provider says opted out: added to the suppression list before the outcome is settled */
  onOptedOut?: (phones: string[]) => void;
  /** messages recipients sent (SMPP MO): committed when this returns */
  onInbound?: (provider: string, messages: InboundMessage[]) => void;
}

export interface Progress {
  submitted: number;
  accepted: number;
  failed: number;
  unknown: number;
  retried: number;
  throttles: number;
  reports: number;
  startedAt: number;
}

export type EngineOutcome =
  | { kind: 'finished'; progress: Progress }
  | { kind: 'limit'; progress: Progress }
  | { kind: 'interrupted'; progress: Progress }
  /** quiet hours began (or are on): `deferred` ads wait for the window to close */
  | { kind: 'deferred'; deferred: number; progress: Progress }
  | { kind: 'fault'; message: string; progress: Progress };

/** Submissions of one message that may have reached its provider, across all runs, unless configured. */
export const DEFAULT_MAX_SUBMITS = 5;

/** The reason an `unknown` row carries once its submissions are used up. */
export function exhaustedReason(attempts: number, last: string): string {
  return `unknown: submitted ${attempts} times without a definite answer (last: ${last}); not sent again (\`ums resume --resend-unknown\` sends it once more)`;
}

/**
 * The longest a lane goes on without letting the event loop turn. A provider that answers without
 * I/O (the simulator at `latencyMs: 0`) settles every request in microtasks, and then nothing else
 * runs: not Ctrl-C (measured before: a million-row run went on to its end, 30 s), not timers.
 */
const MAX_MS_WITHOUT_EVENT_LOOP = 20;

/**
 * Sends a planned campaign through its lanes. The journal is the only truth: a message is
 * `sending` (committed) before its request leaves, and its outcome is committed before the
 * provider's reports are acknowledged. Whatever instant this process dies at, `resume` finds
 * every row in a state it can continue from.
 */
export class DeliveryEngine {
  private readonly progress: Progress = {
    submitted: 0,
    accepted: 0,
    failed: 0,
    unknown: 0,
    retried: 0,
    throttles: 0,
    reports: 0,
    startedAt: Date.now(),
  };
  private remaining: number;
  private fault: string | null = null;
  private readonly stop = new AbortController();

  constructor(
    private readonly journal: DeliveryJournal,
    private readonly opts: EngineOptions,
  ) {
    this.remaining = opts.limit ?? Infinity;
    opts.signal.addEventListener('abort', () => this.stop.abort(), { once: true });
  }

  async run(): Promise<EngineOutcome> {
    const providers = [...new Set(this.opts.lanes.map((l) => l.provider))];
    for (const p of providers) {
      p.subscribeReports?.(async (batch) => {
        this.progress.reports += this.journal.applyReports(p.name, batch.reports);
        await batch.ack();
      });
      const onInbound = this.opts.onInbound;
      if (onInbound) p.subscribeInbound?.(async (messages) => onInbound(p.name, messages));
    }
    await this.reconcile();
    let askedAgain = 0;
    const reask = new Backoff({ initialMs: 2000, maxMs: 4000 }); // before the 2nd and 3rd asking
    // Each pass sends what is planned; reports arriving meanwhile may release fallback legs,
    // which the next pass sends. Ends when a pass finds nothing new to send.
    for (;;) {
      await Promise.all(this.opts.lanes.map((lane) => this.runLane(lane)));
      if (this.fault) return { kind: 'fault', message: this.fault, progress: this.progress };
      if (this.opts.signal.aborted) return { kind: 'interrupted', progress: this.progress };
      if (this.remaining <= 0) return { kind: 'limit', progress: this.progress };
      if (this.quietNow()) {
        const deferred = this.journal.countDeferrable(this.opts.campaignId);
        if (deferred > 0) return { kind: 'deferred', deferred, progress: this.progress };
      }
      if (this.journal.countInStatus(this.opts.campaignId, 'planned') > 0) continue;
      await this.awaitReports(providers);
      if (this.journal.countInStatus(this.opts.campaignId, 'planned') > 0) continue;
      // Rows left `unknown` because their provider, which can be asked, could not be asked then
      // (it was down when their answer was lost): ask again before finishing. What it holds is
      // sent; what it does not goes back to planned and out in the next pass. A run never
      // finishes with such rows: the campaign would be done and `resume` would not look at them.
      const unresolved = this.unknownWithLookup();
      if (unresolved === 0) break;
      if (askedAgain >= 3) {
        return {
          kind: 'fault',
          message: `${unresolved} messages are unknown: the request left, its answer was lost, and the provider could not be asked whether it took them; nothing is lost: run \`ums resume\` once it answers`,
          progress: this.progress,
        };
      }
      if (askedAgain) await sleep(reask.next(), this.stop.signal);
      askedAgain++;
      try {
        await this.reconcile(['unknown'], { resendUnknown: false }); // only a definite answer releases a row here
      } catch (err) {
        this.journalFault(err);
      }
    }
    return { kind: 'finished', progress: this.progress };
  }

  /** How many times a message may be submitted through this provider. */
  private maxSubmits(provider: Provider | undefined): number {
    return provider?.maxSubmits ?? this.opts.maxSubmits ?? DEFAULT_MAX_SUBMITS;
  }

  /** Unknown rows whose provider has a lookup and which may still be submitted again. */
  private unknownWithLookup(): number {
    const canAsk = new Map(
      this.opts.lanes.filter((l) => l.provider.lookup).map((l) => [l.provider.name, l.provider]),
    );
    if (!canAsk.size) return 0;
    return this.journal.inStatus(this.opts.campaignId, 'unknown').filter((m) => {
      const p = canAsk.get(m.provider ?? '');
      return p !== undefined && m.attempts < this.maxSubmits(p);
    }).length;
  }

  private journalFault(err: unknown): void {
    const e = err as { code?: string; message?: string };
    this.fault ??= `the journal could not be written (${e.code ?? ''}${e.code ? ': ' : ''}${e.message ?? String(err)}); nothing is lost: fix that, then run \`ums resume\``;
  }

  private quietNow(): boolean {
    return (
      this.opts.quietHours !== undefined &&
      inQuietHours((this.opts.now ?? (() => new Date()))(), this.opts.quietHours)
    );
  }

  /**
   * Rows a dead run left `sending` (and `unknown` ones) are asked about by key: the provider
   * has them -> sent; it does not -> back to planned; it cannot tell -> unknown, never resent blindly.
   */
  private async reconcile(
    statuses: readonly ('sending' | 'unknown')[] = ['sending', 'unknown'],
    opts = { resendUnknown: this.opts.resendUnknown },
  ): Promise<void> {
    const byProvider = new Map(this.opts.lanes.map((l) => [l.provider.name, l.provider]));
    for (const status of statuses) {
      const rows = this.journal.inStatus(this.opts.campaignId, status);
      if (!rows.length) continue;
      const settlements: Settlement[] = [];
      const groups = new Map<string, typeof rows>();
      for (const r of rows) groups.set(r.provider ?? '', [...(groups.get(r.provider ?? '') ?? []), r]);
      for (const [name, group] of groups) {
        const provider = byProvider.get(name);
        const keys = group.map((m) => messageKey(this.opts.campaignId, m.row, m.leg));
        let found: Map<string, { providerId: string }> | null = null;
        if (provider?.lookup) {
          try {
            found = await provider.lookup(keys);
          } catch {
            found = null;
          }
        }
        const now = new Date().toISOString();
        const max = this.maxSubmits(provider);
        group.forEach((m, i) => {
          const hit = found?.get(keys[i]!);
          if (hit) settlements.push({ id: m.id, kind: 'sent', providerId: hit.providerId, at: now });
          else if (status === 'unknown' && opts.resendUnknown)
            settlements.push({ id: m.id, kind: 'release' }); // the operator's choice
          else if (found && m.attempts >= max) {
            // not there, but submitted as often as it may be: it stays (or becomes) unknown, never sent again blindly
            if (status === 'sending')
              settlements.push({
                id: m.id,
                kind: 'unknown',
                reason: exhaustedReason(
                  m.attempts,
                  `${name || 'the provider'} did not answer, and its look-up does not find it`,
                ),
              });
          } else if (found) settlements.push({ id: m.id, kind: 'release' });
          else if (status === 'sending')
            settlements.push({
              id: m.id,
              kind: 'unknown',
              reason: `unknown: the request to ${name || 'the provider'} left and no answer came; it cannot be looked up`,
            });
        });
      }
      this.journal.settle(settlements);
    }
  }

  private async runLane(lane: LaneSpec): Promise<void> {
    const rate = new LaneRate(lane.tps);
    const retry: SendableMessage[] = [];
    const inFlight = new Set<Promise<void>>();
    let cursor = 0;
    let exhausted = false;
    let unavailableSince: number | null = null;
    const backoff = new Backoff({ initialMs: 200, maxMs: 5000 }); // while the provider is unavailable
    // An unlimited lane has no rate to halve: a throttle signal pauses it briefly instead.
    let throttlePauseMs = 0;

    const take = (maxParts: number): SendableMessage[] => {
      const out: SendableMessage[] = [];
      let parts = 0;
      const room = Math.min(lane.provider.maxBatch, this.remaining);
      while (out.length < room && retry.length && (parts === 0 || parts + retry[0]!.parts <= maxParts)) {
        const m = retry.shift()!;
        out.push(m);
        parts += m.parts;
      }
      while (!exhausted && out.length < room && parts < maxParts) {
        const want = Math.min(room - out.length, Math.max(1, maxParts - parts));
        const next = this.journal.nextPlanned(
          this.opts.campaignId,
          lane.channel,
          cursor,
          want,
          this.quietNow(),
        );
        if (next.length < want) exhausted = true;
        for (const m of next) {
          if (lane.provider.countParts)
            m.parts = lane.provider.countParts({
              key: '',
              to: m.to,
              from: this.opts.from,
              channel: m.channel,
              subject: m.subject,
              text: m.body,
              parts: m.parts,
            });
          out.push(m);
          parts += m.parts;
          cursor = m.row;
        }
        if (!next.length) break;
      }
      return out;
    };

    const handle = async (batch: SendableMessage[]): Promise<void> => {
      const outbound: OutboundMessage[] = batch.map((m) => ({
        key: messageKey(this.opts.campaignId, m.row, m.leg),
        to: m.to,
        from: this.opts.from,
        channel: m.channel,
        subject: m.subject,
        text: m.body,
        parts: m.parts,
        ...this.opts.messageOptions?.(m),
      }));
      let result: SubmitResult;
      try {
        result = await lane.provider.submit(outbound);
      } catch (err) {
        // A provider says `unavailable` itself when nothing left; a throw is a provider's bug, and
        // nobody knows where it struck: ambiguous (looked up where it can be; never sent blindly).
        result = { kind: 'ambiguous', message: (err as Error)?.message ?? String(err) };
      }
      const max = this.maxSubmits(lane.provider);
      // never taken for certain: the attempt is given back (only submissions that may have reached it count)
      const giveBack = (m: SendableMessage): void => {
        settle.push({ id: m.id, kind: 'unclaim' });
        m.attempts--;
      };
      const now = new Date().toISOString();
      const settle: Settlement[] = [];
      const again: SendableMessage[] = [];
      const optedOut: string[] = [];
      switch (result.kind) {
        case 'results': {
          unavailableSince = null;
          backoff.reset();
          let throttled = false;
          batch.forEach((m, i) => {
            const o = result.outcomes[i];
            if (!o) {
              settle.push({
                id: m.id,
                kind: 'unknown',
                reason: 'unknown: the provider answered without this message',
              });
              this.progress.unknown++;
            } else if (o.kind === 'accepted') {
              settle.push({ id: m.id, kind: 'sent', providerId: o.providerId, partIds: o.partIds, at: now });
              this.progress.accepted++;
            } else if (o.kind === 'rejected' && o.stopsRun) {
              // Resubmitting cannot help, and failing every remaining row would be wrong: keep it planned, stop.
              giveBack(m);
              this.fault ??= `${lane.provider.name}: ${o.stopsRun}`;
            } else if (o.kind === 'throttled') {
              throttled = true;
              giveBack(m);
              again.push(m);
            } else if (o.retryable && m.attempts < max) {
              settle.push({ id: m.id, kind: 'release' });
              again.push(m);
            } else {
              if (o.optedOut) optedOut.push(m.to);
              settle.push({ id: m.id, kind: 'failed', reason: `${o.code}: ${o.message}`, at: now });
              this.progress.failed++;
            }
          });
          if (throttled) {
            rate.throttled();
            this.progress.throttles++;
            if (rate.unlimited) throttlePauseMs = 200;
          }
          break;
        }
        case 'throttled':
          rate.throttled();
          this.progress.throttles++;
          if (rate.unlimited) throttlePauseMs = 200;
          for (const m of batch) giveBack(m), again.push(m);
          break;
        case 'unavailable': {
          const now2 = Date.now();
          unavailableSince ??= now2;
          backoff.next();
          for (const m of batch) giveBack(m), again.push(m);
          if (now2 - unavailableSince > this.opts.giveUpAfterMs) {
            this.fault = `${lane.provider.name} has been unavailable for ${Math.round((now2 - unavailableSince) / 1000)} s (${result.message}); nothing is lost: run \`ums resume\``;
          }
          break;
        }
        case 'ambiguous': {
          const found = lane.provider.lookup
            ? await lane.provider.lookup(outbound.map((o) => o.key)).catch(() => null)
            : null;
          batch.forEach((m, i) => {
            const hit = found?.get(outbound[i]!.key);
            if (hit) {
              settle.push({ id: m.id, kind: 'sent', providerId: hit.providerId, at: now });
              this.progress.accepted++;
            } else if (found && m.attempts >= max) {
              // A definite "not there", again: a proxy or an API change may be eating every request.
              settle.push({ id: m.id, kind: 'unknown', reason: exhaustedReason(m.attempts, result.message) });
              this.progress.unknown++;
            } else if (found) {
              settle.push({ id: m.id, kind: 'release' });
              again.push(m);
            } else {
              settle.push({
                id: m.id,
                kind: 'unknown',
                reason: `unknown: ${result.message}; not resent (it cannot be looked up)`,
              });
              this.progress.unknown++;
            }
          });
          break;
        }
        case 'fatal':
          this.fault = `${lane.provider.name}: ${result.message}`;
          for (const m of batch) giveBack(m);
          break;
      }
      try {
        if (optedOut.length) this.opts.onOptedOut?.(optedOut);
        this.journal.settle(settle);
      } catch (err) {
        // The outcome could not be recorded: the rows stay `sending`, and resume asks the provider.
        this.journalFault(err);
        return;
      }
      if (again.length) {
        this.progress.retried += again.length;
        retry.push(...again);
        retry.sort((a, b) => a.row - b.row || a.leg - b.leg);
      }
      this.opts.onProgress?.(this.progress);
    };

    let turned = performance.now();
    while (!this.stop.signal.aborted && !this.fault) {
      if (performance.now() - turned > MAX_MS_WITHOUT_EVENT_LOOP) {
        await new Promise((resolve) => setImmediate(resolve));
        turned = performance.now();
        if (this.stop.signal.aborted || this.fault) break;
      }
      if (backoff.currentMs > 0 && unavailableSince !== null)
        await sleep(backoff.currentMs, this.stop.signal);
      if (throttlePauseMs > 0) {
        const pause = throttlePauseMs;
        throttlePauseMs = 0;
        await sleep(pause, this.stop.signal);
      }
      if (this.remaining <= 0) break;
      const batch = take(rate.chunkParts(lane.provider.maxBatch));
      if (!batch.length) {
        if (!inFlight.size) break;
        await Promise.race(inFlight);
        continue;
      }
      const parts = batch.reduce((n, m) => n + m.parts, 0);
      for (let wait = rate.tryTake(parts); wait > 0; wait = rate.tryTake(parts)) {
        await sleep(wait, this.stop.signal);
        if (this.stop.signal.aborted) break;
      }
      if (this.stop.signal.aborted) {
        retry.unshift(...batch); // never claimed: stays planned
        break;
      }
      // The window may have opened while we waited for the rate: ads without night consent stay planned.
      if (this.quietNow()) {
        const allowed = batch.filter((m) => !m.deferrable);
        if (allowed.length < batch.length) {
          rate.refund(parts - allowed.reduce((n, m) => n + m.parts, 0));
          batch.length = 0;
          batch.push(...allowed);
          if (!batch.length) continue;
        }
      }
      let claimed: SendableMessage[];
      try {
        // Quiet hours are asked again inside the claim: 21:00 may strike while it is written (found in CI).
        claimed = this.journal.claim(batch, lane.provider.name, () => this.quietNow());
      } catch (err) {
        this.journalFault(err);
        break;
      }
      if (claimed.length < batch.length) {
        const kept = new Set(claimed);
        rate.refund(batch.reduce((n, m) => n + (kept.has(m) ? 0 : m.parts), 0));
      }
      if (!claimed.length) continue;
      for (const m of claimed) m.attempts++;
      this.remaining -= claimed.length;
      this.progress.submitted += claimed.length;
      rate.leavingNow();
      const p: Promise<void> = handle(claimed).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= lane.window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }

  /** Give pushed reports a moment to arrive, so a short campaign ends with its outcome known. */
  private async awaitReports(providers: Provider[]): Promise<void> {
    if (!providers.some((p) => p.subscribeReports)) return;
    const deadline = Date.now() + this.opts.reportWaitMs;
    while (Date.now() < deadline && !this.opts.signal.aborted) {
      if (this.journal.countInStatus(this.opts.campaignId, 'sent') === 0) break;
      await sleep(Math.min(100, deadline - Date.now()), this.opts.signal);
    }
  }
}
