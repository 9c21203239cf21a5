import type Database from 'better-sqlite3';
import type { RcsKind } from '../campaign/rcs.js';
import type { Channel } from '../campaign/types.js';
import { redact } from '../config/secrets.js';
import type { DeliveryReport } from '../providers/types.js';
import { PartsJournal } from './parts.js';

/** A message ready to go, as the engine reads it. */
export interface SendableMessage {
  id: number;
  row: number;
  leg: number;
  to: string;
  channel: Channel;
  subject: string | null;
  body: string;
  parts: number;
  attempts: number;
  /** JSON of the row's variables, for providers that substitute them (AlimTalk, RCS) */
  vars: string | null;
  /** 1: an ad without night consent (held back in quiet hours) */
  deferrable: number;
  /** the RCS kind planned for an RCS message; null on other channels */
  rcsKind: RcsKind | null;
}

/** What to write for one message once its provider answered. */
export type Settlement =
  | { id: number; kind: 'sent'; providerId: string; at: string; partIds?: string[] }
  | { id: number; kind: 'failed'; reason: string; at: string }
  | { id: number; kind: 'unknown'; reason: string }
  /** the provider did not take it (throttle, 503): it goes back to planned, to be sent again */
  | { id: number; kind: 'release' };

export interface LockHolder {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
}

export interface LaneStats {
  provider: string;
  channel: string;
  messages: number;
  parts: number;
  firstSentAt: string;
  lastSentAt: string;
}

export interface ListedMessage {
  row: number;
  leg: number;
  to: string | null;
  channel: string | null;
  status: string;
  reason: string | null;
}

/** Final states: no report, late or duplicate, may change them. */
export const FINAL_STATES = ['delivered', 'failed', 'rejected', 'skipped'] as const;

export function messageKey(campaignId: string, row: number, leg: number): string {
  return `${campaignId}:${row}:${leg}`;
}

function parseKey(key: string): { campaignId: string; row: number; leg: number } | null {
  const m = /^(.+):(\d+):(\d+)$/.exec(key);
  return m ? { campaignId: m[1]!, row: Number(m[2]), leg: Number(m[3]) } : null;
}

/**
 * The delivery engine's statements. The state machine lives in their WHERE clauses:
 * `sending` is claimed from `planned` only, results settle `sending`/`unknown` only, and
 * reports never touch a final state.
 */
