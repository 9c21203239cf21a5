import { maskPhone, maskPhoneNumbers } from '../campaign/phone.js';
import { providerConfig } from '../config/config.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { RECIPIENT_OUTCOMES } from '../journal/outcomes.js';
import { asksForReports } from '../providers/registry.js';
import { DEFAULT_TIME_ZONE, isoInZone } from '../time/zone.js';
import { isSimulated, type Routing } from './simulated.js';

/** Recipients (CSV rows) first: reached = some leg of theirs was delivered. */
export interface RecipientCounts {
  total: number;
  reached: number;
  /** reached / total, the exact fraction (null without recipients) */
  reachedRate: number | null;
  /** reached recipients by the channel of the leg that reached them */
  byChannel: Record<string, number>;
  /** of those, reached by their fallback leg (대체발송), by its channel */
  byFallback: Record<string, number>;
  /** every recipient by outcome: the best state among its legs (delivered, sent, …, failed, rejected, …) */
  outcomes: Record<string, number>;
  /** recipients neither reached nor on their way: failed (no leg delivered), rejected or unknown */
  notReached: number;
}

export interface CampaignReport {
  campaign: string;
  state: string;
  rows: number;
  /** the zone the times in it are in (config `timezone`) */
  timeZone: string;
  recipients: RecipientCounts;
  statuses: Record<string, number>;
  channels: Record<string, Record<string, number>>;
  cost: { estimated: number; actual: number };
  /**
   * delivered / messages that reached a provider (legs, not recipients: see `recipients`), the exact
   * fraction; null when none did, or when every provider that sent some asked for no delivery
   * reports (reportsNotRequested)
   */
  deliveryRate: number | null;
  /** providers that sent some of it and asked for no delivery reports (SMPP registeredDelivery: false) */
  reportsNotRequested: string[];
  dlrLatencyMs: { count: number; p50: number | null; p95: number | null };
  lanes: {
    provider: string;
    channel: string;
    messages: number;
    parts: number;
    partsPerSecond: number | null;
    /** ISO 8601 in the configured zone */
    firstSentAt: string;
    lastSentAt: string;
  }[];
  /** top failure reasons (never `fallback_unneeded`: that is no failure) */
  reasons: { code: string; count: number; firstRow: number; example: string }[];
  /** reason codes beyond those listed */
  moreReasons: number;
  unmatchedReports: number;
  /** fallback legs (대체발송): by status, and what the ones sent cost */
  fallback: { statuses: Record<string, number>; cost: number } | null;
  /** a lane of it is (or will be) the built-in simulator: nothing left this machine */
  simulated: boolean;
  /** per provider: the messages it took (or may hold), their parts and cost, and those still waiting for it */
  providers: { provider: string; messages: number; parts: number; cost: number; waiting: number }[];
  /** failover: messages moved from one provider to another, by (from, to, why); times ISO 8601 in the zone */
  moves: { from: string; to: string; why: string; count: number; since: string | null; until: string }[];
  problems?: {
    row: number;
    leg: number;
    to: string;
    channel: string | null;
    status: string;
    reason: string | null;
  }[];
  /** legs of recipients not reached beyond those listed in `problems` */
  moreProblems?: number;
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

/** The journal's failover moves, one per (from, to, why): how many, since the first failing until the last move. */
function movesOf(journal: Journal, campaignId: string, timeZone: string): CampaignReport['moves'] {
  const out = new Map<string, CampaignReport['moves'][number]>();
  for (const m of journal.routing().moves(campaignId)) {
    const key = `${m.from}\0${m.to}\0${m.why}`;
    const at = out.get(key);
    const since = m.since ?? m.movedAt;
    if (!at) {
      out.set(key, { from: m.from, to: m.to, why: m.why, count: m.count, since, until: m.movedAt });
      continue;
    }
    at.count += m.count;
    if (at.since === null || Date.parse(since) < Date.parse(at.since)) at.since = since;
    if (Date.parse(m.movedAt) > Date.parse(at.until)) at.until = m.movedAt;
  }
  return [...out.values()].map((m) => ({
    ...m,
    since: isoInZone(m.since, timeZone),
    until: isoInZone(m.until, timeZone),
  }));
}

function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
}

