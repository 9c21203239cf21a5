import { describe, expect, it } from 'vitest';
import type { PlannedMessage } from '../../src/campaign/types.js';
import { openTestJournal } from '../support/journal.js';

const at = (): string => new Date().toISOString();

function message(row: number, over: Partial<PlannedMessage> = {}): PlannedMessage {
  return {
    row,
    to: `0103300${String(row).padStart(4, '0')}`,
    channel: 'sms',
    status: 'planned',
    reason: null,
    parts: 1,
    bytes: 10,
    subject: null,
    body: `text ${row}`,
    cost: 13,
    leg: 0,
    vars: null,
    rcsKind: null,
    deferrable: false,
    ...over,
  };
}

describe('Journal.retryFailed: which recipients get a new attempt', () => {
  it('only recipients not reached whose latest leg failed; never unknown, sending, sent, opted-out or reached ones', () => {
    const j = openTestJournal();
    const d = j.delivery();
    const alimtalk = (row: number): PlannedMessage => ({
      ...message(row, { channel: 'alimtalk', vars: '{"#{name}":"x"}' }),
      fallback: { ...message(row), leg: 1, status: 'held' },
    });
    j.createCampaign({ id: 'c', digest: 'd', csvPath: 'r.csv', templatePath: 't.md', settings: {} });
    j.insertPlanned('c', [
      ...[1, 2, 3, 4, 5, 6].map((r) => message(r)),
      message(7, { channel: 'alimtalk', vars: '{"#{name}":"y"}' }), // no fallback: its own leg is retried
      alimtalk(8), // both legs fail: the fallback (SMS) is retried
      alimtalk(9), // the AlimTalk fails, the fallback is delivered: reached
      message(10, { status: 'rejected', reason: 'invalid_phone: x' }),
    ]);
    j.markPlanned('c', 10, {});
    j.arm('c');
    const claimed = d.claim(
      [...d.nextPlanned('c', 'sms', 0, 99), ...d.nextPlanned('c', 'alimtalk', 0, 99)],
      'sim',
    );
    const id = (row: number, leg = 0): number => claimed.find((m) => m.row === row && m.leg === leg)!.id;
    d.settle([
      { id: id(1), kind: 'failed', reason: '3040: timed out', at: at() },
      { id: id(2), kind: 'failed', reason: '3032: not a subscriber', at: at() },
      { id: id(3), kind: 'unknown', reason: 'unknown: no answer' },
      // 4 stays sending
      { id: id(5), kind: 'sent', providerId: 'P5', at: at() }, // awaiting its report
      { id: id(6), kind: 'failed', reason: '3040: timed out', at: at() }, // opts out below
      { id: id(7), kind: 'failed', reason: '3104: not a KakaoTalk user', at: at() },
      { id: id(8), kind: 'failed', reason: '3104: not a KakaoTalk user', at: at() },
      { id: id(9), kind: 'failed', reason: '3104: not a KakaoTalk user', at: at() },
    ]);
    const legs = d.claim(d.nextPlanned('c', 'sms', 0, 99), 'sim'); // the fallbacks of 8 and 9
    const leg = (row: number): number => legs.find((m) => m.row === row && m.leg === 1)!.id;
    d.settle([
      { id: leg(8), kind: 'failed', reason: '3041: handset busy', at: at() },
      { id: leg(9), kind: 'sent', providerId: 'P9', at: at() },
    ]);
    d.applyReports('sim', [
      { key: 'c:9:1', providerId: 'P9', status: 'delivered', code: '4000', text: 'ok', at: at() },
    ]);
    j.optouts().add([message(6).to!], 'manual', null);

    expect(j.retryFailed('c', '3041')).toBe(1); // row 8's latest leg
    expect(j.retryFailed('c', null)).toBe(3); // 1, 2, 7
    expect(j.retryFailed('c', null)).toBe(0);
    const planned = [...j.messages('c')].filter((m) => m.status === 'planned');
    expect(planned.map((m) => `${m.row}.${m.leg} ${m.channel} ${m.body}`)).toEqual([
      '1.2 sms text 1',
      '2.2 sms text 2',
      '7.2 alimtalk text 7',
      '8.2 sms text 8',
    ]);
    // the AlimTalk retry keeps its variables (the provider substitutes them)
    expect(d.nextPlanned('c', 'alimtalk', 0, 9)[0]).toMatchObject({
      row: 7,
      leg: 2,
      vars: '{"#{name}":"y"}',
    });
    // the failed legs stay failed; a late report for one changes nothing
    d.applyReports('sim', [
      { key: 'c:1:0', providerId: null, status: 'delivered', code: '4000', text: 'ok', at: at() },
    ]);
    expect([...j.messages('c')].find((m) => m.row === 1 && m.leg === 0)!.status).toBe('failed');
    j.close();
  });
});
