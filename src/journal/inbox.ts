import type Database from 'better-sqlite3';
import type { InboundMessage } from '../providers/types.js';
import type { OptoutJournal } from './optouts.js';

export interface InboxEntry {
  id: number;
  provider: string;
  providerId: string | null;
  from: string;
  to: string;
  text: string;
  receivedAt: string;
  /** the message put its sender on the suppression list */
  optedOut: boolean;
}

/** Messages recipients sent us (SMPP MO); an opt-out reply also adds its sender to the suppression list. */
export class InboxJournal {
  private readonly s;
  constructor(
    private readonly db: Database.Database,
    private readonly optouts: OptoutJournal,
  ) {
    this.s = {
      insert: db.prepare<[string, string | null, string, string, string, string, number]>(
        'INSERT INTO inbound (provider, provider_id, from_addr, to_addr, text, received_at, opted_out) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      list: db.prepare<[number], Omit<InboxEntry, 'optedOut'> & { optedOut: number }>(
        `SELECT id, provider, provider_id AS "providerId", from_addr AS "from", to_addr AS "to", text, received_at AS "receivedAt", opted_out AS "optedOut"
         FROM inbound ORDER BY received_at DESC, id DESC LIMIT ?`,
      ),
      count: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM inbound'),
    };
  }

  /**
   * Store messages, and add the senders of those marked optOut to the suppression list, in one
   * transaction: when this returns, both are committed (the provider may then acknowledge them).
   */
  store(provider: string, messages: InboundMessage[]): { stored: number; optedOut: number } {
    return this.db.transaction(() => {
      let optedOut = 0;
      for (const m of messages) {
        this.s.insert.run(provider, m.providerId, m.from, m.to, m.text, m.receivedAt, m.optOut ? 1 : 0);
        if (m.optOut) optedOut += this.optouts.add([m.from], 'mo', `${provider}: "${m.text.slice(0, 40)}"`);
      }
      return { stored: messages.length, optedOut };
    })();
  }

  /** The newest first. */
  list(limit: number): InboxEntry[] {
    return this.s.list.all(limit).map((r) => ({ ...r, optedOut: r.optedOut === 1 }));
  }

  count(): number {
    return this.s.count.get()?.n ?? 0;
  }
}
