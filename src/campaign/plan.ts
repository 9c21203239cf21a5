import { InputError } from '../errors.js';
import { describeCodePoint, findControlChar } from '../text/controls.js';
import { countEucKrBytes, describeForeignChars, findNonEucKr } from '../text/eucKr.js';
import { countSmsSegments } from '../text/gsm.js';
import { DEFAULT_TEXT_LIMITS, LMS_MAX_BYTES, pickChannel, type TextLimits } from './channel.js';
import { AD_MARKER } from './compliance.js';
import { normalisePhone } from './phone.js';
import { isConsent } from './quietHours.js';
import { rcsPriceKey } from './rcs.js';
import { sheetRow } from './sheetRow.js';
import {
  type BoundPattern,
  bindPattern,
  renderedLength,
  renderPattern,
  renderPrefix,
  type Template,
} from './template.js';
import type { Channel, PlannedMessage, Prices } from './types.js';

/** The header names of a phone column, in order of preference (compared by phoneHeaderKey). */
export const PHONE_COLUMNS = [
  'phone',
  'to',
  'mobile',
  '휴대폰번호',
  '휴대폰',
  '핸드폰번호',
  '핸드폰',
  '휴대전화번호',
  '휴대전화',
  '전화번호',
  '연락처',
  '수신번호',
  '수신자번호',
  '번호',
];

/** Data rows sampled to find the phone column by its values when no header names it. */
export const PHONE_SAMPLE_ROWS = 100;
/** The share of a column's non-empty sampled values that must be phone numbers. */
const PHONE_CONTENT_SHARE = 0.9;

/** The phone column, and how it was found: by `--phone-column` (flag), its header, or its values (content). */
export interface PhoneColumn {
  index: number;
  name: string;
  how: 'flag' | 'header' | 'content';
}

/**
 * A row's text longer than this (UTF-16 units) is not rendered: no channel takes it (LMS 2,000 bytes,
 * at least a byte a unit; AlimTalk and RCS at most 1,300 characters, at most 2 units each). Its size
 * is counted piece by piece instead, so that no template, however many times it repeats a huge
 * variable, builds a string past JavaScript's limit or a journal of gigabytes.
 */
export const RENDER_CAP = 4096;
/** International SMS are concatenated: at most 255 parts of 153 GSM-7 characters. */
export const INTERNATIONAL_RENDER_CAP = 255 * 153;
/** What the journal keeps of a rejected row's text (the reason carries its full size). */
export const KEPT_TEXT_CHARS = 2000;

const fmtN = (n: number): string => n.toLocaleString('en-US');

/** A header name as people mean it: without BOMs and other invisible characters, spaces or case. */
export function headerKey(name: string): string {
  return name
    .replace(/\p{Cf}/gu, '')
    .trim()
    .replace(/\s+/gu, ' ')
    .toLowerCase();
}

/** A header compared with PHONE_COLUMNS: headerKey without any space (휴대폰 번호 = 휴대폰번호). */
function phoneHeaderKey(name: string): string {
  return headerKey(name).replace(/[\s_-]/gu, '');
}

/**
 * The phone column by `--phone-column` or by its header name; null when no header is one of
 * PHONE_COLUMNS (the values decide then: phoneColumnByContent).
 */
export function phoneColumnByHeader(
  header: string[],
  csvFile: string,
  requested?: string,
): PhoneColumn | null {
  if (requested !== undefined) {
    const i = header.map(headerKey).indexOf(headerKey(requested));
    if (i < 0)
      throw InputError.at(
        csvFile,
        { line: 1 },
        `no column "${requested}" (--phone-column); columns are: ${header.join(', ')}`,
        { key: 'err.phoneColumnFlag', params: { name: requested, columns: header.join(', ') } },
      );
    return { index: i, name: header[i]!, how: 'flag' };
  }
  const keys = header.map(phoneHeaderKey);
  for (const name of PHONE_COLUMNS) {
    const i = keys.indexOf(name);
    if (i >= 0) return { index: i, name: header[i]!, how: 'header' };
  }
  return null;
}

/** Whether a sampled value is a phone number a campaign sends to (Korean mobile or landline). */
function looksLikePhone(value: string): boolean {
  const r = normalisePhone(value);
  return r.ok && r.kind !== 'international';
}

/**
 * The one column whose sampled values are all, or nearly all (90%), phone numbers. None: an
 * InputError asking for --phone-column; two or more: an InputError naming them.
 */
