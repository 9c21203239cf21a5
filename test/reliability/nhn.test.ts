import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignPhones, writeCampaign } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';
import { FakeNhn, type FakeNhnOptions, type NhnRecord } from '../support/fakeNhn.js';
import { usePostgres, withPostgres } from '../support/postgresServer.js';
import {
  ended,
  expectExactlyOnce,
  expectStillRunning,
  journalLines,
  killLeftovers,
  killLoop,
  SEND,
  seeded,
  sleep,
  start,
  useTally,
} from '../support/reliability.js';

/**
 * The same crashes and faults as against the fake Solapi, through the nhn provider to the fake NHN
 * (in this process, so it outlives every `ums` it serves and counts what it took). NHN can be asked
 * what it holds (its send lists, by our key in recipientGroupingKey) and AlimTalk requests carry an
 * idempotency key, so the promise is exactly once. The kill run sends AlimTalk (batched, with
 * idempotency keys); the outage run SMS (one request per distinct text, looked up by grouping key).
 */

const tally = useTally('nhn');
const ENV = { NHN_APP_KEY: 'nhnReliabilityApp', NHN_SECRET_KEY: 'reliability-nhn-secret-0001' };
/** Kills in the kill run: 5 (each resume after a kill searches the send lists; 20 takes minutes here). */
const KILLS = Number(process.env.UMS_NHN_KILLS ?? 5);

const fakes: FakeNhn[] = [];
afterEach(async () => {
  killLeftovers();
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(opts: Partial<FakeNhnOptions> = {}): Promise<FakeNhn> {
  const f = await FakeNhn.start({ appKey: ENV.NHN_APP_KEY, secretKey: ENV.NHN_SECRET_KEY, ...opts });
  fakes.push(f);
  return f;
}

/** A campaign of `rows` recipients routed to the fake NHN (AlimTalk when `alimtalk`). */
function campaignDir(
  f: FakeNhn,
  rows: number,
  alimtalk: boolean,
  nhn: Record<string, unknown> = {},
  journal = './journal.db',
): string {
  const dir = workdir();
  writeCampaign(dir, rows);
  if (alimtalk)
    fs.writeFileSync(
      path.join(dir, 'notice.md'),
      [
        '---',
        'channel: alimtalk',
        'fallback: none',
        'alimtalk:',
        '  pfId: KA01PF200323182344986oTFz9CIabcx',
        '  templateId: ORDER_SHIPPED_01',
        '---',
        '#{name}님, 주문하신 상품이 발송되었습니다.',
        '',
      ].join('\n'),
    );
  const provider = {
    type: 'nhn',
    appKey: '${NHN_APP_KEY}',
    secretKey: '${NHN_SECRET_KEY}',
    senderKey: 'reliability-sender-key-00000000000000040',
    baseUrl: f.url,
    alimtalkBaseUrl: f.url,
    tps: 2000,
    batchSize: 100,
    timeoutMs: 5000,
    ...nhn,
  };
  const lines = [
    ...journalLines(journal),
    'from: "0212345678"',
    'providers:',
    '  nhn:',
    ...Object.entries(provider).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    'routes:',
    '  default: nhn',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), lines.join('\n'));
  return dir;
}

function perRecipient(records: NhnRecord[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const r of records) n.set(r.recipientNo, (n.get(r.recipientNo) ?? 0) + 1);
  return n;
}

const KILL_TEST = `survives ${KILLS} SIGKILLs at random instants of a 10,000-row AlimTalk campaign: every recipient taken exactly once`;

/** The kill test, the journal at `journal`. */
async function survivesKills(journal: string, seed: string): Promise<void> {
  const rng = seeded(seed);
  const rows = 10_000;
  // every 29th answer is lost after NHN took the batch: -1005 and look-ups inside a run, besides those after each kill
  const f = await fake({ dropAnswer: (n) => n % 29 === 0 });
  const dir = campaignDir(f, rows, true, {}, journal);
  const log = await killLoop({
    rng,
    dir,
    env: ENV,
    rows,
    reached: () => f.records.length,
    kills: KILLS,
    tally,
  });
  const last = await runUms(SEND, { cwd: dir, env: ENV, timeoutMs: 180_000 });
  expect(last.code, `${log.join('\n')}\n${last.stderr}`).toBe(0);
  const repeats = f.requests.length - new Set(f.requests.map((q) => q.idempotencyKey)).size;
  console.log(`  nhn: ${f.sendRequests} send requests, ${repeats} carried a key NHN had seen (-1005)`);
  await expectExactlyOnce({
    received: perRecipient(f.records),
    phones: campaignPhones(rows),
    dir,
    env: ENV,
    tally,
  });
}

describe('reliability: crashes and faults against the fake NHN', () => {
  it(KILL_TEST, () => survivesKills('./journal.db', 'crash test (nhn)'));

  it('rides out a 30 s outage in one run (15 s connection refused with answers in flight cut, then 15 s of 503): exactly once', async () => {
    const rng = seeded('outage test (nhn)');
    const rows = 3000;
    let hangFrom = Infinity;
    const f = await fake({ hangAnswer: (n) => n >= hangFrom });
    const dir = campaignDir(f, rows, false, { tps: 300 });
    const run = start([...SEND, '--json'], dir, ENV);
    const downAt = 500 + Math.floor(rng() * 1000);
    while (f.records.length < downAt && !run.done()) await sleep(5);
    hangFrom = f.sendRequests + 1;
    while (f.hung < 1 && !run.done()) await sleep(1);
    await expectStillRunning(run, 'before the outage');
    await f.stopListening();
    hangFrom = Infinity;
    tally.faults++;
    const taken = f.records.length;
    await sleep(15_000);
    expect(f.records.length).toBe(taken); // nothing reaches a closed port
    f.opts.failSendsWith = 503;
    await f.listenAgain();
    const before503 = f.sendRequests;
    await sleep(15_000);
    expect(f.records.length).toBe(taken); // nor gets past a 503
    expect(f.sendRequests).toBeGreaterThan(before503); // ums kept trying
    f.opts.failSendsWith = null;
    const e = await ended(run, 120_000, 'after NHN came back');
    expect(e.code, e.stderr).toBe(0);
    const out = JSON.parse(e.stdout) as { run: { unknown: number; retried: number } };
    console.log(
      `  nhn outage: ${f.hung} answers cut, ${out.run.unknown} rows unknown for a while, ${out.run.retried} resubmitted`,
    );
    await expectExactlyOnce({
      received: perRecipient(f.records),
      phones: campaignPhones(rows),
      dir,
      env: ENV,
      tally,
    });
  });
});

/**
 * The kill test with the journal in PostgreSQL (a throwaway server; in CI one that cannot start fails
 * this, never skips): each SIGKILL drops the connection mid-transaction, and the request log is in the
 * journal (side_log).
 */
describe.skipIf(!withPostgres)('reliability: crashes against the fake NHN, journal on PostgreSQL', () => {
  const pg = usePostgres();
  it(KILL_TEST, () => survivesKills(pg.journal(), 'crash test (nhn, PostgreSQL)'));
});
