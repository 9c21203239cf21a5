import type { DeliveryReport } from '../types.js';

/**
 * SMPP delivery receipts (pure). The text is the de-facto format of SMPP 3.4 appendix B,
 * `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...`,
 * which carriers write loosely: any case, extra spaces, seconds in the dates or not, fields missing.
 */

export interface ReceiptFields {
  id: string | null;
  sub: string | null;
  dlvrd: string | null;
  submitDate: string | null;
  doneDate: string | null;
  stat: string | null;
  err: string | null;
  text: string | null;
}

const KEYS = String.raw`(?:id|sub|dlvrd|submit[\s_]*date|done[\s_]*date|stat|err|text)\s*:`;
/** `key:value`, where an empty value is not taken from the next field ("stat: err:001") */
const field = (key: string, value = String.raw`[^\s,;]*`): RegExp =>
  new RegExp(String.raw`(?:^|[\s,;])${key}\s*:\s*(?!${KEYS})(${value})`, 'i');

const FIELD_PATTERNS: [keyof Omit<ReceiptFields, 'text'>, RegExp][] = [
  ['id', field('id')],
  ['sub', field('sub')],
  ['dlvrd', field('dlvrd')],
  ['submitDate', field(String.raw`submit[\s_]*date`, String.raw`\d+`)],
  ['doneDate', field(String.raw`done[\s_]*date`, String.raw`\d+`)],
  ['stat', field('stat')],
  ['err', field('err')],
];

/** Read the receipt text's fields; absent or empty ones are null. */
export function parseReceiptText(raw: string): ReceiptFields {
  const textAt = /(?:^|\s)text\s*:/i.exec(raw);
  const head = textAt ? raw.slice(0, textAt.index) : raw;
  const out: ReceiptFields = {
    id: null,
    sub: null,
    dlvrd: null,
    submitDate: null,
    doneDate: null,
    stat: null,
    err: null,
    text: null,
  };
  for (const [key, re] of FIELD_PATTERNS) {
    const v = re.exec(head)?.[1];
    out[key] = v ? v : null;
  }
  if (textAt) out.text = raw.slice(textAt.index + textAt[0].length).replace(/^\s+/, '');
  return out;
}

export type IdFormat = 'hex' | 'dec';

const HEX = /^[0-9a-f]+$/i;
const DEC = /^[0-9]+$/;

/**
 * The one spelling of a message id that ums stores and matches: hex ids lower-case, numeric ids
 * without leading zeros; anything else (UUIDs, vendor formats) as given, trimmed.
 */
export function canonicalId(id: string, format: IdFormat): string {
  const s = id.trim();
  if (format === 'hex' ? HEX.test(s) : DEC.test(s)) {
    const stripped = s.replace(/^0+(?=.)/, '');
    return format === 'hex' ? stripped.toLowerCase() : stripped;
  }
  return s;
}

function convert(id: string, from: IdFormat): string {
  return from === 'dec' ? BigInt(id).toString(16) : BigInt(`0x${id}`).toString(10);
}

/**
 * Spellings a receipt's id may have in the submit_sm_resp format `format`, most likely first:
 * receipted_message_id (the SMSC's own id, as in submit_sm_resp), then the text's `id:`, which many
 * SMSCs write in decimal where submit_sm_resp was hex (or the other way round).
 */
export function receiptIdCandidates(tlvId: string | null, textId: string | null, format: IdFormat): string[] {
  const out: string[] = [];
  const add = (v: string | null): void => {
    if (v && !out.includes(v)) out.push(v);
  };
  const spellings = (raw: string | null): string[] => {
    const s = raw?.trim() ?? '';
    if (!s) return [];
    const other: IdFormat = format === 'hex' ? 'dec' : 'hex';
    if (format === 'hex') {
      if (DEC.test(s)) return [canonicalId(convert(s, 'dec'), 'hex'), canonicalId(s, 'hex')];
      if (HEX.test(s)) return [canonicalId(s, 'hex')];
    } else {
      if (DEC.test(s)) return [canonicalId(s, 'dec'), canonicalId(convert(s, 'hex'), 'dec')];
      if (HEX.test(s)) return [canonicalId(convert(s, other), 'dec')];
    }
    return [s];
  };
  const tlv = spellings(tlvId);
  // The TLV is the submit_sm_resp id itself: its own spelling first, its conversion last.
  if (tlvId?.trim()) add(canonicalId(tlvId, format));
  for (const v of spellings(textId)) add(v);
  for (const v of tlv) add(v);
  return out;
}

