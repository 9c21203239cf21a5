import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { readCarrierLog } from '../../src/providers/sim/carrierLog.js';
import { writeCampaign } from '../support/campaign.js';
import { type RunResult, runUms, UMS, workdir } from '../support/cli.js';
import { findInitdb, freshDatabase, type PostgresServer, startPostgres } from '../support/postgresServer.js';

/**
 * `journal: postgres://…`: the built `ums` on a journal in PostgreSQL (a throwaway server with a
 * password, started here), shared by two folders with their own configs. In CI a server that cannot
 * start fails this file; elsewhere, without PostgreSQL installed, it is skipped.
 */
const PASSWORD = 'pg-Secret-7f3a';
const available = Boolean(process.env.CI || findInitdb());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let server: PostgresServer;
const outputs: string[] = [];

/** runUms, its output kept for the password check */
async function ums(args: string[], cwd: string, env: Record<string, string> = {}): Promise<RunResult> {
  const r = await runUms(args, { cwd, env: { UMS_PG_PASSWORD: PASSWORD, ...env } });
  outputs.push(r.stdout, r.stderr);
  return r;
}

/** A folder whose config names `url` (its password as ${UMS_PG_PASSWORD}) as the journal. */
function folder(url: string, sim: Record<string, unknown> = { tps: 0, dlrDelayMs: 10 }): string {
  const dir = workdir();
  const u = new URL(url);
  u.password = '';
  const withVar = u.toString().replace('ums@', 'ums:${UMS_PG_PASSWORD}@');
  const simLines = Object.entries({ type: 'sim', ...sim }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    [`journal: ${withVar}`, 'providers:', '  sim:', ...simLines, ''].join('\n'),
  );
  return dir;
}

/** What the simulated carrier received: its log, in the journal (on PostgreSQL no file is written). */
function carrier(url: string) {
  const j = Journal.open(url, { stateDir: fs.mkdtempSync(path.join(os.tmpdir(), 'ums-pg-side-')) });
  try {
    return readCarrierLog(j.sideLogs().log('sim-sim.jsonl').lines());
  } finally {
    j.close();
  }
}

