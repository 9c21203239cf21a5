import { describe, expect, it } from 'vitest';
import type { PlannedMessage } from '../../src/campaign/types.js';
import type { Journal } from '../../src/journal/journal.js';
import { openTestJournal } from '../support/journal.js';

function journalWith(messages: Partial<PlannedMessage>[]): { journal: Journal; id: string } {
  const journal = openTestJournal();
  const id = 'c-test';
  journal.createCampaign({ id, digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
  journal.insertPlanned(
    id,
    messages.map((m, i) => ({
      row: i + 1,
      to: `0102000000${i}`,
      channel: 'sms',
      status: 'planned',
      reason: null,
      parts: 1,
      bytes: 10,
      subject: null,
      body: 'x',
      cost: 13,
      leg: 0,
      vars: null,
      rcsKind: null,
      deferrable: false,
      ...m,
    })),
  );
  journal.markPlanned(id, messages.length, {});
  return { journal, id };
}

const status = (j: Journal, id: string): string[] =>
  [...j.messages(id)].map((m) => `${m.row}.${m.leg}:${m.status}`);

describe('the journal state machine', () => {
  it('claims only planned rows, and settles only rows that are sending', () => {
    const { journal, id } = journalWith([{}, {}]);
    const d = journal.delivery();
    const planned = d.nextPlanned(id, 'sms', 0, 10);
    expect(d.claim(planned, 'sim')).toHaveLength(2);
    expect(d.claim(planned, 'sim')).toHaveLength(0); // already sending: not claimed twice
    d.settle([
      { id: planned[0]!.id, kind: 'sent', providerId: 'P1', at: new Date().toISOString() },
      { id: planned[1]!.id, kind: 'release' },
    ]);
    expect(status(journal, id)).toEqual(['1.0:sent', '2.0:planned']);
  });

  it('claims a group in one go, or one by one when a number in it opted out since planning', () => {
    const { journal, id } = journalWith([{}, {}, {}, {}, {}, {}]);
    const d = journal.delivery();
    journal.optouts().add(['01020000002'], 'import'); // row 3
    const rows = d.nextPlanned(id, 'sms', 0, 10);
    // consecutive rows (one range), with the opted-out one inside: it is skipped, the others claimed
    expect(d.claim(rows.slice(0, 4), 'sim').map((m) => m.row)).toEqual([1, 2, 4]);
    // not consecutive (a list): rows 5 and 1 (already sending: not claimed twice)
    expect(d.claim([rows[0]!, rows[4]!], 'sim').map((m) => m.row)).toEqual([5]);
    expect(d.claim([rows[5]!, rows[4]!], 'sim').map((m) => m.row)).toEqual([6]);
    expect(status(journal, id)).toEqual([
      '1.0:sending',
      '2.0:sending',
      '3.0:skipped',
      '4.0:sending',
      '5.0:sending',
      '6.0:sending',
    ]);
    const at = new Date().toISOString();
    const later = new Date(Date.now() + 1000).toISOString();
    d.settle([
      { id: rows[0]!.id, kind: 'sent', providerId: 'P"1', at },
      { id: rows[1]!.id, kind: 'sent', providerId: 'P2', at: later },
      { id: rows[3]!.id, kind: 'sent', providerId: 'P4', at },
      { id: rows[4]!.id, kind: 'unclaim' },
    ]);
    expect(status(journal, id)).toEqual([
      '1.0:sent',
      '2.0:sent',
      '3.0:skipped',
      '4.0:sent',
      '5.0:planned',
      '6.0:sending',
    ]);
    const sent = [...journal.messages(id)].filter((m) => m.status === 'sent');
    expect(sent.map((m) => [m.row, m.providerId, m.sentAt])).toEqual([
      [1, 'P"1', at],
      [2, 'P2', later],
      [4, 'P4', at],
    ]);
  });

  it('reads planned rows exactly as they were written, in row order, a block after another', () => {
    const odd = 'quote " backslash \\ newline \n tab \t nul-ish \u0001 고객님 😀 \u2028';
    const { journal, id } = journalWith([
      { body: odd, subject: '제목 "1"', vars: '{"#{name}":"고객\\"1"}', deferrable: true },
      { channel: 'lms', body: 'lms' },
      { body: '', parts: 3 },
      { channel: 'rcs', rcsKind: 'lms', body: 'r' },
      {},
    ]);
    const d = journal.delivery();
    const first = d.nextPlanned(id, 'sms', 0, 2);
    expect(first).toEqual([
      {
        id: first[0]!.id,
        row: 1,
        leg: 0,
        to: '01020000000',
        channel: 'sms',
        subject: '제목 "1"',
        body: odd,
        parts: 1,
        attempts: 0,
        vars: '{"#{name}":"고객\\"1"}',
        deferrable: 1,
        rcsKind: null,
      },
      {
        ...first[0]!,
        id: first[1]!.id,
        row: 3,
        to: '01020000002',
        subject: null,
        body: '',
        parts: 3,
        vars: null,
        deferrable: 0,
      },
    ]);
    expect(d.nextPlanned(id, 'sms', 3, 2).map((m) => m.row)).toEqual([5]);
    expect(d.nextPlanned(id, 'sms', 0, 10, true).map((m) => m.row)).toEqual([3, 5]); // quiet hours: no ad without consent
    expect(d.nextPlanned(id, 'rcs', 0, 10)).toMatchObject([{ row: 4, channel: 'rcs', rcsKind: 'lms' }]);
    expect(d.nextPlanned(id, 'alimtalk', 0, 10)).toEqual([]);
  });

  it('settles consecutive messages each with its own provider id, and only those still sending', () => {
    const { journal, id } = journalWith([{}, {}, {}, {}, {}]);
    const d = journal.delivery();
    const rows = d.nextPlanned(id, 'sms', 0, 10);
    expect(d.claim(rows, 'sim')).toHaveLength(5);
    const at = new Date().toISOString();
    d.settle([{ id: rows[2]!.id, kind: 'failed', reason: '1026: duplicate', at }]);
    // one request's answers, ids consecutive: row 3 is failed already and stays so
    d.settle(rows.map((m, i) => ({ id: m.id, kind: 'sent', providerId: `P${i + 1}`, at })));
    expect(status(journal, id)).toEqual(['1.0:sent', '2.0:sent', '3.0:failed', '4.0:sent', '5.0:sent']);
    expect([...journal.messages(id)].map((m) => m.providerId)).toEqual(['P1', 'P2', null, 'P4', 'P5']);
  });

  it('never lets a late or duplicate report change a final state, and keeps every report', () => {
    const { journal, id } = journalWith([{}, {}]);
    const d = journal.delivery();
    const [a, b] = d.claim(d.nextPlanned(id, 'sms', 0, 10), 'sim');
    const at = new Date().toISOString();
    d.settle([
      { id: a!.id, kind: 'sent', providerId: 'P1', at },
      { id: b!.id, kind: 'sent', providerId: 'P2', at },
    ]);
    const report = (key: string | null, providerId: string | null, st: 'delivered' | 'failed') => ({
      key,
      providerId,
      status: st,
      code: st === 'delivered' ? '4000' : '3040',
      text: st,
      at,
    });
    expect(d.applyReports('sim', [report(`${id}:1:0`, 'P1', 'delivered')])).toBe(1);
    expect(d.applyReports('sim', [report(null, 'P2', 'failed')])).toBe(1);
    // late and duplicate: a failure after delivery, a delivery after failure, the same again
    expect(
      d.applyReports('sim', [
        report(`${id}:1:0`, 'P1', 'failed'),
        report(null, 'P2', 'delivered'),
        report(`${id}:1:0`, 'P1', 'delivered'),
      ]),
    ).toBe(0);
    // a report for no message we know
    expect(d.applyReports('sim', [report('c-other:9:0', 'P404', 'delivered')])).toBe(0);
    expect(status(journal, id)).toEqual(['1.0:delivered', '2.0:failed']);
    expect(d.unmatchedReports()).toBe(1);
  });

  it('releases a held fallback leg when its AlimTalk fails, and skips it when it is delivered', () => {
    const alim = {
      channel: 'alimtalk' as const,
      fallback: {
        row: 0,
        to: null,
        channel: 'sms' as const,
        status: 'held' as const,
        reason: null,
        parts: 1,
        bytes: 10,
        subject: null,
        body: 'y',
        cost: 13,
        leg: 1,
        vars: null,
        rcsKind: null,
        deferrable: false,
      },
    };
    const { journal, id } = journalWith([
      { ...alim, fallback: { ...alim.fallback, row: 1, to: '01020000000' } },
      { ...alim, to: '01020000001', fallback: { ...alim.fallback, row: 2, to: '01020000001' } },
      { ...alim, to: '01020000002', fallback: { ...alim.fallback, row: 3, to: '01020000002' } },
    ]);
    const d = journal.delivery();
    const sent = d.claim(d.nextPlanned(id, 'alimtalk', 0, 10), 'sim');
    journal.optouts().add(['01020000002'], 'manual'); // after the claim: its fallback leg is not sent
    const at = new Date().toISOString();
    d.settle(sent.map((m) => ({ id: m.id, kind: 'sent' as const, providerId: `P${m.row}`, at })));
    d.applyReports('sim', [
      { key: `${id}:1:0`, providerId: 'P1', status: 'delivered', code: '4000', text: 'ok', at },
      {
        key: `${id}:2:0`,
        providerId: 'P2',
        status: 'failed',
        code: '3104',
        text: 'not a KakaoTalk user',
        at,
      },
      {
        key: `${id}:3:0`,
        providerId: 'P3',
        status: 'failed',
        code: '3104',
        text: 'not a KakaoTalk user',
        at,
      },
    ]);
    expect(status(journal, id)).toEqual([
      '1.0:delivered',
      '1.1:skipped',
      '2.0:failed',
      '2.1:planned',
      '3.0:failed',
      '3.1:skipped',
    ]);
  });

  it('gives the campaign lock to one live process at a time', () => {
    const { journal, id } = journalWith([{}]);
    const d = journal.delivery();
    expect(d.acquireLock(id, 111, 'h', 'ums send', () => true)).toBeNull();
    expect(d.acquireLock(id, 222, 'h', 'ums resume', () => true)).toMatchObject({
      pid: 111,
      command: 'ums send',
    });
    expect(d.acquireLock(id, 222, 'h', 'ums resume', (h) => h.pid !== 111)).toBeNull(); // 111 is gone: taken over
    d.releaseLock(id, 222);
    expect(d.acquireLock(id, 333, 'h', 'ums send', () => true)).toBeNull();
  });
});
