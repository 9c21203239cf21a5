import type Database from 'better-sqlite3';

/**
 * The series the HTML report draws (src/app/htmlReport.ts), each bucketed or grouped in SQL so a
 * campaign of 1,000,000 messages comes back as a few hundred rows. No phone number leaves here.
 */

/** Upper bounds (ms, exclusive) of the report latency histogram's buckets; a last bucket holds the rest. */
export const LATENCY_BOUNDS_MS = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000,
  86_400_000,
] as const;

const LATENCY_MS = `(julianday(done_at) - julianday(sent_at)) * 86400000.0`;
const LATENCY_BUCKET = `CASE ${LATENCY_BOUNDS_MS.map((b, i) => `WHEN ${LATENCY_MS} < ${b} THEN ${i}`).join(' ')} ELSE ${LATENCY_BOUNDS_MS.length} END`;
const EPOCH = `CAST(strftime('%s', sent_at) AS INTEGER)`;

export interface SendSpan {
  /** epoch seconds of the first and last send; null when nothing was sent */
  first: number | null;
  last: number | null;
}

export interface RateBucket {
  provider: string;
  channel: string;
  /** the bucket's start, epoch seconds (a multiple of the bucket width) */
  at: number;
  messages: number;
  parts: number;
}

export interface FunnelRow {
  channel: string;
  leg: number;
  planned: number;
  /** fallback legs not needed (their first leg was delivered) */
  notNeeded: number;
  sent: number;
  delivered: number;
  failed: number;
  rejected: number;
  skipped: number;
  unknown: number;
  /** what the plan priced for the legs meant to go (not rejected, skipped, held or cancelled) */
  costEstimated: number;
  /** what was sent cost (cost is set when a provider takes a message: its parts at the planned price) */
  costActual: number;
}

export interface LatencyBucket {
  /** index into LATENCY_BOUNDS_MS; LATENCY_BOUNDS_MS.length = above the last bound */
  bucket: number;
  n: number;
}

export class ReportSeriesJournal {
  private readonly s;
  constructor(db: Database.Database) {
    this.s = {
      span: db.prepare<[string], SendSpan>(
        `SELECT MIN(${EPOCH}) AS first, MAX(${EPOCH}) AS last FROM messages WHERE campaign_id = ? AND sent_at IS NOT NULL`,
      ),
      rate: db.prepare<[number, number, string], RateBucket>(
        `SELECT provider, channel, (${EPOCH} / ?) * ? AS at, COUNT(*) AS messages, SUM(parts) AS parts
         FROM messages WHERE campaign_id = ? AND sent_at IS NOT NULL AND provider IS NOT NULL
         GROUP BY provider, channel, at ORDER BY at, provider, channel`,
      ),
      funnel: db.prepare<[string], FunnelRow>(
        `SELECT COALESCE(channel, '-') AS channel, leg,
           COUNT(*) AS planned,
           SUM(status = 'skipped' AND reason LIKE 'fallback\\_unneeded%' ESCAPE '\\') AS notNeeded,
           SUM(sent_at IS NOT NULL) AS sent,
           SUM(status = 'delivered') AS delivered,
           SUM(status = 'failed') AS failed,
           SUM(status = 'rejected') AS rejected,
           SUM(status = 'skipped' AND (reason IS NULL OR reason NOT LIKE 'fallback\\_unneeded%' ESCAPE '\\')) AS skipped,
           SUM(status = 'unknown') AS unknown,
           COALESCE(SUM(CASE WHEN status NOT IN ('rejected', 'skipped', 'held', 'cancelled') THEN cost_est END), 0) AS costEstimated,
           COALESCE(SUM(cost), 0) AS costActual
         FROM messages WHERE campaign_id = ? GROUP BY channel, leg ORDER BY leg, channel`,
      ),
      latency: db.prepare<[string], LatencyBucket>(
        `SELECT ${LATENCY_BUCKET} AS bucket, COUNT(*) AS n FROM messages
         WHERE campaign_id = ? AND status IN ('delivered', 'failed') AND sent_at IS NOT NULL AND done_at IS NOT NULL
         GROUP BY bucket ORDER BY bucket`,
      ),
    };
  }

  /** First and last send of the campaign, epoch seconds. */
  sendSpan(campaignId: string): SendSpan {
    return this.s.span.get(campaignId) ?? { first: null, last: null };
  }

  /** Messages and parts sent per bucket of `widthSeconds`, per provider and channel. */
  sendRate(campaignId: string, widthSeconds: number): RateBucket[] {
    const w = Math.max(1, Math.floor(widthSeconds));
    return this.s.rate.all(w, w, campaignId);
  }

  /** Planned -> sent -> delivered/failed per channel and leg (0 the first message, 1 its fallback). */
  funnel(campaignId: string): FunnelRow[] {
    return this.s.funnel.all(campaignId);
  }

  /** Report latency (done_at - sent_at of messages settled by a report) in the buckets of LATENCY_BOUNDS_MS. */
  latency(campaignId: string): LatencyBucket[] {
    return this.s.latency.all(campaignId);
  }
}
