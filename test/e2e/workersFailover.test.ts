import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from '../../src/journal/postgres.js';
import type { FakeSolapi } from '../support/fakeSolapi.js';
import { findInitdb, freshDatabase, type PostgresServer, startPostgres } from '../support/postgresServer.js';
import { killLeftovers, type Running, start } from '../support/reliability.js';
import { twoRelays } from '../support/twoRelays.js';

/**
 * Failover with several workers on one campaign (`ums resume C --join`, a journal on PostgreSQL):
 * a route [solapi, nhn], the built `ums` in three folders naming the same database. Each worker's
 * failover state (which provider is out) is its own; a row moved between providers by one worker is
 * claimed by whichever worker holds the lane it was moved to, and only once.
 */
const available = Boolean(process.env.CI || findInitdb());
const { ENV, sleep, fakes, phone, config, campaignDir, rowsOf, ums, expectEveryoneOnce } = twoRelays({
  key: 'NCSWKFAILOVER001',
  secret: 'workers-failover-secret',
  app: 'wkFailoverApp001',
  nhnSecret: 'workers-failover-nhn-secret',
  senderKey: 'workers-failover-sender-key-000000000041',
  phoneBase: 4100,
});
const LEASE_MS = 2000;
/** over 90 EUC-KR bytes: an LMS */
const LONG =
  '주문하신 상품이 발송되었습니다. 배송 조회는 문자에 있는 링크에서 확인하실 수 있고 문의는 고객센터로 연락 주세요. 감사합니다.';
const SEND = ['send', 'r.csv', '-t', 't.md', '--yes', '--campaign', 'wf'];

let server: PostgresServer;

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Folders for `count` workers: the same config (the shared journal, a short lease), the campaign's files. */
function folders(count: number, cfg: string, rows: string[]): string[] {
  return Array.from({ length: count }, () => campaignDir(cfg, rows));
}

function workerConfig(
  url: string,
  solapiUrl: string,
  nhnUrl: string,
  extra: string[],
  routes: string[] = [],
  nhn: Record<string, unknown> = {},
): string {
  return config({
    solapiUrl,
    nhnUrl,
    routes: ['sms: [solapi, nhn]', ...routes],
    extra: [`leaseMs: ${LEASE_MS}`, 'failoverAfterMs: 400', ...extra],
    solapi: { tps: 30 },
    nhn: { tps: 30, batchSize: 10, ...nhn },
  }).replace('journal: ./journal.db', `journal: ${url}`);
}

/** The journal, read from this process (synchronously: kept to a few queries). */
function query(url: string, sql: string, params: unknown[] = []): unknown[][] {
  const pg = PostgresDatabase.open(url);
  try {
    return pg.query(sql, params).rows as unknown[][];
  } finally {
    pg.close();
  }
}

/** Each journal key accepted by Solapi once (a key it answered 503 to was taken by no one). */
function expectKeysOnce(solapi: FakeSolapi): void {
  const keys = solapi.accepted().map((m) => m.customFields.umsKey);
  expect(new Set(keys).size).toBe(keys.length);
}

interface Report {
  providers: { provider: string; messages: number; waiting: number }[];
  moves: { from: string; to: string; why: string; count: number }[];
  statuses: Record<string, number>;
}

/** Every row of the journal sent or delivered, the report's counts per provider the fakes' own. */
async function expectJournalDone(
  dir: string,
  n: number,
  at: { solapi: number; nhn: number },
): Promise<Report> {
  const exported = await ums(['export', 'wf', '--format', 'json'], dir);
  expect(exported.code, exported.stderr).toBe(0);
  const rows = JSON.parse(exported.stdout) as { row: number; status: string }[];
  expect(rows).toHaveLength(n);
  expect(rows.filter((r) => r.status !== 'sent' && r.status !== 'delivered')).toEqual([]);
  const res = await ums(['report', 'wf', '--json'], dir);
  expect(res.code, res.stderr).toBe(0);
  const report = JSON.parse(res.stdout) as Report;
  const by = Object.fromEntries(report.providers.map((p) => [p.provider, p.messages]));
  expect(by.solapi ?? 0).toBe(at.solapi);
  expect(by.nhn ?? 0).toBe(at.nhn);
  expect(report.providers.every((p) => p.waiting === 0)).toBe(true);
  const campaigns = await ums(['campaigns'], dir);
  expect(campaigns.stdout).toMatch(/wf\b.*done/);
  return report;
}

