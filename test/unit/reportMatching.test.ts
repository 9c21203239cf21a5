import { describe, expect, it } from 'vitest';
import type { DeliveryReport } from '../../src/providers/types.js';
import { plannedJournal } from '../support/journal.js';

const at = '2026-01-02T03:04:05.000Z';
const report = (over: Partial<DeliveryReport>): DeliveryReport => ({
  key: null,
  providerId: null,
  status: 'delivered',
  code: '4000',
  text: 'delivered',
  at,
  ...over,
});

describe('which message a report may touch (every report path: applyReports)', () => {
  it('only a message of that provider, and once it has a provider id only the report naming that id', () => {
    const j = plannedJournal(3);
    const d = j.delivery();
    const [a, b, c] = d.nextPlanned('c', 'sms', 0, 10);
    d.claim([a!], 'sim');
    d.claim([b!, c!], 'solapi');
    d.settle([
      { id: a!.id, kind: 'sent', providerId: 'S1', at },
      { id: b!.id, kind: 'sent', providerId: 'M2', at },
    ]);
    // a Solapi webhook naming the sim row by key: not applied
    expect(d.applyReports('solapi', [report({ key: 'c:1:0', providerId: 'S1' })])).toBe(0);
    // the right provider, another submission's id: not applied
    expect(d.applyReports('solapi', [report({ key: 'c:2:0', providerId: 'M-other' })])).toBe(0);
    // a row still `sending` (no provider id yet) of that provider: applied by key
    expect(d.applyReports('solapi', [report({ key: 'c:3:0', providerId: 'M3' })])).toBe(1);
    expect(
      d.applyReports('solapi', [
        report({ key: 'c:2:0', providerId: 'M2', status: 'failed', code: '3032', text: 'not a subscriber' }),
      ]),
    ).toBe(1);
    expect([...j.messages('c')].map((m) => m.status)).toEqual(['sent', 'failed', 'delivered']);
    j.close();
  });

  it("keeps a report that came before its message's ids were committed and applies it in the commit", () => {
    const j = plannedJournal(3);
    const d = j.delivery();
    const [a, b, c] = d.claim(d.nextPlanned('c', 'sms', 0, 10), 'carrier');
    // receipts faster than the submit answers' commit: a whole message, two parts of a split one
    // (one in the other spelling of its id: decimal where submit_sm_resp was hex), and a failure then a late delivery
    expect(
      d.applyReports('carrier', [
        report({ providerId: '1a2b01' }),
        report({ providerId: '1a2b03', altProviderIds: ['1715971'], to: '01020000001' }),
        report({ providerId: '1715972', altProviderIds: ['1a2b04'], to: '01020000001' }),
        report({ providerId: '1a2b05', status: 'failed', code: 'UNDELIV', text: 'undeliverable' }),
      ]),
    ).toBe(0);
    expect(d.applyReports('carrier', [report({ providerId: '1a2b05' })])).toBe(0);
    expect(d.unmatchedReports()).toBe(5);
    d.settle([
      { id: a!.id, kind: 'sent', providerId: '1a2b01', at },
      { id: b!.id, kind: 'sent', providerId: '1a2b03', partIds: ['1a2b03', '1a2b04'], at },
      { id: c!.id, kind: 'sent', providerId: '1a2b05', at },
    ]);
    expect([...j.messages('c')].map((m) => [m.status, m.reason])).toEqual([
      ['delivered', null],
      ['delivered', null],
      ['failed', 'UNDELIV: undeliverable'], // received order: the failure first, and a final state stays
    ]);
    expect(d.unmatchedReports()).toBe(0);
    j.close();
  });

  it('an early report of another provider is not applied to a message with the same id', () => {
    const j = plannedJournal(1);
    const d = j.delivery();
    const [a] = d.claim(d.nextPlanned('c', 'sms', 0, 10), 'carrier');
    d.applyReports('other', [report({ providerId: 'X1' })]);
    d.settle([{ id: a!.id, kind: 'sent', providerId: 'X1', at }]);
    expect([...j.messages('c')].map((m) => m.status)).toEqual(['sent']);
    expect(d.unmatchedReports()).toBe(1);
    j.close();
  });
});