export function phoneColumnByContent(header: string[], sample: string[][], csvFile: string): PhoneColumn {
  const found: number[] = [];
  for (let c = 0; c < header.length; c++) {
    let values = 0;
    let phones = 0;
    for (const row of sample) {
      const v = (row[c] ?? '').trim();
      if (v === '') continue;
      values++;
      if (looksLikePhone(v)) phones++;
    }
    if (values > 0 && phones >= values * PHONE_CONTENT_SHARE) found.push(c);
  }
  if (found.length === 1) return { index: found[0]!, name: header[found[0]!]!, how: 'content' };
  if (found.length > 1) {
    const names = found.map((i) => `"${header[i]}"`);
    throw InputError.atKey(csvFile, { line: 1 }, 'plan.twoPhoneColumns', {
      count: names.length,
      names: names.join(', '),
      a: header[found[0]!]!,
      b: header[found[1]!]!,
    });
  }
  throw InputError.atKey(csvFile, { line: 1 }, 'plan.noPhoneColumn', {
    names: PHONE_COLUMNS.join(', '),
    columns: header.join(', '),
  });
}

/**
 * The phone column: `--phone-column`, else the first of PHONE_COLUMNS among the headers (case,
 * spaces, "_" and "-" aside), else the one column whose sampled rows hold phone numbers. Pure.
 */
export function findPhoneColumn(
  header: string[],
  csvFile: string,
  requested?: string,
  sample: string[][] = [],
): PhoneColumn {
  return phoneColumnByHeader(header, csvFile, requested) ?? phoneColumnByContent(header, sample, csvFile);
}

/** Every template variable must be a column: checked once, before any row is planned. */
export function checkVariables(template: Template, header: string[], csvFile: string): void {
  for (const v of template.variables) {
    if (!header.includes(v.name)) {
      throw InputError.at(
        template.file,
        { line: v.line },
        `variable #{${v.name}} is not a column of ${csvFile} (columns: ${header.join(', ')})`,
        { key: 'err.variableNotColumn', params: { name: v.name, csv: csvFile, columns: header.join(', ') } },
      );
    }
  }
}

/**
 * Plans one CSV row after another: renders, normalises the number, picks the channel,
 * prices it, and marks later duplicates of a number. Pure apart from its own memory of numbers seen.
 */
export class Planner {
  private readonly body: BoundPattern;
  private readonly subject: BoundPattern | null;
  private readonly varColumns: number[];
  private readonly seen: SeenNumbers;
  /** rows where a subject alone turned a short text into LMS */
  subjectUpgrades = 0;

  private readonly fallbackText: BoundPattern | null;
  private readonly nightConsentIndex: number;
  private readonly varsByName: { name: string; column: number }[];
  /** the template is no ad, but a variable could make its body begin with (광고): checked per row */
  private readonly adMarkerPossible: boolean;

