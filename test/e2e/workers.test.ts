import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/journal/postgres.js';
import { campaignPhones, writeCampaign } from '../support/campaign.js';
import { runUms, workdir } from '../support/cli.js';
import { FakeSmsc } from '../support/fakeSmsc.js';
import { FakeSolapi } from '../support/fakeSolapi.js';
import { findInitdb, freshDatabase, type PostgresServer, startPostgres } from '../support/postgresServer.js';
import { killLeftovers, type Running, sleep, start } from '../support/reliability.js';

/**
 * Several workers on one campaign (`ums resume C --join`, a journal on PostgreSQL): the built `ums`
 * in four folders, each with its own config naming the same database, sending through the fake
 * Solapi. The worker holding the lane is killed (-9) with a request in flight; another one takes
 * the lane once the dead one's lease has run out, and its rows left `sending` are looked up, never
 * sent again blindly.
 */
const available = Boolean(process.env.CI || findInitdb());
const KEY = 'NCSWORKERSKEY001';
const SECRET = 'workers-solapi-secret';
const ENV = { SOLAPI_API_KEY: KEY, SOLAPI_API_SECRET: SECRET };
const TPS = 20;
const ROWS = 240;
const LEASE_MS = 2000;

/** A launcher for start(): waits for ./go, then runs `ums`. */
const WAIT_FOR_GO = ['sh', '-c', 'while [ ! -e go ]; do sleep 0.02; done; exec "$@"', 'sh'];

let server: PostgresServer;
const fakes: { close(): Promise<void> }[] = [];

function folder(url: string, f: FakeSolapi): string {
  const dir = workdir();
  const provider = {
    type: 'solapi',
    apiKey: '${SOLAPI_API_KEY}',
    apiSecret: '${SOLAPI_API_SECRET}',
    baseUrl: f.url,
    tps: TPS,
    batchSize: 5,
    timeoutMs: 20_000,
  };
  writeWorkerConfig(dir, url, 'solapi', provider);
  return dir;
}

/** A worker's config: the shared journal, a short lease, one provider as the default route. */
function writeWorkerConfig(dir: string, url: string, name: string, provider: Record<string, unknown>): void {
  fs.writeFileSync(
    path.join(dir, 'ums.config.yaml'),
    [
      `journal: ${url}`,
      'from: "0212345678"',
      `leaseMs: ${LEASE_MS}`,
      'providers:',
      `  ${name}:`,
      ...Object.entries(provider).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      `routes: { default: ${name} }`,
      '',
    ].join('\n'),
  );
}

