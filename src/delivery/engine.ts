import type { QuietHours } from '../campaign/quietHours.js';
import { type DeliveryJournal, messageKey, type SendableMessage } from '../journal/delivery.js';
import type { RoutingJournal } from '../journal/routing.js';
import type { InboundMessage, OutboundMessage, Provider } from '../providers/types.js';
import { Backoff } from '../time/backoff.js';
import { sleep } from '../time/sleep.js';
import { GroupCommit } from './commits.js';
import type { Failover } from './failover.js';
import { Lane, type LaneContext, type LaneSpec, type Progress, RunState } from './lane.js';
import { CAP_WINDOW_MS, LaneRate } from './laneRate.js';
import { QuietGate } from './quietGate.js';
import { lookUp, reconcileRows } from './reconcile.js';

export type { LaneSpec, Progress } from './lane.js';
export { exhaustedReason } from './reconcile.js';

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
  messageOptions?: (m: SendableMessage, provider: string) => Partial<OutboundMessage>;
  /** numbers a provider says opted out: added to the suppression list before the outcome is settled */
  onOptedOut?: (phones: string[]) => void;
  /** longest an answer waits for its group commit (ms; default 5): tests lengthen it */
  groupCommitMs?: number;
  /** messages recipients sent (SMPP MO): committed when this returns */
  onInbound?: (provider: string, messages: InboundMessage[]) => void;
  /** routes across providers: lanes read their own provider's rows */
  routing?: RoutingJournal;
  /** failover to the next provider of a route (needs `routing`) */
  failover?: Failover;
  /** several workers on one campaign (PostgreSQL): this one runs only the lanes it holds */
  pins?: LanePins;
  /** pinned lanes: this worker stands by, these lanes (with rows left) held by other workers */
  onStandby?: (lanes: LaneSpec[]) => void;
}

/**
 * Lanes pinned to workers (`ums resume C --join`): a lane runs in the one worker that holds it, so its
 * rate (the account's TPS) is exact with no traffic between workers; the others stand by and take it
 * over when its holder is gone.
 */
export interface LanePins {
  /**
   * Make this lane this worker's, or false (another worker holds it). Once held, the rows a worker
   * whose lease ran out left `sending` are `unknown` (reconciled by look-up); a lease still running
   * is waited out first (its requests may still be in flight). False too when `signal` aborts.
   */
  tryHold(spec: LaneSpec, signal: AbortSignal): Promise<boolean>;
  /** rows of the lane still to send or settle (planned, sending; unknown ones when asked) */
  left(spec: LaneSpec, withUnknown: boolean): number;
  /** let go of a lane held but not run (nothing was left in it) */
  release(spec: LaneSpec): void;
  /** how long a worker stands by before it tries the lanes held elsewhere again */
  retryMs: number;
  /** since when (ms) these other workers may have sent the rows they claimed (a look-up's LookupHint) */
  sentSince(workers: number[]): number;
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

/**
 * Sends a planned campaign through its lanes. The journal is the only truth: a message is
 * `sending` (committed) before its request leaves, and its outcome is committed before the
 * provider's reports are acknowledged. Whatever instant this process dies at, `resume` finds
 * every row in a state it can continue from.
 */
export class DeliveryEngine {
  private readonly state: RunState;
  private readonly stop = new AbortController();
  private readonly quiet: QuietGate;
  private readonly commits: GroupCommit;
  /** the lanes this worker runs: all of them, unless they are pinned (`pins`) */
  private readonly held: LaneSpec[];

  constructor(
    private readonly journal: DeliveryJournal,
    private readonly opts: EngineOptions,
  ) {
    this.state = new RunState(opts.limit ?? Infinity, this.stop.signal);
    this.quiet = new QuietGate(opts.quietHours, opts.now);
    this.commits = new GroupCommit(journal, this.state, opts.onOptedOut, opts.groupCommitMs);
    opts.signal.addEventListener('abort', () => this.stop.abort(), { once: true });
    this.held = opts.pins ? [] : [...opts.lanes];
  }