  constructor(
    private readonly template: Template,
    private readonly header: string[],
    private readonly phoneIndex: number,
    private readonly prices: Prices,
    /** numbers that opted out: planned as skipped */
    private readonly optouts: ReadonlySet<string> = new Set(),
    /** about how many rows will come: memory for their numbers is taken once, not grown step by step */
    expectedRows = 0,
    /** the text lengths of the provider the template's channel is routed to */
    private readonly limits: TextLimits = DEFAULT_TEXT_LIMITS,
  ) {
    this.seen = new SeenNumbers(expectedRows);
    this.body = bindPattern(template.body, header);
    this.subject = template.subject ? bindPattern(template.subject, header) : null;
    this.varColumns = [...new Set(template.variables.map((v) => header.indexOf(v.name)))];
    this.fallbackText = template.fallbackText ? bindPattern(template.fallbackText, header) : null;
    this.nightConsentIndex = header.findIndex((h) => h.trim().toLowerCase() === 'night_consent');
    this.varsByName = template.body.vars
      .filter((v, i, all) => all.indexOf(v) === i)
      .map((name) => ({ name, column: header.indexOf(name) }));
    this.adMarkerPossible =
      !template.ad &&
      template.body.vars.length > 0 &&
      /^[\s[(（［【<〈광고]*$/.test(template.body.pieces[0]!);
  }

  plan(values: string[], row: number): PlannedMessage {
    const msg: PlannedMessage = {
      row,
      to: null,
      channel: null,
      status: 'planned',
      reason: null,
      parts: 0,
      bytes: 0,
      subject: null,
      body: null,
      cost: 0,
      leg: 0,
      vars: null,
      rcsKind: null,
      deferrable: false,
    };
    const rawPhone = values[this.phoneIndex] ?? '';
    if (isBlankRow(values)) return reject(msg, 'skipped', 'empty_row', 'the row is empty');

    const phone = normalisePhone(rawPhone);
    if (!phone.ok) return reject(msg, 'rejected', 'invalid_phone', phone.reason);
    msg.to = phone.to;

    for (const c of this.varColumns) {
      if ((values[c] ?? '').trim() === '')
        return reject(msg, 'rejected', 'missing_value', `column "${this.header[c]}" is empty`);
    }
    const requested = this.template.channel;
    const countsBytes = requested !== 'alimtalk' && requested !== 'rcs';
    const cap = phone.kind === 'international' ? INTERNATIONAL_RENDER_CAP : RENDER_CAP;
    if (renderedLength(this.body, values) > cap)
      return this.tooLong(msg, this.body, values, phone.kind, countsBytes, '');
    if (this.subject && renderedLength(this.subject, values) > RENDER_CAP)
      return this.tooLong(msg, this.subject, values, phone.kind, countsBytes, 'subject');
    let body = renderPattern(this.body, values);
    let subject = this.subject ? renderPattern(this.subject, values) : null;
    msg.body = body;
    msg.subject = subject;
    if (findControlChar(body) >= 0) {
      body = msg.body = body.replaceAll('\r\n', '\n');
      const bad = this.controlProblem(body, this.body, values, 'text');
      if (bad) return reject(msg, 'rejected', 'control_char', bad);
    }
    if (subject !== null && findControlChar(subject) >= 0) {
      subject = msg.subject = subject.replaceAll('\r\n', '\n');
      const bad = this.controlProblem(subject, this.subject!, values, 'subject');
      if (bad) return reject(msg, 'rejected', 'control_char', bad);
    }
    if (this.adMarkerPossible && AD_MARKER.test(body)) {
      return reject(
        msg,
        'rejected',
        'ad_marker',
        `the text begins with "${AD_MARKER.exec(body)![0].trim()}", an ad, but the template is not ad: true`,
      );
    }
    let bodyBytes = 0;
    let subjectBytes: number | null = null;
    if (countsBytes && phone.kind !== 'international') {
      bodyBytes = countEucKrBytes(body);
      if (bodyBytes < 0)
        return reject(
          msg,
          'rejected',
          'non_euckr',
          `characters outside EUC-KR in the text: ${describeForeignChars(findNonEucKr(body))}`,
        );
      if (subject !== null) {
        subjectBytes = countEucKrBytes(subject);
        if (subjectBytes < 0)
          return reject(
            msg,
            'rejected',
            'non_euckr',
            `characters outside EUC-KR in the subject: ${describeForeignChars(findNonEucKr(subject))}`,
          );
      }
    }
    const bodyChars = countsBytes ? 0 : [...body].length;
    msg.bytes = countsBytes
      ? phone.kind === 'international'
        ? smsPayloadOctets(body)
        : bodyBytes
      : bodyChars;

    const pick = pickChannel({
      requested,
      bodyBytes,
      // international rows skip the EUC-KR count, but a subject must still reach pickChannel (SMS only)
      subjectBytes: subject !== null && subjectBytes === null ? [...subject].length : subjectBytes,
      bodyChars,
      hasImages: this.template.images.length > 0,
      recipient: phone.kind,
      body,
      subjectChars: requested === 'rcs' && subject !== null ? [...subject].length : null,
      rcs: this.template.rcs?.kind,
      limits: this.limits,
    });
    if (!pick.ok) return reject(msg, 'rejected', pick.code, pick.reason);
    if (pick.upgradedBySubject) this.subjectUpgrades++;

    const first = this.seen.firstRow(phone.to, row);
    if (first !== 0)
      return reject(msg, 'skipped', 'duplicate', `duplicate of row ${sheetRow(first)}`, pick.channel);

    if (this.optouts.size && this.optouts.has(phone.to))
      return reject(msg, 'skipped', 'opted_out', 'the number is on the opt-out list', pick.channel);

    msg.channel = pick.channel;
    msg.parts = pick.parts;
    msg.rcsKind = pick.rcsKind ?? null;
    msg.cost =
      pick.parts *
      (pick.rcsKind
        ? (this.prices[rcsPriceKey(pick.rcsKind)] ?? this.prices.rcs)
        : this.prices[pick.channel]);
    msg.deferrable = this.template.ad && !isConsent(values[this.nightConsentIndex]);
    if (!countsBytes) {
      msg.vars = JSON.stringify(
        Object.fromEntries(this.varsByName.map((v) => [`#{${v.name}}`, values[v.column] ?? ''])),
      );
      if (this.template.fallback !== 'none') msg.fallback = this.planFallback(msg, values, subject);
    }
    return msg;
  }

  /**
   * The SMS/LMS leg an AlimTalk/RCS message falls back to (대체발송): its own text (fallbackText,
   * else the same text), typed and validated by its EUC-KR bytes like any SMS/LMS; held until
   * the first leg fails.
   */
  private planFallback(primary: PlannedMessage, values: string[], subject: string | null): PlannedMessage {
    const leg: PlannedMessage = {
      ...primary,
      leg: 1,
      status: 'held',
      channel: null,
      reason: null,
      parts: 0,
      bytes: 0,
      cost: 0,
      vars: null,
      rcsKind: null,
      body: null,
      subject: null,
      fallback: undefined,
    };
    if (this.fallbackText && renderedLength(this.fallbackText, values) > RENDER_CAP) {
      const full = this.patternSize(this.fallbackText, values, true);
      leg.body = renderPrefix(this.fallbackText, values, KEPT_TEXT_CHARS);
      leg.bytes = full.bytes >= 0 ? full.bytes : full.chars;
      return reject(
        leg,
        'rejected',
        'too_long',
        `fallback: ${full.bytes >= 0 ? `${fmtN(full.bytes)} bytes` : `${fmtN(full.chars)} characters`}, over the LMS limit of ${fmtN(LMS_MAX_BYTES)}`,
      );
    }
    let text = this.fallbackText ? renderPattern(this.fallbackText, values) : primary.body!;
    leg.body = text;
    if (this.fallbackText && findControlChar(text) >= 0) {
      text = leg.body = text.replaceAll('\r\n', '\n');
      const bad = this.controlProblem(text, this.fallbackText, values, 'fallback text');
      if (bad) return reject(leg, 'rejected', 'control_char', bad);
    }
    const bytes = countEucKrBytes(text);
    if (bytes < 0)
      return reject(
        leg,
        'rejected',
        'non_euckr',
        `fallback text has characters outside EUC-KR: ${describeForeignChars(findNonEucKr(text))}`,
      );
    const requested = this.template.fallback as 'sms' | 'lms' | 'auto';
    const legSubject = requested !== 'sms' && subject !== null ? subject : null;
    const subjectBytes = legSubject === null ? null : countEucKrBytes(legSubject);
    const pick = pickChannel({
      requested,
      bodyBytes: bytes,
      subjectBytes: subjectBytes === null || subjectBytes < 0 ? null : subjectBytes,
      bodyChars: 0,
      hasImages: false,
      recipient: 'mobile',
      body: text,
    });
    leg.bytes = bytes;
    if (!pick.ok) return reject(leg, 'rejected', pick.code, `fallback: ${pick.reason}`);
    leg.channel = pick.channel;
    leg.subject = pick.channel === 'sms' ? null : legSubject;
    leg.parts = pick.parts;
    leg.cost = pick.parts * this.prices[pick.channel];
    return leg;
  }

  /**
   * A text over the render cap: rejected with its full size, counted piece by piece (never
   * rendered whole), keeping only its first KEPT_TEXT_CHARS characters.
   */
  private tooLong(
    msg: PlannedMessage,
    pattern: BoundPattern,
    values: string[],
    kind: 'mobile' | 'landline' | 'international',
    countsBytes: boolean,
    what: '' | 'subject',
  ): PlannedMessage {
    const requested = this.template.channel;
    const full = this.patternSize(pattern, values, countsBytes && kind !== 'international');
    const kept = renderPrefix(pattern, values, KEPT_TEXT_CHARS);
    if (what === 'subject') {
      msg.subject = kept;
      const size = full.bytes >= 0 ? `${fmtN(full.bytes)} bytes` : `${fmtN(full.chars)} characters`;
      return reject(
        msg,
        'rejected',
        'too_long',
        `subject is ${size}, over the limit of ${requested === 'rcs' ? '30 characters' : '40 bytes'}`,
      );
    }
    msg.body = kept;
    msg.bytes = countsBytes && kind !== 'international' && full.bytes >= 0 ? full.bytes : full.chars;
    if (kind === 'international') {
      return reject(
        msg,
        'rejected',
        'too_long',
        `${fmtN(full.chars)} characters, over the ${fmtN(INTERNATIONAL_RENDER_CAP)} a concatenated SMS can carry`,
      );
    }
    if (countsBytes && full.bytes >= 0) {
      const pick = pickChannel({
        requested,
        bodyBytes: full.bytes,
        subjectBytes: null,
        bodyChars: 0,
        hasImages: this.template.images.length > 0,
        recipient: kind,
        body: '',
      });
      if (!pick.ok) return reject(msg, 'rejected', pick.code, pick.reason);
    }
    if (!countsBytes) {
      const pick = pickChannel({
        requested,
        bodyBytes: 0,
        subjectBytes: null,
        bodyChars: full.chars,
        hasImages: this.template.images.length > 0,
        recipient: 'mobile',
        body: '',
        subjectChars: null,
        rcs: this.template.rcs?.kind,
        limits: this.limits,
      });
      if (!pick.ok && pick.code === 'too_long') return reject(msg, 'rejected', pick.code, pick.reason);
    }
    const limit = countsBytes
      ? `the LMS limit of ${fmtN(LMS_MAX_BYTES)} bytes`
      : `the ${requested} limit (${fmtN(requested === 'alimtalk' ? this.limits.alimtalkChars : 1300)} characters)`;
    return reject(msg, 'rejected', 'too_long', `${fmtN(full.chars)} characters, over ${limit}`);
  }

  /** Characters (code points) and EUC-KR bytes (-1: not all EUC-KR) of a pattern's text, without rendering it. */
  private patternSize(
    pattern: BoundPattern,
    values: string[],
    bytesToo: boolean,
  ): { chars: number; bytes: number } {
    let chars = 0;
    let bytes = 0;
    const add = (s: string): void => {
      chars += codePoints(s);
      if (!bytesToo || bytes < 0) return;
      const b = countEucKrBytes(s);
      bytes = b < 0 ? -1 : bytes + b;
    };
    for (const piece of pattern.pieces) add(piece);
    for (const column of pattern.columns) add(values[column] ?? '');
    return { chars, bytes: bytesToo ? bytes : -1 };
  }

  /** Why a rendered text that holds a control character cannot go (null: it was only \r\n, now \n). */
  private controlProblem(text: string, pattern: BoundPattern, values: string[], what: string): string | null {
    const at = findControlChar(text);
    if (at < 0) return null;
    const code = text.charCodeAt(at);
    const column = pattern.columns.find((c) => (values[c] ?? '').includes(text[at]!));
    const from = column === undefined ? '' : ` (from column "${this.header[column]}")`;
    return `${describeCodePoint(code)} at character ${codePoints(text.slice(0, at)) + 1} of the ${what}${from}: control characters cannot be sent`;
  }
}

function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** values.every((v) => v.trim() === ''), without a closure or a trimmed copy per field. */
function isBlankRow(values: string[]): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v.length === 0) continue;
    const c = v.charCodeAt(0);
    // A printable ASCII first character settles it; anything else asks trim(), the definition.
    if ((c > 0x20 && c < 0x7f) || v.trim() !== '') return false;
  }
  return true;
}

