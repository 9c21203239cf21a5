import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runUms, UMS, workdir } from '../support/cli.js';
import { duplicatesAtCarrier, writeCampaign } from '../support/campaign.js';
import { readCarrierLog } from '../../src/providers/sim/carrierLog.js';
import { prng } from '../../src/providers/sim/prng.js';

const tally = { kills: 0, faults: 0, duplicates: 0, lost: 0 };
afterAll(() => {
  console.log(`reliability: ${tally.kills} kills survived, ${tally.faults} faults injected, duplicates ${tally.duplicates}, lost ${tally.lost}`);
});


/** Lines in the carrier's log, counted without parsing (it grows while we poll). */
function carrierCount(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const buf = fs.readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

function writeSimConfig(dir: string, journal: string, sim: Record<string, unknown>): void {
  const lines = Object.entries({ type: 'sim', ...sim }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(path.join(dir, 'ums.config.yaml'), [`journal: ${JSON.stringify(journal)}`, 'providers:', '  sim:', ...lines, ''].join('\n'));
}

function start(args: string[], cwd: string) {
  const child = spawn(process.execPath, [UMS, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((r) => child.on('close', (code, signal) => r({ code, signal, stderr })));
  return { child, exited };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every recipient exactly once at the carrier, and the journal accounts for every CSV row. */
async function expectExactlyOnce(dir: string, carrierFile: string, rows: number): Promise<void> {
  const log = readCarrierLog(carrierFile);
  const dups = duplicatesAtCarrier(log);
  const lost = rows - new Set(log.map((r) => r.to)).size;
  tally.duplicates += dups.length;
  tally.lost += lost;
  expect(dups).toEqual([]);
  expect(lost).toBe(0);
  const report = await runUms(['report', '--json'], { cwd: dir });
  const statuses = JSON.parse(report.stdout).statuses as Record<string, number>;
  expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(rows);
  expect((statuses['delivered'] ?? 0) + (statuses['sent'] ?? 0)).toBe(rows);
}

describe('reliability: crashes and faults against the simulator', () => {
  it('survives 20 SIGKILLs at random instants of a 20,000-row campaign', async () => {
    const seed = Number(process.env['UMS_RELIABILITY_SEED'] ?? Date.now() % 100000);
    console.log(`crash test seed ${seed} (UMS_RELIABILITY_SEED=${seed} repeats it)`);
    const rng = prng(seed);
    const rows = 20_000;
    const dir = workdir();
    writeCampaign(dir, rows);
    writeSimConfig(dir, './journal.db', { tps: 4000, maxBatch: 200, latencyMs: 2, dlrDelayMs: 50 });
    const carrier = path.join(dir, 'sim-sim.jsonl');
    const send = ['send', 'recipients.csv', '-t', 'notice.md', '--yes'];
    const points = Array.from({ length: 20 }, () => rng())
      .sort((a, b) => a - b)
      .map((x, i) => ({ at: Math.floor(x * rows * 0.95), byTime: i < 3 && rng() < 0.7, delayMs: Math.floor(rng() * 400) }));
    for (const [i, p] of points.entries()) {
      // Cron would run the same `ums send` again; `resume` too, once the plan is whole (something was sent).
      const run = start(i % 2 === 1 && carrierCount(carrier) > 0 ? ['resume'] : send, dir);
      if (p.byTime) await sleep(p.delayMs); // may land in start-up or planning
      else {
        const deadline = Date.now() + 60_000;
        while (carrierCount(carrier) < p.at && Date.now() < deadline) await sleep(5);
      }
      run.child.kill('SIGKILL');
      const ended = await run.exited;
      if (ended.signal === 'SIGKILL') tally.kills++;
      else expect(ended.code, ended.stderr).toBe(0); // it finished before the kill landed
    }
    const last = await runUms(send, { cwd: dir, timeoutMs: 120_000 });
    expect(last.code, last.stderr).toBe(0);
    await expectExactlyOnce(dir, carrier, rows);
  });

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
    const ended = await run.exited;
    expect(ended.code, ended.stderr).toBe(0);
    await expectExactlyOnce(dir, carrier, rows);
  });

  it('stops with exit 1 when the journal disk fills, loses nothing, and resume finishes after space is freed', async (ctx) => {
    const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-full-'));
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount], { stdio: 'ignore' });
    } catch {
      console.log('disk-full test skipped: cannot mount a tmpfs here (needs root)');
      ctx.skip();
      return;
    }
    try {
      const rows = 8000;
      const dir = workdir();
      writeCampaign(dir, rows);
      const carrier = path.join(dir, 'carrier.jsonl');
      writeSimConfig(dir, path.join(mount, 'journal.db'), { tps: 2000, latencyMs: 1, dlrDelayMs: 20, store: carrier });
      const run = start(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], dir);
      while (carrierCount(carrier) < 1000) await sleep(10);
      // Fill the disk under the running process.
      const filler = path.join(mount, 'filler');
      const fd = fs.openSync(filler, 'w');
      const block = Buffer.alloc(64 * 1024);
      try {
        for (;;) fs.writeSync(fd, block);
      } catch {
        /* ENOSPC: full */
      } finally {
        fs.closeSync(fd);
      }
      tally.faults++;
      const ended = await run.exited;
      expect(ended.code).toBe(1);
      expect(ended.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(ended.stderr).toMatch(/^ums: .*(full|SQLITE)/m);
      fs.rmSync(filler);
      const again = await runUms(['resume'], { cwd: dir, timeoutMs: 120_000 });
      expect(again.code, again.stderr).toBe(0);
      await expectExactlyOnce(dir, carrier, rows);
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});