  private readonly subscribed = new Set<Provider>();
  /** each lane's one pacer, across the passes and restarts of the run */
  private readonly rates = new Map<LaneSpec, LaneRate>();

  private rateOf(spec: LaneSpec): LaneRate {
    let rate = this.rates.get(spec);
    if (!rate) {
      rate = new LaneRate(spec.tps);
      this.rates.set(spec, rate);
    }
    return rate;
  }
  /** pinned lanes: the standby ended for this worker's own unknown rows, which the run's end asks about */
  private askBeforeStandby = false;

  /** Take a provider's reports (and MO) from now on: an SMPP provider binds for them. */
  private subscribe(p: Provider): void {
    if (this.subscribed.has(p)) return;
    this.subscribed.add(p);
    const progress = this.state.progress;
    p.subscribeReports?.(async (batch) => {
      // the answers these reports follow are committed first (a result before its reports' ack)
      if (!this.commits.flush()) throw new Error('the journal could not be written');
      const applied = this.journal.applyReportBatch(p.name, batch.reports);
      progress.reports += applied.applied;
      progress.failed += applied.failed; // a failed report is a failure of this run as much as a refused submit
      await batch.ack();
    });
    const onInbound = this.opts.onInbound;
    if (onInbound) p.subscribeInbound?.(async (messages) => onInbound(p.name, messages));
  }

  /** Stop the run with the journal's fault (a lease renewal that failed). */
  journalFault(err: unknown): void {
    this.state.journalFault(err);
  }

  /**
   * Pinned lanes: try each lane not held here that has rows left; true when one was taken. Stands
   * by (trying again every `retryMs`) while `wait` and every lane with rows left is held elsewhere.
   */
  private async takeLanes(wait: boolean): Promise<boolean> {
    const pins = this.opts.pins;
    if (!pins) return false;
    let told = false;
    for (;;) {
      if (this.state.stopped) return false;
      const waiting: LaneSpec[] = [];
      let gained = false;
      for (const spec of this.opts.lanes) {
        if (this.held.includes(spec)) continue;
        let rows: number;
        let mine: boolean;
        try {
          rows = pins.left(spec, Boolean(spec.provider.lookup));
          if (rows === 0) continue;
          waiting.push(spec);
          mine = await pins.tryHold(spec, this.stop.signal);
        } catch (err) {
          this.state.journalFault(err);
          return false;
        }
        if (mine && !this.state.stopped) {
          this.held.push(spec);
          this.subscribe(spec.provider);
          gained = true;
        }
      }
      if (gained && wait) await this.afterHolder();
      if (gained || !wait || waiting.length === 0) return gained;
      // Another worker's failover moved rows to a lane held here while this worker stood by (the
      // mover cannot send them): a pass sends them now, not once every other lane has run dry.
      // In quiet hours the rows left may be deferred ads: standing by as before.
      try {
        if (told && !this.quiet.closed() && this.heldHavePlanned()) return true;
        // Rows of lanes held here are unknown, their provider can be asked: the run's end asks it
        // again (with its backoff) rather than stand by. Two workers each standing by for the
        // other's unknown rows would wait for ever.
        if (told && this.unknownWithLookup() > 0) {
          this.askBeforeStandby = true;
          return false;
        }
      } catch (err) {
        this.state.journalFault(err);
        return false;
      }
      if (!told) this.opts.onStandby?.(waiting);
      told = true;
      await sleep(pins.retryMs, this.stop.signal);
    }
  }

  /**
   * A lane taken over from another worker waits out the cap's window before it sends: the last
   * holder's sends of its last second (it died, or let go) are not in this worker's window, and
   * the carrier counts both (in no second do the workers together exceed the lane's TPS).
   */
  private afterHolder(signal: AbortSignal = this.stop.signal): Promise<void> {
    return sleep(CAP_WINDOW_MS, signal);
  }

