import { describe, expect, it } from 'vitest';
import { LaneRate } from '../../src/delivery/laneRate.js';

/** Drive a LaneRate on a fake clock: ask, wait what it says (plus timer lateness), record sends. */
function simulate(
  rate: LaneRate,
  clock: { t: number },
  seconds: number,
  partsPerSend: (i: number) => number,
  lateMs = 0,
): { at: number; parts: number }[] {
  const sends: { at: number; parts: number }[] = [];
  for (let i = 0; clock.t < seconds * 1000; ) {
    const parts = partsPerSend(i);
    const wait = rate.tryTake(parts);
    if (wait === 0) {
      sends.push({ at: clock.t, parts });
      i++;
    } else {
      clock.t += wait + lateMs;
    }
  }
  return sends;
}

function maxWindow(sends: { at: number; parts: number }[]): number {
  let max = 0;
  let sum = 0;
  for (let i = 0, j = 0; i < sends.length; i++) {
    sum += sends[i]!.parts;
    while (sends[j]!.at <= sends[i]!.at - 1000) sum -= sends[j++]!.parts;
    max = Math.max(max, sum);
  }
  return max;
}

describe('LaneRate', () => {
  it('never lets any 1-second window exceed the rate, and paces to within 1% of it', () => {
    const clock = { t: 0 };
    const rate = new LaneRate(500, () => clock.t);
    const sends = simulate(rate, clock, 20, () => rate.chunkParts(1000), 1.3);
    expect(maxWindow(sends)).toBeLessThanOrEqual(500);
    const parts = sends.reduce((n, s) => n + s.parts, 0);
    expect(parts / 20).toBeGreaterThan(495);
    expect(parts / 20).toBeLessThanOrEqual(500);
  });

  it('counts parts, not messages: 3-part messages go a third as often', () => {
    const clock = { t: 0 };
    const rate = new LaneRate(90, () => clock.t);
    const sends = simulate(rate, clock, 10, () => 3);
    expect(maxWindow(sends)).toBeLessThanOrEqual(90);
    expect(sends.length).toBeGreaterThanOrEqual(295);
    expect(sends.length).toBeLessThanOrEqual(300);
  });

  it('spreads sends evenly instead of bursting the whole second at once', () => {
    const clock = { t: 0 };
    const rate = new LaneRate(100, () => clock.t);
    const sends = simulate(rate, clock, 2, () => 1);
    const inFirst100ms = sends.filter((s) => s.at < 100).length;
    expect(inFirst100ms).toBeLessThanOrEqual(11);
  });

  it('halves on a throttle signal and climbs back a tenth a second', () => {
    const clock = { t: 0 };
    const rate = new LaneRate(200, () => clock.t);
    expect(rate.tryTake(1)).toBe(0);
    rate.throttled();
    expect(rate.rate).toBe(100);
    rate.throttled();
    expect(rate.rate).toBe(50);
    simulate(rate, clock, 1.5, () => 1);
    expect(rate.rate).toBe(70);
    simulate(rate, clock, 30, () => 1);
    expect(rate.rate).toBe(200);
  });

  it('lets a message larger than the whole rate go alone in its window', () => {
    const clock = { t: 0 };
    const rate = new LaneRate(5, () => clock.t);
    expect(rate.tryTake(8)).toBe(0);
    expect(rate.tryTake(1)).toBeGreaterThan(0);
  });

  it('is unlimited at rate 0', () => {
    const rate = new LaneRate(0, () => 0);
    for (let i = 0; i < 1000; i++) expect(rate.tryTake(1000)).toBe(0);
    expect(rate.chunkParts(777)).toBe(777);
  });
});
