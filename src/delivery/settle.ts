import type { SendableMessage, Settlement } from '../journal/delivery.js';
import type { SubmitResult } from '../providers/types.js';
import { type LookupAnswer, lookupVerdict } from './reconcile.js';

/**
 * What the lane must do after an answer, besides writing it down: `ok` (the provider answered:
 * backoff ends), `throttled` (slow down), `unavailable` (back off; the lane judges how long it has
 * been), `fatal` (stop the run); `stop` is the run's fault when the answer stops it.
 */
export interface LaneSignal {
  kind: 'ok' | 'throttled' | 'unavailable' | 'ambiguous' | 'fatal';
  /** an answer of `results` in which a message was refused for rate */
  throttled: boolean;
  /** the provider's words, for `unavailable` */
  message: string | null;
  /** the run stops with this (a refusal resubmitting cannot help, a fatal answer); `fatal` replaces an earlier one */
  stop: string | null;
}

export interface SettleInput {
  /** the messages of the submission, as claimed (their attempts count this submission) */
  batch: readonly SendableMessage[];
  /** the journal's key of each, in the same order */
  keys: readonly string[];
  result: SubmitResult;
  /** for `ambiguous`: the look-up's answer (null: no look-up, or it could not tell) */
  found: LookupAnswer;
  /** most submissions of one message that may have reached the provider */
  maxSubmits: number;
  provider: string;
  /** ISO time written as sent_at / done_at */
  at: string;
}

export interface SettleOutput {
  settlements: Settlement[];
  /** to submit again, once the settlements are committed (attempts as the journal then holds them) */
  resend: SendableMessage[];
  /** numbers the provider says opted out: added to the suppression list before the settlements */
  optedOut: string[];
  signal: LaneSignal;
  accepted: number;
  failed: number;
  unknown: number;
}

/**
 * The engine's rule, as a pure function: what one submission's answer means for each of its
 * messages. A message is submitted again only when the provider certainly does not hold it; what
 * certainly never reached it (a throttle, a 503, a refusal before anything left) gets its attempt
 * back (`unclaim`); what may have reached it and cannot be looked up is `unknown`, never resent.
 */
export function settleSubmit(input: SettleInput): SettleOutput {
  const { batch, keys, result, found, maxSubmits: max, at } = input;
  const out: SettleOutput = {
    settlements: [],
    resend: [],
    optedOut: [],
    signal: { kind: 'ok', throttled: false, message: null, stop: null },
    accepted: 0,
    failed: 0,
    unknown: 0,
  };
  const { settlements, resend } = out;
  // never taken for certain: the attempt is given back (only submissions that may have reached it count)
  const giveBack = (m: SendableMessage, again: boolean): void => {
    settlements.push({ id: m.id, kind: 'unclaim' });
    if (again) resend.push({ ...m, attempts: m.attempts - 1 });
  };
  switch (result.kind) {
    case 'results':
      batch.forEach((m, i) => {
        const o = result.outcomes[i];
        if (!o) {
          settlements.push({
            id: m.id,
            kind: 'unknown',
            reason: 'unknown: the provider answered without this message',
          });
          out.unknown++;
        } else if (o.kind === 'accepted') {
          settlements.push({ id: m.id, kind: 'sent', providerId: o.providerId, partIds: o.partIds, at });
          out.accepted++;
        } else if (o.kind === 'rejected' && o.stopsRun) {
          // Resubmitting cannot help, and failing every remaining row would be wrong: keep it planned, stop.
          giveBack(m, false);
          out.signal.stop ??= `${input.provider}: ${o.stopsRun}`;
        } else if (o.kind === 'throttled') {
          out.signal.throttled = true;
          giveBack(m, true);
        } else if (o.retryable && m.attempts < max) {
          settlements.push({ id: m.id, kind: 'release' });
          resend.push(m);
        } else {
          if (o.optedOut) out.optedOut.push(m.to);
          settlements.push({ id: m.id, kind: 'failed', reason: `${o.code}: ${o.message}`, at });
          out.failed++;
        }
      });
      break;
    case 'throttled':
      out.signal = { kind: 'throttled', throttled: true, message: result.message, stop: null };
      for (const m of batch) giveBack(m, true);
      break;
    case 'unavailable':
      out.signal = { kind: 'unavailable', throttled: false, message: result.message, stop: null };
      for (const m of batch) giveBack(m, true);
      break;
    case 'ambiguous':
      out.signal = { kind: 'ambiguous', throttled: false, message: result.message, stop: null };
      batch.forEach((m, i) => {
        // A definite "not there" after the last allowed submission: a proxy or an API change may be eating every request.
        const verdict = lookupVerdict(m, keys[i]!, found, max, at, result.message);
        if (!verdict) {
          settlements.push({
            id: m.id,
            kind: 'unknown',
            reason: `unknown: ${result.message}; not resent (it cannot be looked up)`,
          });
          out.unknown++;
          return;
        }
        settlements.push(verdict);
        if (verdict.kind === 'sent') out.accepted++;
        else if (verdict.kind === 'unknown') out.unknown++;
        else resend.push(m);
      });
      break;
    case 'fatal':
      out.signal = {
        kind: 'fatal',
        throttled: false,
        message: result.message,
        stop: `${input.provider}: ${result.message}`,
      };
      for (const m of batch) giveBack(m, false);
      break;
  }
  return out;
}
