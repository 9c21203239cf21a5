import { t } from '../../i18n/index.js';
import type { DeliveryReport, MessageOutcome } from '../types.js';

/**
 * NHN's codes (TOAST-DOCS SMS and Alimtalk error-code.md). API header codes are integers (0
 * success, negative refusals); per-recipient intake codes in sendResults likewise; final result
 * codes are strings (1000 delivered; AlimTalk 3005 sent, receipt unconfirmed; 3018-3021 not
 * deliverable to this KakaoTalk user; SMS 3xxx carrier failures).
 */

/** Header codes that mean our credentials or appKey are refused: the run stops. */
export const AUTH_CODES = new Set([-1000, -1001, -1002, -1003, -1004, -1007, -1008]);

/** The channel (sender profile) is blocked, closed or deleted: no message can pass until a person acts. */
export function channelStops(code: number | string): boolean {
  const n = Number(code);
  return (n >= 1021 && n <= 1027) || n === -1027 || n === 1006 || n === 1007;
}

/** The sender number (발신번호) is not registered, or blocked: every message of the account is refused. */
export function senderStops(code: number | string): boolean {
  const n = Number(code);
  return n === -2312 || n === -2313;
}

/** What to do when `code` stops the run (null: it does not). */
export function stopText(code: number | string): string | null {
  if (senderStops(code)) return t('stop.nhn.sender', { code: String(code) });
  if (channelStops(code)) return t('stop.nhn.channel', { code: String(code) });
  return null;
}

/** Per-recipient intake codes worth trying again later: NHN's own failures. */
const RETRYABLE_INTAKE = new Set([-2021, -9999]);
/** The number opted out (080 수신거부). */
const OPTED_OUT_INTAKE = new Set([-6001]);

/** What a code means (English: the journal keeps it; codes.ko.ts has the Korean a person reads). */
export const NHN_CODES: Record<string, string> = {
  '-2019': 'invalid recipient number',
  '-2021': 'NHN system error (queue)',
  '-2023': 'characters outside EUC-KR (emoji?)',
  '-6001': 'recipient opted out (080 수신거부)',
  '-2312': 'unregistered sender number',
  '-2313': 'blocked sender number',
  '-3010': 'text differs from the approved template',
  '-3003': 'unknown template',
  '1021': 'KakaoTalk channel blocked',
  '1022': 'KakaoTalk channel closed',
  '1023': 'KakaoTalk channel deleted',
  '1024': 'KakaoTalk channel pending deletion',
  '1025': 'KakaoTalk channel sanctioned',
  '1027': 'KakaoTalk channel messages sanctioned',
  '-1027': 'sender profile blocked',
  '1000': 'delivered',
  '3005': 'sent, receipt unconfirmed (counted as delivered)',
  '3018': 'cannot be delivered to this KakaoTalk user',
  '3019': 'not a KakaoTalk user',
  '3020': 'AlimTalk blocked by the user',
  '3021': 'KakaoTalk too old',
};

export function describe(code: string, fallback?: unknown): string {
  return NHN_CODES[code] ?? (typeof fallback === 'string' && fallback.trim() ? fallback.trim() : 'refused');
}

/** What one entry of sendResults / sendResultList means for the engine. */
export function intakeOutcome(code: number, message: unknown, providerId: string | null): MessageOutcome {
  if (code === 0 && providerId) return { kind: 'accepted', providerId };
  if (code === 0)
    return {
      kind: 'rejected',
      code: 'NO_ID',
      message: 'NHN accepted it without a request id',
      retryable: false,
    };
  return {
    kind: 'rejected',
    code: String(code),
    message: describe(String(code), message),
    retryable: RETRYABLE_INTAKE.has(code),
    ...(OPTED_OUT_INTAKE.has(code) ? { optedOut: true } : {}),
    ...(stopText(code) ? { stopsRun: stopText(code)! } : {}),
  };
}

/** Our provider id for a recipient of a request: `<requestId>:<recipientSeq>`. */
export function providerIdOf(requestId: string, seq: number | string): string {
  return `${requestId}:${seq}`;
}

/** A final AlimTalk result code as a report status; null while it is in progress. */
export function alimtalkStatus(
  code: string | null | undefined,
  messageStatus?: string | null,
): 'delivered' | 'failed' | null {
  if (!code) return messageStatus === 'FAILED' || messageStatus === 'CANCEL' ? 'failed' : null;
  // 3005: Kakao sent it and the receipt is not confirmed (it may still arrive within 3 days):
  // delivered, so its fallback leg is never released.
  if (code === '1000' || code === '3005') return 'delivered';
  if (messageStatus === 'COMPLETED') return 'delivered';
  return 'failed';
}

/** SMS send-list msgStatus (0 failed, 1 requested, 2 in progress, 3 success, 4 cancelled, 5 duplicate). */
export function smsStatus(msgStatus: string | null | undefined): 'delivered' | 'failed' | null {
  if (msgStatus === '3') return 'delivered';
  if (msgStatus === '0' || msgStatus === '4' || msgStatus === '5') return 'failed';
  return null;
}

export function report(
  key: string | null,
  providerId: string,
  status: 'delivered' | 'failed',
  code: string | null | undefined,
  at: string | null | undefined,
  to?: string | null,
): DeliveryReport {
  const c = code ?? (status === 'delivered' ? '1000' : 'FAILED');
  return {
    key,
    providerId,
    status,
    code: c,
    text: status === 'delivered' && c === '1000' ? 'delivered' : describe(c),
    at: kstToIso(at),
    ...(to ? { to } : {}),
  };
}

/** NHN writes `yyyy-MM-dd HH:mm[:ss][.S]` (Asia/Seoul) or `yyyy-MM-ddTHH:mm:ss`; ISO 8601 out, or null. */
export function kstToIso(s: string | null | undefined): string | null {
  if (!s) return null;
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::(\d{2}))?/.exec(s);
  if (!m) return null;
  return `${m[1]}T${m[2]}:${m[3] ?? '00'}+09:00`;
}

/** ms -> `yyyy-MM-dd HH:mm:ss` (or without seconds) in Asia/Seoul. */
export function kst(ms: number, seconds = true): string {
  const d = new Date(ms + 9 * 3600_000).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, seconds ? 19 : 16)}`;
}