describe.skipIf(!available)('failover with several workers on one campaign (PostgreSQL)', () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(() => server?.stop());
  afterEach(() => killLeftovers());

  it('three workers, Solapi answers 503 mid-run (sends and look-ups), then answers again: SMS rows move to NHN, to a lane the mover does not hold, and come back; every recipient exactly once, every worker exits 0', async () => {
    const SMS = 240;
    const LMS = 240;
    const N = SMS + LMS;
    const { solapi, nhn } = await fakes();
    const url = freshDatabase(server.url, 'ums_wf');
    // The first worker holds sms/solapi and lms/nhn (its LMS lane keeps its pass running, ~8 s): the
    // SMS rows it moves to NHN wait on sms/nhn, a lane no worker holds, for a worker standing by.
    const cfg = workerConfig(url, solapi.url, nhn.url, ['failbackAfterMs: 800'], ['lms: nhn']);
    const rows = Array.from({ length: N }, (_, i) => `고객${i},${phone(i)},${i < SMS ? '짧은 안내' : LONG}`);
    const [a, b, c] = folders(3, cfg, rows);
    const first = start(SEND, a!, ENV);
    await until('the send to start', () => solapi.stats.sendRequests >= 1);
    const joiners: Running[] = [b!, c!].map((dir) => start(['resume', 'wf', '--join'], dir, ENV));
    await until('Solapi to take 60', () => solapi.accepted().length >= 60);
    solapi.options.failSendsWith = 503;
    solapi.options.failListsWith = 503;
    const atOutage = solapi.accepted().length;
    await until('NHN to take 40 SMS', () => nhn.accepted().filter((r) => r.title === null).length >= 40);
    solapi.options.failSendsWith = null;
    solapi.options.failListsWith = null;
    const ends = await Promise.all([first, ...joiners].map((w) => w.exited));
    for (const e of ends) expect(e.code, e.stderr).toBe(0);

    expectEveryoneOnce(solapi, nhn, N);
    expectKeysOnce(solapi);
    // Solapi took SMS again once it answered (failback), after NHN had taken some
    expect(solapi.accepted().length).toBeGreaterThan(atOutage);
    expect(solapi.accepted().every((m) => m.type === 'SMS')).toBe(true);
    // the moved SMS rows NHN took were sent by one worker, the one that took the lane nobody held
    // (a joiner standing by, or the mover itself while its LMS lane ran)
    const sentBy = query(
      url,
      `SELECT DISTINCT worker FROM messages WHERE channel = 'sms' AND provider = 'nhn' AND status IN ('sent', 'delivered')`,
    ).map((r) => Number(r[0]));
    expect(sentBy).toHaveLength(1);
    const report = await expectJournalDone(a!, N, {
      solapi: solapi.accepted().length,
      nhn: nhn.accepted().length,
    });
    const moves = new Map(report.moves.map((m) => [`${m.from}>${m.to}:${m.why}`, m.count]));
    expect(moves.get('solapi>nhn:unavailable')).toBeGreaterThan(0);
    expect(moves.get('nhn>solapi:recovered')).toBeGreaterThan(0);
  }, 90_000);

  it('Solapi out, back (failback), out again: the rows moved the second time go out on NHN at once, from the worker holding sms/nhn while it stood by, not when the mover’s LMS lane ends', async () => {
    const SMS = 200;
    const LMS = 360;
    const N = SMS + LMS;
    const { solapi, nhn } = await fakes();
    const url = freshDatabase(server.url, 'ums_wf');
    const cfg = workerConfig(url, solapi.url, nhn.url, ['failbackAfterMs: 800'], ['lms: nhn'], {
      tps: 20,
    });
    const rows = Array.from({ length: N }, (_, i) => `고객${i},${phone(i)},${i < SMS ? '짧은 안내' : LONG}`);
    const [a, b, c] = folders(3, cfg, rows);
    const first = start(SEND, a!, ENV);
    await until('the send to start', () => solapi.stats.sendRequests >= 1);
    const joiners: Running[] = [b!, c!].map((dir) => start(['resume', 'wf', '--join'], dir, ENV));
    const smsAtNhn = (): number => nhn.accepted().filter((r) => r.title === null).length;
    const out = (on: boolean): void => {
      solapi.options.failSendsWith = on ? 503 : null;
      solapi.options.failListsWith = on ? 503 : null;
    };
    await until('Solapi to take 50', () => solapi.accepted().length >= 50);
    out(true);
    await until('NHN to take 20 SMS', () => smsAtNhn() >= 20);
    out(false);
    const back = solapi.accepted().length;
    await until('Solapi to take 20 again (failback)', () => solapi.accepted().length >= back + 20);
    out(true); // out again, for good: what waits for it moves to NHN once more
    const ends = await Promise.all([first, ...joiners].map((w) => w.exited));
    for (const e of ends) expect(e.code, e.stderr).toBe(0);

    expectEveryoneOnce(solapi, nhn, N);
    expectKeysOnce(solapi);
    expect(smsAtNhn()).toBeGreaterThan(20);
    // every SMS was at NHN well before the LMS lane's last: the second move did not wait for it
    const order = nhn.accepted().map((r) => (r.title === null ? 'sms' : 'lms'));
    expect(order.lastIndexOf('sms')).toBeLessThan(order.lastIndexOf('lms') - 20);
    const report = await expectJournalDone(a!, N, {
      solapi: solapi.accepted().length,
      nhn: nhn.accepted().length,
    });
    const moves = new Map(report.moves.map((m) => [`${m.from}>${m.to}:${m.why}`, m.count]));
    expect(moves.get('solapi>nhn:unavailable')).toBeGreaterThan(0);
    expect(moves.get('nhn>solapi:recovered')).toBeGreaterThan(0);
  }, 90_000);

  it('three workers, Solapi answers 503 mid-run and stays out; the worker sending on NHN is killed (-9): another takes its lanes after its lease, every recipient exactly once', async () => {
    const N = 300;
    const { solapi, nhn } = await fakes();
    const url = freshDatabase(server.url, 'ums_wf');
    const cfg = workerConfig(url, solapi.url, nhn.url, []);
    const [a, b, c] = folders(3, cfg, rowsOf(N));
    const workers: Running[] = [start(SEND, a!, ENV)];
    await until('the send to start', () => solapi.stats.sendRequests >= 1);
    workers.push(...[b!, c!].map((dir) => start(['resume', 'wf', '--join'], dir, ENV)));
    await until('Solapi to take 40', () => solapi.accepted().length >= 40);
    solapi.options.failSendsWith = 503;
    const atOutage = solapi.accepted().length;
    await until('NHN to take 60', () => nhn.accepted().length >= 60);
    // the worker whose claims NHN is taking: killed with its lanes held
    const [[pid]] = query(
      url,
      `SELECT w.pid FROM messages m JOIN workers w ON w.id = m.worker
        WHERE m.provider = 'nhn' AND m.status IN ('sending', 'sent', 'delivered')
        ORDER BY m.id DESC LIMIT 1`,
    ) as [[number]];
    const victim = workers.find((w) => w.child.pid === Number(pid));
    expect(victim, `pid ${pid}`).toBeDefined();
    victim!.child.kill('SIGKILL');
    const killed = await victim!.exited;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = nhn.accepted().length;
    expect(atKill).toBeLessThan(N - atOutage - 20);
    const rest = workers.filter((w) => w !== victim);
    const ends = await Promise.all(rest.map((w) => w.exited));
    for (const e of ends) expect(e.code, e.stderr).toBe(0);

    expect(nhn.accepted().length).toBeGreaterThan(atKill);
    expectEveryoneOnce(solapi, nhn, N);
    expectKeysOnce(solapi);
    const report = await expectJournalDone(a!, N, {
      solapi: solapi.accepted().length,
      nhn: nhn.accepted().length,
    });
    expect(report.moves.filter((m) => m.why === 'unavailable').map((m) => [m.from, m.to])).toEqual([
      ['solapi', 'nhn'],
    ]);
  }, 90_000);
});
