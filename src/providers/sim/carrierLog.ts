import fs from 'node:fs';
import path from 'node:path';

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
 * The simulated carrier's own memory: an append-only JSON-lines file, outside the journal,
 * written before the carrier answers, so tests can count what really reached the carrier
 * whatever happened to `ums` afterwards (kill -9 included).
 * Appended in place (opened 0600), not written through input/privateFile.ts, which replaces a
 * whole file atomically: a log grows by a line per request and must keep every line written so far.
 */
export class CarrierLog {
  private readonly fd: number;
  readonly accepted = new Map<string, AcceptedRecord>(); // by our key (the latest)
  readonly unacked = new Map<string, AcceptedRecord>(); // by provider id
  private seq = 0;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (fs.existsSync(file)) this.load();
    this.fd = fs.openSync(file, 'a', 0o600);
    // A SIGKILL can cut a large write() short: end the fragment's line, or the next record would be
    // glued to it and read as garbage, a message the carrier took that its log no longer shows.
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const r = fs.openSync(file, 'r');
      try {
        fs.readSync(r, last, 0, 1, size - 1);
      } finally {
        fs.closeSync(r);
      }
      if (last[0] !== 0x0a) fs.writeSync(this.fd, '\n');
    }
  }

  private load(): void {
    const text = fs.readFileSync(this.file, 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      let rec: AcceptedRecord | AckRecord;
      try {
        rec = JSON.parse(line) as AcceptedRecord | AckRecord;
      } catch {
        continue; // a line cut by a crash of the writer: that write never completed
      }
      if (rec.t === 'acc') {
        this.accepted.set(rec.key, rec);
        this.unacked.set(rec.id, rec);
        this.seq++;
      } else {
        for (const id of rec.ids) this.unacked.delete(id);
      }
    }
  }

  nextId(): string {
    this.seq++;
    return `SIM${Date.now().toString(36).toUpperCase()}${this.seq.toString(36).toUpperCase().padStart(6, '0')}`;
  }

  /** Durably record accepted messages (one write: all or nothing). */
  append(records: AcceptedRecord[]): void {
    if (records.length === 0) return;
    fs.writeSync(this.fd, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    for (const r of records) {
      this.accepted.set(r.key, r);
      this.unacked.set(r.id, r);
    }
  }

  ack(ids: string[]): void {
    if (ids.length === 0) return;
    fs.writeSync(this.fd, `${JSON.stringify({ t: 'ack', ids } satisfies AckRecord)}\n`);
    for (const id of ids) this.unacked.delete(id);
  }

  /** Reports due by `now` and not yet acknowledged. */
  due(now: number, max: number): AcceptedRecord[] {
    const out: AcceptedRecord[] = [];
    for (const r of this.unacked.values()) {
      if (r.due <= now) out.push(r);
      if (out.length >= max) break;
    }
    return out;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Every accepted record of a carrier log, in order (for tests and benchmarks). */
export function readCarrierLog(file: string): AcceptedRecord[] {
  if (!fs.existsSync(file)) return [];
  const out: AcceptedRecord[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
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