/**
 * The numbers planned so far, each with the first row that had it. A Korean number (`0`, a non-zero
 * digit, digits: every mobile and landline `to`) is its numeric value, under 2^36; with the row
 * (under 2^28) it fits a slot of two 32-bit words in an open-addressing table on typed arrays:
 * ~10 MB for a million recipients where a Map of their strings takes ~50 MB (bench/fastpaths.js:
 * duplicateSetMB). Anything else (E.164 numbers, absurd row counts) goes to a Map.
 */
export class SeenNumbers {
  /** low 32 bits of the key */
  private lo: Uint32Array;
  /** the key's high 4 bits | row << 4; 0: a free slot (rows start at 1) */
  private hiRow: Uint32Array;
  private count = 0;
  private readonly other = new Map<string, number>();

  /**
   * `expectedRows`: sized for that many numbers from the start, at most 3/4 full, any size (not
   * a power of two: for a million rows that is 11 MB, not 16). Growing leaves each outgrown table
   * to the GC, which frees such buffers late: ~24 MB at the peak for a million rows (bench/plan.js,
   * peakRssMB, with the table sized from 0 rows). A guess, so
   * never more than a million and a half numbers' worth (16 MB): past that it grows.
   */
  constructor(expectedRows = 0) {
    const slots = Math.max(MIN_SLOTS, Math.min(MAX_PRESIZED_SLOTS, Math.ceil((expectedRows * 4) / 3) + 1));
    this.lo = new Uint32Array(slots);
    this.hiRow = new Uint32Array(slots);
  }

