import { maskPhone, maskPhoneNumbers } from '../campaign/phone.js';
import { providerConfig } from '../config/config.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { asksForReports } from '../providers/registry.js';
import { isSimulated, type Routing } from './simulated.js';

export interface CampaignReport {
  campaign: string;
  state: string;
  rows: number;
  statuses: Record<string, number>;
  channels: Record<string, Record<string, number>>;
  cost: { estimated: number; actual: number };
  /**
   * delivered / messages that reached a provider; null when none did, or when every provider that
   * sent some asked for no delivery reports (reportsNotRequested)
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
  }[];
  reasons: { code: string; count: number; firstRow: number; example: string }[];
  unmatchedReports: number;
  /** fallback legs (대체발송): by status, and what the ones sent cost */
  fallback: { statuses: Record<string, number>; cost: number } | null;
  /** a lane of it is (or will be) the built-in simulator: nothing left this machine */
  simulated: boolean;
  problems?: {
    row: number;
    leg: number;
    to: string;
    channel: string | null;
    status: string;
    reason: string | null;
  }[];
}

const round2 = (n: number): number => Math.round(n * 100) / 100;

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
    };
  });
  const senders = [...new Set(lanes.map((l) => l.provider))];
  const reportsNotRequested = routing
    ? senders.filter((p) => !asksForReports(providerConfig(routing.config, p)))
    : [];
  const rateKnown = reached > 0 && reportsNotRequested.length < senders.length;
  const report: CampaignReport = {
    campaign: campaign.id,
    state: campaign.state,
    rows: campaign.rows,
    statuses,
    channels,
    cost: { estimated: round2(estimated), actual: round2(actual) },
    deliveryRate: rateKnown ? round2((statuses.delivered ?? 0) / reached) : null,
    reportsNotRequested,
    dlrLatencyMs: { count: latencies.length, p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    lanes,
    reasons: journal.topReasons(campaign.id, 5).map((r) => ({ ...r, example: maskPhoneNumbers(r.example) })),
    unmatchedReports: d.unmatchedReports(),
    fallback: null,
    simulated: isSimulated(journal, campaign, routing),
  };
  const legs = d.fallbackLegs(campaign.id);
  if (legs.length) {
    report.fallback = {
      statuses: Object.fromEntries(legs.map((l) => [l.status, l.n])),
      cost: round2(legs.reduce((n, l) => n + l.cost, 0)),
    };
  }
  if (withProblems > 0) {
    report.problems = d.problemRows(campaign.id, withProblems).map((p) => ({
      ...p,
      to: p.to ? maskPhone(p.to) : '-',
      reason: p.reason === null ? null : maskPhoneNumbers(p.reason),
    }));
  }
  return report;
}

/** 3 when some rows were rejected, failed or are unknown; else 0. */
export function hasProblems(r: CampaignReport): boolean {
  return (r.statuses.rejected ?? 0) + (r.statuses.failed ?? 0) + (r.statuses.unknown ?? 0) > 0;
}
