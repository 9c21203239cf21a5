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

class LaneRateHarness {
  readonly clock = { t: 0 };
  readonly rate: LaneRate;
  constructor(target: number) {
    this.rate = new LaneRate(target, () => this.clock.t);
  }
}

/**
 * A lane against a carrier on a fake clock: a send arrives 1 ms after it leaves, is refused when
 * the carrier took `limit(t)` parts in the 1,000 ms before, and is answered 1 ms later; a refused
 * message is sent again. Counts what the carrier took per second.
 */
function carrier(h: LaneRateHarness, limit: (t: number) => number, seconds: number, stamps: boolean) {
  const { clock, rate } = h;
  const took: number[] = [];
  const arrivals: { at: number; ok: boolean }[] = [];
  const answers: { at: number; sentAt: number; ok: boolean }[] = [];
  let nextSend = 0;
  let firstEvent = Infinity;
  while (clock.t < seconds * 1000) {
    const answer = answers[0];
    if (answer && answer.at <= nextSend) {
      clock.t = answer.at;
      answers.shift();
      if (!answer.ok) {
        rate.throttled(stamps ? answer.sentAt : undefined);
        firstEvent = Math.min(firstEvent, clock.t);
      }
      continue;
    }
    clock.t = Math.max(clock.t, nextSend);
    const wait = rate.tryTake(1);
    if (wait > 0) {
      nextSend = clock.t + wait;
      continue;
    }
    const sentAt = rate.leavingNow();
    const at = clock.t + 1;
    while (took.length && took[0]! <= at - 1000) took.shift();
    const ok = took.length < limit(at);
    if (ok) took.push(at);
    arrivals.push({ at, ok });
    answers.push({ at: at + 1, sentAt, ok });
    nextSend = clock.t + 0.2; // the engine's next turn
  }
  const perSecond = Array.from(
    { length: seconds },
    (_, s) => arrivals.filter((a) => a.ok && a.at >= s * 1000 && a.at < (s + 1) * 1000).length,
  );
  const after = arrivals.filter((a) => a.at > firstEvent + 2);
  return {
    perSecond,
    decreases: rate.decreases,
    throttledAfterFirstEvent: after.filter((a) => !a.ok).length,
    maxWindowAfterFirstEvent: maxWindow(after.map((a) => ({ at: a.at, parts: 1 }))),
  };
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

  it("halves on a throttle signal when the carrier's second is not known, and climbs back a tenth a second", () => {
    const clock = { t: 0 };
    const rate = new LaneRate(200, () => clock.t);
    expect(rate.tryTake(1)).toBe(0);
    rate.throttled();
    expect(rate.rate).toBe(100);
    simulate(rate, clock, 1.5, () => 1);
    expect(rate.rate).toBe(120);
    simulate(rate, clock, 30, () => 1);
    expect(rate.rate).toBe(200);
  });

  it('decreases once per congestion event: every throttle answering a request written before the decrease is the same event', () => {
    const clock = { t: 0 };
    const rate = new LaneRate(200, () => clock.t);
    const stamps: number[] = [];
    for (let i = 0; i < 10; i++) {
      while (rate.tryTake(1) > 0) clock.t += 1;
      stamps.push(rate.leavingNow());
    }
    clock.t += 3;
    for (const s of stamps) rate.throttled(s); // ten answers, one event
    expect(rate.decreases).toBe(1);
    expect(rate.throttles).toBe(10);
    expect(rate.rate).toBe(100);
    // without stamps: the answers that come before the next send are the same event too
    const other = new LaneRate(200, () => clock.t);
    while (other.tryTake(1) > 0) clock.t += 1;
    other.leavingNow();
    for (let i = 0; i < 5; i++) other.throttled();
    expect(other.decreases).toBe(1);
    // a request written after the decrease and throttled: a new event
    let wait = rate.tryTake(1);
    while (wait > 0) {
      clock.t += wait;
      wait = rate.tryTake(1);
    }
    rate.throttled(rate.leavingNow());
    expect(rate.decreases).toBe(2);
    expect(rate.rate).toBe(50);
  });

  it('against a carrier of 110/s at a lane of 200: one decrease, then no throttle and at least 95/s every second', () => {
    const run = carrier(new LaneRateHarness(200), () => 110, 20, true);
    expect(run.decreases).toBe(1);
    expect(run.throttledAfterFirstEvent).toBe(0);
    expect(run.perSecond.slice(2).every((n) => n >= 95)).toBe(true);
    expect(run.perSecond.reduce((a, b) => a + b, 0) / 20).toBeGreaterThanOrEqual(100);
    expect(run.maxWindowAfterFirstEvent).toBeLessThanOrEqual(110);
  });

  it('same without stamps (the fallback): one decrease and no throttle after it', () => {
    const run = carrier(new LaneRateHarness(200), () => 110, 20, false);
    expect(run.decreases).toBe(1);
    expect(run.throttledAfterFirstEvent).toBe(0);
  });

  it('after the carrier lowers its limit mid-run, runs at >= 90% of the new limit within 10 s', () => {
    const run = carrier(new LaneRateHarness(500), (t) => (t < 5000 ? 1000 : 200), 20, true);
    expect(run.perSecond.slice(0, 5).every((n) => n >= 490)).toBe(true);
    expect(run.perSecond.slice(15).every((n) => n >= 180 && n <= 200)).toBe(true);
  });

  it('recovers additively to the target once the carrier takes it again', () => {
    const run = carrier(new LaneRateHarness(300), (t) => (t < 3000 || t > 6000 ? 1000 : 100), 50, true);
    expect(run.perSecond[5]).toBeLessThanOrEqual(100);
    expect(run.perSecond.slice(45).every((n) => n >= 297)).toBe(true); // ceiling held 30 s, then +30/s
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
