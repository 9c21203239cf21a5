import type { RcsKind } from './rcs.js';

export const CHANNELS = ['sms', 'lms', 'mms', 'alimtalk', 'rcs'] as const;
export type Channel = (typeof CHANNELS)[number];
export type ChannelChoice = 'auto' | Channel;

/**
 * Optional finer RCS prices (KRW per message). `rcs` is the RCS SMS price, and the price of every
 * RCS kind whose own key is not set, so a config with one `rcs` price still prices everything.
 */
export const RCS_PRICE_KEYS = ['rcs_lms', 'rcs_mms', 'rcs_template'] as const;
export type Prices = Record<Channel, number> & Partial<Record<(typeof RCS_PRICE_KEYS)[number], number>>;
/** KRW per message part; DOMAIN.md's defaults. */
export const DEFAULT_PRICES: Prices = { sms: 13, lms: 35, mms: 90, alimtalk: 8, rcs: 12 };

/** `held`: a fallback leg waiting for its AlimTalk/RCS message's outcome. */
export type PlanStatus = 'planned' | 'rejected' | 'skipped' | 'held';

/** One recipient row after planning: what will be sent, or why not. */
export interface PlannedMessage {
  row: number;
  to: string | null;
  channel: Channel | null;
  status: PlanStatus;
  reason: string | null;
  parts: number;
  bytes: number;
  subject: string | null;
  body: string | null;
  cost: number;
  /** 0 the message itself; 1 its fallback leg */
  leg: number;
  /** JSON `{"#{name}": "value"}` for channels whose provider substitutes variables */
  vars: string | null;
  /** the RCS kind decided at planning (channel rcs only, else null): what the provider sends */
  rcsKind: RcsKind | null;
  /** an ad without night consent: never sent inside quiet hours */
  deferrable: boolean;
  /** the SMS/LMS leg sent if this AlimTalk/RCS message fails */
  fallback?: PlannedMessage;
}
