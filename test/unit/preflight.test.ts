import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type LaneForecast, laneForecasts } from '../../src/app/preflight.js';
import type { LaneWork } from '../../src/app/summary.js';
import { type Config, loadConfig } from '../../src/config/config.js';

/** A config from YAML lines, as `ums` loads it. */
function config(lines: string[]): Config {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-preflight-'));
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), `${lines.join('\n')}\n`);
  return loadConfig(undefined, {}, dir);
}

const SIM = config(['from: "0212345678"', 'providers:', '  sim: { type: sim, tps: 100 }']);
const MIXED = config([
  'from: "0212345678"',
  'providers:',
  '  solapi: { type: solapi, apiKey: k, apiSecret: s, tps: 50 }',
  '  carrier: { type: smpp, host: 127.0.0.1, systemId: x, password: p, binds: [{ tps: 30 }, { tps: 20 }] }',
  '  fast: { type: smpp, host: 127.0.0.1, systemId: x, password: p, tps: 0 }',
  'routes: { sms: carrier, lms: solapi, mms: fast }',
]);
const UTC = config(['timezone: UTC', 'providers:', '  sim: { type: sim, tps: 10 }']);

const work = (count: number, deferrable = 0, parts = count, cost = count * 13, held = 0): LaneWork => ({
  count,
  parts,
  cost,
  deferrable,
  held,
});
/** An instant given as Seoul wall-clock time. */
const kst = (local: string): Date => new Date(`${local}+09:00`);

type Row = [
  string,
  Config,
  Record<string, LaneWork>,
  boolean,
  Date,
  { provider?: string; tps?: number },
  Partial<LaneForecast>[],
];

const rows: Row[] = [
  [
    'daytime SMS through the simulator: ETA = parts / TPS, nothing deferred',
    SIM,
    { sms: work(2000, 2000) },
    true,
    kst('2026-12-02T10:00:00'),
    {},
    [
      {
        channel: 'sms',
        provider: 'sim',
        simulated: true,
        from: '0212345678',
        tps: 100,
        planned: 2000,
        etaSeconds: 20,
        estimatedCost: 26000,
        quietHoursDeferred: 0,
        deferredUntil: null,
      },
    ],
  ],
  [
    'an ad at 22:00: every row without night consent waits until 08:00 the next day',
    SIM,
    { sms: work(500, 300) },
    true,
    kst('2026-12-02T22:00:00'),
    {},
    [{ quietHoursDeferred: 300, deferredUntil: '2026-12-03T08:00:00+09:00' }],
  ],
  [
    'an ad at 01:30: until 08:00 the same day',
    SIM,
    { sms: work(10, 4) },
    true,
    kst('2026-12-03T01:30:00'),
    {},
    [{ quietHoursDeferred: 4, deferredUntil: '2026-12-03T08:00:00+09:00' }],
  ],
  [
    'an ad at 20:59 whose 120 s run into 21:00: the rows after 21:00 (half) wait',
    SIM,
    { sms: work(1200, 1200) },
    true,
    kst('2026-12-02T20:59:00'),
    { tps: 10 },
    [{ tps: 10, etaSeconds: 120, quietHoursDeferred: 600, deferredUntil: '2026-12-03T08:00:00+09:00' }],
  ],
  [
    'an ad at 20:50 that is done in 20 s: nothing deferred',
    SIM,
    { sms: work(2000, 2000) },
    true,
    kst('2026-12-02T20:50:00'),
    {},
    [{ etaSeconds: 20, quietHoursDeferred: 0, deferredUntil: null }],
  ],
  [
    'not an ad at 22:00: quiet hours do not apply',
    SIM,
    { sms: work(500, 300) },
    false,
    kst('2026-12-02T22:00:00'),
    {},
    [{ quietHoursDeferred: 0, deferredUntil: null }],
  ],
  [
    'one lane per channel on its route: SMPP binds add up, TPS 0 has no ETA, parts count (LMS 2 parts each)',
    MIXED,
    { sms: work(100), lms: work(100, 0, 200, 3500), mms: work(10, 0, 10, 900) },
    false,
    kst('2026-12-02T10:00:00'),
    {},
    [
      { channel: 'sms', provider: 'carrier', simulated: false, tps: 50, etaSeconds: 2 },
      { channel: 'lms', provider: 'solapi', simulated: false, tps: 50, etaSeconds: 4, estimatedCost: 3500 },
      { channel: 'mms', provider: 'fast', tps: 0, etaSeconds: null },
    ],
  ],
  [
    '--provider and --tps win over the routes; a lane of held fallback legs only has an ETA of 0',
    MIXED,
    { alimtalk: work(3, 0, 3, 24), lms: work(0, 0, 0, 0, 3) },
    false,
    kst('2026-12-02T10:00:00'),
    { provider: 'solapi', tps: 1 },
    [
      { channel: 'alimtalk', provider: 'solapi', tps: 1, etaSeconds: 3 },
      { channel: 'lms', provider: 'solapi', planned: 0, held: 3, etaSeconds: 0 },
    ],
  ],
  [
    'a channel with no route: no provider (sending it is refused)',
    MIXED,
    { alimtalk: work(3) },
    false,
    kst('2026-12-02T10:00:00'),
    {},
    [{ channel: 'alimtalk', provider: null, simulated: false, tps: null, etaSeconds: null }],
  ],
  [
    'quiet hours in the configured zone, the time with its offset',
    UTC,
    { sms: work(5, 5) },
    true,
    new Date('2026-12-02T23:00:00Z'),
    {},
    [{ from: null, quietHoursDeferred: 5, deferredUntil: '2026-12-03T08:00:00+00:00' }],
  ],
];