export class DeliveryJournal {
  private readonly s;
  private readonly parts: PartsJournal;
  constructor(private readonly db: Database.Database) {
    this.parts = new PartsJournal(db);
    const cols = `id, row, leg, to_addr AS "to", channel, subject, body, parts, attempts, vars, defer_at_night AS "deferrable", rcs_kind AS "rcsKind"`;
    this.s = {
      nextPlanned: db.prepare<[string, number, string, number, number], SendableMessage>(
        `SELECT ${cols} FROM messages WHERE campaign_id = ? AND row > ? AND status = 'planned' AND channel = ? AND defer_at_night <= ?
         ORDER BY row, leg LIMIT ?`,
      ),
      countDeferrable: db.prepare<[string], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE campaign_id = ? AND status = 'planned' AND defer_at_night = 1`,
      ),
      plannedChannels: db.prepare<[string], { channel: string }>(
        `SELECT DISTINCT channel FROM messages WHERE campaign_id = ? AND status IN ('planned', 'sending', 'unknown', 'held') AND channel IS NOT NULL`,
      ),
      inStatus: db.prepare<[string, string], SendableMessage & { provider: string | null }>(
        `SELECT ${cols}, provider FROM messages WHERE campaign_id = ? AND status = ? ORDER BY row, leg`,
      ),
      claim: db.prepare<[string, number]>(`UPDATE messages SET status = 'sending', attempts = attempts + 1, provider = ? WHERE id = ? AND status = 'planned'`),
      sent: db.prepare<[string, string, number]>(
        `UPDATE messages SET status = 'sent', provider_id = ?, sent_at = ?, cost = cost_est, reason = NULL WHERE id = ? AND status IN ('sending', 'unknown')`,
      ),
      failed: db.prepare<[string, string, number]>(
        `UPDATE messages SET status = 'failed', reason = ?, done_at = ? WHERE id = ? AND status IN ('sending', 'unknown')`,
      ),
      unknown: db.prepare<[string, number]>(`UPDATE messages SET status = 'unknown', reason = ? WHERE id = ? AND status = 'sending'`),
      release: db.prepare<[number]>(`UPDATE messages SET status = 'planned' WHERE id = ? AND status IN ('sending', 'unknown')`),
      unclaim: db.prepare<[number]>(`UPDATE messages SET status = 'planned', attempts = attempts - 1 WHERE id = ? AND status = 'sending'`),
      byKey: db.prepare<[string, number, number], { id: number; status: string }>(
        'SELECT id, status FROM messages WHERE campaign_id = ? AND row = ? AND leg = ?',
      ),
      byProviderId: db.prepare<[string, string], { id: number; status: string }>(
        'SELECT id, status FROM messages WHERE provider = ? AND provider_id = ?',
      ),
      report: db.prepare<[string, string, string, number]>(
        `UPDATE messages SET status = ?, reason = ?, done_at = ? WHERE id = ? AND status IN ('sending', 'sent', 'unknown')`,
      ),
      insertReport: db.prepare(
        `INSERT INTO reports (provider, provider_id, message_key, message_id, status, code, text, reported_at, received_at, applied)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      lockHolder: db.prepare<[string], LockHolder & { campaign_id: string }>(
        'SELECT campaign_id, pid, host, command, started_at AS startedAt FROM locks WHERE campaign_id = ?',
      ),
      takeLock: db.prepare<[string, number, string, string, string]>(
        'INSERT OR REPLACE INTO locks (campaign_id, pid, host, command, started_at) VALUES (?, ?, ?, ?, ?)',
      ),
      dropLock: db.prepare<[string, number]>('DELETE FROM locks WHERE campaign_id = ? AND pid = ?'),
      deliveredLatencies: db.prepare<[string], { ms: number }>(
        `SELECT (julianday(done_at) - julianday(sent_at)) * 86400000.0 AS ms FROM messages
         WHERE campaign_id = ? AND status = 'delivered' AND sent_at IS NOT NULL AND done_at IS NOT NULL ORDER BY ms`,
      ),
      laneStats: db.prepare<[string], LaneStats>(
        `SELECT provider, channel, COUNT(*) AS messages, SUM(parts) AS parts, MIN(sent_at) AS firstSentAt, MAX(sent_at) AS lastSentAt
         FROM messages WHERE campaign_id = ? AND sent_at IS NOT NULL GROUP BY provider, channel ORDER BY provider, channel`,
      ),
      problemRows: db.prepare<[string, number], ListedMessage>(
        `SELECT row, leg, to_addr AS "to", channel, status, reason FROM messages
         WHERE campaign_id = ? AND status IN ('failed', 'rejected', 'unknown') ORDER BY row, leg LIMIT ?`,
      ),
      fallbackLegs: db.prepare<[string], { status: string; n: number; cost: number }>(
        `SELECT status, COUNT(*) AS n, COALESCE(SUM(cost), 0) AS cost FROM messages WHERE campaign_id = ? AND leg = 1 GROUP BY status`,
      ),
      countInStatus: db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM messages WHERE campaign_id = ? AND status = ?'),
      unmatchedReports: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM reports WHERE message_id IS NULL'),
    };
  }

  plannedChannels(campaignId: string): Channel[] {
    return this.s.plannedChannels.all(campaignId).map((r) => r.channel as Channel);
  }

  /** Planned messages after `afterRow`; inside quiet hours (`quiet`), only those that may go at night. */
  nextPlanned(campaignId: string, channel: Channel, afterRow: number, limit: number, quiet = false): SendableMessage[] {
    return this.s.nextPlanned.all(campaignId, afterRow, channel, quiet ? 0 : 1, limit);
  }

  /** Planned ads without night consent: what quiet hours hold back. */
  countDeferrable(campaignId: string): number {
    return this.s.countDeferrable.get(campaignId)?.n ?? 0;
  }

  inStatus(campaignId: string, status: 'sending' | 'unknown'): (SendableMessage & { provider: string | null })[] {
    return this.s.inStatus.all(campaignId, status);
  }

