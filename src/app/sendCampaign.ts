import type { RcsKind } from '../campaign/rcs.js';
import type { Channel } from '../campaign/types.js';
import { type Config, providerConfig } from '../config/config.js';
import { DeliveryEngine, type EngineOutcome, type Progress } from '../delivery/engine.js';
import { Failover } from '../delivery/failover.js';
import { InputError } from '../errors.js';
import type { SendableMessage } from '../journal/delivery.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import type { OutboundMessage } from '../providers/types.js';
import { testOf } from './campaignIdentity.js';
import { buildLanes, checkProvider } from './lanes.js';
import type { CampaignChannelSettings } from './planCampaign.js';
import { alimtalkIdsFor } from './routeChecks.js';
import { assignProviders, chooseProvider, failoverOrder, partPrice } from './routing.js';
import { joinAsWorker, type WorkerSession } from './workers.js';

export interface SendCampaignOptions {
  provider?: string;
  tps?: number;
  limit?: number;
  resendUnknown: boolean;
  /** the wall clock (UMS_NOW) */
  now: () => Date;
  /** aborted: stop submitting, settle what is in flight */
  signal: AbortSignal;
  /** the campaign is armed and `total` messages are to go: called once, before the first request */
  started?: (total: number) => Promise<void> | void;
  /** the engine stopped (whatever the outcome), before the providers are closed */
  ended?: () => void;
  onProgress?: (p: Progress) => void;
  /** what the worker's row names this process by (`ums send`, `ums resume --join`) */
  command?: string;
  /** PostgreSQL: this worker stands by, these lanes (`sms/solapi`) held by other workers */
  onStandby?: (lanes: string[]) => void;
  /** PostgreSQL: rows another worker left `sending` wait for its lease to run out */
  onLeaseWait?: (w: { host: string; pid: number; until: string }) => void;
}

export interface SendCampaignResult {
  outcome: EngineOutcome;
  /** messages still planned or sending once the run ended */
  left: number;
}

/**
 * A confirmed campaign with something to send: build its lanes (a config error stops it here, before
 * anything changes), arm it, run the engine, close the providers, and mark it done when everything
 * went out. The caller holds the campaign's lock.
 */
/**
 * The config may have changed since planning (`ums resume`): every provider AlimTalk may now go
 * through, its route's first or a failover's, must have the campaign's template id for it. NHN
 * knows a template by its own code, which Solapi's templateId is not: sent anyway, NHN refuses
 * every row (before, such a provider was given the template's top-level ids).
 */
function checkAlimtalkRoute(config: Config, campaign: CampaignRecord, order: readonly string[]): void {
  const alimtalk = (campaign.settings as Partial<CampaignChannelSettings>).alimtalk;
  if (!alimtalk) return;
  for (const p of order) {
    const type = String(providerConfig(config, p)?.type ?? '');
    if (alimtalkIdsFor(alimtalk, p, type, order.length <= 1) === null)
      throw InputError.of('err.alimtalk.resumeNoId', {
        campaign: campaign.id,
        provider: p,
        config: `${config.label}: routes`,
      });
  }
}

export async function sendCampaign(
  config: Config,
  journal: Journal,
  campaign: CampaignRecord,
  opts: SendCampaignOptions,
): Promise<SendCampaignResult> {
  const d = journal.delivery();
  const routing = journal.routing();
  const channels = d.plannedChannels(campaign.id);
  // What can refuse this run is checked before the journal changes: --provider moves every waiting
  // row to it, and a refusal after that left them there (a bare resume then refused too).
  if (opts.provider !== undefined) checkProvider(config, opts.provider);
  if (channels.includes('alimtalk'))
    checkAlimtalkRoute(config, campaign, failoverOrder(config, 'alimtalk', opts.provider));
  // each waiting message on its provider: planned ones already are; --provider, or a campaign an older ums planned
  assignProviders(config, routing, campaign.id, opts.provider);
  const assigned = routing.pending(campaign.id);
  const setup = await buildLanes(
    testOf(campaign) ? duplicatesAllowed(config) : config,
    journal.stateDir,
    channels,
    {
      provider: opts.provider,
      tps: opts.tps,
      now: opts.now,
      assigned,
      side: journal.sideStore(),
    },
  );
  const price = (p: string, c: Channel, k: RcsKind | null): number => partPrice(config, p, c, k);
  // waiting for a provider its route no longer names (the config changed since): the route's first
  for (const { channel, provider } of assigned) {
    const order = setup.order.get(channel);
    if (provider === null || !order?.length || order.includes(provider)) continue;
    const to = order[0]!;
    routing.move(
      campaign.id,
      channel,
      provider,
      to,
      (k) => price(to, channel, k),
      'route',
      null,
      null,
      new Date().toISOString(),
    );
  }
  const failover = new Failover({
    routing,
    campaignId: campaign.id,
    order: setup.order,
    afterMs: config.failoverAfterMs,
    price,
    // failback (failbackAfterMs): what the route gave a provider at planning comes back to it (not with --provider: one provider)
    failbackAfterMs: opts.provider === undefined ? config.failbackAfterMs : null,
    home: (row) => chooseProvider(config, row),
  });
  const total =
    d.countInStatus(campaign.id, 'planned') +
    d.countInStatus(campaign.id, 'sending') +
    d.countInStatus(campaign.id, 'unknown');
  // The operator's word, and the lanes are ready: from here a failure leaves it for `ums resume`.
  journal.arm(campaign.id);
  let outcome: EngineOutcome;
  // On PostgreSQL every sending process is a worker (others may join: `ums resume C --join`)
  let worker: WorkerSession | null = null;
  try {
    if (journal.dialect === 'postgres')
      worker = joinAsWorker(
        journal,
        campaign.id,
        opts.command ?? 'ums',
        config.leaseMs,
        undefined,
        opts.onLeaseWait,
      );
    await opts.started?.(total);
    const engine = new DeliveryEngine(d, {
      campaignId: campaign.id,
      from: (campaign.settings.from as string | null) ?? null,
      lanes: setup.lanes,
      limit: opts.limit,
      resendUnknown: opts.resendUnknown,
      giveUpAfterMs: giveUpAfterMs(setup.order, config.failoverAfterMs),
      reportWaitMs: setup.reportWaitMs,
      signal: opts.signal,
      onProgress:
        opts.onProgress &&
        ((p) => {
          if (worker) p.workers = worker.workers();
          opts.onProgress!(p);
        }),
      quietHours: campaign.settings.ad === true ? config.quietHours : undefined,
      now: opts.now,
      messageOptions: channelOptions(campaign, (provider) => ({
        type: String(providerConfig(config, provider)?.type ?? ''),
        onlyProvider: (setup.order.get('alimtalk')?.length ?? 1) <= 1,
      })),
      routing,
      failover,
      onInbound: (provider, messages) => {
        journal.inbox().store(provider, messages);
      },
      onOptedOut: (phones) =>
        journal.optouts().add(phones, 'provider', `opted out, reported while sending ${campaign.id}`),
      pins: worker?.pins,
      onStandby: (lanes) => opts.onStandby?.(lanes.map((l) => `${l.channel}/${l.provider.name}`)),
    });
    worker?.renewEvery((err) => engine.journalFault(err));
    outcome = await engine.run();
  } finally {
    worker?.end();
    opts.ended?.();
    await Promise.all(setup.providers.map((p) => p.close()));
  }
  const left = d.countInStatus(campaign.id, 'planned') + d.countInStatus(campaign.id, 'sending');
  // A fallback leg still `held` waits for its first leg's report: with a polled provider that comes
  // by `ums report --sync`, after this run; the campaign stays armed so `ums resume` sends what it releases.
  const held = d.countInStatus(campaign.id, 'held');
  if (outcome.kind === 'finished' && left === 0 && held === 0) journal.finish(campaign.id);
  return { outcome, left };
}

