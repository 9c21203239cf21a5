import type Database from 'better-sqlite3';
import type { ListedMessage } from './delivery.js';
import { dialectOf, pick } from './dialect.js';

/**
 * What became of each recipient (a CSV row and its fallback leg, if any): reports count recipients
 * first (DESIGN.md: a recipient is reached when any of its legs is delivered), legs second.
 *
 * A recipient's outcome is the best state among its legs, in this order: delivered, then still on
 * its way (sent, sending, planned, held), then unknown, failed, rejected, skipped, cancelled.
 */
export const RECIPIENT_OUTCOMES = [
  'delivered',
  'sent',
  'sending',
  'planned',
  'held',
  'unknown',
  'failed',
  'rejected',
  'skipped',
  'cancelled',
] as const;
export type RecipientOutcome = (typeof RECIPIENT_OUTCOMES)[number];

const RANK = `CASE status ${RECIPIENT_OUTCOMES.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} ELSE ${RECIPIENT_OUTCOMES.length} END`;
const NOT_LOST = RECIPIENT_OUTCOMES.slice(0, 5)
  .map((s) => `'${s}'`)
  .join(', ');
/** rows none of whose legs was delivered or is still on its way, with a leg that failed, was rejected or is unknown */
const LOST_ROWS = `campaign_id = ? AND status IN ('failed', 'rejected', 'unknown')
  AND row NOT IN (SELECT row FROM messages WHERE campaign_id = ? AND status IN (${NOT_LOST}))`;

/** The code of a reason (`3104: not a KakaoTalk user` -> 3104), as the reason lists group them. */
const CODE = `CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, instr(reason, ':') - 1) ELSE reason END`;
/** reasons that are no failure: a fallback leg skipped because its first leg was delivered */
const NOT_A_FAILURE = `reason NOT LIKE 'fallback\\_unneeded%' ESCAPE '\\'`;

export interface ReasonCount {
  code: string;
  count: number;
  firstRow: number;
  example: string;
}

export class OutcomeJournal {
  private readonly s;
  constructor(db: Database.Database) {
    const d = dialectOf(db);
    this.s = {
      outcomes: db.prepare<[string], { rank: number; n: number }>(
        `SELECT rank, COUNT(*) AS n FROM (SELECT row, MIN(${RANK}) AS rank FROM messages WHERE campaign_id = ? GROUP BY row) AS r
         GROUP BY rank ORDER BY rank`,
      ),
      reachedBy: db.prepare<[string, string], { channel: string | null; leg: number; n: number }>(
        `SELECT m.channel AS channel, m.leg AS leg, COUNT(*) AS n FROM messages m
         JOIN (SELECT row, MIN(leg) AS leg FROM messages WHERE campaign_id = ? AND status = 'delivered' GROUP BY row) d
           ON m.row = d.row AND m.leg = d.leg
         WHERE m.campaign_id = ? GROUP BY m.channel, m.leg ORDER BY m.leg, m.channel NULLS FIRST`,
      ),
      lost: db.prepare<[string, string, number], ListedMessage>(
        `SELECT row, leg, to_addr AS "to", channel, status, reason FROM messages WHERE ${LOST_ROWS}
         ORDER BY row, leg LIMIT ?`,
      ),
      countLost: db.prepare<[string, string], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE ${LOST_ROWS}`,
      ),
      // SQLite fills the bare column `reason` from the row that MIN(row) picked: the first example
      // (PostgreSQL: the first of the group's reasons in row order).
      reasons: db.prepare<[string, number], ReasonCount>(
        `SELECT ${CODE} AS code, COUNT(*) AS count, MIN(row) AS "firstRow", ${pick(d, 'reason', '(array_agg(reason ORDER BY row, leg))[1]')} AS example
         FROM messages WHERE campaign_id = ? AND reason IS NOT NULL AND ${NOT_A_FAILURE}
         GROUP BY code ORDER BY count DESC, "firstRow" LIMIT ?`,
      ),
      countReasons: db.prepare<[string], { n: number }>(
        `SELECT COUNT(DISTINCT ${CODE}) AS n FROM messages WHERE campaign_id = ? AND reason IS NOT NULL AND ${NOT_A_FAILURE}`,
      ),
    };
  }

  /** Recipients (CSV rows) by outcome. */
  outcomes(campaignId: string): Partial<Record<RecipientOutcome, number>> {
    const out: Partial<Record<RecipientOutcome, number>> = {};
    for (const r of this.s.outcomes.all(campaignId)) {
      const name = RECIPIENT_OUTCOMES[r.rank];
      if (name) out[name] = r.n;
    }
    return out;
  }

  /** Reached recipients by the leg that reached them (its channel; leg 0 = the first message, 1 = the fallback). */
  reachedBy(campaignId: string): { channel: string | null; leg: number; n: number }[] {
    return this.s.reachedBy.all(campaignId, campaignId);
  }

  /** The legs of recipients that were not reached and no longer can be ("rows that did not go out"). */
  lostRows(campaignId: string, limit: number): ListedMessage[] {
    return this.s.lost.all(campaignId, campaignId, limit);
  }

  countLostRows(campaignId: string): number {
    return this.s.countLost.get(campaignId, campaignId)?.n ?? 0;
  }

  /** Why messages failed, were rejected or skipped, by code, most common first; `fallback_unneeded` left out. */
  topReasons(campaignId: string, limit: number): ReasonCount[] {
    return this.s.reasons.all(campaignId, limit);
  }

  countReasons(campaignId: string): number {
    return this.s.countReasons.get(campaignId)?.n ?? 0;
  }
}
