import { z } from 'zod';
import { formatFirstIssue } from '../../config/issues.js';
import { t } from '../../i18n/index.js';
import type { DeliveryReport, MessageOutcome } from '../types.js';

/**
 * Solapi's message status codes (docs: api-reference/message-status-codes): four digits,
 * 1xxx refused at intake, 2000 accepted, 2xxx failed inside the platform, 3000 with the carrier,
 * 3xxx failed at the carrier or Kakao, 4000 delivered.
 */
export const SOLAPI_CODES: Record<string, string> = {
  '1010': 'a required value is missing',
  '1011': 'format error',
  '1013': 'SMS cannot carry a subject',
  '1014': 'subject over 40 bytes',
  '1021': 'no such message',
  '1022': 'no such group',
  '1023': 'no such image',
  '1024': 'Solapi server error',
  '1025': 'invalid message type',
  '1026': 'duplicate recipient',
  '1028': 'non-printable characters',
  '1029': 'characters outside EUC-KR',
  '1030': 'insufficient balance',
  '1031': 'text too long for its type',
  '1032': 'invalid custom field',
  '1033': 'kakaoOptions only go with ATA/CTA',
  '1034': 'imageId does not exist',
  '1041': 'invalid Kakao channel (pfId)',
  '1042': 'invalid template id',
  '1043': 'text differs from the approved template',
  '1044': 'invalid button',
  '1045': 'invalid button URL',
  '1046': 'the template has buttons: send them',
  '1047': 'the template has no buttons: send none',
  '1050': 'at most 5 buttons',
  '1052': 'buttons out of template order',
  '1058': 'no route',
  '1060': 'blocked recipient',
  '1061': 'recipient opted out (080 수신거부)',
  '1062': 'unregistered sender number',
  '1064': 'blocked after a KISA report',
  '2000': 'accepted',
  '2011': 'format error',
  '2024': 'Solapi server error',
  '2060': 'blocked recipient',
  '2061': 'recipient opted out (080 수신거부)',
  '2062': 'unregistered sender number',
  '2063': 'blocked account',
  '2064': 'blocked after a KISA report',
  '2230': 'insufficient balance',
  '2254': 'spam (platform filter)',
  '3000': 'with the carrier, awaiting its report',
  '3010': 'malformed recipient number',
  '3011': 'format error',
  '3012': 'carrier link server error',
  '3013': 'malformed sender number',
  '3014': 'unknown message state',
  '3024': 'server error',
  '3031': 'cannot be delivered',
  '3032': 'not a subscriber',
  '3040': 'delivery timed out',
  '3041': 'handset busy',
  '3042': 'out of coverage',
  '3043': 'handset powered off',
  '3044': 'handset storage full',
  '3045': 'service suspended',
  '3046': 'handset problem',
  '3047': 'call barred',
  '3048': 'unknown code',
  '3050': 'handset cannot receive SMS',
  '3054': 'spam',
  '3055': 'spam (nospam.or.kr)',
  '3058': 'no route',
  '3059': 'spoofed sender number',
  '3101': 'invalid sender profile key',
  '3102': 'not a friend of the channel',
  '3103': 'text differs from the template',
  '3104': 'not a KakaoTalk user',
  '3105': 'unknown template',
  '3106': 'invalid Kakao channel',
  '3107': 'KakaoTalk blocked or inactive',
  '3108': 'outside the hours AlimTalk may be sent',
  '4000': 'delivered',
};

/** Intake codes that mean "try this message again later": Solapi's own errors. */
const RETRYABLE_INTAKE = new Set(['1024']);
const OPTED_OUT = new Set(['1061', '2061']);
/**
 * Intake codes of the account, not of a recipient: no message can pass until a person acts (top up,
 * register the sender number). The run stops, the messages stay planned, `ums resume` continues.
 * (Auth refused, HTTP 401/403, already stops the run as `fatal`; 2062/2063 come in reports, after
 * Solapi took the message, and fail only that message.)
 */
const STOPS_RUN: Record<string, () => string> = {
  '1030': () => t('stop.solapi.balance'),
  '1062': () => t('stop.solapi.sender', { code: '1062' }),
};

