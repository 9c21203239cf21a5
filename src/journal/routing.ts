import type Database from 'better-sqlite3';
import type { RcsKind } from '../campaign/rcs.js';
import type { Channel } from '../campaign/types.js';
import { redact } from '../config/secrets.js';
import type { SendableMessage } from './delivery.js';
import { dialectOf, pick } from './dialect.js';

/** A row waiting for its provider (planned or held, none assigned yet). */
export interface UnassignedRow {
  id: number;
  to: string | null;
  channel: Channel;
  parts: number;
  rcsKind: RcsKind | null;
}

/** One provider's assignment for a row: its provider and what one part costs there. */
export interface Assignment {
  id: number;
  provider: string;
  price: number;
}

/** Why a provider's waiting messages moved to another one. */
/** A channel's waiting messages on one provider (the pre-send lane view): planned, and held fallback legs. */
export interface WaitingLane {
  channel: Channel;
  provider: string | null;
  status: 'planned' | 'held';
  count: number;
  parts: number;
  cost: number;
  /** planned ads without night consent (quiet hours hold them) */
  deferrable: number;
}

export type MoveWhy = 'unavailable' | 'fatal' | 'route' | 'recovered';

export interface RouteMove {
  channel: string;
  from: string;
  to: string;
  count: number;
  why: MoveWhy;
  detail: string | null;
  since: string | null;
  movedAt: string;
}

export interface ProviderStats {
  provider: string;
  /** messages the provider took (or may hold: sending, unknown) */
  messages: number;
  parts: number;
  cost: number;
  /** messages assigned to it still waiting (planned or held) */
  waiting: number;
}

/** The planned-row columns, in SendableMessage's shape (as delivery.ts's nextPlanned reads them). */
const COLS = `id, row, leg, to_addr AS "to", channel, subject, body, parts, attempts, vars, defer_at_night AS "deferrable", rcs_kind AS "rcsKind"`;

/** Rows read per page while assigning providers. */
const PAGE = 5000;

/**
 * Routes across providers (DESIGN.md, Config): which provider each message goes to, set at planning
 * (messages.provider of a planned or held row), read per provider by its lane, and moved to another
 * provider of the route only while the message is planned or held, which no provider has yet. A
 * message that may have reached a provider (sending, unknown) never moves: the claim writes the
 * provider it was read for, and only a planned row of that provider is claimed (delivery.ts), so no
 * message leg is ever with two providers.
 */
