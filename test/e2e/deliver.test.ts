import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { carrierLog, duplicatesAtCarrier, writeCampaign, writeConfig } from '../support/campaign.js';
import { runUms, UMS, workdir } from '../support/cli.js';

const json = (s: string): Record<string, any> => JSON.parse(s) as Record<string, any>;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Start `ums` in the background (as cron would: no TTY). */
function startUms(args: string[], cwd: string) {
  const child = spawn(process.execPath, [UMS, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited };
}

async function waitForCarrier(dir: string, atLeast: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = fs.existsSync(path.join(dir, 'sim-sim.jsonl')) ? carrierLog(dir).length : 0;
    if (n >= atLeast) return n;
    if (Date.now() > deadline) throw new Error(`carrier saw only ${n} messages, waited for ${atLeast}`);
    await sleep(20);
  }
}

describe('ums send / resume / report against the simulator', () => {
  it('sends a 5,000-row campaign once, reports it, and a second send sends nothing', async () => {
    const dir = workdir();
    writeCampaign(dir, 5000);
    writeConfig(dir, { tps: 0, dlrDelayMs: 20, latencyMs: 1 });
    const first = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], {
      cwd: dir,
    });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = json(first.stdout);
    expect(out.outcome).toBe('finished');
    expect((out.statuses.delivered ?? 0) + (out.statuses.sent ?? 0)).toBe(5000);

    const log = carrierLog(dir);
    expect(log).toHaveLength(5000);
    expect(duplicatesAtCarrier(log)).toEqual([]);

    const again = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], {
      cwd: dir,
    });
    expect(again.code).toBe(0);
    expect(json(again.stdout).outcome).toBe('already-finished');
    expect(carrierLog(dir)).toHaveLength(5000);

    const report = await runUms(['report', '--sync', '--json'], { cwd: dir });
    expect(report.code).toBe(0);
    const r = json(report.stdout);
    expect(r.statuses.delivered).toBe(5000);
    expect(r.deliveryRate).toBe(1);
    expect(r.dlrLatencyMs.count).toBe(5000);

    const exported = await runUms(['export', r.campaign, '--format', 'json'], { cwd: dir });
    const rows = JSON.parse(exported.stdout) as {
      to: string;
      status: string;
      provider_id: string;
      attempts: number;
    }[];
    expect(rows).toHaveLength(5000);
    expect(
      rows.every((x) => x.status === 'delivered' && x.provider_id.startsWith('SIM') && x.attempts === 1),
    ).toBe(true);
  });

  it('fails the documented test numbers with their codes and exits 3', async () => {
    const dir = workdir();
    writeCampaign(dir, 20, ['불통,010-0303-2001', '수신거부,01001061001']);
    writeConfig(dir, { tps: 0, dlrDelayMs: 10 });
    const res = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], { cwd: dir });
    expect(res.code).toBe(3);
    const out = json(res.stdout);
    expect(out.statuses.delivered).toBe(20);
    expect(out.statuses.failed).toBe(2);
    const reasons = (out.problems as { row: number; reason: string }[]).map((p) => [
      p.row,
      p.reason.split(':')[0],
    ]);
    expect(reasons).toEqual([
      [21, '3032'],
      [22, '1061'],
    ]);
    // 1061 was refused at intake: it never reached the carrier's log.
    expect(carrierLog(dir).map((r) => r.to)).not.toContain('01001061001');
  });

  it('survives kill -9 at several points: resume sends every recipient exactly once', async () => {
    const dir = workdir();
    writeCampaign(dir, 5000);
    writeConfig(dir, { tps: 2500, dlrDelayMs: 30, latencyMs: 3 });
    const args = ['send', 'recipients.csv', '-t', 'notice.md', '--yes'];
    for (const point of [300, 1500, 3200]) {
      const run = startUms(point === 300 ? args : ['resume'], dir);
      await waitForCarrier(dir, point);
      run.child.kill('SIGKILL');
      const ended = await run.exited;
      expect(ended.signal).toBe('SIGKILL');
    }
    const last = await runUms(['resume', '--json'], { cwd: dir });
    expect(last.code).toBe(0);
    const log = carrierLog(dir);
    expect(duplicatesAtCarrier(log)).toEqual([]);
    expect(new Set(log.map((r) => r.to)).size).toBe(5000);
    const out = json(last.stdout);
    expect((out.statuses.delivered ?? 0) + (out.statuses.sent ?? 0)).toBe(5000);
    expect(out.statuses.unknown ?? 0).toBe(0);
  });

  it('finishes under 30% injected throttles, 503s and lost answers with no duplicates and no losses', async () => {
    const dir = workdir();
    writeCampaign(dir, 3000);
    writeConfig(dir, {
      tps: 0,
      maxBatch: 100,
      throttleRate: 0.1,
      unavailableRate: 0.1,
      ambiguousRate: 0.1,
      dlrDelayMs: 10,
      seed: 7,
    });
    const res = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], { cwd: dir });
    expect(res.code).toBe(0);
    const out = json(res.stdout);
    expect(out.run.throttles).toBeGreaterThan(0);
    expect(out.run.retried).toBeGreaterThan(0);
    const log = carrierLog(dir);
    expect(duplicatesAtCarrier(log)).toEqual([]);
    expect(new Set(log.map((r) => r.to)).size).toBe(3000);
    expect((out.statuses.delivered ?? 0) + (out.statuses.sent ?? 0)).toBe(3000);
  });

  it('lets one process at a time send a campaign (exit 75), and takes over the lock of a dead one', async () => {
    const dir = workdir();
    writeCampaign(dir, 3000);
    writeConfig(dir, { tps: 600, dlrDelayMs: 10 });
    const args = ['send', 'recipients.csv', '-t', 'notice.md', '--yes'];
    const first = startUms(args, dir);
    await waitForCarrier(dir, 100);
    const second = await runUms(args, { cwd: dir });
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(new RegExp(`pid ${first.child.pid}\\b`));
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await runUms(['resume', '--json'], { cwd: dir });
    expect(third.code).toBe(0);
    expect(duplicatesAtCarrier(carrierLog(dir))).toEqual([]);
    expect(carrierLog(dir)).toHaveLength(3000);
  });

  const ctrlC = [
    {
      name: 'stops cleanly on Ctrl-C (exit 1, "ums resume"), and resume finishes the rest',
      rows: 2000,
      sim: { tps: 800, dlrDelayMs: 10 },
      killAfter: 200,
    },
    // ~30,000 a second: a signal noticed only at the end would let all 60,000 go
    {
      name: 'stops on Ctrl-C even when the provider answers at once (no I/O to let the signal in)',
      rows: 60_000,
      sim: { tps: 0, latencyMs: 0, dlrDelayMs: 10 },
      killAfter: 1000,
    },
  ];
  for (const c of ctrlC) {
    it(c.name, async () => {
      const dir = workdir();
      writeCampaign(dir, c.rows);
      writeConfig(dir, c.sim);
      const run = startUms(['send', 'recipients.csv', '-t', 'notice.md', '--yes'], dir);
      await waitForCarrier(dir, c.killAfter);
      run.child.kill('SIGINT');
      const ended = await run.exited;
      expect(ended.code).toBe(1);
      expect(ended.stderr).toMatch(/ums resume/);
      expect(carrierLog(dir).length).toBeLessThan(c.rows);
      const res = await runUms(['resume', '--json'], { cwd: dir });
      expect(res.code).toBe(0);
      expect(carrierLog(dir)).toHaveLength(c.rows);
      expect(duplicatesAtCarrier(carrierLog(dir))).toEqual([]);
    });
  }

  it('--limit sends at most N now and leaves the rest planned', async () => {
    const dir = workdir();
    writeCampaign(dir, 500);
    writeConfig(dir, { tps: 0, dlrDelayMs: 5 });
    const res = await runUms(
      ['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--limit', '120', '--json'],
      { cwd: dir },
    );
    expect(res.code).toBe(0);
    expect(json(res.stdout).outcome).toBe('limit');
    expect(carrierLog(dir)).toHaveLength(120);
    const rest = await runUms(['resume', '--json'], { cwd: dir });
    expect(rest.code).toBe(0);
    expect(carrierLog(dir)).toHaveLength(500);
    expect(duplicatesAtCarrier(carrierLog(dir))).toEqual([]);
  });
});
