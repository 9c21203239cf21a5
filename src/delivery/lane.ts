import type { Channel } from '../campaign/types.js';
import { type DeliveryJournal, messageKey, type SendableMessage } from '../journal/delivery.js';
import type { OutboundMessage, Provider, SubmitResult } from '../providers/types.js';
import { Backoff } from '../time/backoff.js';
import { sleep } from '../time/sleep.js';
import { LaneRate } from './laneRate.js';
import type { QuietGate } from './quietGate.js';
import { lookUp } from './reconcile.js';
import { type SettleOutput, settleSubmit } from './settle.js';

export interface LaneSpec {
  channel: Channel;
  provider: Provider;
  /** parts per second for this lane (0 = unlimited) */
  tps: number;
  /** requests in flight at once */
  window: number;
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

/** What the lanes of one run share: the budget (--limit), the counts, the fault that stops them all. */
export class RunState {
  readonly progress: Progress = {
    submitted: 0,
    accepted: 0,
    failed: 0,
    unknown: 0,
    retried: 0,
    throttles: 0,
    reports: 0,
    startedAt: Date.now(),
  };
  fault: string | null = null;

  constructor(
    /** messages this run may still submit */
    public remaining: number,
    /** aborted: stop submitting (Ctrl-C) */
    readonly signal: AbortSignal,
  ) {}

  get stopped(): boolean {
    return this.signal.aborted || this.fault !== null;
  }

  journalFault(err: unknown): void {
    const e = err as { code?: string; message?: string };
    this.fault ??= `the journal could not be written (${e.code ?? ''}${e.code ? ': ' : ''}${e.message ?? String(err)}); nothing is lost: fix that, then run \`ums resume\``;
  }
}

export interface LaneContext {
  journal: DeliveryJournal;
  campaignId: string;
  from: string | null;
  run: RunState;
  quiet: QuietGate;
  maxSubmits: number;
  /** how long the lane may keep failing with 503/connection errors before the run stops */
  giveUpAfterMs: number;
  messageOptions?: (m: SendableMessage) => Partial<OutboundMessage>;
  onOptedOut?: (phones: string[]) => void;
  onProgress?: (p: Progress) => void;
}

/**
 * The longest a lane goes on without letting the event loop turn. A provider that answers without
 * I/O (the simulator at `latencyMs: 0`) settles every request in microtasks, and then nothing else
 * runs: not Ctrl-C (measured before: a million-row run went on to its end, 30 s), not timers.
 */
const MAX_MS_WITHOUT_EVENT_LOOP = 20;

/**
 * One channel through one provider: it owns its pacing (LaneRate), its backoff while the provider
 * is unavailable, and its queue of messages to submit again. What an answer means is settleSubmit's.
 */
export class Lane {
  private readonly rate: LaneRate;
  private readonly retry: SendableMessage[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private cursor = 0;
  private exhausted = false;
  private unavailableSince: number | null = null;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 5000 }); // while the provider is unavailable
  /** An unlimited lane has no rate to halve: a throttle signal pauses it briefly instead. */
  private throttlePauseMs = 0;

  constructor(
    readonly spec: LaneSpec,
    private readonly ctx: LaneContext,
  ) {
    this.rate = new LaneRate(spec.tps);
  }

  private get provider(): Provider {
    return this.spec.provider;
  }

  /** Submit until nothing is left (or the run stops); resolves once every request in flight is settled. */
  async run(): Promise<void> {
    const { run, quiet, journal } = this.ctx;
    const rate = this.rate;
    let turned = performance.now();
    while (!run.stopped) {
      if (performance.now() - turned > MAX_MS_WITHOUT_EVENT_LOOP) {
        await new Promise((resolve) => setImmediate(resolve));
        turned = performance.now();
        if (run.stopped) break;
      }
      await this.pause();
      if (run.remaining <= 0) break;
      let batch = this.take(rate.chunkParts(this.provider.maxBatch));
      if (!batch.length) {
        if (!this.inFlight.size) break;
        await Promise.race(this.inFlight);
        continue;
      }
      const parts = partsOf(batch);
      for (let wait = rate.tryTake(parts); wait > 0; wait = rate.tryTake(parts)) {
        await sleep(wait, run.signal);
        if (run.signal.aborted) break;
      }
      if (run.signal.aborted) {
        this.retry.unshift(...batch); // never claimed: stays planned
        break;
      }
      // The window may have opened while we waited for the rate: ads without night consent stay planned.
      const allowed = quiet.admit(batch);
      if (allowed.length < batch.length) {
        rate.refund(parts - partsOf(allowed));
        batch = allowed;
        if (!batch.length) continue;
      }
      let claimed: SendableMessage[];
      try {
        // Quiet hours are asked again inside the claim: 21:00 may strike while it is written (found in CI).
        claimed = journal.claim(batch, this.provider.name, () => quiet.closed());
      } catch (err) {
        run.journalFault(err);
        break;
      }
      if (claimed.length < batch.length) {
        const kept = new Set(claimed);
        rate.refund(batch.reduce((n, m) => n + (kept.has(m) ? 0 : m.parts), 0));
      }
      if (!claimed.length) continue;
      for (const m of claimed) m.attempts++;
      run.remaining -= claimed.length;
      run.progress.submitted += claimed.length;
      rate.leavingNow();
      const p: Promise<void> = this.submit(claimed).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
      if (this.inFlight.size >= this.spec.window) await Promise.race(this.inFlight);
    }
    await Promise.all(this.inFlight);
  }

