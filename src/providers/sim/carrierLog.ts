import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { FileSideLog } from '../sideFiles.js';
import type { SideLog } from '../types.js';

/** A message the simulated carrier accepted, with the delivery result it will report. */
export interface AcceptedRecord {
  t: 'acc';
  key: string;
  id: string;
  to: string;
  ch: string;
  parts: number;
  /** ms since epoch, when the carrier took it */
  at: number;
  dlr: 'delivered' | 'failed';
  code: string;
  /** ms since epoch, when the report becomes due */
  due: number;
}

interface AckRecord {
  t: 'ack';
  ids: string[];
}

/**
 * The simulated carrier's own memory: an append-only JSON-lines log beside the journal (a file;
 * on a PostgreSQL journal, the journal's side log, which every worker reaches), written before the
 * carrier answers, so tests can count what really reached the carrier whatever happened to `ums`
 * afterwards (kill -9 included), and another worker pushes the reports of a dead one's messages.
 */
export class CarrierLog {
  private readonly side: SideLog;
  /** every accepted record, in order: the by-key index is built from it when first asked */
  private readonly records: AcceptedRecord[] = [];
  private readonly byKey = new Map<string, AcceptedRecord>();
  /** records[0..indexed) are in byKey */
  private indexed = 0;
  /** accepted, their report not yet acknowledged, in order of acceptance */
  private readonly unacked = new Set<AcceptedRecord>();
  /**
   * No unacknowledged report is due before this: due() looks at none until then (it is asked
   * every tick, and went through every record waiting, 100,000 in bench/send.js, each time).
   */
  private earliestDue = Number.POSITIVE_INFINITY;
  private seq = 0;
  private idClock = -1;
  private idStamp = '';

  /**
   * In ids made by this process when others append to the same log (workers on PostgreSQL): two
   * workers that read the same log count from the same seq, and ids of the same ms would be one.
   */
  private readonly tag: string;

  /** `log`: the log's file, or a side log */
  constructor(log: string | SideLog) {
    this.side = typeof log === 'string' ? new FileSideLog(log) : log;
    this.tag = this.side.shared
      ? randomBytes(4).readUInt32BE(0).toString(36).toUpperCase().padStart(7, '0')
      : '';
    this.load();
  }

  /** the file, or the log's name in the journal */
  get file(): string {
    return this.side.where;
  }

  private load(): void {
    this.ingest(this.side.lines(), new Map());
  }

  /** `byId`: the records an ack or a later record of the same id may refer to */
  private ingest(lines: string[], byId: Map<string, AcceptedRecord>): void {
    for (const line of lines) {
      if (!line) continue;
      let rec: AcceptedRecord | AckRecord;
      try {
        rec = JSON.parse(line) as AcceptedRecord | AckRecord;
      } catch {
        continue; // a line cut by a crash of the writer: that write never completed
      }
      if (rec.t === 'acc') {
        this.records.push(rec);
        const before = byId.get(rec.id);
        if (before) this.unacked.delete(before);
        byId.set(rec.id, rec);
        this.unacked.add(rec);
        if (!(rec.due >= this.earliestDue)) this.earliestDue = rec.due;
        this.seq++;
      } else {
        for (const id of rec.ids) {
          const r = byId.get(id);
          if (r) this.unacked.delete(r);
        }
      }
    }
  }

  /**
   * Take in what other workers appended to a shared log (PostgreSQL) since it was read: before a
   * look-up, so a message a worker that died had sent is found (and its report pushed), never sent again.
   */
  refresh(): void {
    if (!this.side.shared) return;
    const lines = this.side.fresh();
    if (!lines.length) return;
    this.ingest(lines, new Map([...this.unacked].map((r) => [r.id, r])));
  }

