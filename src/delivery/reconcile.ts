import type { DeliveryJournal, SendableMessage, Settlement } from '../journal/delivery.js';
import { messageKey } from '../journal/delivery.js';
import type { LookupHint, Provider } from '../providers/types.js';

/** The reason an `unknown` row carries once its submissions are used up. */
export function exhaustedReason(attempts: number, last: string): string {
  return `unknown: submitted ${attempts} times without a definite answer (last: ${last}); not sent again (\`ums resume --resend-unknown\` sends it once more)`;
}

/** What a provider's look-up said: its ids by our key (a key missing: a definite "not there"), or null when it could not tell. */
export type LookupAnswer = Map<string, { providerId: string }> | null;

/** Ask the provider which of these keys it holds; null when it has no look-up or cannot tell. */
export async function lookUp(
  provider: Provider | undefined,
  keys: string[],
  hint?: LookupHint,
): Promise<LookupAnswer> {
  if (!provider?.lookup) return null;
  try {
    return await (hint ? provider.lookup(keys, hint) : provider.lookup(keys));
  } catch {
    return null;
  }
}

/**
 * What a look-up means for one message whose submission may have reached the provider: it holds it
 * -> sent; a definite "not there" -> submitted again, unless its submissions are used up (then
 * unknown, never sent again blindly); the provider could not tell -> null (the caller says why).
 */
export function lookupVerdict(
  m: Pick<SendableMessage, 'id' | 'attempts'>,
  key: string,
  found: LookupAnswer,
  maxSubmits: number,
  at: string,
  last: string,
): Settlement | null {
  const hit = found?.get(key);
  if (hit) return { id: m.id, kind: 'sent', providerId: hit.providerId, at };
  if (!found) return null;
  if (m.attempts >= maxSubmits)
    return { id: m.id, kind: 'unknown', reason: exhaustedReason(m.attempts, last) };
  return { id: m.id, kind: 'release' };
}

/**
 * Reconciliation, the one place rows of unknown outcome are looked up: rows a dead run left
 * `sending` (and `unknown` ones) are asked about by key: the provider has them -> sent; it does not
 * -> back to planned; it cannot tell -> unknown, never resent blindly. `resendUnknown`: the
 * operator's choice to send `unknown` rows the provider does not hold (or cannot tell about) again.
 */
export async function reconcileRows(
  journal: DeliveryJournal,
  campaignId: string,
  providers: ReadonlyMap<string, Provider>,
  maxSubmits: (provider: Provider | undefined) => number,
  statuses: readonly ('sending' | 'unknown')[],
  resendUnknown: boolean,
  /** only these rows (a worker's own lanes: others are their holders'); default all */
  only?: (m: { channel: string | null; provider: string | null }) => boolean,
  /**
   * Rows another worker claimed (messages.worker, not this journal's): since when it may have sent
   * them; the look-up is told (LookupHint). A provider whose request log is shared (in a PostgreSQL
   * journal) knows exactly, and needs no hint.
   */
  foreignSince?: (workers: number[]) => number,
): Promise<void> {
  for (const status of statuses) {
    const all = journal.inStatus(campaignId, status);
    const rows = only ? all.filter(only) : all;
    if (!rows.length) continue;
    const settlements: Settlement[] = [];
    const groups = new Map<string, typeof rows>();
    for (const r of rows) groups.set(r.provider ?? '', [...(groups.get(r.provider ?? '') ?? []), r]);
    for (const [name, group] of groups) {
      const provider = providers.get(name);
      const keys = group.map((m) => messageKey(campaignId, m.row, m.leg));
      const foreign = [
        ...new Set(
          group.flatMap((m) => (m.worker !== null && m.worker !== journal.worker ? [m.worker] : [])),
        ),
      ];
      const hint = foreign.length && foreignSince ? { sentSince: foreignSince(foreign) } : undefined;
      const found = await lookUp(provider, keys, hint);
      const now = new Date().toISOString();
      const max = maxSubmits(provider);
      const who = name || 'the provider';
      group.forEach((m, i) => {
        const verdict = lookupVerdict(
          m,
          keys[i]!,
          found,
          max,
          now,
          `${who} did not answer, and its look-up does not find it`,
        );
        if (verdict?.kind === 'sent') settlements.push(verdict);
        else if (status === 'unknown' && resendUnknown)
          settlements.push({ id: m.id, kind: 'release' }); // the operator's choice
        else if (verdict) {
          // an unknown row whose submissions are used up stays as it is
          if (verdict.kind !== 'unknown' || status === 'sending') settlements.push(verdict);
        } else if (status === 'sending')
          settlements.push({
            id: m.id,
            kind: 'unknown',
            reason: `unknown: the request was written to ${who} and no answer was recorded before the run stopped; it cannot be looked up`,
          });
      });
    }
    journal.settle(settlements);
  }
}
