import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { parseProviderSettings } from '../../config/issues.js';
import { t } from '../../i18n/index.js';
import type { DeliveryReport, ProviderWebhook } from '../types.js';
import { alimtalkStatus, providerIdOf, report } from './codes.js';

/**
 * NHN webhooks (TOAST-DOCS SMS webhook.md, Alimtalk webhook-api-guide.md): a POST of
 * `{hooksId, webhookConfigId, productName, appKey, event, hooks: [...]}` carrying the static
 * `X-Toast-Webhook-Signature` set in the console. That signature is a shared string, not an HMAC
 * of the body: anyone who learns it can post reports. Keep the receiver behind a secret path or an
 * address allow-list as well.
 */
export const NHN_SIGNATURE_HEADER = 'x-toast-webhook-signature';

/** The header equals the configured signature, compared in constant time (lengths hidden by hashing). */
export function signatureMatches(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string' || !expected) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export type NhnWebhookParse =
  | { ok: true; event: string; reports: DeliveryReport[]; optOuts: string[]; ignored: number }
  | { ok: false; reason: string };

function national(no: unknown): string | null {
  if (typeof no !== 'string' || !/^\+?\d{6,20}$/.test(no)) return null;
  return no.startsWith('+82') ? `0${no.slice(3)}` : no;
}

/**
 * MESSAGE_RESULT_UPDATE hooks become reports (final ones only); UNSUBSCRIBE hooks (080 opt-outs)
 * give the numbers to add to the opt-out list. Other events are accepted and ignored.
 */
export function parseNhnWebhook(body: unknown): NhnWebhookParse {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return { ok: false, reason: 'not an NHN webhook: the body must be a JSON object with event and hooks' };
  const b = body as { event?: unknown; hooks?: unknown };
  if (typeof b.event !== 'string' || !Array.isArray(b.hooks))
    return { ok: false, reason: 'not an NHN webhook: no event or no hooks array' };
  const reports: DeliveryReport[] = [];
  const optOuts: string[] = [];
  let ignored = 0;
  for (const h of b.hooks as unknown[]) {
    if (!h || typeof h !== 'object') {
      ignored++;
      continue;
    }
    const o = h as Record<string, unknown>;
    if (b.event === 'UNSUBSCRIBE') {
      const no = national(o.recipientNo);
      if (no) optOuts.push(no);
      else ignored++;
      continue;
    }
    if (b.event !== 'MESSAGE_RESULT_UPDATE') {
      ignored++;
      continue;
    }
    const seq = o.recipientSeq;
    if (
      typeof o.requestId !== 'string' ||
      !o.requestId ||
      (typeof seq !== 'number' && typeof seq !== 'string')
    ) {
      ignored++;
      continue;
    }
    const code = typeof o.resultCode === 'string' ? o.resultCode : null;
    const ms = typeof o.messageStatus === 'string' ? o.messageStatus : null;
    // SMS hooks carry messageStatus; AlimTalk hooks only the result code
    const status =
      ms !== null && o.kakaoMessageType === undefined
        ? ms === 'COMPLETED'
          ? 'delivered'
          : ms === 'FAILED' || ms === 'FAILED_AD' || ms === 'DUPLICATED' || ms === 'CANCEL'
            ? 'failed'
            : null
        : alimtalkStatus(code, ms);
    if (!status) {
      ignored++;
      continue;
    }
    // the SMS document spells it recipientGropuingKey in its example
    const key = o.recipientGroupingKey ?? o.recipientGropuingKey;
    reports.push(
      report(
        typeof key === 'string' && key ? key : null,
        providerIdOf(o.requestId, String(seq)),
        status,
        code,
        typeof o.receiveDate === 'string' ? o.receiveDate : null,
        national(o.recipientNo),
      ),
    );
  }
  return { ok: true, event: b.event, reports, optOuts, ignored };
}

/** The one setting the webhook reads. */
const webhookSettings = z.looseObject({ webhookSignature: z.string().optional() });

/**
 * NHN's webhooks at `/hooks/<provider name>`: MESSAGE_RESULT_UPDATE becomes reports, UNSUBSCRIBE
 * adds the numbers to the opt-out list. The signature is a static shared string (not an HMAC):
 * the listener says so and advises a secret path or an address allow-list.
 */
export const nhnWebhook: ProviderWebhook = {
  settings: ['webhookSignature'],
  endpoint(name, config) {
    const raw = parseProviderSettings(webhookSettings, name, config).webhookSignature;
    const signature = raw ? raw : null;
    return {
      receives: t('listen.receives.nhn'),
      pathSuffix: '',
      open: signature === null,
      warnings: signature ? [t('listen.warn.nhnStatic', { name })] : [t('listen.warn.nhnOpen', { name })],
      authorize: (req) =>
        signature === null || signatureMatches(req.headers[NHN_SIGNATURE_HEADER], signature),
      parse(body) {
        let json: unknown;
        try {
          json = JSON.parse(body.toString('utf8'));
        } catch {
          return { ok: false, reason: 'the body is not JSON' };
        }
        const p = parseNhnWebhook(json);
        if (!p.ok) return p;
        const messages = p.reports.length + p.optOuts.length + p.ignored;
        return { ok: true, messages, reports: p.reports, inbound: [], optOuts: p.optOuts, refused: [] };
      },
    };
  },
};
