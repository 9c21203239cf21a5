import type { RcsKind } from '../campaign/rcs.js';
import type { Channel } from '../campaign/types.js';
import type { MoveWhy, RoutingJournal, UnassignedRow } from '../journal/routing.js';

export interface FailoverOptions {
  routing: RoutingJournal;
  campaignId: string;
  /** per channel, the providers its messages may go to, in the order they take over from each other */
  order: ReadonlyMap<Channel, readonly string[]>;
  /** how long a provider may stay unavailable (or leave its answers out) before it is out */
  afterMs: number;
  /** what one part of a message costs at a provider */
  price: (provider: string, channel: Channel, rcsKind: RcsKind | null) => number;
  /** failback: a provider out for being unavailable is asked this often whether it answers again (null: never) */
  failbackAfterMs?: number | null;
  /** failback: the provider a waiting message's route gave it at planning (its own, to come back to) */
  home?: (row: UnassignedRow) => string;
  now?: () => number;
}

interface Out {
  why: Exclude<MoveWhy, 'route'>;
  detail: string | null;
  since: number;
}

/**
 * Failover across the providers of a route, for one run. A provider whose lane has been unavailable
 * (503s, refused connections, answers that never come) longer than `afterMs`, or that refuses us
 * (`fatal`: credentials, balance, a blocked channel), is out: its lanes take no new message, and its
 * waiting messages (planned or held: it has none of them) move to the next provider of their route
 * that is not out. A message it may hold (sending, unknown) stays with it until its look-up says it
 * does not (then it is planned again, and moves); the last provider of a route is never out: its
 * lane stops the run as it always did. A new run (`ums resume`) starts with every provider in.
 */
export class Failover {
  private readonly out = new Map<string, Out>();
  /** when each provider out for being unavailable is next asked whether it answers again */
  private readonly probeAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: FailoverOptions) {
    this.now = opts.now ?? Date.now;
  }

  isOut(provider: string): boolean {
    return this.out.has(provider);
  }

  /** The provider that takes over `channel` from `from`: the first of its route not out, or null. */
  next(channel: Channel, from: string): string | null {
    const order = this.opts.order.get(channel) ?? [];
    return order.find((p) => p !== from && !this.out.has(p)) ?? null;
  }

  /** Some provider is out: what waits for it may be moved (moveWaiting). */
  get anyOut(): boolean {
    return this.out.size > 0;
  }

  /** The lane of `channel` through `provider` is to take no new message: the provider is out, another takes over. */
  stopsLane(channel: Channel, provider: string): boolean {
    return this.out.has(provider) && this.next(channel, provider) !== null;
  }

  /**
   * A lane's provider has been failing since `since` (`why`): true when it is out (now, or already)
   * and another provider takes this channel over; false when the lane is to go on as before.
   */
  failing(
    channel: Channel,
    provider: string,
    why: Out['why'],
    detail: string | null,
    since: number,
  ): boolean {
    if (this.next(channel, provider) === null) return false;
    if (this.out.has(provider)) return true;
    if (why === 'unavailable' && this.now() - since < this.opts.afterMs) return false;
    this.out.set(provider, { why, detail, since });
    if (why === 'unavailable' && this.opts.failbackAfterMs)
      this.probeAt.set(provider, this.now() + this.opts.failbackAfterMs);
    return true;
  }

  /** Failback: the providers out for being unavailable that are due to be asked whether they answer again. */
  dueProbes(): string[] {
    const now = this.now();
    return [...this.probeAt].filter(([p, at]) => at <= now && this.out.has(p)).map(([p]) => p);
  }

  /** ms until the next probe is due (null: none is waiting). */
  nextProbeInMs(): number | null {
    const ats = [...this.probeAt].filter(([p]) => this.out.has(p)).map(([, at]) => at);
    return ats.length ? Math.max(0, Math.min(...ats) - this.now()) : null;
  }

  /** A probe found the provider still silent: asked again after failbackAfterMs. */
  stillOut(provider: string): void {
    if (this.opts.failbackAfterMs) this.probeAt.set(provider, this.now() + this.opts.failbackAfterMs);
  }

  /**
   * A probe found the provider answering again: it takes messages again, and the waiting messages
   * its route gave it at planning come back from the providers that took them over (journaled as
   * moves, why `recovered`). Only waiting ones (planned, held): what another provider may hold stays
   * with it. Returns how many came back.
   */
  recovered(provider: string): number {
    const o = this.out.get(provider);
    if (!o) return 0;
    this.out.delete(provider);
    this.probeAt.delete(provider);
    const home = this.opts.home;
    if (!home) return 0;
    const { routing, campaignId } = this.opts;
    const at = new Date(this.now()).toISOString();
    let n = 0;
    for (const [channel, order] of this.opts.order) {
      if (!order.includes(provider)) continue;
      for (const from of order) {
        if (from === provider) continue;
        n += routing.moveWhere(
          campaignId,
          channel,
          from,
          provider,
          (row) => home(row) === provider,
          (kind) => this.opts.price(provider, channel, kind),
          'recovered',
          o.detail,
          new Date(o.since).toISOString(),
          at,
        );
      }
    }
    return n;
  }

  /** Move every waiting message of each provider that is out to the one taking over; how many moved. */
  moveWaiting(): number {
    const { routing, campaignId } = this.opts;
    let n = 0;
    const at = new Date(this.now()).toISOString();
    for (const [provider, o] of this.out) {
      for (const [channel, order] of this.opts.order) {
        if (!order.includes(provider)) continue;
        const to = this.next(channel, provider);
        if (to === null) continue;
        n += routing.move(
          campaignId,
          channel,
          provider,
          to,
          (kind) => this.opts.price(to, channel, kind),
          o.why,
          o.detail,
          new Date(o.since).toISOString(),
          at,
        );
      }
    }
    return n;
  }
}