  /** A lane held elsewhere has rows left (planned, sending, or unknown ones its provider can be asked about). */
  private rowsElsewhere(): boolean {
    return this.opts.lanes.some(
      (spec) => !this.held.includes(spec) && this.opts.pins!.left(spec, Boolean(spec.provider.lookup)) > 0,
    );
  }

  /** A lane this worker holds has rows to send (planned; none of its own are in flight between passes). */
  private heldHavePlanned(): boolean {
    return this.held.some((spec) => this.opts.pins!.left(spec, false) > 0);
  }

  /** A row of a lane this worker runs (rows of lanes held elsewhere are their holders'). */
  private ours(m: { channel: string | null; provider: string | null }): boolean {
    return this.held.some((l) => sameLane(l, m));
  }

  async run(): Promise<EngineOutcome> {
    const state = this.state;
    const progress = state.progress;
    // pinned lanes: a provider is connected to (an SMPP bind) only by the worker running its lanes
    if (this.opts.pins) await this.takeLanes(false);
    for (const spec of this.held) this.subscribe(spec.provider);
    await this.reconcile(['sending', 'unknown'], this.opts.resendUnknown);
    let askedAgain = 0;
    const reask = new Backoff({ initialMs: 2000, maxMs: 4000 }); // before the 2nd and 3rd asking
    // Each pass sends what is planned; reports arriving meanwhile may release fallback legs,
    // which the next pass sends. Ends when a pass finds nothing new to send. Each pass starts its
    // lanes afresh from the first planned row, each with its one pacer (what it sent in the last
    // second counts, and its rate is where AIMD left it).
    for (;;) {
      try {
        this.opts.failover?.moveWaiting(); // what waits for a provider that is out goes to the next one
      } catch (err) {
        state.journalFault(err);
      }
      await this.pass();
      try {
        if (!state.fault) this.opts.failover?.moveWaiting();
      } catch (err) {
        state.journalFault(err);
      }
      if (state.fault) return { kind: 'fault', message: state.fault, progress };
      if (this.opts.signal.aborted) return { kind: 'interrupted', progress };
      if (state.remaining <= 0) return { kind: 'limit', progress };
      // pinned lanes: stand by while the lanes with rows left are held by other workers; one taken
      // over (its holder gone) has its dead holder's rows reconciled, then a pass sends the rest
      if (this.opts.pins && (await this.takeLanes(true))) {
        try {
          await this.reconcile(['sending', 'unknown'], this.opts.resendUnknown);
        } catch (err) {
          state.journalFault(err);
        }
        continue;
      }
      if (state.fault) return { kind: 'fault', message: state.fault, progress };
      if (this.opts.signal.aborted) return { kind: 'interrupted', progress };
      if (this.quiet.closed()) {
        const deferred = this.journal.countDeferrable(this.opts.campaignId);
        if (deferred > 0) return { kind: 'deferred', deferred, progress };
      }
      // a worker that stopped standing by to ask about its own unknown rows asks at once
      const askFirst = this.askBeforeStandby;
      this.askBeforeStandby = false;
      if (!askFirst) {
        if (this.journal.countInStatus(this.opts.campaignId, 'planned') > 0) continue;
        await this.awaitReports([...this.subscribed]);
        if (this.journal.countInStatus(this.opts.campaignId, 'planned') > 0) continue;
      }
      // Rows left `unknown` because their provider, which can be asked, could not be asked then
      // (it was down when their answer was lost): ask again before finishing. What it holds is
      // sent; what it does not goes back to planned and out in the next pass. A run never
      // finishes with such rows: the campaign would be done and `resume` would not look at them.
      const unresolved = this.unknownWithLookup();
      // pinned lanes: while another worker's lanes have rows left, stand by for them (it may die)
      if (unresolved === 0 && this.opts.pins && this.rowsElsewhere()) continue;
      if (unresolved === 0) break;
      if (askedAgain >= 3) {
        return {
          kind: 'fault',
          message: `${unresolved} messages are unknown: the request left, its answer was lost, and the provider could not be asked whether it took them; nothing is lost: run \`ums resume\` once it answers`,
          progress,
        };
      }
      if (askedAgain) await sleep(reask.next(), this.stop.signal);
      askedAgain++;
      try {
        await this.reconcile(['unknown'], false); // only a definite answer releases a row here
      } catch (err) {
        state.journalFault(err);
      }
    }
    return { kind: 'finished', progress };
  }

