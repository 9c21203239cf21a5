import type Database from 'better-sqlite3';
import type { SideLog, SideState, SideStore } from '../providers/types.js';
import { dialectOf, pick } from './dialect.js';

/**
 * fresh() reads again the last this many appends it has seen: an append's seq is drawn before it
 * commits, so one committed just after a later one (two workers appending at once) has a lower seq
 * than rows already read.
 */
const REREAD_TAIL = 1000;

interface SideRow {
  seq: number;
  text: string;
}

/**
 * What providers keep beside the journal so that they can reconcile (request logs, Solapi's poll
 * checkpoint, the simulator's carrier log), in the journal itself: on PostgreSQL every worker of a
 * campaign reaches it. Each append is one statement, committed before it returns (inside the
 * caller's transaction when one is open), as a file's write() before the request leaves.
 */
export class SideJournal implements SideStore {
  private readonly s;
  constructor(db: Database.Database) {
    this.s = {
      append: db.prepare<[string, string]>(
        `INSERT INTO side_log (name, text) VALUES (?, ?)${pick(dialectOf(db), '', ' RETURNING seq AS id')}`,
      ),
      after: db.prepare<[string, number], SideRow>(
        'SELECT seq, text FROM side_log WHERE name = ? AND seq > ? ORDER BY seq',
      ),
      get: db.prepare<[string], { value: string }>('SELECT value FROM side_state WHERE name = ?'),
      put: db.prepare<[string, string]>(
        'INSERT INTO side_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  log(name: string): SideLog {
    const s = this.s;
    /** the highest seq read or appended here, and those seen within REREAD_TAIL of it */
    let high = 0;
    const seen = new Set<number>();
    const see = (seq: number): boolean => {
      if (seen.has(seq)) return false;
      seen.add(seq);
      if (seq > high) high = seq;
      if (seen.size > 2 * REREAD_TAIL)
        for (const old of seen) if (old <= high - REREAD_TAIL) seen.delete(old);
      return true;
    };
    // a row per append (one or more whole lines): read back as the lines a file would hold
    const unseen = (after: number): string[] =>
      s.after.all(name, after).flatMap((r) => (see(Number(r.seq)) ? r.text.split('\n') : []));
    return {
      where: `side log ${name}`,
      shared: true,
      lines: () => {
        seen.clear();
        high = 0;
        return unseen(0);
      },
      fresh: () => unseen(Math.max(0, high - REREAD_TAIL)),
      append: (text: string) => {
        see(Number(s.append.run(name, text).lastInsertRowid));
      },
      close: () => undefined,
    };
  }

  state(name: string): SideState {
    const s = this.s;
    return {
      get: () => s.get.get(name)?.value ?? null,
      put: (value: string) => {
        s.put.run(name, value);
      },
    };
  }
}