  /** Wait out the backoff (the provider is unavailable) or a throttle pause of an unlimited lane. */
  private async pause(): Promise<void> {
    const signal = this.ctx.run.signal;
    if (this.backoff.currentMs > 0 && this.unavailableSince !== null)
      await sleep(this.backoff.currentMs, signal);
    if (this.throttlePauseMs > 0) {
      const pause = this.throttlePauseMs;
      this.throttlePauseMs = 0;
      await sleep(pause, signal);
    }
  }

  /** The next messages to submit, at most `maxParts` parts: ones to submit again first, then planned ones. */
  private take(maxParts: number): SendableMessage[] {
    const out: SendableMessage[] = [];
    const { retry } = this;
    let parts = 0;
    const room = Math.min(this.provider.maxBatch, this.ctx.run.remaining);
    while (out.length < room && retry.length && (parts === 0 || parts + retry[0]!.parts <= maxParts)) {
      const m = retry.shift()!;
      out.push(m);
      parts += m.parts;
    }
    while (!this.exhausted && out.length < room && parts < maxParts) {
      const want = Math.min(room - out.length, Math.max(1, maxParts - parts));
      const next = this.ctx.journal.nextPlanned(
        this.ctx.campaignId,
        this.spec.channel,
        this.cursor,
        want,
        this.ctx.quiet.closed(),
      );
      if (next.length < want) this.exhausted = true;
      for (const m of next) {
        if (this.provider.countParts) m.parts = this.provider.countParts(this.outbound(m));
        out.push(m);
        parts += m.parts;
        this.cursor = m.row;
      }
      if (!next.length) break;
    }
    return out;
  }

  private outbound(m: SendableMessage): OutboundMessage {
    return {
      key: messageKey(this.ctx.campaignId, m.row, m.leg),
      to: m.to,
      from: this.ctx.from,
      channel: m.channel,
      subject: m.subject,
      text: m.body,
      parts: m.parts,
    };
  }

  /** One request: submit, settle what came back, commit it. */
  private async submit(batch: SendableMessage[]): Promise<void> {
    const outbound = batch.map((m) => ({ ...this.outbound(m), ...this.ctx.messageOptions?.(m) }));
    const keys = outbound.map((o) => o.key);
    let result: SubmitResult;
    try {
      result = await this.provider.submit(outbound);
    } catch (err) {
      // A provider says `unavailable` itself when nothing left; a throw is a provider's bug, and
      // nobody knows where it struck: ambiguous (looked up where it can be; never sent blindly).
      result = { kind: 'ambiguous', message: (err as Error)?.message ?? String(err) };
    }
    const found = result.kind === 'ambiguous' ? await lookUp(this.provider, keys) : null;
    const out = settleSubmit({
      batch,
      keys,
      result,
      found,
      maxSubmits: this.ctx.maxSubmits,
      provider: this.provider.name,
      at: new Date().toISOString(),
    });
    this.signal(out);
    this.commit(out);
  }

  /** The lane's side of an answer: backoff, pacing, the run's fault. */
  private signal(out: SettleOutput): void {
    const { run } = this.ctx;
    const s = out.signal;
    if (s.kind === 'ok') {
      this.unavailableSince = null;
      this.backoff.reset();
    }
    if (s.throttled) {
      this.rate.throttled();
      run.progress.throttles++;
      if (this.rate.unlimited) this.throttlePauseMs = 200;
    }
    if (s.kind === 'unavailable') {
      const now = Date.now();
      this.unavailableSince ??= now;
      this.backoff.next();
      if (now - this.unavailableSince > this.ctx.giveUpAfterMs)
        run.fault = `${this.provider.name} has been unavailable for ${Math.round((now - this.unavailableSince) / 1000)} s (${s.message}); nothing is lost: run \`ums resume\``;
    }
    if (s.kind === 'fatal') run.fault = s.stop;
    else if (s.stop) run.fault ??= s.stop;
  }

  /** Write the answer down; what is to be submitted again is queued once it is committed. */
  private commit(out: SettleOutput): void {
    const { run } = this.ctx;
    run.progress.accepted += out.accepted;
    run.progress.failed += out.failed;
    run.progress.unknown += out.unknown;
    try {
      if (out.optedOut.length) this.ctx.onOptedOut?.(out.optedOut);
      this.ctx.journal.settle(out.settlements);
    } catch (err) {
      // The outcome could not be recorded: the rows stay `sending`, and resume asks the provider.
      run.journalFault(err);
      return;
    }
    if (out.resend.length) {
      run.progress.retried += out.resend.length;
      this.retry.push(...out.resend);
      this.retry.sort((a, b) => a.row - b.row || a.leg - b.leg);
    }
    this.ctx.onProgress?.(run.progress);
  }
}

function partsOf(batch: readonly SendableMessage[]): number {
  return batch.reduce((n, m) => n + m.parts, 0);
}