export class RoutingJournal {
  private readonly s;
  private readonly tx: <T>(fn: () => T) => T;
  constructor(db: Database.Database) {
    this.tx = db.transaction((fn: () => unknown) => fn()) as <T>(fn: () => T) => T;
    const d = dialectOf(db);
    this.s = {
      unassigned: db.prepare<[string, number, number], UnassignedRow>(
        `SELECT id, to_addr AS "to", channel, parts, rcs_kind AS "rcsKind" FROM messages
         WHERE campaign_id = ? AND id > ? AND provider IS NULL AND status IN ('planned', 'held') AND channel IS NOT NULL
         ORDER BY id LIMIT ?`,
      ),
      // every waiting row of one channel (and RCS kind) without a provider at once: a route that is not
      // a split gives them all the same one (bench/plan: a statement per row took 50 of 63 s per million)
      unassignedKinds: db.prepare<[string], { channel: Channel; rcsKind: RcsKind | null }>(
        // in the order of their first rows (SQLite's DISTINCT, reading messages_by_row)
        `SELECT ${pick(d, 'DISTINCT channel, rcs_kind AS "rcsKind"', 'channel, rcs_kind AS "rcsKind"')} FROM messages
         WHERE campaign_id = ? AND provider IS NULL AND status IN ('planned', 'held') AND channel IS NOT NULL${pick(d, '', ' GROUP BY channel, rcs_kind ORDER BY MIN(row), MIN(leg)')}`,
      ),
      assignKind: db.prepare<[string, number, string, Channel, RcsKind | null]>(
        `UPDATE messages SET provider = ?, cost_est = parts * ? WHERE campaign_id = ? AND channel = ? AND rcs_kind IS NOT DISTINCT FROM ?
           AND provider IS NULL AND status IN ('planned', 'held')`,
      ),
      assign: db.prepare<[string, number, number]>(
        `UPDATE messages SET provider = ?, cost_est = parts * ? WHERE id = ? AND provider IS NULL AND status IN ('planned', 'held')`,
      ),
      unassignAll: db.prepare<[string]>(
        `UPDATE messages SET provider = NULL WHERE campaign_id = ? AND status IN ('planned', 'held') AND provider IS NOT NULL`,
      ),
      nextPlanned: db.prepare<[string, string, string, number, number, number], SendableMessage>(
        `SELECT ${COLS} FROM messages WHERE campaign_id = ? AND provider = ? AND channel = ? AND row > ? AND status = 'planned' AND defer_at_night <= ?
         ORDER BY row, leg LIMIT ?`,
      ),
      waitingKinds: db.prepare<[string, string, string], { rcsKind: RcsKind | null; n: number }>(
        `SELECT rcs_kind AS "rcsKind", COUNT(*) AS n FROM messages WHERE campaign_id = ? AND provider = ? AND channel = ?
         AND status IN ('planned', 'held') GROUP BY rcs_kind ORDER BY rcs_kind NULLS FIRST`,
      ),
      move: db.prepare<[string, number, string, string, string, string | null]>(
        `UPDATE messages SET provider = ?, cost_est = parts * ? WHERE campaign_id = ? AND provider = ? AND channel = ?
         AND status IN ('planned', 'held') AND rcs_kind IS NOT DISTINCT FROM ?`,
      ),
      waitingOf: db.prepare<[string, string, string, number, number], UnassignedRow>(
        `SELECT id, to_addr AS "to", channel, parts, rcs_kind AS "rcsKind" FROM messages
         WHERE campaign_id = ? AND provider = ? AND channel = ? AND id > ? AND status IN ('planned', 'held')
         ORDER BY id LIMIT ?`,
      ),
      moveOne: db.prepare<[string, number, number, string]>(
        `UPDATE messages SET provider = ?, cost_est = parts * ? WHERE id = ? AND provider = ? AND status IN ('planned', 'held')`,
      ),
      taken: db.prepare<[string, string, number], { row: number; leg: number }>(
        `SELECT row, leg FROM messages WHERE campaign_id = ? AND provider = ? AND provider_id IS NOT NULL ORDER BY id DESC LIMIT ?`,
      ),
      waitingLanes: db.prepare<[string], WaitingLane>(
        `SELECT channel, provider, status, COUNT(*) AS count, COALESCE(SUM(parts), 0) AS parts,
                COALESCE(SUM(cost_est), 0) AS cost,
                SUM(CASE WHEN status = 'planned' AND defer_at_night = 1 THEN 1 ELSE 0 END) AS "deferrable"
         FROM messages WHERE campaign_id = ? AND status IN ('planned', 'held') AND channel IS NOT NULL
         GROUP BY channel, provider, status ORDER BY channel, provider NULLS FIRST, status`,
      ),
      pending: db.prepare<[string], { channel: Channel; provider: string | null }>(
        `SELECT ${pick(d, 'DISTINCT channel, provider', 'channel, provider')} FROM messages WHERE campaign_id = ? AND status IN ('planned', 'sending', 'unknown', 'held') AND channel IS NOT NULL${pick(d, '', ' GROUP BY channel, provider ORDER BY MIN(row), MIN(leg)')}`,
      ),
      addMove: db.prepare<
        [string, string, string, string, number, string, string | null, string | null, string]
      >(
        `INSERT INTO route_moves (campaign_id, channel, from_provider, to_provider, count, why, detail, since, moved_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      moves: db.prepare<[string], RouteMove>(
        `SELECT channel, from_provider AS "from", to_provider AS "to", count, why, detail, since, moved_at AS "movedAt"
         FROM route_moves WHERE campaign_id = ? ORDER BY id`,
      ),
      providerStats: db.prepare<[string], ProviderStats>(
        `SELECT provider,
                SUM(CASE WHEN status IN ('planned', 'held') THEN 0 ELSE 1 END) AS messages,
                SUM(CASE WHEN status IN ('planned', 'held') THEN 0 ELSE parts END) AS parts,
                COALESCE(SUM(cost), 0) AS cost,
                SUM(CASE WHEN status IN ('planned', 'held') THEN 1 ELSE 0 END) AS waiting
         FROM messages WHERE campaign_id = ? AND provider IS NOT NULL
           AND status IN ('planned', 'held', 'sending', 'sent', 'unknown', 'delivered', 'failed')
         GROUP BY provider ORDER BY provider`,
      ),
    };
  }

  /**
   * Give every waiting row without a provider one: `choose` picks it (and its price per part) for
   * each row, in pages. Rows that already have a provider keep it (a resume keeps each on its own).
   */
  assignProviders(campaignId: string, choose: (row: UnassignedRow) => Omit<Assignment, 'id'>): number {
    let after = 0;
    let n = 0;
    for (;;) {
      const rows = this.s.unassigned.all(campaignId, after, PAGE);
      if (!rows.length) return n;
      this.tx(() => {
        for (const r of rows) {
          const a = choose(r);
          n += this.s.assign.run(a.provider, a.price, r.id).changes;
        }
      });
      after = rows[rows.length - 1]!.id;
    }
  }

  /** The channels (and RCS kinds) that have waiting rows without a provider. */
  unassignedKinds(campaignId: string): { channel: Channel; rcsKind: RcsKind | null }[] {
    return this.s.unassignedKinds.all(campaignId);
  }

  /** Give every waiting row of this channel and RCS kind without a provider this one, at this price per part. */
  assignKind(
    campaignId: string,
    channel: Channel,
    rcsKind: RcsKind | null,
    a: Omit<Assignment, 'id'>,
  ): number {
    return this.s.assignKind.run(a.provider, a.price, campaignId, channel, rcsKind).changes;
  }

  /** Every waiting message is to be assigned again (`--provider`: the operator's word for this run). */
  unassignAll(campaignId: string): void {
    this.s.unassignAll.run(campaignId);
  }

  /** The planned messages of one lane (a channel through one provider) after `afterRow`; inside quiet hours, only those that may go at night. */
  nextPlanned(
    campaignId: string,
    channel: Channel,
    provider: string,
    afterRow: number,
    limit: number,
    quiet = false,
  ): SendableMessage[] {
    return this.s.nextPlanned.all(campaignId, provider, channel, afterRow, quiet ? 0 : 1, limit);
  }

  /** Channels and providers of the messages not yet settled (a provider null: not assigned yet). */
  /** Planned and held messages, parts, estimated cost and deferrable ads per channel and provider. */
  waitingLanes(campaignId: string): WaitingLane[] {
    return this.s.waitingLanes.all(campaignId);
  }

  pending(campaignId: string): { channel: Channel; provider: string | null }[] {
    return this.s.pending.all(campaignId);
  }

  /**
   * Move a provider's waiting messages of one channel (planned or held: no provider has them) to
   * another, each priced at the new provider's price (`price` by RCS kind), and journal the move.
   * Returns how many moved.
   */
  move(
    campaignId: string,
    channel: Channel,
    from: string,
    to: string,
    price: (rcsKind: RcsKind | null) => number,
    why: MoveWhy,
    detail: string | null,
    since: string | null,
    at: string,
  ): number {
    return this.tx(() => {
      let n = 0;
      for (const k of this.s.waitingKinds.all(campaignId, from, channel))
        n += this.s.move.run(to, price(k.rcsKind), campaignId, from, channel, k.rcsKind).changes;
      if (n > 0) this.recordMove(campaignId, channel, from, to, n, why, detail, since, at);
      return n;
    });
  }

  /**
   * Move the waiting messages of one channel at `from` that `pick` chooses (a failback: those whose
   * route gave them to `to` at planning) to `to`, priced there, and journal the move. Returns how many.
   */
  moveWhere(
    campaignId: string,
    channel: Channel,
    from: string,
    to: string,
    pick: (row: UnassignedRow) => boolean,
    price: (rcsKind: RcsKind | null) => number,
    why: MoveWhy,
    detail: string | null,
    since: string | null,
    at: string,
  ): number {
    return this.tx(() => {
      let n = 0;
      let after = 0;
      for (;;) {
        const rows = this.s.waitingOf.all(campaignId, from, channel, after, PAGE);
        if (!rows.length) break;
        for (const r of rows) if (pick(r)) n += this.s.moveOne.run(to, price(r.rcsKind), r.id, from).changes;
        after = rows[rows.length - 1]!.id;
      }
      if (n > 0) this.recordMove(campaignId, channel, from, to, n, why, detail, since, at);
      return n;
    });
  }

  /** One journaled move (from, to, how many, why, since when), its detail redacted. */
  private recordMove(
    campaignId: string,
    channel: Channel,
    from: string,
    to: string,
    n: number,
    why: MoveWhy,
    detail: string | null,
    since: string | null,
    at: string,
  ): void {
    this.s.addMove.run(
      campaignId,
      channel,
      from,
      to,
      n,
      why,
      detail === null ? null : redact(detail),
      since,
      at,
    );
  }

  /** Rows and legs of a few messages this provider took in this campaign (newest first): what a probe asks it about. */
  taken(campaignId: string, provider: string, limit: number): { row: number; leg: number }[] {
    return this.s.taken.all(campaignId, provider, limit);
  }

  moves(campaignId: string): RouteMove[] {
    return this.s.moves.all(campaignId);
  }

  /** Per provider: what it took (messages, parts, cost) and what still waits for it. */
  providerStats(campaignId: string): ProviderStats[] {
    return this.s.providerStats.all(campaignId);
  }
}
