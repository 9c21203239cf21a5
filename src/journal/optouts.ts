import type Database from 'better-sqlite3';

export type OptoutSource = 'manual' | 'import' | 'mo' | 'provider';

export interface OptoutEntry {
  phone: string;
  source: OptoutSource;
  note: string | null;
  createdAt: string;
}

/** The suppression list: numbers (normalised like messages.to_addr) that are never messaged. */
export class OptoutJournal {
  private readonly s;
  constructor(private readonly db: Database.Database) {
    this.s = {
      add: db.prepare<[string, string, string | null, string]>(
        'INSERT INTO optouts (phone, source, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      remove: db.prepare<[string]>('DELETE FROM optouts WHERE phone = ?'),
      has: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM optouts WHERE phone = ?'),
      list: db.prepare<[], OptoutEntry>(
        'SELECT phone, source, note, created_at AS "createdAt" FROM optouts ORDER BY created_at, phone',
      ),
      all: db.prepare<[], { phone: string }>('SELECT phone FROM optouts'),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM optouts'),
    };
  }

  /** Add numbers; returns how many were new. */
  add(phones: string[], source: OptoutSource, note: string | null = null): number {
    const at = new Date().toISOString();
    return this.db.transaction(() =>
      phones.reduce((n, p) => n + this.s.add.run(p, source, note, at).changes, 0),
    )();
  }

  remove(phones: string[]): number {
    return this.db.transaction(() => phones.reduce((n, p) => n + this.s.remove.run(p).changes, 0))();
  }

  has(phone: string): boolean {
    return this.s.has.get(phone) !== undefined;
  }

  list(): OptoutEntry[] {
    return this.s.list.all();
  }

  /** The list, one entry at a time (millions of numbers in flat memory); nothing else may use the connection meanwhile. */
  iterate(): IterableIterator<OptoutEntry> {
    return this.s.list.iterate();
  }

  /** Every suppressed number, for planning (one set lookup per row). */
  all(): Set<string> {
    return new Set(this.s.all.all().map((r) => r.phone));
  }

  count(): number {
    return this.s.count.get()?.n ?? 0;
  }
}
