import type { DeliveryReport } from '../types.js';
import { toReport, type SolapiMessage } from './codes.js';

export type WebhookParse =
  | { ok: true; messages: number; reports: DeliveryReport[] }
  | { ok: false; reason: string };

function isStringRecord(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => typeof x === 'string');
}

/**
 * A Solapi message-report webhook body: a JSON array of message objects, each with its
 * messageId and statusCode (and our key in customFields). Anything else is not one: a group
 * report, an empty array, a single object, or an element without those fields.
 * Final codes become reports; in-progress ones (2000/3000) are accepted and skipped.
 */
export function parseSolapiWebhook(body: unknown): WebhookParse {
  if (!Array.isArray(body)) return { ok: false, reason: 'not a Solapi message report: the body must be a JSON array of message objects' };
  if (body.length === 0) return { ok: false, reason: 'not a Solapi message report: the array is empty' };
  const reports: DeliveryReport[] = [];
  for (let i = 0; i < body.length; i++) {
    const m = body[i] as unknown;
    if (!m || typeof m !== 'object' || Array.isArray(m)) return { ok: false, reason: `element ${i} is not a message object` };
    const o = m as Record<string, unknown>;
    const id = o['messageId'] ?? o['_id'];
    if (typeof id !== 'string' || !id) {
      const hint = typeof o['groupId'] === 'string' && o['count'] !== undefined ? ' (this looks like a group report: point the message report webhook here instead)' : '';
      return { ok: false, reason: `element ${i} has no messageId${hint}` };
    }
    if (typeof o['statusCode'] !== 'string' || !/^[0-9A-Z]{1,12}$/.test(o['statusCode'])) return { ok: false, reason: `element ${i} has no valid statusCode` };
    if (o['customFields'] !== undefined && o['customFields'] !== null && !isStringRecord(o['customFields'])) {
      return { ok: false, reason: `element ${i}: customFields must be an object of strings` };
    }
    const r = toReport(o as SolapiMessage);
    if (r) reports.push(r);
  }
  return { ok: true, messages: body.length, reports };
}
