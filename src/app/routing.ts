import { RCS_KINDS, type RcsKind, rcsPriceKey } from '../campaign/rcs.js';
import { CHANNELS, type Channel, type Prices } from '../campaign/types.js';
import { type Config, priceFor, type Route, routeFor } from '../config/config.js';
import { type KindProviders, kindKey } from '../journal/journal.js';
import type { RoutingJournal, UnassignedRow } from '../journal/routing.js';

/** The price key of a message: its channel, or its RCS kind's. */
function priceKey(channel: Channel, rcsKind: RcsKind | null): keyof Prices {
  return channel === 'rcs' && rcsKind ? rcsPriceKey(rcsKind) : channel;
}

/** What one part of a message costs at this provider: its own price, else the channel's. */
export function partPrice(
  config: Config,
  provider: string,
  channel: Channel,
  rcsKind: RcsKind | null,
): number {
  return priceFor(config, provider, priceKey(channel, rcsKind));
}

/**
 * A stable 32-bit hash of a recipient number (FNV-1a, then murmur3's finaliser so that numbers that
 * differ in their last digit spread over the whole range): the same number always lands on the same
 * provider of a split, in this run and in every `ums resume`.
 */
export function recipientHash(to: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < to.length; i++) {
    h ^= to.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The provider of a split for this number: by weight, on the number's hash. */
export function splitProvider(route: Route, to: string): string {
  const weights = route.weights ?? route.providers.map(() => 1);
  const total = weights.reduce((a, b) => a + b, 0);
  let at = recipientHash(to) % total;
  for (const [i, w] of weights.entries()) {
    if (at < w) return route.providers[i]!;
    at -= w;
  }
  return route.providers[route.providers.length - 1]!;
}

/** The cheapest provider of a route for a message of this channel (ties: the one listed first). */
export function cheapestProvider(
  config: Config,
  route: Route,
  channel: Channel,
  rcsKind: RcsKind | null,
): string {
  let best = route.providers[0]!;
  let bestPrice = partPrice(config, best, channel, rcsKind);
  for (const p of route.providers.slice(1)) {
    const price = partPrice(config, p, channel, rcsKind);
    if (price < bestPrice) [best, bestPrice] = [p, price];
  }
  return best;
}

/** The provider a message goes to at planning, by its channel's route. */
export function chooseProvider(config: Config, row: UnassignedRow, override?: string): string {
  const route = routeFor(config, row.channel, override);
  if (route.kind === 'split') return splitProvider(route, row.to ?? '');
  if (route.kind === 'cheapest') return cheapestProvider(config, route, row.channel, row.rcsKind);
  return route.providers[0]!;
}

/**
 * The order in which the providers of a channel's route take over from each other: a failover
 * list's, a split's as listed, the cheapest first (ties as listed).
 */
export function failoverOrder(config: Config, channel: Channel, override?: string): string[] {
  const route = routeFor(config, channel, override);
  if (route.kind !== 'cheapest') return [...route.providers];
  const key = priceKey(channel, null);
  return route.providers
    .map((p, i) => ({ p, i, price: priceFor(config, p, key) }))
    .sort((a, b) => a.price - b.price || a.i - b.i)
    .map((x) => x.p);
}

/**
 * The provider (and its price per part) of every channel and RCS kind whose route gives all its
 * messages one: what planning writes with each row. A split, or a channel without a route (an error
 * assignProviders meets, if the campaign sends it), is left out.
 */
export function providersByKind(config: Config, override?: string): KindProviders {
  const out: KindProviders = {};
  for (const channel of CHANNELS) {
    let route: Route;
    try {
      route = routeFor(config, channel, override);
    } catch {
      continue;
    }
    if (route.kind === 'split') continue;
    for (const rcsKind of channel === 'rcs' ? [null, ...RCS_KINDS] : [null]) {
      const provider = chooseProvider(config, { id: 0, to: null, channel, parts: 1, rcsKind }, override);
      out[kindKey(channel, rcsKind)] = { provider, price: partPrice(config, provider, channel, rcsKind) };
    }
  }
  return out;
}

/**
 * Give every waiting message without a provider the one its route names (planning; and a campaign
 * planned by an older ums, at its first resume). `--provider` at a send or resume: every waiting
 * message goes there.
 */
export function assignProviders(
  config: Config,
  routing: RoutingJournal,
  campaignId: string,
  override?: string,
): void {
  if (override !== undefined) routing.unassignAll(campaignId);
  // a route that is not a split gives a channel (and RCS kind) one provider: one statement for them all
  let split = false;
  for (const { channel, rcsKind } of routing.unassignedKinds(campaignId)) {
    if (routeFor(config, channel, override).kind === 'split') {
      split = true;
      continue;
    }
    const provider = chooseProvider(config, { id: 0, to: null, channel, parts: 1, rcsKind }, override);
    routing.assignKind(campaignId, channel, rcsKind, {
      provider,
      price: partPrice(config, provider, channel, rcsKind),
    });
  }
  if (!split) return;
  routing.assignProviders(campaignId, (row) => {
    const provider = chooseProvider(config, row, override);
    return { provider, price: partPrice(config, provider, row.channel, row.rcsKind) };
  });
}
