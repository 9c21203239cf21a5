import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/journal.js';
import { writeCampaign, writeConfig } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';

const EN = { LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8' };

/** A folder with an SQLite journal holding campaign `x`, planned and armed (a send that stopped). */
async function armedCampaign(): Promise<string> {
  const dir = workdir();
  writeConfig(dir, { tps: 0, dlrDelayMs: 5 });
  writeCampaign(dir, 5);
  const plan = await runUms(['send', 'recipients.csv', '-t', 'notice.md', '--dry-run', '--campaign', 'x'], {
    cwd: dir,
    env: EN,
  });
  expect(plan.code, plan.stderr).toBe(0);
  const j = Journal.open(path.join(dir, 'journal.db'));
  j.arm('x');
  j.close();
  return dir;
}

/** Another host's `ums send` holds campaign x's lock, its worker's lease running until `leaseUntil`. */
function foreignHolder(dir: string, leaseUntil: number): void {
  const j = Journal.open(path.join(dir, 'journal.db'));
  expect(j.delivery().acquireLock('x', 999_999, 'other-host', 'ums send', () => true)).toBeNull();
  j.workers().register({
    campaignId: 'x',
    host: 'other-host',
    pid: 999_999,
    command: 'ums send',
    leaseUntil,
    startedAt: new Date().toISOString(),
  });
  j.close();
}

describe('ums resume --join and the campaign lock of another host', () => {
  it('--join on an SQLite journal exits 2 with one line', async () => {
    const dir = await armedCampaign();
    const r = await runUms(['resume', 'x', '--join'], { cwd: dir, env: EN });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--join needs a PostgreSQL journal/);
    expect(r.stdout).toBe('');
  });

  it('a plain resume while another host holds the lock under a live lease exits 75 naming when it runs out', async () => {
    const dir = await armedCampaign();
    const until = Date.now() + 60_000;
    foreignHolder(dir, until);
    const r = await runUms(['resume', 'x'], { cwd: dir, env: EN });
    expect(r.code).toBe(75);
    expect(r.stderr).toContain(new Date(until).toISOString());
    expect(r.stderr).toMatch(/pid 999999 on other-host .*lease runs until .*retry then/);
    // the same holder without a lease (planning, or a journal only one host writes): held, as before
    const j = Journal.open(path.join(dir, 'journal.db'));
    const w = j.workers().ofProcess('x', 'other-host', 999_999)!;
    j.workers().remove(w.id);
    j.close();
    const held = await runUms(['resume', 'x'], { cwd: dir, env: EN });
    expect(held.code).toBe(75);
    expect(held.stderr).toMatch(/being planned or sent by pid 999999 on other-host/);
  });

  it('a lease run out gives the lock to the next resume, which sends the rest', async () => {
    const dir = await armedCampaign();
    foreignHolder(dir, Date.now() - 1000);
    const r = await runUms(['resume', 'x', '--json'], { cwd: dir, env: EN });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { statuses: Record<string, number> };
    expect((out.statuses.delivered ?? 0) + (out.statuses.sent ?? 0)).toBe(5);
  });

  it('leaseMs is checked with the config', async () => {
    const dir = await armedCampaign();
    const file = path.join(dir, 'ums.config.yaml');
    fs.appendFileSync(file, 'leaseMs: 10\n');
    const r = await runUms(['resume', 'x'], { cwd: dir, env: EN });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/leaseMs/);
  });
});