  /**
   * One pass: every lane runs until it has nothing left. With failback, a provider failed over for
   * being unavailable is asked meanwhile (a look-up of messages it took: a real request) whether it
   * answers again; once it does, its waiting messages come back to it and its lanes start again.
   */
  private async pass(): Promise<void> {
    const running = new Map<LaneSpec, Promise<void>>();
    const lanes = new Map<LaneSpec, Lane>();
    const restart = new Set<LaneSpec>();
    // a lane started meanwhile (by a failback probe) is one the loop below waits for too
    let wake = (): void => undefined;
    const started = (): Promise<void> => new Promise((resolve) => (wake = resolve));
    const start = (spec: LaneSpec): void => {
      if (running.has(spec)) return;
      const lane = new Lane(spec, this.laneContext(spec), this.rateOf(spec));
      lanes.set(spec, lane);
      const p = lane.run().finally(() => {
        running.delete(spec);
        // rows were moved to it after it had stopped reading: a fresh lane reads them
        if (restart.delete(spec) && !this.state.stopped) start(spec);
      });
      running.set(spec, p);
      wake();
    };
    for (const spec of this.held) start(spec);
    // pinned lanes: one another worker lets go of (it died, or ended) is taken while this worker's
    // own lanes run, not when they end (they may run for hours)
    const adopting = new AbortController();
    const adopt = this.opts.pins ? this.adoptLanes(start, adopting.signal) : Promise.resolve();
    try {
      await this.runPass(running, lanes, restart, start, started);
    } finally {
      adopting.abort();
      await adopt;
    }
  }

  /**
   * While a pass runs: every `retryMs`, try the lanes held elsewhere; one taken has the rows its
   * last holder left `sending` or `unknown` looked up (those of this worker's running lanes are in
   * flight: left alone), then runs in this pass.
   */
  private async adoptLanes(start: (spec: LaneSpec) => void, signal: AbortSignal): Promise<void> {
    const pins = this.opts.pins!;
    for (;;) {
      await sleep(pins.retryMs, signal);
      if (signal.aborted || this.state.stopped) return;
      for (const spec of this.opts.lanes) {
        if (this.held.includes(spec)) continue;
        try {
          // the pin first: one cheap query where another worker holds it (the usual case), not a count
          if (!(await pins.tryHold(spec, signal))) continue;
          if (signal.aborted || this.state.stopped || pins.left(spec, Boolean(spec.provider.lookup)) === 0) {
            pins.release(spec); // nothing to send there: free for whoever finds rows in it
            continue;
          }
          this.held.push(spec);
          this.subscribe(spec.provider);
          await this.reconcile(['sending', 'unknown'], this.opts.resendUnknown, (m) => sameLane(spec, m));
        } catch (err) {
          this.state.journalFault(err);
          return;
        }
        await this.afterHolder(signal);
        if (signal.aborted || this.state.stopped) return;
        start(spec);
      }
    }
  }

