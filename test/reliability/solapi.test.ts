import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignPhones, writeCampaign } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';
import { FakeSolapi, type FakeSolapiOptions } from '../support/fakeSolapi.js';
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
  withSmallDisk,
} from '../support/reliability.js';

/**
 * The same crashes and faults as against the simulator, through the solapi provider to the fake
 * Solapi (in this process, so it outlives every `ums` it serves and counts what it took). Solapi
 * can be asked what it holds, so the promise is exactly once: every recipient taken once, every
 * row sent or delivered.
 */

const tally = useTally('solapi');
const ENV = { SOLAPI_API_KEY: 'NCSRELIABILITY01', SOLAPI_API_SECRET: 'reliability-secret-0001' };

const fakes: FakeSolapi[] = [];
afterEach(async () => {
  killLeftovers();
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fake(opts: Partial<FakeSolapiOptions> = {}): Promise<FakeSolapi> {
  const f = await FakeSolapi.start({
    apiKey: ENV.SOLAPI_API_KEY,
    apiSecret: ENV.SOLAPI_API_SECRET,
    reportDelayMs: 20,
    ...opts,
  });
  fakes.push(f);
  return f;
}

/** A campaign of `rows` recipients routed to the fake; the journal (and the provider's request log beside it) at `journal`. */
function campaignDir(
  f: FakeSolapi,
  rows: number,
  journal: string,
  solapi: Record<string, unknown> = {},
): string {
  const dir = workdir();
  writeCampaign(dir, rows);
  const provider = {
    type: 'solapi',
    apiKey: '${SOLAPI_API_KEY}',
    apiSecret: '${SOLAPI_API_SECRET}',
    baseUrl: f.url,
    tps: 2000,
    batchSize: 100,
    timeoutMs: 5000,
    ...solapi,
  };
  const lines = [
    ...journalLines(journal),
    'from: "0212345678"',
    'providers:',
    '  solapi:',
    ...Object.entries(provider).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    'routes:',
    '  default: solapi',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), lines.join('\n'));
  return dir;
}

const KILL_TEST =
  'survives 20 SIGKILLs at random instants of a 20,000-row campaign: every recipient taken exactly once';

/** The kill test, the journal at `journal`. */
async function survivesKills(journal: string, seed: string): Promise<void> {
  const rng = seeded(seed);
  const rows = 20_000;
  // every 29th answer is lost after Solapi took the batch: lookups inside a run, besides those after each kill
  const f = await fake({ dropAnswer: (n) => n % 29 === 0 });
  const dir = campaignDir(f, rows, journal);
  const log = await killLoop({ rng, dir, env: ENV, rows, reached: () => f.messages.length, tally });
  const last = await runUms(SEND, { cwd: dir, env: ENV, timeoutMs: 120_000 });
  expect(last.code, `${log.join('\n')}\n${last.stderr}`).toBe(0);
  console.log(
    `  solapi: ${f.stats.sendRequests} send requests, ${f.stats.dropped} answers dropped, ${f.stats.listRequests} list requests`,
  );
  await expectExactlyOnce({
    received: f.acceptedPerRecipient(),
    phones: campaignPhones(rows),
    dir,
    env: ENV,
    tally,
  });
}

describe('reliability: crashes and faults against the fake Solapi', () => {
  it(KILL_TEST, () => survivesKills('./journal.db', 'crash test (solapi)'));

  it('rides out a 30 s outage in one run (15 s connection refused with answers in flight cut, then 15 s of 503): exactly once', async () => {
    const rng = seeded('outage test (solapi)');
    const rows = 6000;
    // from `hangFrom` on, Solapi takes each batch and does not answer: those answers are in flight when it goes down
    let hangFrom = Infinity;
    const f = await fake({ hangAnswer: (n) => n >= hangFrom });
    const dir = campaignDir(f, rows, './journal.db', { tps: 1000 });
    const run = start([...SEND, '--json'], dir, ENV);
    const downAt = 1000 + Math.floor(rng() * 3000);
    while (f.messages.length < downAt && !run.done()) await sleep(5);
    hangFrom = f.stats.sendRequests + 1;
    while (f.stats.hung < 1 && !run.done()) await sleep(1);
    await expectStillRunning(run, 'before the outage');
    await f.stopListening();
    hangFrom = Infinity;
    tally.faults++;
    const taken = f.messages.length;
    await sleep(15_000);
    expect(f.messages.length).toBe(taken); // nothing reaches a closed port
    f.options.failSendsWith = 503;
    await f.listenAgain();
    const before503 = f.stats.sendRequests;
    await sleep(15_000);
    expect(f.messages.length).toBe(taken); // nor gets past a 503
    expect(f.stats.sendRequests).toBeGreaterThan(before503); // ums kept trying
    f.options.failSendsWith = null;
    const e = await ended(run, 90_000, 'after Solapi came back');
    expect(e.code, e.stderr).toBe(0); // in one run: what was in flight is looked up once Solapi answers
    const out = JSON.parse(e.stdout) as { run: { unknown: number; retried: number } };
    console.log(
      `  solapi outage: ${f.stats.hung} answers cut, ${out.run.unknown} rows unknown for a while, ${out.run.retried} resubmitted`,
    );
    await expectExactlyOnce({
      received: f.acceptedPerRecipient(),
      phones: campaignPhones(rows),
      dir,
      env: ENV,
      tally,
    });
  });

  it('stops with exit 1 when the journal disk fills, sends nothing twice, and resume finishes after space is freed', async (ctx) => {
    await withSmallDisk(ctx, async (mount, fill) => {
      const rows = 8000;
      const f = await fake();
      const dir = campaignDir(f, rows, path.join(mount, 'journal.db'), { tps: 2000 });
      const run = start(SEND, dir, ENV);
      while (f.messages.length < 1000 && !run.done()) await sleep(10);
      await expectStillRunning(run, 'before the disk filled');
      const free = fill(); // under the running process: the journal and the provider's request log
      tally.faults++;
      const e = await ended(run, 60_000, 'after the disk filled');
      expect(e.code, e.stderr).toBe(1);
      expect(e.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(e.stderr).toMatch(/^ums: .*(full|SQLITE|ENOSPC)/m);
      free();
      const again = await runUms(['resume'], { cwd: dir, env: ENV, timeoutMs: 120_000 });
      expect(again.code, again.stderr).toBe(0);
      await expectExactlyOnce({
        received: f.acceptedPerRecipient(),
        phones: campaignPhones(rows),
        dir,
        env: ENV,
        tally,
      });
    });
  });
});

/**
 * The kill test with the journal in PostgreSQL (a throwaway server; in CI one that cannot start fails
 * this, never skips): each SIGKILL drops the connection mid-transaction, and the request log and poll
 * checkpoint are in the journal (side_log, side_state).
 */
describe.skipIf(!withPostgres)('reliability: crashes against the fake Solapi, journal on PostgreSQL', () => {
  const pg = usePostgres();
  it(KILL_TEST, () => survivesKills(pg.journal(), 'crash test (solapi, PostgreSQL)'));
});
