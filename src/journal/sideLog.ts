import type Database from 'better-sqlite3';
import type { SideLog, SideState, SideStore } from '../providers/types.js';

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
      append: db.prepare<[string, string]>('INSERT INTO side_log (name, text) VALUES (?, ?)'),
      lines: db.prepare<[string], { text: string }>('SELECT text FROM side_log WHERE name = ? ORDER BY seq'),
      get: db.prepare<[string], { value: string }>('SELECT value FROM side_state WHERE name = ?'),
      put: db.prepare<[string, string]>(
        'INSERT INTO side_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  log(name: string): SideLog {
    const s = this.s;
    return {
      where: `side log ${name}`,
      // a row per append (one or more whole lines): read back as the lines a file would hold
      lines: () => s.lines.all(name).flatMap((r) => r.text.split('\n')),
      append: (text: string) => {
        s.append.run(name, text);
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
