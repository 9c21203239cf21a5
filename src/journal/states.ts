/**
 * The journal's vocabulary (DESIGN.md, "Message states" and the campaign lifecycle): every status a
 * message may have, every state a campaign may be in, and the one table of moves between them. The
 * statements of src/journal hold the moves in their SET and WHERE clauses; the table is what they
 * must agree with, and test/unit/transitions.test.ts proves every UPDATE and trigger does (reading
 * their SQL, and recording every change a journal driven through its methods makes).
 */

export const MESSAGE_STATUSES = [
  'planned',
  'held',
  'sending',
  'sent',
  'unknown',
  'delivered',
  'failed',
  'rejected',
  'skipped',
  'cancelled',
] as const;

/**
 * `planned` waits to be claimed; `held` is a fallback leg (leg 1) waiting on its first leg; `sending`
 * is claimed, its request about to leave or gone; `sent` the provider took it; `unknown` the request
 * left and no answer came (never resent blindly); the rest are final.
 */
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * Final states: no report, late or duplicate, may change them. A retry (`ums resume --retry-failed`)
 * never moves a failed leg: it inserts a new one (leg 2, 3, …), planned.
 */
export const FINAL_STATES = [
  'delivered',
  'failed',
  'rejected',
  'skipped',
  'cancelled',
] as const satisfies readonly MessageStatus[];
export type FinalStatus = (typeof FINAL_STATES)[number];

/** What planning writes (journal.insertPlanned): a message starts in one of these. */
export const INITIAL_MESSAGE_STATUSES = [
  'planned',
  'held',
  'rejected',
  'skipped',
] as const satisfies readonly MessageStatus[];

/** What a delivery report says, and what a message's parts roll up to (message_parts.status). */
export type ReportStatus = Extract<MessageStatus, 'delivered' | 'failed'>;

/** A move: from any of `from` to one of `to`, made by the statement or trigger named by its event. */
export interface Transition<S extends string> {
  from: readonly S[];
  to: readonly S[];
}

/**
 * Every change of messages.status, by the event that makes it: the statement of that name (delivery.ts,
 * journal.ts) or the trigger (migrations.ts). Nothing else moves a message.
 */
export const MESSAGE_TRANSITIONS = {
  /** DeliveryJournal.claim: marked before its request leaves */
  claim: { from: ['planned'], to: ['sending'] },
  /** the claim found the number on the opt-out list (정보통신망법 §50) */
  skipOptedOut: { from: ['planned'], to: ['skipped'] },
  /** the provider took it (also an unknown one a look-up found) */
  sent: { from: ['sending', 'unknown'], to: ['sent'] },
  /** the provider refused it for good */
  failed: { from: ['sending', 'unknown'], to: ['failed'] },
  /** the request left and no answer came */
  unknown: { from: ['sending'], to: ['unknown'] },
  /** its worker's lease ran out while it was being sent (WorkersJournal): looked up, never resent blindly */
  leaseExpired: { from: ['sending'], to: ['unknown'] },
  /** the provider did not take it: to be sent again */
  release: { from: ['sending', 'unknown'], to: ['planned'] },
  /** certainly never left: planned again, its attempt given back */
  unclaim: { from: ['sending'], to: ['planned'] },
  /** a delivery report (or its parts' reports rolled up); never a final state */
  report: { from: ['sending', 'sent', 'unknown'], to: ['delivered', 'failed'] },
  /** `ums cancel`: what no provider has yet */
  cancelMessages: { from: ['planned', 'held'], to: ['cancelled'] },
  /** trigger: the first leg failed, so its fallback goes (or not, to a number that opted out) */
  fallback_when_failed: { from: ['held'], to: ['planned', 'skipped'] },
  /** trigger: the first leg was delivered, so its fallback is not needed */
  fallback_not_needed: { from: ['held'], to: ['skipped'] },
  /** trigger: the first leg was skipped at its claim (opted out), and its fallback with it */
  fallback_when_skipped: { from: ['held'], to: ['skipped'] },
} as const satisfies Record<string, Transition<MessageStatus>>;

export type MessageEvent = keyof typeof MESSAGE_TRANSITIONS;

/**
 * DESIGN.md's campaign lifecycle: `planning` -> `draft` (planned; a dry run, a "no", a failure
 * before the first request) -> `armed` (the operator confirmed the send) -> `done`; a draft or an
 * armed campaign -> `cancelled`; `done` -> `armed` again only when `ums resume --retry-failed` planned
 * new attempts. Only an armed campaign is ever sent.
 */
export const CAMPAIGN_STATES = ['planning', 'draft', 'armed', 'done', 'cancelled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

/** What createCampaign writes. */
export const INITIAL_CAMPAIGN_STATE = 'planning' satisfies CampaignState;

/** Every change of campaigns.state, by the statement of that name (journal.ts). */
export const CAMPAIGN_TRANSITIONS = {
  /** every row is in the journal */
  markPlanned: { from: ['planning'], to: ['draft'] },
  /** the operator confirmed (again: arming an armed campaign changes nothing) */
  arm: { from: ['draft', 'armed'], to: ['armed'] },
  /** nothing left to send */
  finish: { from: ['armed'], to: ['done'] },
  /** `ums resume C --retry-failed` planned new attempts (legs 2, 3, …) for recipients whose latest leg failed */
  reopen: { from: ['done'], to: ['armed'] },
  /** `ums cancel` */
  cancelCampaign: { from: ['draft', 'armed'], to: ['cancelled'] },
} as const satisfies Record<string, Transition<CampaignState>>;

export type CampaignEvent = keyof typeof CAMPAIGN_TRANSITIONS;

/**
 * States written by an ums before migration 6 ('planned' and 'sending'), which that migration turns
 * into `draft` and `armed`: found only in migrations.ts, never in a journal that is open.
 */
export const LEGACY_CAMPAIGN_STATES = { planned: 'draft', sending: 'armed' } as const satisfies Record<
  string,
  CampaignState
>;

/** A message part's report (message_parts.status, NULL until then): set once, never changed. */
export const PART_TRANSITIONS = {
  mark: { from: [null], to: ['delivered', 'failed'] },
} as const satisfies Record<string, { from: readonly null[]; to: readonly ReportStatus[] }>;

type Table<S> = Record<string, { readonly from: readonly S[]; readonly to: readonly S[] }>;

/** The events of `table` that move `from` to `to` (none: the move is not allowed). */
export function eventsFor<S>(table: Table<S>, from: S, to: S): string[] {
  return Object.entries(table)
    .filter(([, t]) => t.from.includes(from) && t.to.includes(to))
    .map(([event]) => event);
}

export function canMoveMessage(from: MessageStatus, to: MessageStatus): boolean {
  return eventsFor<MessageStatus>(MESSAGE_TRANSITIONS, from, to).length > 0;
}

export function canMoveCampaign(from: CampaignState, to: CampaignState): boolean {
  return eventsFor<CampaignState>(CAMPAIGN_TRANSITIONS, from, to).length > 0;
}
