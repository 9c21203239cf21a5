import type Database from 'better-sqlite3';
import { dialectOf, pick } from './dialect.js';

/**
 * The series the HTML report draws (src/app/htmlReport.ts), each bucketed or grouped in SQL so a
 * campaign of 1,000,000 messages comes back as a few hundred rows. No phone number leaves here.
 */

/** Upper bounds (ms, exclusive) of the report latency histogram's buckets; a last bucket holds the rest. */
export const LATENCY_BOUNDS_MS = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 21_600_000,
  86_400_000,
] as const;

const LATENCY_BUCKET = `CASE ${LATENCY_BOUNDS_MS.map((b, i) => `WHEN ms < ${b} THEN ${i}`).join(' ')} ELSE ${LATENCY_BOUNDS_MS.length} END`;
/** Bucket widths (seconds) the send rate is grouped by: the prefix of `YYYY-MM-DDTHH:MM:SS` each keeps, and what completes it. */
export const RATE_WIDTHS: readonly { seconds: number; prefix: number; pad: string }[] = [
  { seconds: 1, prefix: 19, pad: '' },
  { seconds: 10, prefix: 18, pad: '0' },
  { seconds: 60, prefix: 16, pad: ':00' },
  { seconds: 600, prefix: 15, pad: '0:00' },
  { seconds: 3600, prefix: 13, pad: ':00:00' },
  { seconds: 86400, prefix: 10, pad: 'T00:00:00' },
];

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
  /**
   * what the plan priced: every message it meant to send (not rejected, not skipped as opted out),
   * fallback legs all of them, as the plan's "up to"
   */
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
    const d = dialectOf(db);
    this.s = {
      // MIN/MAX of the text (ISO 8601 in UTC, as ums writes it): no date parsed per row
      span: db.prepare<[string], { first: string | null; last: string | null }>(
        `SELECT MIN(sent_at) AS first, MAX(sent_at) AS last FROM messages WHERE campaign_id = ? AND sent_at IS NOT NULL`,
      ),
      // grouped by a prefix of the time's text (a second, 10 s, a minute, ...): parsing a date per row
      // costs seconds on a million; only the groups' keys are turned into epoch seconds
      rate: db.prepare<[string, number, string], RateBucket>(
        `SELECT provider, channel, ${pick(d, "CAST(strftime('%s', k || ?) AS INTEGER)", 'CAST(extract(epoch FROM CAST(k || CAST(? AS TEXT) AS timestamp)) AS INTEGER)')} AS at, COUNT(*) AS messages, SUM(parts) AS parts
         FROM (SELECT provider, channel, parts, substr(CASE WHEN sent_at LIKE '%Z' THEN sent_at ELSE ${pick(d, "strftime('%Y-%m-%dT%H:%M:%S', sent_at)", `to_char(CAST(sent_at AS timestamptz), 'YYYY-MM-DD"T"HH24:MI:SS')`)} END, 1, ?) AS k
               FROM messages WHERE campaign_id = ? AND sent_at IS NOT NULL AND provider IS NOT NULL) AS s
         GROUP BY provider, channel, k ORDER BY k, provider, channel NULLS FIRST`,
      ),
      funnel: db.prepare<[string], FunnelRow>(
        `SELECT COALESCE(channel, '-') AS channel, leg,
           COUNT(*) AS planned,
           SUM(status = 'skipped' AND reason LIKE 'fallback\\_unneeded%' ESCAPE '\\') AS "notNeeded",
           SUM(sent_at IS NOT NULL) AS sent,
           SUM(status = 'delivered') AS delivered,
           SUM(status = 'failed') AS failed,
           SUM(status = 'rejected') AS rejected,
           SUM(status = 'skipped' AND (reason IS NULL OR reason NOT LIKE 'fallback\\_unneeded%' ESCAPE '\\')) AS skipped,
           SUM(status = 'unknown') AS unknown,
           COALESCE(SUM(CASE WHEN status = 'rejected' OR (status = 'skipped' AND (reason IS NULL OR reason NOT LIKE 'fallback\\_unneeded%' ESCAPE '\\')) THEN 0 ELSE cost_est END), 0) AS "costEstimated",
           COALESCE(SUM(cost), 0) AS "costActual"
         FROM messages WHERE campaign_id = ? GROUP BY channel, leg ORDER BY leg, channel`,
      ),
      latency: db.prepare<[string], LatencyBucket>(
        // the latency computed once per row (a subquery), then bucketed
        `SELECT ${LATENCY_BUCKET} AS bucket, COUNT(*) AS n
         FROM (SELECT (julianday(done_at) - julianday(sent_at)) * 86400000.0 AS ms FROM messages
               WHERE campaign_id = ? AND status IN ('delivered', 'failed') AND sent_at IS NOT NULL AND done_at IS NOT NULL) AS l
         GROUP BY bucket ORDER BY bucket`,
      ),
    };
  }

  /** First and last send of the campaign, epoch seconds. */
  sendSpan(campaignId: string): SendSpan {
    const r = this.s.span.get(campaignId);
    const sec = (t: string | null | undefined): number | null => {
      const ms = t ? Date.parse(t) : Number.NaN;
      return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
    };
    return { first: sec(r?.first), last: sec(r?.last) };
  }

  /**
   * Messages and parts sent per bucket, per provider and channel: the narrowest width of
   * RATE_WIDTHS that makes at most `maxBuckets` of the span, returned with the buckets.
   */
  sendRate(campaignId: string, span: SendSpan, maxBuckets: number): { width: number; buckets: RateBucket[] } {
    const seconds = span.first === null || span.last === null ? 0 : span.last - span.first + 1;
    const w =
      RATE_WIDTHS.find((x) => seconds / x.seconds <= maxBuckets) ?? RATE_WIDTHS[RATE_WIDTHS.length - 1]!;
    return { width: w.seconds, buckets: this.s.rate.all(w.pad, w.prefix, campaignId) };
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