describe('laneForecasts: what each lane will do if sent now', () => {
  it.each(rows)('%s', (_name, cfg, toSend, ad, now, opts, want) => {
    const got = laneForecasts({ toSend, ad, from: cfg.from }, cfg, now, opts);
    expect(got).toHaveLength(want.length);
    for (const [i, w] of want.entries()) expect(got[i]).toMatchObject(w);
  });
});

describe('laneForecasts: a split or cheapest route', () => {
  const SPLIT = config([
    'from: "0212345678"',
    'providers:',
    '  a: { type: sim, tps: 10 }',
    '  b: { type: sim, tps: 40 }',
    'routes:',
    '  default: { split: { a: 50, b: 50 } }',
  ]);
  it('one lane per provider planning assigned, each at its own TPS, ETA, cost and quiet-hours share', () => {
    const toSendByProvider = [
      { channel: 'sms', provider: 'a', ...work(100, 100) },
      { channel: 'sms', provider: 'b', ...work(300, 0, 300, 300 * 11) },
    ];
    const got = laneForecasts(
      {
        toSend: { sms: work(400, 100, 400, 100 * 13 + 300 * 11) },
        toSendByProvider,
        ad: true,
        from: SPLIT.from,
      },
      SPLIT,
      kst('2026-12-02T22:00:00'),
    );
    expect(got).toMatchObject([
      {
        channel: 'sms',
        provider: 'a',
        tps: 10,
        planned: 100,
        etaSeconds: 10,
        estimatedCost: 1300,
        quietHoursDeferred: 100,
      },
      {
        channel: 'sms',
        provider: 'b',
        tps: 40,
        planned: 300,
        etaSeconds: 8,
        estimatedCost: 3300,
        quietHoursDeferred: 0,
      },
    ]);
  });
  it('--provider: one lane, everything on it', () => {
    const got = laneForecasts(
      {
        toSend: { sms: work(4) },
        toSendByProvider: [
          { channel: 'sms', provider: 'a', ...work(2) },
          { channel: 'sms', provider: 'b', ...work(2) },
        ],
        ad: false,
        from: SPLIT.from,
      },
      SPLIT,
      kst('2026-12-02T10:00:00'),
      { provider: 'b' },
    );
    expect(got).toMatchObject([{ provider: 'b', tps: 40, planned: 4 }]);
  });
});
