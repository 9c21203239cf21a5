import type Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlannedMessage } from '../../src/campaign/types.js';
import type { Journal } from '../../src/journal/journal.js';
import { PartsJournal } from '../../src/journal/parts.js';
import type { DeliveryReport } from '../../src/providers/types.js';
import { openTestJournal, secondConnection } from '../support/journal.js';

let journal: Journal;
let db: Database.Database;
let parts: PartsJournal;
let ids: number[];

function planned(row: number, to: string): PlannedMessage {
  return {
    row,
    to,
    channel: 'lms',
    status: 'planned',
    reason: null,
    parts: 1,
    bytes: 300,
    subject: null,
    body: '본문',
    cost: 35,
    leg: 0,
    vars: null,
    rcsKind: null,
    deferrable: false,
  };
}

const report = (
  providerId: string,
  status: 'delivered' | 'failed',
  extra: Partial<DeliveryReport> = {},
): DeliveryReport => ({
  key: null,
  providerId,
  status,
  code: status === 'delivered' ? 'DELIVRD' : 'UNDELIV',
  text: '',
  at: null,
  ...extra,
});

beforeEach(() => {
  journal = openTestJournal('journal.db');
  journal.createCampaign({ id: 'c1', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  journal.insertPlanned('c1', [
    planned(1, '01011110000'),
    planned(2, '01022220000'),
    planned(3, '01033330000'),
  ]);
  journal.markPlanned('c1', 3, {});
  const d = journal.delivery();
  const claimed = d.claim(d.nextPlanned('c1', 'lms', 0, 10), 'carrier');
  ids = claimed.map((m) => m.id);
  d.settle(
    claimed.map((m, i) => ({
      id: m.id,
      kind: 'sent' as const,
      providerId: ['a1', 'b1', '100'][i]!,
      at: new Date().toISOString(),
    })),
  );
  db = secondConnection(journal);
  parts = new PartsJournal(db);
});

afterEach(() => {
  db?.close();
  journal?.close();
});

describe('message parts (migration 4)', () => {
  it('rolls a message up: delivered when every part is, pending before', () => {
    parts.record(ids[0]!, ['a1', 'a2', 'a3']);
    const now = new Date().toISOString();
    expect(parts.apply('carrier', report('a2', 'delivered'), now)).toEqual({
      messageId: ids[0],
      status: null,
    });
    expect(parts.apply('carrier', report('a1', 'delivered'), now)).toEqual({
      messageId: ids[0],
      status: null,
    });
    expect(parts.apply('carrier', report('a3', 'delivered'), now)).toEqual({
      messageId: ids[0],
      status: 'delivered',
    });
  });

  it('fails a message when any part failed, and a late report never changes a part', () => {
    parts.record(ids[1]!, ['b1', 'b2']);
    const now = new Date().toISOString();
    expect(parts.apply('carrier', report('b2', 'failed'), now)?.status).toBe('failed');
    expect(parts.apply('carrier', report('b1', 'delivered'), now)?.status).toBe('failed');
    expect(parts.apply('carrier', report('b2', 'delivered'), now)?.status).toBe('failed');
    expect(parts.parts(ids[1]!).map((p) => p.status)).toEqual(['delivered', 'failed']);
  });

  it('matches only the provider that sent the message, and knows nothing of unknown ids', () => {
    parts.record(ids[0]!, ['a1']);
    expect(parts.apply('other', report('a1', 'delivered'), '')).toBeNull();
    expect(parts.apply('carrier', report('zz', 'delivered'), '')).toBeNull();
  });

  it('tries the other spellings in order, and prefers the part whose recipient the receipt names', () => {
    // message 3's hex id "100" is also how a decimal receipt would spell message 1's id 0x64
    parts.record(ids[0]!, ['64']);
    parts.record(ids[2]!, ['100']);
    const hit = parts.find('carrier', { providerId: '64', altProviderIds: ['100'], to: '01033330000' });
    expect(hit).toEqual({ messageId: ids[2], part: 1 });
    expect(parts.find('carrier', { providerId: '64', altProviderIds: ['100'], to: '821011110000' })).toEqual({
      messageId: ids[0],
      part: 1,
    });
    expect(parts.find('carrier', { providerId: 'nope', altProviderIds: ['100'], to: null })).toEqual({
      messageId: ids[2],
      part: 1,
    });
    // a recipient nobody has: the first id that exists
    expect(parts.find('carrier', { providerId: '64', altProviderIds: ['100'], to: '01099999999' })).toEqual({
      messageId: ids[0],
      part: 1,
    });
  });

  it("finds a message sent whole (one id) without parts rows: its report is the message's, other spellings and the recipient as for parts", () => {
    const d = journal.delivery();
    const status = (row: number): string => [...journal.messages('c1')].find((m) => m.row === row)!.status;
    // sent whole with partIds of one: nothing is written to message_parts
    const [first] = d.nextPlanned('c1', 'lms', 0, 10);
    expect(first).toBeUndefined(); // (all three were claimed and settled in beforeEach, as whole messages)
    for (const id of ids) expect(parts.parts(id)).toEqual([]);
    // a receipt naming a spelling that is not the message's, then one that is, with another's recipient
    expect(d.applyReports('carrier', [report('zz', 'failed', { altProviderIds: ['100'] })])).toBe(1);
    expect(status(3)).toBe('failed');
    // 'a1' is message 1's id, but the receipt names message 2's number, whose id is the other spelling
    d.applyReports('carrier', [report('a1', 'delivered', { altProviderIds: ['b1'], to: '821022220000' })]);
    expect([status(1), status(2)]).toEqual(['sent', 'delivered']);
    // the first report wins: a later one changes nothing
    d.applyReports('carrier', [report('b1', 'failed')]);
    expect(status(2)).toBe('delivered');
    // and another provider's receipt never reaches it
    d.applyReports('other', [report('a1', 'delivered')]);
    expect(status(1)).toBe('sent');
  });

  it('records the parts of a message split in two, and none for one sent whole', () => {
    const d = journal.delivery();
    journal.insertPlanned('c1', [planned(4, '01044440000'), planned(5, '01055550000')]);
    const claimed = d.claim(d.nextPlanned('c1', 'lms', 3, 10), 'carrier');
    const at = new Date().toISOString();
    d.settle([
      { id: claimed[0]!.id, kind: 'sent', providerId: 'd1', partIds: ['d1', 'd2'], at },
      { id: claimed[1]!.id, kind: 'sent', providerId: 'e1', partIds: ['e1'], at },
    ]);
    expect(parts.parts(claimed[0]!.id).map((p) => p.providerId)).toEqual(['d1', 'd2']);
    expect(parts.parts(claimed[1]!.id)).toEqual([]);
    expect(parts.apply('carrier', report('e1', 'delivered'), at)).toEqual({
      messageId: claimed[1]!.id,
      status: 'delivered',
    });
    expect(parts.apply('carrier', report('d2', 'delivered'), at)).toEqual({
      messageId: claimed[0]!.id,
      status: null,
    });
  });

  it('replaces the parts of a message recorded again', () => {
    parts.record(ids[0]!, ['a1', 'a2']);
    parts.record(ids[0]!, ['x1']);
    expect(parts.parts(ids[0]!).map((p) => p.providerId)).toEqual(['x1']);
  });
});

describe('inbox (MO)', () => {
  it('stores replies and puts opt-out senders on the suppression list in one go', () => {
    const inbox = journal.inbox();
    const at = new Date().toISOString();
    const r = inbox.store('carrier', [
      {
        from: '01011110000',
        to: '0212345678',
        text: '수신거부',
        receivedAt: at,
        providerId: null,
        optOut: true,
      },
      {
        from: '01022220000',
        to: '0212345678',
        text: '언제 와요?',
        receivedAt: at,
        providerId: null,
        optOut: false,
      },
    ]);
    expect(r).toEqual({ stored: 2, optedOut: 1 });
    expect(journal.optouts().has('01011110000')).toBe(true);
    expect(journal.optouts().has('01022220000')).toBe(false);
    expect(journal.optouts().list()[0]).toMatchObject({ source: 'mo' });
    expect(inbox.list(10).map((m) => [m.from, m.optedOut])).toEqual([
      ['01022220000', false],
      ['01011110000', true],
    ]);
    expect(inbox.count()).toBe(2);
  });
});
