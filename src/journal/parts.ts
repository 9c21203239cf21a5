import type Database from 'better-sqlite3';
import type { DeliveryReport } from '../providers/types.js';
import { dialectOf, pick } from './dialect.js';
import type { ReportStatus } from './states.js';

/** A message's state from its parts' reports: null while some part has none yet. */
export type RolledUp = ReportStatus | null;

interface PartRow {
  messageId: number;
  part: number;
  to: string | null;
}

/** Same subscriber when the last 8 digits agree (`821012345678`, `01012345678`, `+8210...`). */
function sameNumber(a: string, b: string): boolean {
  const da = a.replace(/\D/g, '');
  const db = b.replace(/\D/g, '');
  return da.length >= 8 && db.length >= 8 && da.slice(-8) === db.slice(-8);
}

/**
 * The parts of messages a provider split (SMPP): one provider id per part, each with its own
 * delivery report. The message is delivered when every part is delivered, failed when any part failed.
 * A message sent whole has no rows here (its one id is the message's provider id): two rows and an
 * index entry per short message were a fifth of bench/smpp.js paced's CPU. find() finds it all the
 * same, and its report is the message's. Meant to run inside the delivery journal's transactions
 * (same connection).
 */
export class PartsJournal {
  private readonly s;
  constructor(private readonly db: Database.Database) {
    const d = dialectOf(db);
    this.s = {
      clear: db.prepare<[number]>('DELETE FROM message_parts WHERE message_id = ?'),
      insert: db.prepare<[number, number, string]>(
        'INSERT INTO message_parts (message_id, part, provider_id) VALUES (?, ?, ?)',
      ),
      // many messages' parts at once (settle()): a JSON list of message ids, and one of [message id, part, provider id]
      clearList: db.prepare<[string]>(
        `DELETE FROM message_parts WHERE message_id IN (${pick(d, 'SELECT value FROM json_each(?)', 'SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(? AS json))')})`,
      ),
      insertList: db.prepare<[string]>(
        `INSERT INTO message_parts (message_id, part, provider_id)
         ${pick(d, 'SELECT j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?) AS j', 'SELECT CAST(j.value ->> 0 AS BIGINT), CAST(j.value ->> 1 AS INTEGER), j.value ->> 2 FROM json_array_elements(CAST(? AS json)) AS j(value)')}`,
      ),
      // a message sent whole (one part) has no rows here: its id is messages.provider_id alone
      find: db.prepare<[string, string, string, string], PartRow>(
        `SELECT "messageId", part, "to" FROM (
           SELECT p.message_id AS "messageId", p.part AS part, m.to_addr AS "to" FROM message_parts p JOIN messages m ON m.id = p.message_id
            WHERE p.provider_id = ? AND m.provider = ?
           UNION ALL
           SELECT m.id, 1, m.to_addr FROM messages m
            WHERE m.provider = ? AND m.provider_id = ? AND NOT EXISTS (SELECT 1 FROM message_parts p WHERE p.message_id = m.id)
         ) AS hits ORDER BY "messageId" DESC`,
      ),
      mark: db.prepare<[ReportStatus, string, number, number]>(
        'UPDATE message_parts SET status = ?, reported_at = ? WHERE message_id = ? AND part = ? AND status IS NULL',
      ),
      tally: db.prepare<[number], { total: number; delivered: number | null; failed: number | null }>(
        `SELECT COUNT(*) AS total, SUM(status = 'delivered') AS delivered, SUM(status = 'failed') AS failed FROM message_parts WHERE message_id = ?`,
      ),
      list: db.prepare<[number], { part: number; providerId: string; status: ReportStatus | null }>(
        'SELECT part, provider_id AS "providerId", status FROM message_parts WHERE message_id = ? ORDER BY part',
      ),
    };
  }

  /** Record the provider ids of a message's parts, part 1 first (a resend replaces them). */
  record(messageId: number, partIds: string[]): void {
    // inside settle()'s transaction already: no transaction of its own (one per message showed in bench/smpp.js)
    if (this.db.inTransaction) this.recordParts(messageId, partIds);
    else this.db.transaction(() => this.recordParts(messageId, partIds))();
  }

  /**
   * record() for many messages in two statements (inside settle()'s transaction): the cost per
   * message of a clear and an insert each showed in bench/smpp.js's profile.
   */
  recordMany(messages: { id: number; partIds: string[] }[]): void {
    if (messages.length === 1) {
      this.record(messages[0]!.id, messages[0]!.partIds);
      return;
    }
    const rows: [number, number, string][] = [];
    for (const m of messages) for (const [i, pid] of m.partIds.entries()) rows.push([m.id, i + 1, pid]);
    this.s.clearList.run(JSON.stringify(messages.map((m) => m.id)));
    this.s.insertList.run(JSON.stringify(rows));
  }

  private recordParts(messageId: number, partIds: string[]): void {
    this.s.clear.run(messageId);
    for (const [i, id] of partIds.entries()) this.s.insert.run(messageId, i + 1, id);
  }

  /**
   * The part a report is about: providerId, then altProviderIds, in order. When the report names
   * its recipient, a part of a message to that number wins over an id that merely matches
   * (a decimal id can spell another message's hex id).
   */
  find(
    provider: string,
    report: Pick<DeliveryReport, 'providerId' | 'altProviderIds' | 'to'>,
  ): { messageId: number; part: number } | undefined {
    const ids = [report.providerId, ...(report.altProviderIds ?? [])].filter((x): x is string => Boolean(x));
    let loose: PartRow | undefined;
    for (const id of ids) {
      const rows = this.s.find.all(id, provider, provider, id);
      if (!rows.length) continue;
      if (!report.to) return { messageId: rows[0]!.messageId, part: rows[0]!.part };
      const hit = rows.find((r) => r.to !== null && sameNumber(r.to, report.to!));
      if (hit) return { messageId: hit.messageId, part: hit.part };
      loose ??= rows[0];
    }
    return loose ? { messageId: loose.messageId, part: loose.part } : undefined;
  }

  /**
   * Set one part's final state (a part's first report wins) and roll the message up; a message
   * sent whole (no parts) is what its report says.
   */
  settle(messageId: number, part: number, status: ReportStatus, at: string): RolledUp {
    if (this.s.mark.run(status, at, messageId, part).changes === 0 && this.whole(messageId)) return status;
    return this.rollUp(messageId);
  }

  private whole(messageId: number): boolean {
    return (this.s.tally.get(messageId)?.total ?? 0) === 0;
  }

  rollUp(messageId: number): RolledUp {
    const t = this.s.tally.get(messageId);
    if (!t || t.total === 0) return null;
    if ((t.failed ?? 0) > 0) return 'failed';
    return (t.delivered ?? 0) === t.total ? 'delivered' : null;
  }

  /**
   * A report about a part, applied: returns its message and what the message now is, or null when
   * the report names no known part (the caller then matches it its own way, or keeps it unmatched).
   */
  apply(
    provider: string,
    report: DeliveryReport,
    receivedAt: string,
  ): { messageId: number; status: RolledUp } | null {
    const hit = this.find(provider, report);
    if (!hit) return null;
    return {
      messageId: hit.messageId,
      status: this.settle(hit.messageId, hit.part, report.status, report.at ?? receivedAt),
    };
  }

  parts(messageId: number): { part: number; providerId: string; status: ReportStatus | null }[] {
    return this.s.list.all(messageId);
  }
}
