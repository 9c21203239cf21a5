export const CHANNELS = ['sms', 'lms', 'mms', 'alimtalk', 'rcs'] as const;
export type Channel = (typeof CHANNELS)[number];
export type ChannelChoice = 'auto' | Channel;

export type Prices = Record<Channel, number>;
/** KRW per message part; DOMAIN.md's defaults. */
export const DEFAULT_PRICES: Prices = { sms: 13, lms: 35, mms: 90, alimtalk: 8, rcs: 12 };

export type PlanStatus = 'planned' | 'rejected' | 'skipped';

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
}