describe.skipIf(!available)('a journal on PostgreSQL', () => {
  beforeAll(async () => {
    server = await startPostgres({ password: PASSWORD });
  });
  afterAll(() => server?.stop());

  it('sends on the simulator; another folder reports, exports and lists the same campaign', async () => {
    const url = freshDatabase(server.url);
    const a = folder(url);
    writeCampaign(a, 200);
    const sent = await ums(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--json'], a);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const out = JSON.parse(sent.stdout) as { campaign: string; statuses: Record<string, number> };
    expect((out.statuses.delivered ?? 0) + (out.statuses.sent ?? 0)).toBe(200);
    expect(carrier(url)).toHaveLength(200);
    // nothing beside the config: no journal file, and the provider's side log is in the journal
    expect(fs.existsSync(path.join(a, '.ums', 'journal.db'))).toBe(false);
    expect(fs.existsSync(path.join(a, '.ums', 'sim-sim.jsonl'))).toBe(false);

    const b = folder(url);
    const report = await ums(['report', out.campaign, '--sync', '--json'], b);
    expect(report.code).toBe(0);
    expect(JSON.parse(report.stdout).statuses.delivered).toBe(200);
    const exported = await ums(['export', out.campaign, '--format', 'json'], b);
    expect(exported.code).toBe(0);
    const rows = JSON.parse(exported.stdout) as { row: number; status: string; provider_id: string }[];
    expect(rows).toHaveLength(200);
    expect(rows.every((r) => r.status === 'delivered' && r.provider_id.startsWith('SIM'))).toBe(true);
    const campaigns = await ums(['campaigns'], b);
    expect(campaigns.code).toBe(0);
    expect(campaigns.stdout).toContain(out.campaign);
    expect(campaigns.stdout).toMatch(/done\s+200/);
  });

  it('never sends to a number another folder opted out mid-run; a second sender of the campaign exits 75', async () => {
    const url = freshDatabase(server.url);
    const a = folder(url, { tps: 40, dlrDelayMs: 10 });
    writeCampaign(a, 300);
    const b = folder(url);
    const child = spawn(
      process.execPath,
      [UMS, 'send', 'recipients.csv', '-t', 'notice.md', '--yes', '--campaign', 'pgc'],
      {
        cwd: a,
        env: { ...process.env, NO_COLOR: '1', UMS_PG_PASSWORD: PASSWORD },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (carrier(url).length < 20) {
      if (Date.now() > deadline) throw new Error(`the send did not start: ${stderr}`);
      await sleep(50);
    }
    const optout = await ums(['optout', 'add', '010-2000-0299'], b);
    expect(optout.code).toBe(0);
    const second = await ums(['resume', 'pgc'], b);
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(new RegExp(`pid ${child.pid}\\b`));
    const code = await exited;
    outputs.push(stdout, stderr);
    expect(code).toBe(0);
    const to = carrier(url).map((r) => r.to);
    expect(to.length).toBeLessThan(300);
    expect(to).not.toContain('01020000299');
    expect(new Set(to).size).toBe(to.length);
    const exported = await ums(['export', 'pgc', '--format', 'json'], b);
    const rows = JSON.parse(exported.stdout) as { row: number; status: string; reason: string }[];
    expect(rows.find((r) => r.row === 300)).toMatchObject({ status: 'skipped' });
  });

  it('a sender killed (-9) with reports pending: another folder resumes, and collects them from the carrier log in the journal', async () => {
    const url = freshDatabase(server.url);
    const sim = { tps: 40, dlrDelayMs: 4000 };
    const lease = (dir: string) => fs.appendFileSync(path.join(dir, 'ums.config.yaml'), 'leaseMs: 1000\n');
    const a = folder(url, sim);
    const b = folder(url, sim);
    lease(a);
    lease(b);
    writeCampaign(a, 200);
    const child = spawn(
      process.execPath,
      [UMS, 'send', 'recipients.csv', '-t', 'notice.md', '--yes', '--campaign', 'pgk'],
      {
        cwd: a,
        env: { ...process.env, NO_COLOR: '1', UMS_PG_PASSWORD: PASSWORD },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<string | null>((resolve) =>
      child.on('close', (_code, signal) => resolve(signal)),
    );
    const deadline = Date.now() + 30_000;
    while (carrier(url).length < 40) {
      if (Date.now() > deadline) throw new Error(`the send did not start: ${stderr}`);
      await sleep(50);
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const atKill = carrier(url);
    expect(atKill.length).toBeLessThan(200);
    // none of its reports was due yet: they were pending in the simulated carrier when it died
    expect(Math.min(...atKill.map((r) => r.due))).toBeGreaterThan(Date.now() - 1000);
    // a folder with no file of the first one: nothing of the carrier's log is there
    expect(fs.existsSync(path.join(b, '.ums', 'sim-sim.jsonl'))).toBe(false);
    await sleep(1500); // the dead sender's lease runs out
    const resumed = await ums(['resume', 'pgk'], b);
    expect(resumed.code, resumed.stderr).toBe(0);
    await sleep(4500); // every report due
    const report = await ums(['report', 'pgk', '--sync', '--json'], b);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout).statuses).toEqual({ delivered: 200 });
    // each recipient received once by the simulated carrier, whichever process sent it
    const to = carrier(url).map((r) => r.to);
    expect(to).toHaveLength(200);
    expect(new Set(to).size).toBe(200);
    expect(fs.existsSync(path.join(a, '.ums', 'sim-sim.jsonl'))).toBe(false);
  }, 90_000);

  it('an unreachable server exits 1 with one line; a bad password or a missing database exits 2', async () => {
    const u = new URL(server.url);
    const port = u.port;
    const down = folder(`postgres://ums@127.0.0.1:1/ums`);
    const r1 = await ums(['campaigns'], down);
    expect(r1.code).toBe(1);
    expect(r1.stderr.trim().split('\n')).toHaveLength(1);
    expect(r1.stderr).toContain('postgres://ums:***@127.0.0.1:1/ums');

    const bad = folder(`postgres://ums@127.0.0.1:${port}/postgres`);
    const r2 = await ums(['campaigns'], bad, { UMS_PG_PASSWORD: 'not-the-password' });
    expect(r2.code).toBe(2);
    expect(r2.stderr.trim().split('\n')).toHaveLength(1);
    expect(r2.stderr).toMatch(/password authentication failed/);
    expect(r2.stderr).not.toContain('not-the-password');

    const missing = folder(`postgres://ums@127.0.0.1:${port}/no_such_db`);
    const r3 = await ums(['campaigns'], missing);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/no_such_db.*does not exist/);

    // UMS_DB names the journal too; a database of something else is never migrated into
    const other = freshDatabase(server.url);
    const { PostgresDatabase } = await import('../../src/journal/postgres.js');
    const db = PostgresDatabase.open(other);
    db.exec('CREATE TABLE invoices (id integer)');
    db.close();
    const r4 = await ums(['campaigns'], workdir(), { UMS_DB: other });
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/not an ums journal.*invoices/);
    expect(r4.stderr).toContain('***');
  });

  it('never prints the password', () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const o of outputs) expect(o).not.toContain(PASSWORD);
  });
});