/**
 * A test send messages the same test number once per row: deliberate, so a provider that refuses a
 * number twice in one request unless told (Solapi's 1026, `allowDuplicates`) is told.
 */
function duplicatesAllowed(config: Config): Config {
  const providers = Object.fromEntries(
    Object.entries(config.providers).map(([name, p]) => [
      name,
      // the option of Solapi's schema (src/providers/solapi/config.ts); others have no such option
      p.type === 'solapi' ? { ...p, allowDuplicates: true } : p,
    ]),
  ) as Config['providers'];
  return { ...config, providers };
}

/** A confirmed campaign with nothing (left) to send: it is done. */
export function finishEmptyCampaign(journal: Journal, campaign: CampaignRecord): void {
  if (campaign.state === 'draft' || campaign.state === 'armed') {
    journal.arm(campaign.id);
    journal.finish(campaign.id);
  }
}

/** What a provider needs beyond the text, from what planning stored on the campaign. */
export function channelOptions(
  campaign: CampaignRecord,
  providerOf: (provider: string) => { type: string; onlyProvider: boolean } = () => ({
    type: '',
    onlyProvider: true,
  }),
): (m: SendableMessage, provider: string) => Partial<OutboundMessage> {
  const s = campaign.settings as Partial<CampaignChannelSettings>;
  return (m, provider) => {
    if (m.leg === 1) return {}; // a fallback leg (SMS/LMS); legs 2, 3, … are retries of a leg, with its options
    const variables = m.vars ? (JSON.parse(m.vars) as Record<string, string>) : {};
    if (m.channel === 'alimtalk' && s.alimtalk) {
      // each provider its own ids (checked at planning); a provider the plan did not know: the template's
      const p = providerOf(provider);
      const ids = alimtalkIdsFor(s.alimtalk, provider, p.type, p.onlyProvider) ?? s.alimtalk;
      return {
        kakao: {
          pfId: ids.pfId,
          templateId: ids.templateId,
          buttons: s.alimtalk.buttons,
          variables,
          disableSms: true,
        },
      };
    }
    if (m.channel === 'rcs' && s.rcs && m.rcsKind) {
      const rcs = {
        brandId: s.rcs.brandId,
        kind: m.rcsKind,
        templateId: s.rcs.templateId,
        buttons: s.rcs.buttons,
        variables,
        disableSms: true,
        commercial: s.ad === true,
      };
      return m.rcsKind === 'mms' && s.images?.length ? { rcs, images: s.images } : { rcs };
    }
    if (m.channel === 'mms' && s.images?.length) return { images: s.images };
    return {};
  };
}

/** How long a lane whose provider is unavailable waits before the run stops (exit 1, `ums resume`). */
export const GIVE_UP_AFTER_MS = 60_000;
/** What a lane still waits past failoverAfterMs: the failover moves its messages before the run stops. */
export const FAILOVER_GIVE_UP_MARGIN_MS = 30_000;

/**
 * The engine's give-up time: GIVE_UP_AFTER_MS, or, when a route has a next provider, at least
 * failoverAfterMs plus a margin: a failoverAfterMs above a minute would otherwise never take effect,
 * the run stopping before any message moved.
 */
export function giveUpAfterMs(
  order: ReadonlyMap<Channel, readonly string[]>,
  failoverAfterMs: number,
): number {
  const failsOver = [...order.values()].some((providers) => providers.length > 1);
  return failsOver
    ? Math.max(GIVE_UP_AFTER_MS, failoverAfterMs + FAILOVER_GIVE_UP_MARGIN_MS)
    : GIVE_UP_AFTER_MS;
}