/** What happened to a campaign, from the journal alone; phone numbers masked. */
export function buildReport(
  journal: Journal,
  campaign: CampaignRecord,
  withProblems = 0,
  routing?: Routing,
): CampaignReport {
  const d = journal.delivery();
  const o = journal.outcomes();
  const timeZone = routing?.config.timezone ?? DEFAULT_TIME_ZONE;
  const statuses: Record<string, number> = {};
  const channels: Record<string, Record<string, number>> = {};
  let estimated = 0;
  let actual = 0;
  for (const c of journal.statusCounts(campaign.id)) {
    statuses[c.status] = (statuses[c.status] ?? 0) + c.count;
    if (c.channel) {
      const ch = channels[c.channel] ?? {};
      channels[c.channel] = ch;
      ch[c.status] = (ch[c.status] ?? 0) + c.count;
    }
    if (c.status !== 'rejected' && c.status !== 'skipped' && c.status !== 'held' && c.status !== 'cancelled')
      estimated += c.costEst;
    actual += c.cost;
  }
  const reached =
    (statuses.sent ?? 0) + (statuses.delivered ?? 0) + (statuses.failed ?? 0) + (statuses.unknown ?? 0);
  const latencies = d.deliveredLatenciesMs(campaign.id);
  const lanes = d.laneStats(campaign.id).map((l) => {
    const seconds = (Date.parse(l.lastSentAt) - Date.parse(l.firstSentAt)) / 1000;
    return {
      provider: l.provider,
      channel: l.channel,
      messages: l.messages,
      parts: l.parts,
      partsPerSecond: seconds > 0 ? round2(l.parts / seconds) : null,
      firstSentAt: isoInZone(l.firstSentAt, timeZone),
      lastSentAt: isoInZone(l.lastSentAt, timeZone),
    };
  });
  const senders = [...new Set(lanes.map((l) => l.provider))];
  const reportsNotRequested = routing
    ? senders.filter((p) => !asksForReports(providerConfig(routing.config, p)))
    : [];
  const rateKnown = reached > 0 && reportsNotRequested.length < senders.length;
  const outcomes = o.outcomes(campaign.id);
  const total = Object.values(outcomes).reduce((n, v) => n + v, 0);
  const byChannel: Record<string, number> = {};
  const byFallback: Record<string, number> = {};
  for (const r of o.reachedBy(campaign.id)) {
    const ch = r.channel ?? '-';
    byChannel[ch] = (byChannel[ch] ?? 0) + r.n;
    if (r.leg === 1) byFallback[ch] = (byFallback[ch] ?? 0) + r.n;
  }
  const recipients: RecipientCounts = {
    total,
    reached: outcomes.delivered ?? 0,
    reachedRate: total > 0 ? (outcomes.delivered ?? 0) / total : null,
    byChannel,
    byFallback,
    outcomes: Object.fromEntries(RECIPIENT_OUTCOMES.filter((k) => outcomes[k]).map((k) => [k, outcomes[k]!])),
    notReached: (outcomes.failed ?? 0) + (outcomes.rejected ?? 0) + (outcomes.unknown ?? 0),
  };
  const reasonCount = o.countReasons(campaign.id);
  const reasons = o.topReasons(campaign.id, 5);
  const report: CampaignReport = {
    campaign: campaign.id,
    state: campaign.state,
    rows: campaign.rows,
    timeZone,
    recipients,
    statuses,
    channels,
    cost: { estimated: round2(estimated), actual: round2(actual) },
    deliveryRate: rateKnown ? (statuses.delivered ?? 0) / reached : null,
    reportsNotRequested,
    dlrLatencyMs: { count: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    lanes,
    reasons: reasons.map((r) => ({ ...r, example: maskPhoneNumbers(r.example) })),
    moreReasons: Math.max(0, reasonCount - reasons.length),
    unmatchedReports: d.unmatchedReports(),
    fallback: null,
    simulated: isSimulated(journal, campaign, routing),
    providers: journal
      .routing()
      .providerStats(campaign.id)
      .map((p) => ({ ...p, cost: round2(p.cost) })),
    moves: movesOf(journal, campaign.id, timeZone),
  };
  const legs = d.fallbackLegs(campaign.id);
  if (legs.length) {
    report.fallback = {
      statuses: Object.fromEntries(legs.map((l) => [l.status, l.n])),
      cost: round2(legs.reduce((n, l) => n + l.cost, 0)),
    };
  }
  if (withProblems > 0) {
    report.problems = o.lostRows(campaign.id, withProblems).map((p) => ({
      ...p,
      to: p.to ? maskPhone(p.to) : '-',
      reason: p.reason === null ? null : maskPhoneNumbers(p.reason),
    }));
    report.moreProblems = Math.max(0, o.countLostRows(campaign.id) - report.problems.length);
  }
  return report;
}

/**
 * Exit 3: some recipients were rejected, failed with no leg delivered, or are unknown. A recipient
 * whose fallback was delivered was reached: its failed first leg is no problem.
 */
export function hasProblems(r: CampaignReport): boolean {
  return r.recipients.notReached > 0;
}
