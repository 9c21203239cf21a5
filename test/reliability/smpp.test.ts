import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { campaignPhones, writeCampaign } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';
import { FakeSmsc, type FakeSmscOptions } from '../support/fakeSmsc.js';
import { usePostgres, withPostgres } from '../support/postgresServer.js';
import {
  ended,
  expectAtMostOnce,
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
 * The same crashes and faults through the smpp provider to the local SMSC (in this process, so it
 * outlives every `ums` it serves and counts what it took). SMPP cannot be asked what the SMSC
 * holds: a submit_sm in flight when the process dies or the link drops is `unknown`, and is never
 * sent again by `resume`. The promise is at most once: nobody twice at the SMSC, every row sent or
 * delivered reached it, the rest `unknown`, no more of them than the window times the faults.
 */

const tally = useTally('smpp');
const ENV = { SMPP_PASSWORD: 'secret' };
const WINDOW = 10;

const smscs: FakeSmsc[] = [];
afterEach(async () => {
  killLeftovers();
  for (const s of smscs.splice(0)) await s.stop();
});

async function smscWith(opts: FakeSmscOptions): Promise<FakeSmsc> {
  const smsc = await FakeSmsc.start(opts);
  smscs.push(smsc);
  return smsc;
}

function campaignDir(
  smsc: FakeSmsc,
  rows: number,
  provider: Record<string, unknown> = {},
  journal = './journal.db',
): string {
  const dir = workdir();
  writeCampaign(dir, rows);
  const cfg = {
    type: 'smpp',
    host: '127.0.0.1',
    port: smsc.port,
    systemId: 'ums',
    password: '${SMPP_PASSWORD}',
    tps: 0,
    window: WINDOW,
    requestTimeoutMs: 5000,
    unavailableAfterMs: 3000,
    reportWaitMs: 500,
    ...provider,
  };
  const lines = Object.entries(cfg).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    [
      ...journalLines(journal),
      'from: "0212345678"',
      'providers:',
      '  carrier:',
      ...lines,
      'routes: { default: carrier }',
      '',
    ].join('\n'),
  );
  return dir;
}

const KILL_TEST =
  'survives 20 SIGKILLs at random instants of a 20,000-row campaign: at most once, the rest unknown and bounded';

/** The kill test, the journal at `journal`. */
async function survivesKills(journal: string, seed: string): Promise<void> {
  const rng = seeded(seed);
  const rows = 20_000;
  // receipts too: they arrive while ums is killed and started again
  const smsc = await smscWith({ receipts: { delayMs: 20 } });
  const dir = campaignDir(smsc, rows, {}, journal);
  const killsBefore = tally.kills;
  const log = await killLoop({
    rng,
    dir,
    env: ENV,
    rows,
    reached: () => smsc.messages.length,
    finishedCodes: [0, 3],
    tally,
  });
  const last = await runUms(SEND, { cwd: dir, env: ENV, timeoutMs: 120_000 });
  expect([0, 3], `${log.join('\n')}\n${last.stderr}`).toContain(last.code); // 3: done, some rows unknown
  console.log(
    `  smsc: ${smsc.binds.filter((b) => b.ok).length} binds, ${smsc.arrivals.length} submit_sm, ${smsc.receiptsSent} receipts sent`,
  );
  expect(smsc.violations).toEqual([]);
  // each kill leaves at most the window in flight
  await expectAtMostOnce({
    received: smsc.receivedPerRecipient(),
    phones: campaignPhones(rows),
    dir,
    env: ENV,
    tally,
    maxUnknown: WINDOW * (tally.kills - killsBefore),
  });
}

describe('reliability: crashes and faults against the local SMSC', () => {
  it(KILL_TEST, () => survivesKills('./journal.db', 'crash test (smpp)'));

  it('rides out a 30 s SMSC outage (closed, then back on the same port): rebinds and finishes, at most once', async () => {
    const rng = seeded('outage test (smpp)');
    const rows = 6000;
    const smsc = await smscWith({ receipts: { delayMs: 20 }, respondDelayMs: 2 });
    const dir = campaignDir(smsc, rows, { tps: 1000 });
    const run = start([...SEND, '--json'], dir, ENV);
    const downAt = 1000 + Math.floor(rng() * 3000);
    while (smsc.messages.length < downAt && !run.done()) await sleep(2);
    await expectStillRunning(run, 'before the outage');
    await smsc.stopListening();
    tally.faults++;
    const taken = smsc.messages.length;
    await sleep(30_000);
    expect(smsc.messages.length).toBe(taken); // nothing reaches a closed port
    expect(run.done()).toBe(false); // ums waits for the SMSC
    await smsc.listenAgain();
    const e = await ended(run, 90_000, 'after the SMSC came back');
    expect([0, 3], e.stderr).toContain(e.code); // 3: done, the messages in flight at the drop unknown
    expect(smsc.binds.filter((b) => b.ok).length).toBeGreaterThanOrEqual(2);
    expect(smsc.violations).toEqual([]);
    await expectAtMostOnce({
      received: smsc.receivedPerRecipient(),
      phones: campaignPhones(rows),
      dir,
      env: ENV,
      tally,
      maxUnknown: WINDOW,
    });
  });

  it('stops with exit 1 when the journal disk fills, reaches nobody twice, and resume finishes after space is freed', async (ctx) => {
    await withSmallDisk(ctx, async (mount, fill) => {
      const rows = 8000;
      const smsc = await smscWith({ receipts: { delayMs: 20 }, respondDelayMs: 1 });
      const dir = campaignDir(smsc, rows, { tps: 2000 }, path.join(mount, 'journal.db'));
      const run = start(SEND, dir, ENV);
      while (smsc.messages.length < 1000 && !run.done()) await sleep(10);
      await expectStillRunning(run, 'before the disk filled');
      const free = fill(); // under the running process: every journal write from now on fails
      tally.faults++;
      const e = await ended(run, 60_000, 'after the disk filled');
      expect(e.code, e.stderr).toBe(1);
      expect(e.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(e.stderr).toMatch(/^ums: .*(full|SQLITE|ENOSPC)/m);
      free();
      const again = await runUms(SEND, { cwd: dir, env: ENV, timeoutMs: 120_000 });
      expect([0, 3], again.stderr).toContain(again.code); // 3: done, the submits whose answers could not be written unknown
      expect(smsc.violations).toEqual([]);
      await expectAtMostOnce({
        received: smsc.receivedPerRecipient(),
        phones: campaignPhones(rows),
        dir,
        env: ENV,
        tally,
        maxUnknown: WINDOW,
      });
    });
  });
});

/**
 * The kill test with the journal in PostgreSQL (a throwaway server; in CI one that cannot start fails
 * this, never skips): each SIGKILL drops the connection mid-transaction.
 */
describe.skipIf(!withPostgres)('reliability: crashes against the local SMSC, journal on PostgreSQL', () => {
  const pg = usePostgres();
  it(KILL_TEST, () => survivesKills(pg.journal(), 'crash test (smpp, PostgreSQL)'));
});
