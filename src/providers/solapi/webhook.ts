import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { parseProviderSettings } from '../../config/issues.js';
import { t } from '../../i18n/index.js';
import type { DeliveryReport, ProviderWebhook, WebhookParse, WebhookRequest } from '../types.js';
import { messageProblem, type SolapiMessage, toReport } from './codes.js';

export type { WebhookParse } from '../types.js';

/** Why element `i` is not a message object ums can read, or null when it is one. */
function elementProblem(m: unknown, i: number): string | null {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return `element ${i} is not a message object`;
  const o = m as Record<string, unknown>;
  const id = o.messageId ?? o._id;
  if (typeof id !== 'string' || !id) {
    const hint =
      typeof o.groupId === 'string' && o.count !== undefined
        ? ' (this looks like a group report: point the message report webhook here instead)'
        : '';
    return `element ${i} has no messageId${hint}`;
  }
  if (typeof o.statusCode !== 'string' || !/^[0-9A-Z]{1,12}$/.test(o.statusCode))
    return `element ${i} has no valid statusCode`;
  if (
    o.customFields !== undefined &&
    o.customFields !== null &&
    (typeof o.customFields !== 'object' || Array.isArray(o.customFields))
  ) {
    return `element ${i}: customFields must be an object of strings`;
  }
  const problem = messageProblem(m);
  return problem ? `element ${i}: ${problem}` : null;
}

/**
 * A Solapi message-report webhook body: a JSON array of message objects, each with its
 * messageId and statusCode (and our key in customFields). A body that is not one at all (a group
 * report, an empty array, a single object, no element ums can read) is refused whole; an element
 * that cannot be read (no messageId, a date that is an object) is refused alone, and the others
 * are kept. Final codes become reports; in-progress ones (2000/3000) are accepted and skipped.
 */
export function parseSolapiWebhook(body: unknown): WebhookParse {
  if (!Array.isArray(body))
    return {
      ok: false,
      reason: 'not a Solapi message report: the body must be a JSON array of message objects',
    };
  if (body.length === 0) return { ok: false, reason: 'not a Solapi message report: the array is empty' };
  const reports: DeliveryReport[] = [];
  const refused: { index: number; reason: string }[] = [];
  body.forEach((m: unknown, i) => {
    const problem = elementProblem(m, i);
    if (problem) {
      refused.push({ index: i, reason: problem });
      return;
    }
    const r = toReport(m as SolapiMessage);
    if (r) reports.push(r);
  });
  if (refused.length === body.length) return { ok: false, reason: refused[0]!.reason };
  return { ok: true, messages: body.length, reports, inbound: [], refused };
}

const SECRET_HEADER = 'x-webhook-secret';

function sameSecret(given: string, secret: string): boolean {
  // compare digests: constant time, and the length of the secret does not leak
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

/** The secret may come in the X-Webhook-Secret header or as the URL's last path segment. */
function authorized(req: WebhookRequest, secret: string): boolean {
  const header = req.headers[SECRET_HEADER];
  if (typeof header === 'string' && sameSecret(header, secret)) return true;
  const last = req.segments.at(-1);
  return last !== undefined && sameSecret(last, secret);
}

/** The one setting the webhook reads (the rest of providers.<name> is the sender's business). */
const webhookSettings = z.looseObject({ webhookSecret: z.string().optional() });

/**
 * Solapi's message-report webhook: Solapi POSTs a JSON array of message objects to
 * `/hooks/<provider name>/<webhookSecret>` (or with the secret in X-Webhook-Secret); without a
 * webhookSecret anyone who can reach the port can post.
 */
export const solapiWebhook: ProviderWebhook = {
  settings: ['webhookSecret'],
  endpoint(name, config) {
    const raw = parseProviderSettings(webhookSettings, name, config).webhookSecret;
    const secret = raw ? raw : null;
    return {
      receives: t('listen.receives.solapi'),
      pathSuffix: secret ? '/<webhookSecret>' : '',
      open: secret === null,
      warnings: secret ? [] : [t('listen.warn.solapiOpen', { name })],
      authorize: (req) => secret === null || authorized(req, secret),
      parse(body) {
        let json: unknown;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          return { ok: false, reason: 'the body is not JSON' };
        }
        return parseSolapiWebhook(json);
      },
    };
  },
};
