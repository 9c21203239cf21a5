import type { RequestLog } from '../requestLog.js';
import type { DeliveryReport, ReportBatch, SideState } from '../types.js';
import type { SolapiClient } from './client.js';
import { toReport } from './codes.js';
import { SLACK_MS, type SolapiListing, UNKNOWN_SKEW_SLACK_MS } from './listing.js';

interface Listing {
  startDate: string;
  endDate: string;
  endMs: number;
  cursor: string | null;
  /** reports the previous poll made in the overlap: id -> code */
  before: Record<string, string>;
  /** reports this poll made near its end, for the next one */
  recent: Record<string, string>;
}

/**
 * Delivery reports by polling: messages Solapi updated since the last complete poll (kept in a
 * small state file, or in a PostgreSQL journal), page by page; the checkpoint moves when the last page is acknowledged.
 * Only final codes of messages carrying our key are reported. Listings overlap by a little,
 * for clocks; the reports already made in that overlap are remembered and not made twice.
 */
export class ReportPoller {
  private listing: Listing | null = null;
  private lastListingDone = 0;

  constructor(
    private readonly client: SolapiClient,
    private readonly list: SolapiListing,
    private readonly log: RequestLog,
    private readonly pageSize: number,
    private readonly state: SideState,
  ) {}

  async poll(): Promise<ReportBatch> {
    const empty: ReportBatch = { reports: [], ack: async () => undefined };
    if (!this.listing) {
      // One listing per sync: a poll right after a complete one has nothing new worth a request.
      if (this.lastListingDone && Date.now() - this.lastListingDone < 10_000) return empty;
      await this.list.ensureSkew();
      // the Date header counts whole seconds: reach a little past the server's now
      const serverNow = this.client.serverNow() + 2_000;
      const saved = this.readState();
      const first = this.log.firstAt();
      const since =
        saved?.since ?? (first !== null ? first + (this.client.skewMs ?? 0) : serverNow - 24 * 3600_000);
      const slack = this.client.skewMs === null ? UNKNOWN_SKEW_SLACK_MS : SLACK_MS;
      this.listing = {
        startDate: new Date(since - slack).toISOString(),
        endDate: new Date(serverNow).toISOString(),
        endMs: serverNow,
        cursor: null,
        before: saved?.recent ?? {},
        recent: {},
      };
    }
    const listing = this.listing;
    let cursor = listing.cursor;
    for (;;) {
      const page = await this.list.page({
        dateType: 'UPDATED',
        startDate: listing.startDate,
        endDate: listing.endDate,
        limit: String(this.pageSize),
        ...(cursor ? { startKey: cursor } : {}),
      });
      const reports: DeliveryReport[] = [];
      const recent: Record<string, string> = {};
      for (const m of page.messages) {
        const r = toReport(m);
        if (!r || r.key === null) continue;
        const id = r.providerId ?? '';
        if (listing.before[id] === r.code) continue; // reported by the previous poll, in the overlap
        reports.push(r);
        const updated = Date.parse(m.dateUpdated ?? '');
        if (!Number.isNaN(updated) && updated >= listing.endMs - SLACK_MS * 2) recent[id] = r.code;
      }
      const next = page.nextKey && page.nextKey !== cursor ? page.nextKey : null;
      if (reports.length) {
        return {
          reports,
          ack: async () => {
            if (this.listing !== listing) return;
            Object.assign(listing.recent, recent);
            listing.cursor = next;
            if (!next) this.finish(listing);
          },
        };
      }
      if (!next) {
        this.finish(listing);
        return empty;
      }
      cursor = next;
      listing.cursor = next;
    }
  }

  private finish(listing: Listing): void {
    this.state.put(
      `${JSON.stringify({ since: new Date(listing.endMs).toISOString(), recent: listing.recent })}\n`,
    );
    this.listing = null;
    this.lastListingDone = Date.now();
  }

  private readState(): { since: number; recent: Record<string, string> } | null {
    try {
      const text = this.state.get();
      if (text === null) return null;
      const s = JSON.parse(text) as { since?: unknown; recent?: unknown };
      const t = typeof s.since === 'string' ? Date.parse(s.since) : NaN;
      if (Number.isNaN(t)) return null;
      const recent = s.recent && typeof s.recent === 'object' ? (s.recent as Record<string, string>) : {};
      return { since: t, recent };
    } catch {
      return null;
    }
  }
}
