import { describe, expect, it } from 'vitest';
import { clock, formatProgress } from '../../src/cli/format.js';
import type { Progress } from '../../src/delivery/engine.js';

const progress = (over: Partial<Progress>): Progress => ({
  submitted: 0,
  accepted: 0,
  failed: 0,
  unknown: 0,
  retried: 0,
  throttles: 0,
  reports: 0,
  startedAt: 0,
  sendingSince: 0,
  ...over,
});

describe('the progress line (pure)', () => {
  it('an ETA reads as m:ss, or h:mm:ss from an hour on', () => {
    expect(clock(0)).toBe('0:00');
    expect(clock(4.2)).toBe('0:05');
    expect(clock(500)).toBe('8:20');
    expect(clock(3599)).toBe('59:59');
    expect(clock(3600)).toBe('1:00:00');
    expect(clock(100_000)).toBe('27:46:40');
  });

  it('no rate and no ETA before a second of sending; then both, from what was measured', () => {
    expect(formatProgress(progress({ accepted: 2, submitted: 2 }), 1000, 4)).toBe('sent 2/1,000 · failed 0');
    expect(formatProgress(progress({ accepted: 200, submitted: 210 }), 1000, 2000)).toBe(
      'sent 200/1,000 · 100/s · ETA 0:08 · failed 0',
    );
    // measured but nothing taken yet (all throttled): a rate of 0 and no ETA
    expect(formatProgress(progress({ submitted: 5, throttles: 5 }), 10, 1500)).toBe(
      'sent 0/10 · 0/s · failed 0 · throttled 5',
    );
  });

  it('a worker that stood by before it took over: its rate and ETA from its first send, not from its start', () => {
    // started at 0, stood by for 5 minutes, then sent 500 in a second
    const took = progress({ startedAt: 0, sendingSince: 300_000, accepted: 500, submitted: 500 });
    expect(formatProgress(took, 5000, 301_000)).toBe('sent 500/5,000 · 500/s · ETA 0:09 · failed 0');
    // with two other workers on the campaign
    expect(formatProgress({ ...took, workers: 3 }, 5000, 301_000)).toBe(
      'sent 500/5,000 · 500/s · ETA 0:09 · 3 workers · failed 0',
    );
    // standing by: nothing sent, no rate
    expect(formatProgress(progress({ sendingSince: null }), 5000, 300_000)).toBe('sent 0/5,000 · failed 0');
  });
});
