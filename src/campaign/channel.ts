import { countSmsSegments } from '../text/gsm.js';
import { pickRcsKind, RCS_CHARS, type RcsKind, type RcsRequest } from './rcs.js';
import type { Channel, ChannelChoice } from './types.js';

export const SMS_MAX_BYTES = 90;
export const LMS_MAX_BYTES = 2000;
export const SUBJECT_MAX_BYTES = 40;
export const ALIMTALK_MAX_CHARS = 1000;

/** The lengths planning checks when the provider declares none of its own. */
export const DEFAULT_TEXT_LIMITS: TextLimits = { alimtalkChars: ALIMTALK_MAX_CHARS, rcsChars: RCS_CHARS };

export interface ChannelInput {
  requested: ChannelChoice;
  /** EUC-KR bytes of the body (ignored for alimtalk/rcs) */
  bodyBytes: number;
  /** EUC-KR bytes of the subject, or null when there is none */
  subjectBytes: number | null;
  /** characters of the body, for the channels that count characters */
  bodyChars: number;
  hasImages: boolean;
  recipient: 'mobile' | 'landline' | 'international';
  /** the body, only needed to segment international SMS */
  body: string;
  /** rcs only: characters of the subject (the RCS title), or null when there is none */
  subjectChars?: number | null;
  /** rcs only: the RCS kind the template asks for (default auto) */
  rcs?: RcsRequest;
  /** the text lengths of the provider that sends it (default: the channel's own, DEFAULT_TEXT_LIMITS) */
  limits?: TextLimits;
}

/** Text lengths in characters that depend on the provider (its module's limits). */
export interface TextLimits {
  alimtalkChars: number;
  rcsChars: Readonly<Record<RcsKind, number>>;
}

export type ChannelPick =
  /** rcsKind: set when the channel is rcs */
  | { ok: true; channel: Channel; parts: number; upgradedBySubject: boolean; rcsKind?: RcsKind }
  | { ok: false; code: 'too_long' | 'channel'; reason: string };

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The channel a message goes out on, by DOMAIN.md's rules; pure. */
export function pickChannel(input: ChannelInput): ChannelPick {
  const { requested, bodyBytes, subjectBytes, hasImages, recipient } = input;
  if (requested === 'alimtalk' || requested === 'rcs') {
    if (recipient !== 'mobile')
      return { ok: false, code: 'channel', reason: `${requested} needs a Korean mobile number` };
    if (requested === 'rcs') {
      const r = pickRcsKind({
        requested: input.rcs ?? 'auto',
        bodyChars: input.bodyChars,
        subjectChars: input.subjectChars ?? null,
        hasImages,
        chars: input.limits?.rcsChars,
      });
      return r.ok
        ? { ok: true, channel: 'rcs', parts: 1, upgradedBySubject: r.upgradedBySubject, rcsKind: r.kind }
        : r;
    }
    const max = input.limits?.alimtalkChars ?? ALIMTALK_MAX_CHARS;
    if (input.bodyChars > max)
      return {
        ok: false,
        code: 'too_long',
        reason: `${fmt(input.bodyChars)} characters, over the alimtalk limit of ${fmt(max)}`,
      };
    return { ok: true, channel: requested, parts: 1, upgradedBySubject: false };
  }

  if (recipient === 'international') {
    if (requested === 'lms' || requested === 'mms' || hasImages || subjectBytes !== null) {
      return {
        ok: false,
        code: 'channel',
        reason: 'international numbers take SMS only (no subject, no images)',
      };
    }
    return { ok: true, channel: 'sms', parts: countSmsSegments(input.body).parts, upgradedBySubject: false };
  }

  if (subjectBytes !== null && subjectBytes > SUBJECT_MAX_BYTES) {
    return {
      ok: false,
      code: 'too_long',
      reason: `subject is ${subjectBytes} bytes, over the limit of ${SUBJECT_MAX_BYTES}`,
    };
  }
  // explicit sms: its own 90-byte limit below names the right limit, however long the text
  if (bodyBytes > LMS_MAX_BYTES && requested !== 'sms') {
    return {
      ok: false,
      code: 'too_long',
      reason: `${fmt(bodyBytes)} bytes, over the ${requested === 'auto' ? 'LMS' : requested.toUpperCase()} limit of ${fmt(LMS_MAX_BYTES)}`,
    };
  }
  switch (requested) {
    case 'sms':
      if (bodyBytes > SMS_MAX_BYTES)
        return {
          ok: false,
          code: 'too_long',
          reason: `${bodyBytes} bytes, over the SMS limit of ${SMS_MAX_BYTES} (the template asks for channel sms)`,
        };
      return { ok: true, channel: 'sms', parts: 1, upgradedBySubject: false };
    case 'lms':
      return { ok: true, channel: 'lms', parts: 1, upgradedBySubject: false };
    case 'mms':
      return { ok: true, channel: 'mms', parts: 1, upgradedBySubject: false };
    case 'auto':
      if (hasImages) return { ok: true, channel: 'mms', parts: 1, upgradedBySubject: false };
      if (bodyBytes <= SMS_MAX_BYTES && subjectBytes === null)
        return { ok: true, channel: 'sms', parts: 1, upgradedBySubject: false };
      return { ok: true, channel: 'lms', parts: 1, upgradedBySubject: bodyBytes <= SMS_MAX_BYTES };
  }
}
