import type Database from 'better-sqlite3';
import { dialectOf, pick } from './dialect.js';

/** A sending process's row: its lease runs until `leaseUntil` (ms since the epoch) unless renewed. */
export interface WorkerRecord {
  id: number;
  campaignId: string;
  host: string;
  pid: number;
  command: string;
  leaseUntil: number;
  startedAt: string;
}

/** Rows of a lane another worker left `sending`: that worker (null: its row is gone) and how many. */
export interface ForeignSending {
  worker: number | null;
  record: WorkerRecord | null;
  n: number;
}

/**
 * First key of the two-key advisory locks that pin a lane to one worker (the second: hashtext of the
 * campaign, channel and provider). The journal's write lock (postgres.ts) is a one-key lock: another space.
 */
const LANE_LOCK_SPACE = 0x756d7302;

const laneKey = (campaignId: string, channel: string, provider: string): string =>
  `${campaignId}|${channel}|${provider}`;

const WORKER_COLUMNS = `id, campaign_id AS "campaignId", host, pid, command, lease_until AS "leaseUntil", started_at AS "startedAt"`;

/**
 * The workers of campaigns being sent (`ums resume C --join`, PostgreSQL): each sending process's
 * lease, and the lane pins. Every statement runs on its own (no transaction: none takes the journal's
 * write lock), so a renewal never waits for another worker's claim.
 */
export class WorkersJournal {
  private readonly s;
  constructor(db: Database.Database) {
    const d = dialectOf(db);
    const postgres = d === 'postgres';
    this.s = {
      register: db.prepare<[string, string, number, string, number, string]>(
        `INSERT INTO workers (campaign_id, host, pid, command, lease_until, started_at) VALUES (?, ?, ?, ?, ?, ?)${pick(d, '', ' RETURNING id')}`,
      ),
      renew: db.prepare<[number, number]>('UPDATE workers SET lease_until = ? WHERE id = ?'),
      remove: db.prepare<[number]>('DELETE FROM workers WHERE id = ?'),
      byId: db.prepare<[number], WorkerRecord>(`SELECT ${WORKER_COLUMNS} FROM workers WHERE id = ?`),
      byProcess: db.prepare<[string, string, number], WorkerRecord>(
        `SELECT ${WORKER_COLUMNS} FROM workers WHERE campaign_id = ? AND host = ? AND pid = ? ORDER BY lease_until DESC LIMIT 1`,
      ),
      live: db.prepare<[string, number], { n: number }>(
        'SELECT COUNT(*) AS n FROM workers WHERE campaign_id = ? AND lease_until > ?',
      ),
      foreignSending: db.prepare<[string, string, string, number], { worker: number | null; n: number }>(
        `SELECT worker, COUNT(*) AS n FROM messages WHERE campaign_id = ? AND channel = ? AND provider = ? AND status = 'sending'
           AND COALESCE(worker, 0) <> ? GROUP BY worker`,
      ),
      // its worker's lease ran out: whether its requests reached the provider is for the look-up to say
      leaseExpired: db.prepare<[string, string, string, string, number]>(
        `UPDATE messages SET status = 'unknown', reason = ? WHERE campaign_id = ? AND channel = ? AND provider = ? AND status = 'sending'
           AND COALESCE(worker, 0) = ?`,
      ),
      laneLeft: db.prepare<[string, string, string, number], { n: number }>(
        `SELECT COUNT(*) AS n FROM messages WHERE campaign_id = ? AND channel = ? AND provider = ?
           AND (status IN ('planned', 'sending') OR (status = 'unknown' AND ? = 1))`,
      ),
      // the database's clock, one for every host: a lease is judged by it, never by a host's own
      clock: postgres
        ? db
            .prepare<[], number>(
              'SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS DOUBLE PRECISION)',
            )
            .pluck(true)
        : null,
      unpin: postgres
        ? db.prepare<[string], boolean>(
            `SELECT pg_advisory_unlock(${LANE_LOCK_SPACE}, hashtext(CAST(? AS TEXT))) AS released`,
          )
        : null,
      pin: postgres
        ? db
            .prepare<[string], boolean>(
              `SELECT pg_try_advisory_lock(${LANE_LOCK_SPACE}, hashtext(CAST(? AS TEXT))) AS held`,
            )
            .pluck(true)
        : null,
    };
  }

  /**
   * Now, in ms since the epoch, by the journal's clock (PostgreSQL's, shared by every worker; on SQLite,
   * one host's): leases are set and judged by it, so a host whose clock runs ahead neither takes over
   * a live worker's rows nor holds its own lease for longer.
   */
  clock(): number {
    return this.s.clock ? Math.round(Number(this.s.clock.get())) : Date.now();
  }

  /** This process as a worker of the campaign; returns its id. */
  register(w: Omit<WorkerRecord, 'id'>): number {
    const r = this.s.register.run(w.campaignId, w.host, w.pid, w.command, w.leaseUntil, w.startedAt);
    return Number(r.lastInsertRowid);
  }

  /** Extend a worker's lease; false when its row is gone. */
  renew(id: number, leaseUntil: number): boolean {
    return this.s.renew.run(leaseUntil, id).changes === 1;
  }

  remove(id: number): void {
    this.s.remove.run(id);
  }

  find(id: number): WorkerRecord | null {
    return this.s.byId.get(id) ?? null;
  }

  /** The worker row of a process (the campaign lock's holder), if it registered one. */
  ofProcess(campaignId: string, host: string, pid: number): WorkerRecord | null {
    return this.s.byProcess.get(campaignId, host, pid) ?? null;
  }

  /** Workers of the campaign whose lease runs at `now`. */
  liveCount(campaignId: string, now: number): number {
    return this.s.live.get(campaignId, now)?.n ?? 0;
  }

  /**
   * Pin the lane to this worker: a session advisory lock on this connection (PostgreSQL), which the
   * server releases when the connection closes (its process died). True when held (again) here.
   * SQLite has one sending process per campaign (the campaign lock): always true.
   */
  tryPin(campaignId: string, channel: string, provider: string): boolean {
    if (!this.s.pin) return true;
    return this.s.pin.get(laneKey(campaignId, channel, provider)) === true;
  }

  /** Let another worker take the lane (a worker that ends; a dead one's connection does the same). */
  unpin(campaignId: string, channel: string, provider: string): void {
    this.s.unpin?.get(laneKey(campaignId, channel, provider));
  }

  /** Rows of a lane left `sending` by workers other than `me`, by worker. */
  foreignSending(campaignId: string, channel: string, provider: string, me: number | null): ForeignSending[] {
    return this.s.foreignSending.all(campaignId, channel, provider, me ?? 0).map((r) => ({
      worker: r.worker,
      record: r.worker === null ? null : this.find(r.worker),
      n: r.n,
    }));
  }

  /** A worker's `sending` rows of a lane become `unknown`, with `reason` (its lease ran out). */
  expire(
    campaignId: string,
    channel: string,
    provider: string,
    worker: number | null,
    reason: string,
  ): number {
    return this.s.leaseExpired.run(reason, campaignId, channel, provider, worker ?? 0).changes;
  }

  /** Rows of a lane still to send or settle: planned, sending, and unknown ones when asked. */
  laneLeft(campaignId: string, channel: string, provider: string, withUnknown: boolean): number {
    return this.s.laneLeft.get(campaignId, channel, provider, withUnknown ? 1 : 0)?.n ?? 0;
  }
}