  /** The first row that had `to`; 0 (and `row` is remembered as the first) when it is new. */
  firstRow(to: string, row: number): number {
    const key = numericKey(to);
    if (key !== 0) {
      const lo = key >>> 0;
      const hi = (key - lo) / 0x100000000;
      const lows = this.lo;
      const hiRows = this.hiRow;
      const slots = lows.length;
      let i = slot(lo, hi) % slots;
      for (;;) {
        const hr = hiRows[i]!;
        if (hr === 0) break;
        if (lows[i] === lo && (hr & 15) === hi) return hr >>> 4;
        if (++i === slots) i = 0;
      }
      if (row < 0x10000000) {
        lows[i] = lo;
        hiRows[i] = hi | (row << 4);
        if (++this.count * 4 > slots * 3) this.grow();
        return 0;
      }
    }
    const first = this.other.get(to);
    if (first !== undefined) return first;
    this.other.set(to, row);
    return 0;
  }

  private grow(): void {
    const oldLo = this.lo;
    const oldHiRow = this.hiRow;
    const slots = oldLo.length * 2;
    const lows = new Uint32Array(slots);
    const hiRows = new Uint32Array(slots);
    this.lo = lows;
    this.hiRow = hiRows;
    for (let j = 0; j < oldLo.length; j++) {
      const hr = oldHiRow[j]!;
      if (hr === 0) continue;
      const lo = oldLo[j]!;
      let i = slot(lo, hr & 15) % slots;
      while (hiRows[i] !== 0) if (++i === slots) i = 0;
      lows[i] = lo;
      hiRows[i] = hr;
    }
  }
}

