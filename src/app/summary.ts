import { maskPhone, maskPhoneNumbers } from '../campaign/phone.js';
import type { CampaignRecord, Journal } from '../journal/journal.js';
import { isSimulated, type Routing } from './simulated.js';

export interface ChannelTotals {
  count: number;
  parts: number;
  cost: number;
}

export interface CampaignSummary {
  campaign: string;
  state: string;
  csv: string;
  template: string;
  encoding: string | null;
  /** the phone column planning used and how it was found (null: a campaign planned by an older ums) */
  phoneColumn: { name: string; how: 'flag' | 'header' | 'content' } | null;
  rows: number;
  /** messages by status (a row and its fallback leg count separately) */
  statuses: Record<string, number>;
  /** planned (or sent) messages by channel, with estimated parts and cost */
  channels: Record<string, ChannelTotals>;
  estimatedCost: number;
  /** fallback legs that go only if their AlimTalk/RCS message fails, and what they would cost */
  fallback: { held: number; maxCost: number };
  /** short texts that are LMS only because the template gives them a subject */
  subjectUpgrades: number;
  reasons: { code: string; count: number; firstRow: number; example: string }[];
  preview: {
    row: number;
    to: string;
    channel: string;
    bytes: number;
    subject: string | null;
    text: string;
  }[];
  /** it goes (or went) through the built-in simulator: nothing leaves this machine */
  simulated: boolean;
  /** what is still to go, by channel (the lanes, laneForecasts): planned messages and held fallback legs */
  toSend: Record<string, LaneWork>;
  /** the same, by the provider planning assigned (a split or cheapest route: several per channel) */
  toSendByProvider: ProviderWork[];
  /** the template is an ad (quiet hours apply to its rows without night consent) */
  ad: boolean;
  /** the sender number (발신번호) the campaign was planned with */
  from: string | null;
}

/** A channel's messages still to send on one provider (null: none assigned yet, an older ums's plan). */
export interface ProviderWork extends LaneWork {
  channel: string;
  provider: string | null;
}

/** A channel's messages still to send: `deferrable` of them are ads without night consent. */
export interface LaneWork {
  count: number;
  parts: number;
  cost: number;
  deferrable: number;
  /** fallback legs that go only if their first leg fails (not in count) */
  held: number;
}

const NOT_SENDABLE = new Set(['rejected', 'skipped', 'held', 'cancelled']);

/** What a person needs to judge a campaign at a glance; phone numbers masked. */
export function summariseCampaign(
  journal: Journal,
  campaign: CampaignRecord,
  previewRows = 3,
  routing?: Routing,
): CampaignSummary {
  const statuses: Record<string, number> = {};
  const channels: Record<string, ChannelTotals> = {};
  let estimatedCost = 0;
  const fallback = { held: 0, maxCost: 0 };
  const toSend: Record<string, LaneWork> = {};
  const deferrable = journal.delivery().deferrableByChannel(campaign.id);
  for (const c of journal.statusCounts(campaign.id)) {
    if (c.channel !== null && (c.status === 'planned' || c.status === 'held')) {
      const w = (toSend[c.channel] ??= { count: 0, parts: 0, cost: 0, deferrable: 0, held: 0 });
      if (c.status === 'held') w.held += c.count;
      else {
        w.count += c.count;
        w.parts += c.parts;
        w.cost += c.costEst;
        w.deferrable = deferrable[c.channel] ?? 0;
      }
    }
    statuses[c.status] = (statuses[c.status] ?? 0) + c.count;
    if (c.status === 'held') {
      fallback.held += c.count;
      fallback.maxCost += c.costEst;
    }
    if (NOT_SENDABLE.has(c.status) || c.channel === null) continue;
    const t = (channels[c.channel] ??= { count: 0, parts: 0, cost: 0 });
    t.count += c.count;
    t.parts += c.parts;
    t.cost += c.costEst;
    estimatedCost += c.costEst;
  }
  const preview = journal.firstMessages(campaign.id, 'planned', previewRows).map((m) => ({
    row: m.row,
    to: maskPhone(m.to ?? ''),
    channel: m.channel ?? '',
    bytes: m.bytes,
    subject: m.subject,
    text: m.body ?? '',
  }));
  return {
    campaign: campaign.id,
    state: campaign.state,
    csv: campaign.csvPath,
    template: campaign.templatePath,
    encoding: (campaign.settings.detectedEncoding as string | undefined) ?? null,
    phoneColumn: campaign.settings.phoneColumnFound
      ? { name: campaign.settings.phoneColumnFound.name, how: campaign.settings.phoneColumnFound.how }
      : null,
    rows: campaign.rows,
    statuses,
    channels,
    estimatedCost: Math.round(estimatedCost * 100) / 100,
    fallback,
    subjectUpgrades: campaign.settings.channel === 'auto' ? journal.countSubjectUpgrades(campaign.id) : 0,
    reasons: journal.topReasons(campaign.id, 5).map((r) => ({ ...r, example: maskPhoneNumbers(r.example) })),
    preview,
    simulated: isSimulated(journal, campaign, routing),
    toSend,
    toSendByProvider: providerWork(journal, campaign.id),
    ad: campaign.settings.ad === true,
    from: typeof campaign.settings.from === 'string' ? campaign.settings.from : null,
  };
}

function providerWork(journal: Journal, campaignId: string): ProviderWork[] {
  const out: ProviderWork[] = [];
  for (const l of journal.routing().waitingLanes(campaignId)) {
    let w = out.find((x) => x.channel === l.channel && x.provider === l.provider);
    if (!w)
      out.push(
        (w = {
          channel: l.channel,
          provider: l.provider,
          count: 0,
          parts: 0,
          cost: 0,
          deferrable: 0,
          held: 0,
        }),
      );
    if (l.status === 'held') w.held += l.count;
    else {
      w.count += l.count;
      w.parts += l.parts;
      w.cost += l.cost;
      w.deferrable += l.deferrable;
    }
  }
  return out;
}
