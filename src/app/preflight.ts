import { inQuietHours, msUntilQuietHours, msUntilQuietHoursEnd } from '../campaign/quietHours.js';
import type { Channel } from '../campaign/types.js';
import { type Config, isSimulator, providerConfig, providerFor } from '../config/config.js';
import { InputError } from '../errors.js';
import { laneTps } from '../providers/registry.js';
import { isoInZone } from '../time/zone.js';
import type { CampaignSummary, LaneWork, ProviderWork } from './summary.js';

/**
 * What one lane (channel -> provider) of a campaign about to be sent will do, as the operator checks
 * it before pressing send (the dry run and the prompt; `lanes` in the dry run's JSON).
 */
export interface LaneForecast {
  channel: string;
  /** null: the channel has no route (sending it is refused) */
  provider: string | null;
  /** the built-in simulator: nothing leaves this machine */
  simulated: boolean;
  /** the sender number (발신번호) the campaign was planned with */
  from: string | null;
  /** parts per second (0: no limit); null without a provider */
  tps: number | null;
  /** messages planned on the lane, and their parts (what the TPS counts) */
  planned: number;
  parts: number;
  /** fallback legs held on the lane: sent only if their first leg fails (not in planned or the ETA) */
  held: number;
  /** parts / tps, rounded up to a second; 0 with nothing planned; null without a limit or a provider */
  etaSeconds: number | null;
  /** KRW, from the config's prices as planning applied them */
  estimatedCost: number;
  /** ads without night consent that quiet hours would hold back if the send started now */
  quietHoursDeferred: number;
  /** when those may go: the end of that quiet-hours window (ISO 8601 with the zone's offset); null for none */
  deferredUntil: string | null;
}

export interface ForecastOptions {
  /** --provider */
  provider?: string;
  /** --tps */
  tps?: number;
}

/**
 * One forecast per lane the summary still has to send, in the summary's channel order. Pure: the
 * plan summary, the config and the instant the send would start.
 *
 * Quiet hours (ads only, rows without night consent): started inside the window, every such row
 * waits for its end; started before it with an ETA that runs into it, the rows the lane would reach
 * after it opens wait (the rows taken as spread evenly over the lane: an estimate to the row).
 */
export function laneForecasts(
  summary: Pick<CampaignSummary, 'toSend' | 'ad' | 'from'> & { toSendByProvider?: ProviderWork[] },
  config: Config,
  now: Date,
  opts: ForecastOptions = {},
): LaneForecast[] {
  const routeOf = (channel: string): string | null => {
    try {
      return providerFor(config, channel as Channel, opts.provider);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return null;
    }
  };
  // one lane per (channel, provider) planning assigned (a split or cheapest route has several), in the
  // summary's channel order; --provider sends everything through one, and a message with no provider
  // yet (planned by an older ums) goes by its route's first
  const lanes: { channel: string; provider: string | null; work: LaneWork }[] = [];
  for (const [channel, work] of Object.entries(summary.toSend)) {
    const byProvider = summary.toSendByProvider?.filter((w) => w.channel === channel);
    if (opts.provider !== undefined || !byProvider?.length) {
      lanes.push({ channel, provider: routeOf(channel), work });
      continue;
    }
    for (const w of byProvider) {
      const provider = w.provider ?? routeOf(channel);
      const same = lanes.find((l) => l.channel === channel && l.provider === provider);
      if (!same) lanes.push({ channel, provider, work: { ...w } });
      else for (const k of ['count', 'parts', 'cost', 'deferrable', 'held'] as const) same.work[k] += w[k];
    }
  }
  return lanes.map(({ channel, provider, work }) =>
    forecast(summary, config, now, opts, channel, provider, work),
  );
}

function forecast(
  summary: Pick<CampaignSummary, 'ad' | 'from'>,
  config: Config,
  now: Date,
  opts: ForecastOptions,
  channel: string,
  provider: string | null,
  work: LaneWork,
): LaneForecast {
  const q = config.quietHours;
  {
    const pc = provider === null ? undefined : providerConfig(config, provider);
    const tps = provider === null || !pc ? null : laneTps(provider, pc, opts.tps);
    const etaSeconds = work.parts === 0 ? 0 : tps === null || tps <= 0 ? null : Math.ceil(work.parts / tps);
    let deferred = 0;
    let until: number | null = null;
    const deferrable = summary.ad ? work.deferrable : 0;
    if (deferrable > 0) {
      if (inQuietHours(now, q)) {
        deferred = deferrable;
        until = now.getTime() + msUntilQuietHoursEnd(now, q);
      } else {
        const opensIn = msUntilQuietHours(now, q);
        const takesMs = etaSeconds === null ? 0 : (work.parts / (tps as number)) * 1000;
        if (takesMs > opensIn) {
          const sentBefore = Math.floor(deferrable * (opensIn / takesMs));
          deferred = deferrable - sentBefore;
          const opens = new Date(now.getTime() + opensIn);
          until = opens.getTime() + msUntilQuietHoursEnd(opens, q);
        }
      }
    }
    return {
      channel,
      provider,
      simulated: provider !== null && isSimulator(config, provider),
      from: summary.from,
      tps,
      planned: work.count,
      parts: work.parts,
      held: work.held,
      etaSeconds,
      estimatedCost: Math.round(work.cost * 100) / 100,
      quietHoursDeferred: deferred,
      deferredUntil: until === null ? null : isoInZone(until, config.timezone),
    };
  }
}