  /**
   * Mark messages `sending` before their request leaves; returns those actually claimed.
   * `quietNow` is asked once they are marked, in the same transaction: if the quiet hours have begun
   * meanwhile (a claim takes milliseconds, more on a loaded machine), the deferrable ones (ads
   * without night consent) stay planned, their attempt not counted. All or nothing either way.
   */
  claim(messages: SendableMessage[], provider: string, quietNow: () => boolean = () => false): SendableMessage[] {
    return this.db.transaction(() => {
      const claimed = messages.filter((m) => this.s.claim.run(provider, m.id).changes === 1);
      if (!claimed.some((m) => m.deferrable) || !quietNow()) return claimed;
      for (const m of claimed) if (m.deferrable) this.s.unclaim.run(m.id);
      return claimed.filter((m) => !m.deferrable);
    })();
  }

  settle(settlements: Settlement[]): void {
    this.db.transaction(() => {
      for (const x of settlements) {
        if (x.kind === 'sent') {
          this.s.sent.run(x.providerId, x.at, x.id);
          if (x.partIds?.length) this.parts.record(x.id, x.partIds);
        }
        else if (x.kind === 'failed') this.s.failed.run(redact(x.reason), x.at, x.id);
        else if (x.kind === 'unknown') this.s.unknown.run(redact(x.reason), x.id);
        else this.s.release.run(x.id);
      }
    })();
  }

  /**
   * Store reports and apply those that move a message forward. Returns how many changed a
   * message; the rest (late, duplicate, unmatched) are kept in `reports` all the same.
   */
  applyReports(provider: string, reports: DeliveryReport[]): number {
    const receivedAt = new Date().toISOString();
    return this.db.transaction(() => {
      let applied = 0;
      for (const r of reports) {
        let target: { id: number; status: string } | undefined;
        const k = r.key ? parseKey(r.key) : null;
        if (k) target = this.s.byKey.get(k.campaignId, k.row, k.leg);
        // a part of a message the provider split (SMPP): the message moves when its parts roll up
        let status: 'delivered' | 'failed' | null = r.status;
        if (!target) {
          const part = this.parts.apply(provider, r, receivedAt);
          if (part) [target, status] = [{ id: part.messageId, status: '' }, part.status];
        }
        if (!target && r.providerId) target = this.s.byProviderId.get(provider, r.providerId);
        const reason = status === 'failed' ? redact(`${r.code}: ${r.text}`) : null;
        const changed = target && status ? this.s.report.run(status, reason as string, r.at ?? receivedAt, target.id).changes : 0;
        applied += changed;
        this.s.insertReport.run(provider, r.providerId, r.key, target?.id ?? null, r.status, r.code, redact(r.text), r.at, receivedAt, changed);
      }
      return applied;
    })();
  }

  /**
   * Take the campaign's lock for this process; a holder on this host whose process is gone
   * is replaced. Returns the live holder when the lock is someone else's.
   */
  acquireLock(campaignId: string, pid: number, host: string, command: string, isAlive: (pid: number) => boolean): LockHolder | null {
    return this.db.transaction(() => {
      const holder = this.s.lockHolder.get(campaignId);
      if (holder && holder.pid !== pid && (holder.host !== host || isAlive(holder.pid))) {
        return { pid: holder.pid, host: holder.host, command: holder.command, startedAt: holder.startedAt };
      }
      this.s.takeLock.run(campaignId, pid, host, command, new Date().toISOString());
      return null;
    }).immediate();
  }

  releaseLock(campaignId: string, pid: number): void {
    this.s.dropLock.run(campaignId, pid);
  }

  deliveredLatenciesMs(campaignId: string): number[] {
    return this.s.deliveredLatencies.all(campaignId).map((r) => r.ms);
  }

  laneStats(campaignId: string): LaneStats[] {
    return this.s.laneStats.all(campaignId);
  }

  problemRows(campaignId: string, limit: number): ListedMessage[] {
    return this.s.problemRows.all(campaignId, limit);
  }

  /** Fallback legs by status, with what the sent ones cost. */
  fallbackLegs(campaignId: string): { status: string; n: number; cost: number }[] {
    return this.s.fallbackLegs.all(campaignId);
  }

  countInStatus(campaignId: string, status: string): number {
    return this.s.countInStatus.get(campaignId, status)?.n ?? 0;
  }

  unmatchedReports(): number {
    return this.s.unmatchedReports.get()?.n ?? 0;
  }
}