  private async runPass(
    running: Map<LaneSpec, Promise<void>>,
    lanes: Map<LaneSpec, Lane>,
    restart: Set<LaneSpec>,
    start: (spec: LaneSpec) => void,
    /** resolves when a lane starts during the pass (a failback probe's, a lane taken over) */
    started: () => Promise<void>,
  ): Promise<void> {
    const failover = this.opts.failover;
    // A lane ends when its provider fails over: its waiting messages go to the next provider at
    // once, not when the pass ends (another lane, another channel's, may run for hours), and the
    // lanes taking them over start, or read again from the first row if they are running. Asked at
    // every lane's end while a provider is out: a row its last answers gave back (released, planned
    // again on the provider that is out) moves with the lane that held it.
    const takeOver = (): void => {
      if (!failover?.anyOut || this.state.stopped) return;
      try {
        if (failover.moveWaiting() === 0) return;
      } catch (err) {
        this.state.journalFault(err);
        return;
      }
      for (const spec of this.held) {
        if (failover.stopsLane(spec.channel, spec.provider.name)) continue;
        if (!running.has(spec)) start(spec);
        else if (!lanes.get(spec)!.rewind()) restart.add(spec);
      }
    };
    if (!failover || failover.nextProbeInMs() === null) {
      // nothing to probe yet: a lane may fail over meanwhile, so look again as lanes end
      while (running.size) {
        await Promise.race([...running.values(), started()]);
        takeOver();
        if (failover && failover.nextProbeInMs() !== null) break;
      }
      if (!running.size) return;
    }
    const probing = new AbortController();
    const probe = this.probeLoop(failover!, running, start, probing.signal);
    while (running.size) {
      await Promise.race([...running.values(), started()]);
      takeOver();
    }
    probing.abort();
    await probe;
  }

  /** Failback: ask each provider that is out when its probe is due; one that answers takes its messages back. */
  private async probeLoop(
    failover: Failover,
    running: Map<LaneSpec, Promise<void>>,
    start: (spec: LaneSpec) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const routing = this.opts.routing;
    while (!signal.aborted && !this.state.stopped) {
      const wait = failover.nextProbeInMs();
      await sleep(Math.min(wait ?? 200, 200), signal);
      if (signal.aborted || this.state.stopped) return;
      for (const name of failover.dueProbes()) {
        const specs = this.held.filter((l) => l.provider.name === name);
        const provider = specs[0]?.provider;
        const taken = routing?.taken(this.opts.campaignId, name, 3) ?? [];
        const answer = taken.length
          ? await lookUp(
              provider,
              taken.map((t) => messageKey(this.opts.campaignId, t.row, t.leg)),
            )
          : null;
        if (signal.aborted || this.state.stopped) return;
        if (answer === null) {
          failover.stillOut(name);
          continue;
        }
        try {
          failover.recovered(name);
        } catch (err) {
          this.state.journalFault(err);
          return;
        }
        for (const spec of specs) start(spec);
      }
      if (!running.size) return;
    }
  }

  private laneContext(spec: LaneSpec): LaneContext {
    return {
      journal: this.journal,
      campaignId: this.opts.campaignId,
      from: this.opts.from,
      run: this.state,
      quiet: this.quiet,
      maxSubmits: this.maxSubmits(spec.provider),
      giveUpAfterMs: this.opts.giveUpAfterMs,
      messageOptions: this.opts.messageOptions,
      commits: this.commits,
      onProgress: this.opts.onProgress,
      routing: this.opts.routing,
      failover: this.opts.failover,
    };
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
      if (this.opts.pins && !this.ours(m)) return false;
      const p = canAsk.get(m.provider ?? '');
      return p !== undefined && m.attempts < this.maxSubmits(p);
    }).length;
  }

  private reconcile(
    statuses: readonly ('sending' | 'unknown')[],
    resendUnknown: boolean,
    /** only these rows (a lane just taken over); default every lane held here */
    only?: (m: { channel: string | null; provider: string | null }) => boolean,
  ): Promise<void> {
    const byProvider = new Map(this.opts.lanes.map((l) => [l.provider.name, l.provider]));
    return reconcileRows(
      this.journal,
      this.opts.campaignId,
      byProvider,
      (p) => this.maxSubmits(p),
      statuses,
      resendUnknown,
      only ?? (this.opts.pins ? (m) => this.ours(m) : undefined),
      this.opts.pins ? (workers) => this.opts.pins!.sentSince(workers) : undefined,
    );
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

/** Whether a row is of this lane (its channel and provider). */
function sameLane(spec: LaneSpec, m: { channel: string | null; provider: string | null }): boolean {
  return spec.channel === m.channel && spec.provider.name === m.provider;
}
