import type { Channel } from '../campaign/types.js';
import { type DeliveryJournal, messageKey, type SendableMessage } from '../journal/delivery.js';
import type { RoutingJournal } from '../journal/routing.js';
import type { OutboundMessage, Provider, SubmitResult } from '../providers/types.js';
import { Backoff } from '../time/backoff.js';
import { sleep } from '../time/sleep.js';
import type { GroupCommit } from './commits.js';
import type { Failover } from './failover.js';
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
  /**
   * When this run first claimed a message to send (ms), or null: a worker that stood by while
   * another sent measures its rate from here, not from its start.
   */
  sendingSince: number | null;
  /** live workers of the campaign, this one included (PostgreSQL; counted at each lease renewal) */
  workers?: number;
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
    sendingSince: null,
  };
  fault: string | null = null;
  /** the journal could not be written in this run */
  journalFailed = false;

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
    this.journalFailed = true;
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
  /** channel options for a message going to `provider` (each provider its own AlimTalk template id) */
  messageOptions?: (m: SendableMessage, provider: string) => Partial<OutboundMessage>;
  /** where answers are committed, in groups */
  commits: GroupCommit;
  onProgress?: (p: Progress) => void;
  /** routes across providers: each lane reads the planned rows assigned to its own provider */
  routing?: RoutingJournal;
  /** failover to the next provider of a route */
  failover?: Failover;
}

/**
 * The longest a lane goes on without letting the event loop turn. A provider that answers without
 * I/O (the simulator at `latencyMs: 0`) settles every request in microtasks, and then nothing else
 * runs: not Ctrl-C (measured before: a million-row run went on to its end, 30 s), not timers.
 */
const MAX_MS_WITHOUT_EVENT_LOOP = 20;

/** Planned rows read from the journal at a time. */
const PLANNED_BLOCK = 1024;

/**
 * One channel through one provider: it owns its pacing (LaneRate), its backoff while the provider
 * is unavailable, and its queue of messages to submit again. What an answer means is settleSubmit's.
 */