/** What to do when `code` stops the run (null: it does not). */
export function stopsRun(code: string): string | null {
  return STOPS_RUN[code]?.() ?? null;
}

export function describeCode(code: string, fallback?: string | null): string {
  return SOLAPI_CODES[code] ?? (fallback?.trim() ? fallback.trim() : 'refused');
}

/** What one entry of send-many/detail's failedMessageList (or messageList) means for the engine. */
export function intakeOutcome(
  code: string,
  statusMessage: string | null | undefined,
  messageId: string | null | undefined,
): MessageOutcome {
  if (isAccepted(code)) return { kind: 'accepted', providerId: messageId ?? '' };
  return {
    kind: 'rejected',
    code,
    message: describeCode(code, statusMessage),
    retryable: RETRYABLE_INTAKE.has(code),
    ...(OPTED_OUT.has(code) ? { optedOut: true } : {}),
    ...(STOPS_RUN[code] ? { stopsRun: STOPS_RUN[code]() } : {}),
  };
}

/** Accepted by Solapi: anything past intake (2xxx, 3xxx, 4000). 1xxx and unknown codes are not. */
export function isAccepted(code: string): boolean {
  return /^[234]\d{3}$/.test(code);
}

/** Final codes: 4000 delivered, other 2xxx/3xxx failed; 2000/3000 (in progress) and 1xxx (intake) are not reports. */
export function reportStatus(code: string): 'delivered' | 'failed' | null {
  if (code === '4000') return 'delivered';
  if (code === '2000' || code === '3000') return null;
  if (/^[23]\d{3}$/.test(code)) return 'failed';
  return null;
}

/** A message object as Solapi lists it (GET /messages/v4/list) and posts it to webhooks. */
export interface SolapiMessage {
  messageId?: string;
  _id?: string;
  groupId?: string;
  to?: string | string[];
  from?: string | null;
  type?: string | null;
  statusCode?: string | null;
  status?: string | null;
  reason?: string | null;
  customFields?: Record<string, string> | null;
  dateCreated?: string;
  dateUpdated?: string;
  dateReceived?: string | null;
  dateReported?: string | null;
  dateProcessed?: string | null;
}

const optionalText = z.string().nullish();

/**
 * A message object as Solapi lists it and posts it to webhooks, as far as ums reads it: anything
 * else (a date that is an object, a customFields of numbers, a status code that is not one) is not
 * a message ums can judge. Other fields pass through unread.
 */
export const solapiMessageSchema = z.looseObject({
  messageId: z.string().min(1).optional(),
  _id: z.string().min(1).optional(),
  groupId: optionalText,
  to: z.union([z.string(), z.array(z.string())]).nullish(),
  from: optionalText,
  type: optionalText,
  statusCode: z.string().regex(/^[0-9A-Z]{1,12}$/, 'is not a status code'),
  status: optionalText,
  reason: optionalText,
  customFields: z.record(z.string(), z.string()).nullish(),
  dateCreated: optionalText,
  dateUpdated: optionalText,
  dateReceived: optionalText,
  dateReported: optionalText,
  dateProcessed: optionalText,
});

/** What is wrong with a message object, in a few words (the first problem zod found), or null. */
export function messageProblem(v: unknown): string | null {
  const r = solapiMessageSchema.safeParse(v);
  if (r.success) return null;
  return formatFirstIssue(r.error) || 'not a message object';
}

/** The custom field that carries the journal's key. */
export const KEY_FIELD = 'umsKey';

export function keyOf(m: SolapiMessage): string | null {
  const k = m.customFields?.[KEY_FIELD];
  return typeof k === 'string' && k ? k : null;
}

export function idOf(m: SolapiMessage): string | null {
  return m.messageId ?? m._id ?? null;
}

/** A final Solapi message as a delivery report; null while it is in progress (or was refused at intake). */
export function toReport(m: SolapiMessage): DeliveryReport | null {
  const code = String(m.statusCode ?? '');
  const status = reportStatus(code);
  if (!status) return null;
  return {
    key: keyOf(m),
    providerId: idOf(m),
    status,
    code,
    text: status === 'delivered' ? 'delivered' : describeCode(code, m.reason),
    at: m.dateReceived ?? m.dateReported ?? m.dateUpdated ?? null,
  };
}
