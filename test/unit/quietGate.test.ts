import { describe, expect, it } from 'vitest';
import { DEFAULT_QUIET_HOURS } from '../../src/campaign/quietHours.js';
import { LEAD_MS, QuietGate } from '../../src/delivery/quietGate.js';

/** The gate closes LEAD_MS before 21:00 (a claimed ad still has to reach the carrier) and opens at 08:00 sharp. */
describe('QuietGate', () => {
  const at = (iso: string): QuietGate => new QuietGate(DEFAULT_QUIET_HOURS, () => new Date(iso));
  it.each([
    ['2026-11-25T20:59:58.000+09:00', false],
    [new Date(Date.parse('2026-11-25T21:00:00.000+09:00') - LEAD_MS - 1).toISOString(), false],
    [new Date(Date.parse('2026-11-25T21:00:00.000+09:00') - LEAD_MS + 1).toISOString(), true],
    ['2026-11-25T21:00:00.000+09:00', true],
    ['2026-11-26T03:00:00.000+09:00', true],
    ['2026-11-26T07:59:59.900+09:00', true],
    ['2026-11-26T08:00:00.000+09:00', false],
    ['2026-11-26T12:00:00.000+09:00', false],
  ])('at %s closed = %s', (iso, closed) => {
    expect(at(iso).closed()).toBe(closed);
  });
  it('is never closed without quiet hours (not an ad campaign)', () => {
    expect(new QuietGate(undefined, () => new Date('2026-11-25T23:00:00+09:00')).closed()).toBe(false);
  });
});
