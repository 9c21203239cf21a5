import { countEucKrBytes, describeForeignChars, findNonEucKr } from '../text/eucKr.js';
import { pickChannel } from './channel.js';
import { normalisePhone } from './phone.js';
import { bindPattern, renderPattern, type BoundPattern, type Template } from './template.js';
import { InputError, located } from './errors.js';
import type { Channel, PlannedMessage, Prices } from './types.js';

export const PHONE_COLUMNS = ['phone', 'to', 'mobile', '전화번호', '휴대폰'];

/** The phone column's index: `--phone-column`, else the first of DESIGN.md's names. */
export function findPhoneColumn(header: string[], csvFile: string, requested?: string): number {
  const normalised = header.map((h) => h.trim().toLowerCase());
  if (requested !== undefined) {
    const i = normalised.indexOf(requested.trim().toLowerCase());
    if (i < 0) throw new InputError(located(csvFile, { line: 1 }, `no column "${requested}" (--phone-column); columns are: ${header.join(', ')}`));
    return i;
  }
  for (const name of PHONE_COLUMNS) {
    const i = normalised.indexOf(name);
    if (i >= 0) return i;
  }
  throw new InputError(located(csvFile, { line: 1 }, `no phone column: name one ${PHONE_COLUMNS.join(', ')} or pass --phone-column (columns are: ${header.join(', ')})`));
}

/** Every template variable must be a column: checked once, before any row is planned. */
export function checkVariables(template: Template, header: string[], csvFile: string): void {
  for (const v of template.variables) {
    if (!header.includes(v.name)) {
      throw new InputError(
        located(template.file, { line: v.line }, `variable #{${v.name}} is not a column of ${csvFile} (columns: ${header.join(', ')})`),
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
  private readonly seen = new Map<string, number>();
  /** rows where a subject alone turned a short text into LMS */
  subjectUpgrades = 0;

  constructor(
    private readonly template: Template,
    private readonly header: string[],
    private readonly phoneIndex: number,
    private readonly prices: Prices,
  ) {
    this.body = bindPattern(template.body, header);
    this.subject = template.subject ? bindPattern(template.subject, header) : null;
    this.varColumns = [...new Set(template.variables.map((v) => header.indexOf(v.name)))];
  }

  plan(values: string[], row: number): PlannedMessage {
    const msg: PlannedMessage = { row, to: null, channel: null, status: 'planned', reason: null, parts: 0, bytes: 0, subject: null, body: null, cost: 0 };
    const rawPhone = values[this.phoneIndex] ?? '';
    if (values.every((v) => v.trim() === '')) return reject(msg, 'skipped', 'empty_row', 'the row is empty');

    const phone = normalisePhone(rawPhone);
    if (!phone.ok) return reject(msg, 'rejected', 'invalid_phone', phone.reason);
    msg.to = phone.to;

    for (const c of this.varColumns) {
      if ((values[c] ?? '').trim() === '') return reject(msg, 'rejected', 'missing_value', `column "${this.header[c]}" is empty`);
    }
    const body = renderPattern(this.body, values);
    const subject = this.subject ? renderPattern(this.subject, values) : null;
    msg.body = body;
    msg.subject = subject;

    const requested = this.template.channel;
    const countsBytes = requested !== 'alimtalk' && requested !== 'rcs';
    let bodyBytes = 0;
    let subjectBytes: number | null = null;
    if (countsBytes && phone.kind !== 'international') {
      bodyBytes = countEucKrBytes(body);
      if (bodyBytes < 0) return reject(msg, 'rejected', 'non_euckr', `characters outside EUC-KR in the text: ${describeForeignChars(findNonEucKr(body))}`);
      if (subject !== null) {
        subjectBytes = countEucKrBytes(subject);
        if (subjectBytes < 0) return reject(msg, 'rejected', 'non_euckr', `characters outside EUC-KR in the subject: ${describeForeignChars(findNonEucKr(subject))}`);
      }
    }
    const bodyChars = countsBytes ? 0 : [...body].length;
    msg.bytes = countsBytes ? bodyBytes : bodyChars;

    const pick = pickChannel({
      requested,
      bodyBytes,
      // international rows skip the EUC-KR count, but a subject must still reach pickChannel (SMS only)
      subjectBytes: subject !== null && subjectBytes === null ? [...subject].length : subjectBytes,
      bodyChars,
      hasImages: this.template.images.length > 0,
      recipient: phone.kind,
      body,
    });
    if (!pick.ok) return reject(msg, 'rejected', pick.code, pick.reason);
    if (pick.upgradedBySubject) this.subjectUpgrades++;

    const first = this.seen.get(phone.to);
    if (first !== undefined) return reject(msg, 'skipped', 'duplicate', `duplicate of row ${first}`, pick.channel);
    this.seen.set(phone.to, row);

    msg.channel = pick.channel;
    msg.parts = pick.parts;
    msg.cost = pick.parts * this.prices[pick.channel];
    return msg;
  }
}

function reject(msg: PlannedMessage, status: 'rejected' | 'skipped', code: string, text: string, channel?: Channel): PlannedMessage {
  msg.status = status;
  msg.reason = `${code}: ${text}`;
  if (channel) msg.channel = channel;
  return msg;
}