export class Lane {
  private readonly rate: LaneRate;
  private readonly retry: SendableMessage[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** planned rows read ahead (never claimed: a block is only read, not held) */
  private planned: SendableMessage[] = [];
  private head = 0;
  private cursor = 0;
  private exhausted = false;
  /** still in run()'s loop, reading planned rows (rewind() can still reach it) */
  private looping = true;
  private unavailableSince: number | null = null;
  /** since when the provider has answered only with 503s, refusals to connect or silence (failover's clock) */
  private troubleSince: number | null = null;
  private readonly backoff = new Backoff({ initialMs: 200, maxMs: 5000 }); // while the provider is unavailable
  /** when the event loop last turned under this lane (a timer's wait counts: no setImmediate then) */
  private turned = 0;
  /** An unlimited lane has no rate to halve: a throttle signal pauses it briefly instead. */
  private throttlePauseMs = 0;

  constructor(
    readonly spec: LaneSpec,
    private readonly ctx: LaneContext,
    /**
     * the lane's pacer, kept by the engine for the whole run: a lane started again (the next pass,
     * a failover's restart) counts what it sent in the last second, or the two would exceed the TPS
     */
    rate: LaneRate = new LaneRate(spec.tps),
  ) {
    this.rate = rate;
  }

  private get provider(): Provider {
    return this.spec.provider;
  }

  /** Its provider is out and another one of the route takes this channel over: no new message here. */
  private failedOver(): boolean {
    return this.ctx.failover?.stopsLane(this.spec.channel, this.provider.name) ?? false;
  }

  /**
   * Submit until nothing is left (or the run stops); resolves once every request in flight is
   * settled and committed. Each turn takes a group (gather()): the group is claimed (`sending`) in
   * one transaction and its requests are handed to the provider at once, so no claimed message ever
   * waits here for its turn.
   */
  async run(): Promise<void> {
    const { run, journal, commits } = this.ctx;
    const rate = this.rate;
    this.turned = performance.now();
    while (!run.stopped && !this.failedOver()) {
      if (performance.now() - this.turned > MAX_MS_WITHOUT_EVENT_LOOP) {
        await new Promise((resolve) => setImmediate(resolve));
        this.turned = performance.now();
        if (run.stopped) break;
      }
      await this.pause();
      if (run.remaining <= 0) break;
      if (!(await this.roomInWindow())) break;
      if (await this.notWritable()) continue;
      const group = await this.gather(Math.max(1, this.spec.window - this.inFlight.size));
      if (run.stopped || this.failedOver()) break; // what was gathered was never claimed: it stays planned
      if (!group.length) {
        // answers waiting to be committed may give messages back to submit again
        if (commits.pending) {
          if (!commits.flush()) break;
          continue;
        }
        if (!this.inFlight.size) break;
        await Promise.race(this.inFlight);
        continue;
      }
      const batch = group.flat();
      const unwritable = this.provider.writable?.(partsOf(batch));
      if (unwritable) {
        // the rate's wait let a bind drop or fill: nothing claimed, the group goes first next time
        this.retry.unshift(...batch);
        rate.refund(partsOf(batch));
        await unwritable; // (not at once: a bind with room for one part but not the group would spin)
        continue;
      }
      let claimed: SendableMessage[];
      try {
        // Quiet hours are asked again inside the claim: 21:00 may strike while it is written (found in CI).
        // with the answers committed meanwhile: one transaction for both
        claimed = commits.claimWith(() =>
          journal.claim(batch, this.provider.name, () => this.ctx.quiet.closed()),
        );
      } catch (err) {
        run.journalFault(err);
        break;
      }
      // the usual claim takes them all: no set of the kept ones to build then
      const kept = claimed.length < batch.length ? new Set(claimed) : null;
      if (kept) rate.refund(batch.reduce((n, m) => n + (kept.has(m) ? 0 : m.parts), 0));
      if (!claimed.length) continue;
      for (const m of claimed) m.attempts++;
      run.remaining -= claimed.length;
      run.progress.submitted += claimed.length;
      run.progress.sendingSince ??= Date.now();
      const sentAt = { at: rate.leavingNow() };
      for (const requested of group) {
        const request = kept ? requested.filter((m) => kept.has(m)) : requested;
        if (!request.length) continue;
        const p: Promise<void> = this.submit(request, sentAt).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
      // Handed over, the requests are in the socket's buffer: stamped again, the cap counts from
      // this instant, not from before the calls (a first, cold one took ms: the SMSC then counted
      // 505 in its first second of bench/smpp.js paced).
      sentAt.at = rate.leavingNow();
      if (!(await this.roomInWindow())) break;
    }
    this.looping = false;
    await Promise.all(this.inFlight);
    commits.flush();
  }

  /**
   * The requests that may go now, at most `window`; nothing is claimed here, and what is not taken
   * stays planned. A paced lane's group (groupParts) is taken from the rate at once after its
   * wait: one claim, one stamp (leavingNow) and one write for the group. An unlimited lane fills
   * its window at once.
   */
  private async gather(window: number): Promise<SendableMessage[][]> {
    const { run, quiet } = this.ctx;
    const rate = this.rate;
    const most = rate.unlimited ? Number.POSITIVE_INFINITY : this.groupParts();
    for (;;) {
      const group: SendableMessage[][] = [];
      let parts = 0;
      let budget = run.remaining;
      while (group.length < window && budget > 0 && parts < most) {
        const batch = this.take(Math.min(rate.chunkParts(this.provider.maxBatch), most - parts), budget);
        if (!batch.length) break;
        group.push(batch);
        parts += partsOf(batch);
        budget -= batch.length;
      }
      if (!group.length) return group;
      for (let wait = rate.tryTake(parts); wait > 0; wait = rate.tryTake(parts)) {
        this.ctx.commits.expectClaim(performance.now() + wait);
        // +1: a timer fires by the event loop's clock, whole ms that may lag this one: without it
        // the lane woke up to 1 ms early, about once per group, only to sleep 1 ms more (bench/smpp.js paced)
        await sleep(wait + 1, run.signal);
        this.turned = performance.now();
        if (run.stopped) break;
      }
      if (run.stopped) {
        for (const b of group.reverse()) this.retry.unshift(...b); // never claimed: stays planned
        return [];
      }
      // The window may have opened while we waited for the rate: ads without night consent stay planned.
      const allowed: SendableMessage[][] = [];
      let held = 0;
      for (const b of group) {
        const a = quiet.admit(b);
        held += partsOf(b) - partsOf(a);
        if (a.length) allowed.push(a);
      }
      if (held) rate.refund(held);
      if (allowed.length) return allowed;
      // every one was an ad quiet hours hold back: they stay planned; the next ones may go
    }
  }

  /**
   * A paced lane's group, in parts: one request of chunkParts, or, where a request carries one
   * message (SMPP), about a hundredth of a second of the rate and half the window at most. A group
   * per message cost 400 ms of CPU per 1,000 at 500/s (bench/smpp.js paced); a carrier counting a
   * sliding second sees a group land at once, so it is kept small (a lane at its carrier's limit,
   * bench/smpp.js burst, lost a tenth of its rate with groups of a fiftieth of a second). Half the
   * window: an SMSC with Nagle's algorithm answers a group's first submit_sm at once and the rest
   * with our next write; groups of a whole window found 9 of 10 answers out and went as 1, 9, 1, 9.
   */
  private groupParts(): number {
    const rate = this.rate;
    const perMessage = Math.min(Math.floor(rate.rate / 100), Math.floor(this.spec.window / 2));
    return Math.max(rate.chunkParts(this.provider.maxBatch), perMessage);
  }

  /**
   * Waits while the provider would not write a request at once (a bind still being answered): a
   * group is claimed only when its requests leave at once, so a kill never leaves `sending` a
   * message that was not written (test/reliability/smppUnknown.test.ts). True when it waited.
   */
  private async notWritable(): Promise<boolean> {
    const wait = this.provider.writable?.();
    if (!wait) return false;
    await wait;
    return true;
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

  /**
   * The next request's messages, at most `maxParts` parts (one message at least) and `budget`
   * messages: ones to submit again first, then planned ones, read from the journal in blocks.
   */
  private take(maxParts: number, budget: number): SendableMessage[] {
    const out: SendableMessage[] = [];
    const { retry } = this;
    let parts = 0;
    const room = Math.min(this.provider.maxBatch, budget);
    const fits = (m: SendableMessage): boolean => parts === 0 || parts + m.parts <= maxParts;
    while (out.length < room && retry.length && fits(retry[0]!)) {
      const m = retry.shift()!;
      out.push(m);
      parts += m.parts;
    }
    while (out.length < room && parts < maxParts) {
      if (this.head >= this.planned.length && !this.readBlock()) break;
      const m = this.planned[this.head]!;
      if (!fits(m)) break;
      this.head++;
      out.push(m);
      parts += m.parts;
    }
    return out;
  }

  /**
   * Read again from the first planned row: messages were moved to this lane's provider (a failover)
   * behind where it has read. What was read ahead is dropped unclaimed (it stays planned and is read
   * again); a row already claimed is not planned and is not read again. False when the lane no
   * longer reads (it only waits for its last answers).
   */
  rewind(): boolean {
    if (!this.looping) return false; // it has left its loop: the engine starts another lane
    this.planned = [];
    this.head = 0;
    this.cursor = 0;
    this.exhausted = false;
    return true;
  }

  /** The next block of planned rows; false when none is left. */
  private readBlock(): boolean {
    if (this.exhausted) return false;
    const { routing } = this.ctx;
    const rows = routing
      ? routing.nextPlanned(
          this.ctx.campaignId,
          this.spec.channel,
          this.provider.name,
          this.cursor,
          PLANNED_BLOCK,
          this.ctx.quiet.closed(),
        )
      : this.ctx.journal.nextPlanned(
          this.ctx.campaignId,
          this.spec.channel,
          this.cursor,
          PLANNED_BLOCK,
          this.ctx.quiet.closed(),
        );
    if (rows.length < PLANNED_BLOCK) this.exhausted = true;
    if (this.provider.countParts) for (const m of rows) m.parts = this.provider.countParts(this.outbound(m));
    if (rows.length) this.cursor = rows[rows.length - 1]!.row;
    this.planned = rows;
    this.head = 0;
    return rows.length > 0;
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
  /** `sentAt`: the rate's stamp of this request (a throttle answer names its congestion event by it). */
  private async submit(batch: SendableMessage[], sentAt: { at: number }): Promise<void> {
    const options = this.ctx.messageOptions;
    const name = this.provider.name;
    // no copy of each message where there are no channel options (an SMS lane)
    const outbound = options
      ? batch.map((m) => ({ ...this.outbound(m), ...options(m, name) }))
      : batch.map((m) => this.outbound(m));
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
    this.signal(out, sentAt.at);
    this.commit(out);
  }

  /** The lane's side of an answer: backoff, pacing, the run's fault. */
  private signal(out: SettleOutput, sentAt: number): void {
    const { run } = this.ctx;
    const s = out.signal;
    if (s.kind === 'ok') {
      this.unavailableSince = null;
      this.troubleSince = null;
      this.backoff.reset();
    }
    const { failover } = this.ctx;
    const { channel } = this.spec;
    const name = this.provider.name;
    if (s.kind === 'unavailable' || s.kind === 'ambiguous') {
      this.troubleSince ??= Date.now();
      if (failover?.failing(channel, name, 'unavailable', s.message, this.troubleSince)) return;
    }
    // a refusal resubmitting cannot help (credentials, balance, a blocked channel): the next provider, at once
    if (
      (s.kind === 'fatal' || s.stop) &&
      failover?.failing(channel, name, 'fatal', s.stop ?? s.message, Date.now())
    )
      return;
    if (s.throttled) {
      this.rate.throttled(sentAt);
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

  /**
   * Waits while the window is full of requests in flight. Those answered and not yet committed
   * (still `sending` in the journal) leave room: the claim that takes it commits them first, in its
   * transaction (GroupCommit.claimWith), so the rows `sending` as committed never outnumber the
   * window, and a kill leaves no more of them (unknown where the provider cannot be asked) than
   * that (test/reliability/smpp.test.ts). Committing them here, then claiming, was two
   * transactions per group (bench/smpp.js paced). Waiting for half a
   * window of answers first measured 0.03-0.1x in bench/smpp.js: answers come in bursts, and the
   * wire sat idle. False when the journal could not be written.
   */
  private async roomInWindow(): Promise<boolean> {
    const window = this.spec.window;
    while (this.inFlight.size >= window && !this.ctx.run.stopped) await Promise.race(this.inFlight);
    return !this.ctx.run.journalFailed;
  }

  /** Queue the answer for the next group commit; what is to be submitted again is queued once it is committed. */
  private commit(out: SettleOutput): void {
    const { run } = this.ctx;
    run.progress.accepted += out.accepted;
    run.progress.failed += out.failed;
    run.progress.unknown += out.unknown;
    this.ctx.commits.add(out.settlements, out.optedOut, () => {
      if (out.resend.length) {
        run.progress.retried += out.resend.length;
        this.retry.push(...out.resend);
        this.retry.sort((a, b) => a.row - b.row || a.leg - b.leg);
      }
      this.ctx.onProgress?.(run.progress);
    });
    // nothing was written: planned again at once, not `sending` for a group commit's delay
    if (out.signal.kind === 'unavailable') this.ctx.commits.flush();
  }
}

function partsOf(batch: readonly SendableMessage[]): number {
  return batch.reduce((n, m) => n + m.parts, 0);
}
