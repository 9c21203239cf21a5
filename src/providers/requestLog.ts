import { FileSideLog } from './sideFiles.js';
import type { KeyReader, LookupHint, SideLog } from './types.js';

interface RangeEntry {
  at: number;
  lo: number;
  hi: number;
}

/**
 * When each of our send requests left, written before it leaves: Solapi has no idempotency
 * key and cannot be searched by customFields, so resolving a lost answer means listing the
 * messages Solapi created since the request left and matching our keys in them. A key this
 * log has never seen was never sent. One short line per request (campaign and row range),
 * append-only, so a kill -9 at any instant leaves it usable. A file (sideFiles.ts), or on a
 * PostgreSQL journal the journal's side log, which every worker of a campaign reads.
 */
export class RequestLog {
  private readonly side: SideLog;
  private readonly byCampaign = new Map<string, RangeEntry[]>();
  private readonly exact = new Map<string, number>(); // keys not in the journal's form
  private first: number | null = null;

  /** `readKey`: a key's campaign and row (the journal's reading); without it every key is kept whole */
  constructor(
    /** the log's file, or a side log */
    log: string | SideLog,
    private readonly readKey: KeyReader = () => null,
  ) {
    this.side = typeof log === 'string' ? new FileSideLog(log) : log;
    this.load();
  }

  /** the file, or the log's name in the journal */
  get file(): string {
    return this.side.where;
  }

  private load(lines = this.side.lines()): void {
    for (const line of lines) {
      if (!line) continue;
      try {
        const r = JSON.parse(line) as { t: number; c?: string; r?: [number, number]; k?: string[] };
        if (typeof r.t !== 'number') continue;
        if (r.c !== undefined && r.r) this.addRange(r.c, r.t, r.r[0], r.r[1]);
        for (const k of r.k ?? []) this.addExact(k, r.t);
      } catch {
        /* a line cut by a crash: that request never left */
      }
    }
  }

  private split(key: string): { campaign: string; row: number } | null {
    const k = this.readKey(key);
    return k ? { campaign: k.campaignId, row: k.row } : null;
  }

  private addRange(campaign: string, at: number, lo: number, hi: number): void {
    let list = this.byCampaign.get(campaign);
    if (!list) {
      list = [];
      this.byCampaign.set(campaign, list);
    }
    list.push({ at, lo, hi });
    this.first = this.first === null ? at : Math.min(this.first, at);
  }

  private addExact(key: string, at: number): void {
    if (!this.exact.has(key)) this.exact.set(key, at);
    this.first = this.first === null ? at : Math.min(this.first, at);
  }

  /** Record that a request carrying these keys is about to leave (one write, before it does). */
  record(keys: string[], at: number): void {
    const ranges = new Map<string, [number, number]>();
    const other: string[] = [];
    for (const k of keys) {
      const s = this.split(k);
      if (!s) {
        other.push(k);
        continue;
      }
      const r = ranges.get(s.campaign);
      if (r) {
        r[0] = Math.min(r[0], s.row);
        r[1] = Math.max(r[1], s.row);
      } else ranges.set(s.campaign, [s.row, s.row]);
    }
    const lines: string[] = [];
    for (const [c, r] of ranges) lines.push(JSON.stringify({ t: at, c, r }));
    if (other.length) lines.push(JSON.stringify({ t: at, k: other }));
    if (!lines.length) return;
    // Each record starts on a line of its own: after a short write (a full disk) the fragment left
    // behind is a line by itself, unreadable and skipped, and never swallows the next record.
    // The request must not leave unrecorded (a lookup after a crash would take it for never sent):
    // append throws when it could not write it all.
    this.side.append(`\n${lines.join('\n')}\n`);
    for (const [c, r] of ranges) this.addRange(c, at, r[0], r[1]);
    for (const k of other) this.addExact(k, at);
  }

  /** When the first request recorded here left (ms), or null. */
  firstAt(): number | null {
    return this.first;
  }

  /**
   * Which keys ever left in a request, and the earliest time any of them could have:
   * Solapi can only hold those, and only messages it created since then.
   */
  coverage(keys: string[]): { sent: string[]; since: number | null } {
    // a shared log (PostgreSQL) holds what every worker sent, written before it left
    if (this.side.shared) this.load(this.side.fresh());
    const sent: string[] = [];
    let since: number | null = null;
    const rowsByCampaign = new Map<string, { row: number; key: string }[]>();
    for (const k of keys) {
      const at = this.exact.get(k);
      if (at !== undefined) {
        sent.push(k);
        since = since === null ? at : Math.min(since, at);
        continue;
      }
      const s = this.split(k);
      if (!s) continue;
      let list = rowsByCampaign.get(s.campaign);
      if (!list) {
        list = [];
        rowsByCampaign.set(s.campaign, list);
      }
      list.push({ row: s.row, key: k });
    }
    for (const [campaign, wanted] of rowsByCampaign) {
      const entries = this.byCampaign.get(campaign);
      if (!entries) continue;
      wanted.sort((a, b) => a.row - b.row);
      const covered = new Array<boolean>(wanted.length).fill(false);
      for (const e of entries) {
        // first wanted row >= e.lo
        let lo = 0;
        let hi = wanted.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (wanted[mid]!.row < e.lo) lo = mid + 1;
          else hi = mid;
        }
        for (let i = lo; i < wanted.length && wanted[i]!.row <= e.hi; i++) {
          if (!covered[i]) {
            covered[i] = true;
            since = since === null ? e.at : Math.min(since, e.at);
          }
        }
      }
      for (const [i, w] of wanted.entries()) if (covered[i]) sent.push(w.key);
    }
    return { sent, since };
  }

  /** whether every worker's requests are in it (a log in a PostgreSQL journal) */
  get shared(): boolean {
    return this.side.shared;
  }

  close(): void {
    this.side.close();
  }
}

/**
 * The log's coverage, widened by a look-up's hint when the log is not shared: keys another worker
 * may have sent (its log on its own machine) may all be there, since the hint's time at the latest.
 * A shared log has every worker's requests: its coverage is exact, and the hint is not needed.
 */
export function coverageWith(
  log: Pick<RequestLog, 'coverage' | 'shared'>,
  keys: string[],
  hint: LookupHint | undefined,
): { sent: string[]; since: number | null } {
  const own = log.coverage(keys);
  if (!hint || log.shared) return own;
  return { sent: keys, since: Math.min(own.since ?? hint.sentSince, hint.sentSince) };
}