  /**
   * Messages the carrier took, by our key (the latest of each). Indexed here, not at every append:
   * only a look-up after an ambiguous answer reads it, and two maps kept at every append cost
   * 0.5 ms of bench/send.js's 14 ms of CPU per 1,000 messages.
   */
  get accepted(): ReadonlyMap<string, AcceptedRecord> {
    const { records, byKey } = this;
    for (; this.indexed < records.length; this.indexed++) {
      const r = records[this.indexed]!;
      byKey.set(r.key, r);
    }
    return byKey;
  }

  nextId(): string {
    this.seq++;
    const now = Date.now();
    if (now !== this.idClock) {
      this.idClock = now;
      this.idStamp = `SIM${now.toString(36).toUpperCase()}${this.tag}`;
    }
    return `${this.idStamp}${this.seq.toString(36).toUpperCase().padStart(6, '0')}`;
  }

  /** Durably record accepted messages (one write: all or nothing). */
  append(records: AcceptedRecord[]): void {
    if (records.length === 0) return;
    let text = '';
    for (const r of records) text += `${recordLine(r)}\n`;
    this.side.append(text);
    let earliest = this.earliestDue;
    for (const r of records) {
      this.records.push(r);
      this.unacked.add(r);
      if (!(r.due >= earliest)) earliest = r.due;
    }
    this.earliestDue = earliest;
  }

  /** Their reports were taken: never pushed again. */
  ack(records: readonly AcceptedRecord[]): void {
    if (records.length === 0) return;
    const ids = records.map((r) => r.id);
    this.side.append(`${JSON.stringify({ t: 'ack', ids } satisfies AckRecord)}\n`);
    for (const r of records) this.unacked.delete(r);
  }

  /** Reports due by `now` and not yet acknowledged. */
  due(now: number, max: number): AcceptedRecord[] {
    const out: AcceptedRecord[] = [];
    if (now < this.earliestDue) return out;
    let earliest = Number.POSITIVE_INFINITY;
    for (const r of this.unacked) {
      if (!(r.due >= earliest)) earliest = r.due;
      if (r.due <= now) out.push(r);
      if (out.length >= max) return out; // the rest not looked at: the bound stays as it was
    }
    this.earliestDue = earliest; // every one waiting was looked at (those just returned too: not acknowledged yet)
    return out;
  }

  close(): void {
    this.side.close();
  }
}

/** A string JSON writes as it is, between quotes (a lone surrogate it escapes: not plain). */
const PLAIN = /^[^"\\\u0000-\u001f\u2028\u2029\ud800-\udfff]*$/;

/**
 * One accepted record as a JSON line, the same text as JSON.stringify's, written without it when
 * its strings need no escaping and its numbers are finite: JSON.stringify took 1.4 ms of
 * bench/send.js's 14 ms of CPU per 1,000 messages, this 0.4 ms.
 */
export function recordLine(r: AcceptedRecord): string {
  if (
    PLAIN.test(r.key) &&
    PLAIN.test(r.id) &&
    PLAIN.test(r.to) &&
    PLAIN.test(r.ch) &&
    PLAIN.test(r.code) &&
    Number.isFinite(r.parts) &&
    Number.isFinite(r.at) &&
    Number.isFinite(r.due)
  )
    return `{"t":"acc","key":"${r.key}","id":"${r.id}","to":"${r.to}","ch":"${r.ch}","parts":${r.parts},"at":${r.at},"dlr":"${r.dlr}","code":"${r.code}","due":${r.due}}`;
  return JSON.stringify(r);
}

/** Every accepted record of a carrier log (its file, or its lines), in order (for tests and benchmarks). */
export function readCarrierLog(file: string | string[]): AcceptedRecord[] {
  if (typeof file === 'string' && !fs.existsSync(file)) return [];
  const out: AcceptedRecord[] = [];
  for (const line of typeof file === 'string' ? fs.readFileSync(file, 'utf8').split('\n') : file) {
    if (!line) continue;
    try {
      const rec = JSON.parse(line) as AcceptedRecord | AckRecord;
      if (rec.t === 'acc') out.push(rec);
    } catch {
      /* cut line */
    }
  }
  return out;
}
