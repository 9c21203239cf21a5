import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPostgresUrl, PostgresDatabase } from '../../src/journal/postgres.js';
import { readCarrierLog } from '../../src/providers/sim/carrierLog.js';
import { campaignPhones, writeCampaign } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';
import { usePostgres, withPostgres } from '../support/postgresServer.js';
import {
  carrierCount,
  ended,
  expectExactlyOnce,
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

const tally = useTally('simulator');
afterEach(killLeftovers);

function writeSimConfig(dir: string, journal: string, sim: Record<string, unknown>): void {
  const lines = Object.entries({ type: 'sim', ...sim }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    [...journalLines(journal), 'providers:', '  sim:', ...lines, ''].join('\n'),
  );
}

/** Every recipient exactly once at the simulated carrier (its own log), and the journal accounts for every CSV row. */
async function expectOnceAtCarrier(dir: string, carrier: string | string[], rows: number): Promise<void> {
  const received = new Map<string, number>();
  for (const r of readCarrierLog(carrier)) received.set(r.to, (received.get(r.to) ?? 0) + 1);
  await expectExactlyOnce({ received, phones: campaignPhones(rows), dir, tally });
}

/** The simulated carrier's log as the test reads it while `ums` runs: what it holds so far, its lines. */
interface CarrierLog {
  count(): number;
  lines(): string | string[];
  close(): void;
}

/**
 * A file beside a SQLite journal; rows of side_log in a PostgreSQL one (since migration 11), read on
 * a connection of the test's own (no table until the first ums has migrated the database).
 */
function carrierLog(dir: string, journal: string): CarrierLog {
  const file = path.join(dir, 'sim-sim.jsonl');
  if (!isPostgresUrl(journal)) return { count: () => carrierCount(file), lines: () => file, close: () => {} };
  const watch = PostgresDatabase.open(journal);
  const read = (sql: string): unknown[][] => {
    try {
      return watch.query(sql, []).rows;
    } catch {
      return [];
    }
  };
  const name = "name = 'sim-sim.jsonl'";
  return {
    // a row holds what one write appended: one line or several (records end in a newline)
    count: () =>
      Number(
        read(
          `SELECT COALESCE(SUM(length(text) - length(replace(text, chr(10), ''))), 0) FROM side_log WHERE ${name}`,
        )[0]?.[0] ?? 0,
      ),
    lines: () =>
      read(`SELECT text FROM side_log WHERE ${name} ORDER BY seq`).flatMap((r) => String(r[0]).split('\n')),
    close: () => watch.close(),
  };
}

const KILL_TEST = 'survives 20 SIGKILLs at random instants of a 20,000-row campaign';

/** The kill test, the journal at `journal`. */
async function survivesKills(journal: string, seed: string): Promise<void> {
  const rng = seeded(seed);
  const rows = 20_000;
  const dir = workdir();
  writeCampaign(dir, rows);
  writeSimConfig(dir, journal, { tps: 4000, maxBatch: 200, latencyMs: 2, dlrDelayMs: 50 });
  const carrier = carrierLog(dir, journal);
  try {
    await killLoop({ rng, dir, rows, reached: carrier.count, tally });
    const last = await runUms(SEND, { cwd: dir, timeoutMs: 120_000 });
    expect(last.code, last.stderr).toBe(0);
    await expectOnceAtCarrier(dir, carrier.lines(), rows);
  } finally {
    carrier.close();
  }
}

describe('reliability: crashes and faults against the simulator', () => {
  it(KILL_TEST, () => survivesKills('./journal.db', 'crash test (simulator)'));

  it('stops cleanly when the carrier is down, and finishes once it is back (30 s outage)', async () => {
    const rows = 6000;
    const dir = workdir();
    writeCampaign(dir, rows);
    const outage = path.join(dir, 'carrier-down');
    writeSimConfig(dir, './journal.db', { tps: 1000, latencyMs: 1, dlrDelayMs: 20, outageFile: outage });
    const carrier = path.join(dir, 'sim-sim.jsonl');
    const run = start(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], dir);
    while (carrierCount(carrier) < 1500) await sleep(10);
    fs.writeFileSync(outage, '');
    tally.faults++;
    const downAt = carrierCount(carrier);
    await sleep(30_000);
    expect(carrierCount(carrier) - downAt).toBeLessThan(300); // only what was in flight when the plug was pulled
    fs.rmSync(outage);
    const e = await ended(run, 90_000, 'after the carrier came back');
    expect(e.code, e.stderr).toBe(0);
    await expectOnceAtCarrier(dir, carrier, rows);
  });

  it('stops with exit 1 when the journal disk fills, loses nothing, and resume finishes after space is freed', async (ctx) => {
    await withSmallDisk(ctx, async (mount, fill) => {
      const rows = 8000;
      const dir = workdir();
      writeCampaign(dir, rows);
      const carrier = path.join(dir, 'carrier.jsonl');
      writeSimConfig(dir, path.join(mount, 'journal.db'), {
        tps: 2000,
        latencyMs: 1,
        dlrDelayMs: 20,
        store: carrier,
      });
      const run = start(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], dir);
      while (carrierCount(carrier) < 1000) await sleep(10);
      const free = fill(); // under the running process
      tally.faults++;
      const e = await ended(run, 60_000, 'after the disk filled');
      expect(e.code, e.stderr).toBe(1);
      expect(e.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(e.stderr).toMatch(/^ums: .*(full|SQLITE)/m);
      free();
      const again = await runUms(['resume'], { cwd: dir, timeoutMs: 120_000 });
      expect(again.code, again.stderr).toBe(0);
      await expectOnceAtCarrier(dir, carrier, rows);
    });
  });
});

/**
 * The same kill test with the journal in PostgreSQL (a throwaway server started here; in CI one that
 * cannot start fails this, never skips): each SIGKILL drops the connection mid-transaction.
 */
describe.skipIf(!withPostgres)('reliability: crashes against the simulator, journal on PostgreSQL', () => {
  const pg = usePostgres();
  it(KILL_TEST, () => survivesKills(pg.journal(), 'crash test (simulator, PostgreSQL)'));
});