export type ReceiptOutcome =
  | { final: true; status: 'delivered' | 'failed'; code: string }
  | { final: false; code: string };

/** message_state values (SMPP 3.4 5.2.28) by the stat word receipts use. */
const STATE_WORDS = [
  'SCHEDULED',
  'ENROUTE',
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'SKIPPED',
];

/**
 * DELIVRD and ACCEPTD are delivered; EXPIRED, DELETED, UNDELIV, UNKNOWN, REJECTD (and any word we
 * do not know, as Kannel does) failed; ENROUTE, SCHEDULED, BUFFRED, ACKED are on the way.
 * Without a stat word, the message_state TLV decides; without either, nothing is known.
 */
export function classifyReceipt(stat: string | null, messageState: number | null): ReceiptOutcome | null {
  let word = stat?.trim().toUpperCase() || null;
  if (!word && messageState !== null) word = STATE_WORDS[messageState] ?? `STATE${messageState}`;
  if (!word) return null;
  if (word === 'DELIVERED') word = 'DELIVRD';
  if (word === 'UNDELIVERABLE') word = 'UNDELIV';
  if (word === 'DELIVRD' || word === 'ACCEPTD') return { final: true, status: 'delivered', code: word };
  if (['ENROUTE', 'SCHEDULED', 'BUFFRED', 'BUFFERD', 'ACKED'].includes(word))
    return { final: false, code: word };
  return { final: true, status: 'failed', code: word };
}

/** `YYMMDDhhmm[ss]` in the carrier's time zone (`+09:00`) -> ISO 8601, or null. */
export function receiptTime(value: string | null, utcOffset: string): string | null {
  const m = value ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?$/.exec(value) : null;
  if (!m) return null;
  const iso = `20${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${utcOffset}`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

export interface ReceiptInput {
  /** the short_message (or message_payload) as text */
  text: string;
  receiptedMessageId: string | null;
  messageState: number | null;
  /** network_error_code TLV: type octet + 2-octet code */
  networkErrorCode: Buffer | null;
  /** the receipt's source_addr: the recipient of the original message */
  sourceAddr: string;
}

export type InterpretedReceipt =
  | { kind: 'final'; report: DeliveryReport; candidates: string[] }
  | { kind: 'intermediate'; code: string }
  | { kind: 'unreadable' };

/** A receipt as ums stores it: providerId is the likeliest id spelling; the others are kept for matching. */
export function interpretReceipt(
  input: ReceiptInput,
  idFormat: IdFormat,
  utcOffset: string,
): InterpretedReceipt {
  const f = parseReceiptText(input.text);
  const outcome = classifyReceipt(f.stat, input.messageState);
  if (!outcome) return { kind: 'unreadable' };
  if (!outcome.final) return { kind: 'intermediate', code: outcome.code };
  const candidates = receiptIdCandidates(input.receiptedMessageId, f.id, idFormat);
  const details: string[] = [];
  if (f.err && !/^0+$/.test(f.err)) details.push(`err ${f.err}`);
  if (input.networkErrorCode && input.networkErrorCode.length >= 3) {
    details.push(`network error ${input.networkErrorCode[0]}/${input.networkErrorCode.readUInt16BE(1)}`);
  }
  const text =
    outcome.status === 'delivered'
      ? outcome.code === 'DELIVRD'
        ? 'delivered'
        : outcome.code.toLowerCase()
      : (STAT_TEXT[outcome.code] ?? 'failed');
  return {
    kind: 'final',
    candidates,
    report: {
      key: null,
      providerId: candidates[0] ?? null,
      ...(candidates.length > 1 ? { altProviderIds: candidates.slice(1) } : {}),
      to: input.sourceAddr || null,
      status: outcome.status,
      code: outcome.code,
      text: details.length ? `${text} (${details.join(', ')})` : text,
      at: receiptTime(f.doneDate, utcOffset),
    },
  };
}

const STAT_TEXT: Record<string, string> = {
  EXPIRED: 'expired before it could be delivered',
  DELETED: 'deleted by the carrier',
  UNDELIV: 'undeliverable',
  UNKNOWN: 'the carrier does not know its state',
  REJECTD: 'rejected by the carrier',
};