/** The most messages the fake accepted in any one second (a window sliding over their arrivals). */
function busiestSecond(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j]! - t[i]! >= 1000) i++;
    most = Math.max(most, j - i + 1);
  }
  return most;
}

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.skipIf(!available)('workers joining a campaign (PostgreSQL)', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.stop());
  afterEach(async () => {
    killLeftovers();
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  it('three workers, the lane holder killed mid-run: taken over after its lease, nothing sent twice or lost, the rate kept, an opt-out honoured', async () => {
    let hangAt = 0; // the send request whose answer never comes (set once the send runs)
    let hungGroup: string | undefined; // its messages' group
    const f: FakeSolapi = await FakeSolapi.start({
      apiKey: KEY,
      apiSecret: SECRET,
      reportDelayMs: 20,
      hangAnswer: (n) => {
        if (n !== hangAt) return false;
        hungGroup = f.messages.at(-1)?.groupId;
        return true;
      },
    });
    fakes.push(f);
    const url = freshDatabase(server.url, 'ums_w');
    const [a, b, c, d] = [folder(url, f), folder(url, f), folder(url, f), folder(url, f)];
    writeCampaign(a, ROWS);
    // The joiners' processes are spawned first, each waiting for its folder's `go` file: a spawn
    // blocks this process (the fake's) for a moment, which would bunch the arrivals it stamps.
    const joiners: Running[] = [b, c].map((dir) => start(['resume', 'wk', '--join'], dir, ENV, WAIT_FOR_GO));
    const first = start(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--campaign', 'wk'], a, ENV);
    await until('the send to start', () => f.accepted().length >= 20);
    for (const dir of [b, c]) fs.writeFileSync(path.join(dir, 'go'), '');
    await sleep(1500); // both registered, standing by
    expect(joiners.every((j) => !j.done())).toBe(true);
    // the next request hangs (its messages are the fake's): the holder is killed while it waits
    hangAt = f.stats.sendRequests + 1;
    await until('a request in flight', () => f.stats.hung === 1);
    const inFlight = f.messages.filter((m) => m.groupId === hungGroup).map((m) => m.customFields.umsKey!);
    expect(inFlight.length).toBeGreaterThan(0);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    const firstExit = await first.exited;
    expect(firstExit.signal).toBe('SIGKILL');
    const acceptedAtKill = f.accepted().length;
    // the dead worker's lease, read now (a synchronous read here would hold up the fake's clock later)
    const pg = PostgresDatabase.open(url);
    let leaseUntil: number;
    try {
      const r = pg.query('SELECT lease_until FROM workers WHERE pid = $1', [first.child.pid]);
      leaseUntil = Number(r.rows[0]?.[0]);
    } finally {
      pg.close();
    }
    expect(acceptedAtKill).toBeLessThan(ROWS - 40);
    // from a fourth folder, while no one sends: the last recipient opts out
    const last = campaignPhones(ROWS).at(-1)!;
    const optout = await runUms(['optout', 'add', last], { cwd: d, env: ENV });
    expect(optout.code).toBe(0);

    // a joiner takes the lane over, but not before the dead worker's lease ran out
    await until('another worker to send', () => f.accepted().length > acceptedAtKill, 20_000).catch(
      async (err) => {
        for (const j of joiners) j.child.kill('SIGKILL');
        const out = await Promise.all(joiners.map((j) => j.exited));
        throw new Error(`${(err as Error).message}: ${out.map((o) => `${o.code} ${o.stderr}`).join(' | ')}`);
      },
    );
    const resumedAt = f.accepted()[acceptedAtKill]!.createdAt;
    expect(leaseUntil).toBeGreaterThan(killedAt - LEASE_MS);
    expect(resumedAt).toBeGreaterThanOrEqual(leaseUntil);
    const ends = await Promise.all(joiners.map((j) => j.exited));
    for (const e of ends) expect(e.code, e.stderr).toBe(0);
    // each joiner said what held it back: the lane held elsewhere (it stood by), or, one that first
    // asked once the holder was dead (a slow start under load), the dead worker's lease
    for (const e of ends)
      expect(e.stderr).toMatch(/(standing by|대기 중): sms\/solapi|waiting for the lease of pid \d+/);
    // the messages of the request in flight were looked up (not sent again)
    expect(f.listQueries.length).toBeGreaterThan(0);
    for (const key of inFlight) expect(f.submissions.get(key)).toBe(1);

    // duplicates 0: each message key, and each number, accepted once
    const accepted = f.accepted();
    const keys = accepted.map((m) => m.customFields.umsKey);
    expect(new Set(keys).size).toBe(keys.length);
    const to = accepted.map((m) => m.to);
    expect(new Set(to).size).toBe(to.length);
    expect([...f.submissions.values()].every((n) => n === 1)).toBe(true);
    // the opted-out number was never sent; every other one was
    expect(to).not.toContain(last);
    expect(accepted).toHaveLength(ROWS - 1);
    // lost 0: every row sent (or delivered), the last one skipped
    const exported = await runUms(['export', 'wk', '--format', 'json'], { cwd: d, env: ENV });
    expect(exported.code, exported.stderr).toBe(0);
    const rows = JSON.parse(exported.stdout) as { row: number; status: string; reason: string | null }[];
    expect(rows).toHaveLength(ROWS);
    expect(rows.filter((r) => r.status === 'sent' || r.status === 'delivered')).toHaveLength(ROWS - 1);
    expect(rows.find((r) => r.row === ROWS)).toMatchObject({ status: 'skipped' });
    // the lane's rate is the account's, whichever worker held it
    expect(busiestSecond(accepted.map((m) => m.createdAt))).toBeLessThanOrEqual(TPS + 1);
    // the finished workers deleted their rows; the dead one's is left, its lease run out
    const campaigns = await runUms(['campaigns'], { cwd: d, env: ENV });
    expect(campaigns.stdout).toMatch(/wk\b.*done/);
  }, 120_000);

  it('an SMPP lane is bound by the worker that runs it only: a joiner standing by never binds', async () => {
    const smsc = await FakeSmsc.start({ receipts: { delayMs: 20 } });
    fakes.push({ close: () => smsc.stop() });
    const url = freshDatabase(server.url, 'ums_w');
    const smppFolder = (): string => {
      const dir = workdir();
      const provider = {
        type: 'smpp',
        host: '127.0.0.1',
        port: smsc.port,
        systemId: 'ums',
        password: '${SMPP_PASSWORD}',
        tps: 40,
        reportWaitMs: 500,
      };
      writeWorkerConfig(dir, url, 'carrier', provider);
      return dir;
    };
    const env = { SMPP_PASSWORD: 'secret' };
    const [a, b] = [smppFolder(), smppFolder()];
    writeCampaign(a, 160);
    const first = start(['send', 'recipients.csv', '-t', 'notice.md', '--yes', '--campaign', 'sm'], a, env);
    await until('the send to start', () => smsc.messages.length >= 10);
    const joiner = start(['resume', 'sm', '--join'], b, env);
    const [x, y] = await Promise.all([first.exited, joiner.exited]);
    expect(x.code, x.stderr).toBe(0);
    expect(y.code, y.stderr).toBe(0);
    expect(smsc.binds.filter((bind) => bind.ok)).toHaveLength(1);
    const to = smsc.messages.map((m) => m.to);
    expect(new Set(to).size).toBe(160);
    expect(to).toHaveLength(160);
  }, 60_000);
});