const MIN_SLOTS = 1 << 16;
const MAX_PRESIZED_SLOTS = 1 << 21;

/** `to` as a number below 2^36 that names it uniquely ("0", a non-zero digit, digits), else 0. */
function numericKey(to: string): number {
  const n = to.length;
  if (n < 2 || n > 12 || to.charCodeAt(0) !== 0x30) return 0;
  let value = 0;
  for (let i = 1; i < n; i++) {
    const c = to.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9 || (i === 1 && c === 0)) return 0;
    value = value * 10 + c;
  }
  return value < 0x1000000000 ? value : 0;
}

/** A well-mixed unsigned 32-bit hash of a key's low 32 and high bits. */
function slot(lo: number, hi: number): number {
  let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi + 1, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

function reject(
  msg: PlannedMessage,
  status: 'rejected' | 'skipped',
  code: string,
  text: string,
  channel?: Channel,
): PlannedMessage {
  msg.status = status;
  msg.reason = `${code}: ${text}`;
  // a row that does not go keeps a bounded prefix of its text: the reason has its full size
  if (msg.body !== null && msg.body.length > KEPT_TEXT_CHARS)
    msg.body = keepPrefix(msg.body, KEPT_TEXT_CHARS);
  if (msg.subject !== null && msg.subject.length > KEPT_TEXT_CHARS)
    msg.subject = keepPrefix(msg.subject, KEPT_TEXT_CHARS);
  if (channel) msg.channel = channel;
  return msg;
}

/** Octets an international SMS's text takes on the wire: GSM-7 packs 8 septets into 7 octets, UCS-2 is 2 a unit. */
function smsPayloadOctets(text: string): number {
  const s = countSmsSegments(text);
  return s.encoding === 'gsm7' ? Math.ceil((s.units * 7) / 8) : s.units * 2;
}

/** The first `max` UTF-16 units of `s`, never ending inside a surrogate pair. */
export function keepPrefix(s: string, max: number): string {
  if (s.length <= max) return s;
  const c = s.charCodeAt(max - 1);
  return s.slice(0, c >= 0xd800 && c <= 0xdbff ? max - 1 : max);
}
