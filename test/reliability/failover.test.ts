import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignPhones, writeCampaign } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';
import { FakeNhn } from '../support/fakeNhn.js';
import { FakeSolapi } from '../support/fakeSolapi.js';
import { usePostgres, withPostgres } from '../support/postgresServer.js';
import {
  expectExactlyOnce,
  journalLines,
  killLeftovers,
  killLoop,
  SEND,
  seeded,
  useTally,
} from '../support/reliability.js';

/**
 * Kill -9 during failover: a campaign routed `[solapi, nhn]` whose primary (the fake Solapi) starts
 * answering 503 part-way and loses some answers after taking the messages, while `ums` is killed
 * at random instants (each new run tries Solapi again, fails over again, and moves what waits).
 * Both fakes run in this process, so they outlive every `ums` and count what they took: across the
 * two, every recipient exactly once (both can be asked what they hold).
 */

const tally = useTally('failover');
const ENV = {
  SOLAPI_API_KEY: 'NCSRELIABLEFO01',
  SOLAPI_API_SECRET: 'reliability-failover-secret',
  NHN_APP_KEY: 'failoverReliabilityApp',
  NHN_SECRET_KEY: 'reliability-failover-nhn-secret',
};
/** 20 kills of a 2,000-row campaign take about a minute and a half here. */
const KILLS = Number(process.env.UMS_FAILOVER_KILLS ?? 20);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  killLeftovers();
  await Promise.all(closers.splice(0).map((c) => c()));
});

const KILL_TEST = `survives ${KILLS} SIGKILLs while the primary fails and its messages move: every recipient exactly once across both providers`;

/** The kill test, the journal at `journal`. */
async function survivesKills(journal: string, seed: string): Promise<void> {
  const rng = seeded(seed);
  const rows = 2000;
  const solapi = await FakeSolapi.start({
    apiKey: ENV.SOLAPI_API_KEY,
    apiSecret: ENV.SOLAPI_API_SECRET,
    reportDelayMs: 10,
    dropAnswer: (n) => n % 7 === 0, // taken, answer lost: looked up, never sent again
  });
  const nhn = await FakeNhn.start({ appKey: ENV.NHN_APP_KEY, secretKey: ENV.NHN_SECRET_KEY });
  closers.push(
    () => solapi.close(),
    () => nhn.close(),
  );
  const dir = workdir();
  writeCampaign(dir, rows);
  const block = (name: string, o: Record<string, unknown>): string[] => [
    `  ${name}:`,
    ...Object.entries(o).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
  ];
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    [
      ...journalLines(journal),
      'from: "0212345678"',
      'failoverAfterMs: 300',
      'providers:',
      ...block('solapi', {
        type: 'solapi',
        apiKey: '${SOLAPI_API_KEY}',
        apiSecret: '${SOLAPI_API_SECRET}',
        baseUrl: solapi.url,
        tps: 400,
        batchSize: 20,
        timeoutMs: 3000,
      }),
      ...block('nhn', {
        type: 'nhn',
        appKey: '${NHN_APP_KEY}',
        secretKey: '${NHN_SECRET_KEY}',
        baseUrl: nhn.url,
        tps: 400,
        batchSize: 20,
        timeoutMs: 3000,
      }),
      'routes:',
      '  default: [solapi, nhn]',
      '',
    ].join('\n'),
  );
  // the primary fails (503) once it has taken a random share of the campaign, and stays down
  const failAt = Math.floor(rows * (0.15 + rng() * 0.3));
  const reached = (): number => {
    if (solapi.options.failSendsWith === null && solapi.accepted().length >= failAt) {
      solapi.options.failSendsWith = 503;
      tally.faults++;
    }
    return solapi.accepted().length + nhn.accepted().length;
  };
  const log = await killLoop({ rng, dir, env: ENV, rows, reached, kills: KILLS, tally });
  const last = await runUms(SEND, { cwd: dir, env: ENV, timeoutMs: 180_000 });
  expect(last.code, `${log.join('\n')}\n${last.stderr}`).toBe(0);
  const received = new Map<string, number>();
  for (const m of solapi.accepted()) received.set(m.to, (received.get(m.to) ?? 0) + 1);
  for (const r of nhn.accepted()) received.set(r.recipientNo, (received.get(r.recipientNo) ?? 0) + 1);
  console.log(
    `  solapi took ${solapi.accepted().length} (failing from ${failAt}, ${solapi.stats.dropped} answers lost), nhn took ${nhn.accepted().length}`,
  );
  expect(nhn.accepted().length).toBeGreaterThan(0);
  await expectExactlyOnce({ received, phones: campaignPhones(rows), dir, env: ENV, tally });
}

describe('reliability: kill -9 during failover (solapi -> nhn)', () => {
  it(KILL_TEST, () => survivesKills('./journal.db', 'failover test'));
});

/**
 * The same with the journal in PostgreSQL (a throwaway server; in CI one that cannot start fails
 * this, never skips): each SIGKILL drops the connection mid-transaction.
 */
describe.skipIf(!withPostgres)(
  'reliability: kill -9 during failover (solapi -> nhn), journal on PostgreSQL',
  () => {
    const pg = usePostgres();
    it(KILL_TEST, () => survivesKills(pg.journal(), 'failover test (PostgreSQL)'));
  },
);
