// A lane's TPS shared by several workers on PostgreSQL (issue 18), measured both ways:
//  (a) pinned: one worker holds the lane (pg_try_advisory_lock, as src/journal/workers.ts tryPin) and
//      paces it alone with the lanes' own pacer (dist/delivery/laneRate.js), groups of BENCH_LANE_GROUP
//      parts taken as src/delivery/lane.ts does (tryTake, sleep wait + 1); a second connection's
//      try-lock is checked to be refused while it runs;
//  (b) a shared token bucket: a row of lane_bucket(lane, tokens, at) that BENCH_LANE_WORKERS worker
//      processes (each its own `pg` connection) take groups from, one statement per take that refills
//      by the server's clock_timestamp() and refuses when the tokens are not there; a refused worker
//      sleeps until they would be.
// Each side runs BENCH_LANE_SECONDS in child processes started together. Figures: achieved/target,
// the largest count in any sliding 1,000 ms of granted parts (the server's clock for the bucket, the
// takers' clock for both), statements per 1,000 parts, the workers' CPU ms per 1,000 parts and, when
// the server runs on this machine, its backends' (from /proc of pg_backend_pid()).
//
//   node bench/laneRate.js                    a throwaway PostgreSQL (initdb from /usr/lib/postgresql),
//                                             stopped at the end; none installed: a JSON line saying so
//   BENCH_PG_URL=postgres://ums@127.0.0.1/bench node bench/laneRate.js   an existing server instead
//                                             (table lane_bucket created if missing; only this run's row)
//   BENCH_LANE_TPS=500 BENCH_LANE_SECONDS=10 BENCH_LANE_WORKERS=3 BENCH_LANE_GROUP=5
//   BENCH_LANE_BURST=5                        the bucket's capacity in parts (default: one group: more
//                                             lets a late taker catch up, and a second hold that much more)
// Imports from ../dist: `npm run build` first (`npm run bench` does). The throwaway server runs with
// fsync and synchronous_commit off, like the tests': a take's commit costs no WAL flush here.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const self = fileURLToPath(import.meta.url);
const TPS = Number(process.env.BENCH_LANE_TPS ?? 500);
const SECONDS = Number(process.env.BENCH_LANE_SECONDS ?? 10);
const WORKERS = Number(process.env.BENCH_LANE_WORKERS ?? 3);
const GROUP = Number(process.env.BENCH_LANE_GROUP ?? 5);
const BURST = Number(process.env.BENCH_LANE_BURST ?? GROUP);
const LANE_LOCK_SPACE = 0x756d7302; // src/journal/workers.ts

const nowMs = () => performance.timeOrigin + performance.now();

// ---- the throwaway server (test/support/postgresServer.ts, the minimum) ----

function findBin() {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const v = fs
    .readdirSync(root)
    .filter((d) => fs.existsSync(path.join(root, d, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return v ? path.join(root, v, 'bin') : null;
}

async function freePort() {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startPostgres(bin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-bench-pg-'));
  const data = path.join(dir, 'data');
  // the server refuses to run as root: as the postgres user, which must own the folder
  const asRoot = process.getuid?.() === 0;
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const run = (cmd, args) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  };
  run(path.join(bin, 'initdb'), ['-D', data, '-U', 'ums', '--auth=trust', '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const pgCtl = path.join(bin, 'pg_ctl');
  const opts = `-p ${port} -k ${dir} -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  run(pgCtl, ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', opts, 'start']);
  return {
    url: `postgres://ums@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        run(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

// ---- figures ----

/** The largest sum of parts in any sliding (t - 1000, t] of `events` ([t, parts], any order). */
function slidingMax(events) {
  const e = [...events].sort((a, b) => a[0] - b[0]);
  let best = 0;
  let sum = 0;
  for (let i = 0, j = 0; i < e.length; i++) {
    sum += e[i][1];
    while (e[j][0] <= e[i][0] - 1000) sum -= e[j++][1];
    best = Math.max(best, sum);
  }
  return best;
}

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

/** CPU ms of a local process so far (utime + stime), or null when `pid` is not a local PostgreSQL backend. */
function processCpuMs(pid) {
  try {
    if (!fs.readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('postgres')) return null;
    // fields after the ")" that ends comm: state is the 3rd field, utime the 14th, stime the 15th
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_MS;
  } catch {
    return null;
  }
}

const round = (x, d = 1) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

// ---- the children ----

async function sleepUntil(t) {
  const { sleep } = await import('../dist/time/sleep.js');
  for (let d = t - nowMs(); d > 0; d = t - nowMs()) await sleep(d);
}

/** (a): the lane pinned to this worker, paced in process. */
async function pinnedChild({ url, lane, start, end }) {
  const { LaneRate } = await import('../dist/delivery/laneRate.js');
  const { sleep } = await import('../dist/time/sleep.js');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const backend = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  let statements = 0;
  const lock = (fn) =>
    client.query(`SELECT ${fn}(${LANE_LOCK_SPACE}, hashtext(CAST($1 AS TEXT))) AS ok`, [lane]);
  await sleepUntil(start);
  const cpu0 = process.cpuUsage();
  const server0 = processCpuMs(backend);
  statements++;
  if (!(await lock('pg_try_advisory_lock')).rows[0].ok) throw new Error('the lane is pinned elsewhere');
  process.stdout.write('pinned\n');
  const rate = new LaneRate(TPS);
  const takes = [];
  let parts = 0;
  while (nowMs() < end) {
    for (let wait = rate.tryTake(GROUP); wait > 0; wait = rate.tryTake(GROUP)) await sleep(wait + 1);
    const at = nowMs();
    if (at >= end) {
      rate.refund(GROUP);
      break;
    }
    rate.leavingNow();
    takes.push([at, GROUP]);
    parts += GROUP;
  }
  statements++;
  await lock('pg_advisory_unlock');
  const cpu = process.cpuUsage(cpu0);
  const server1 = processCpuMs(backend);
  await client.end();
  return {
    parts,
    statements,
    refused: 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    serverCpuMs: server0 == null || server1 == null ? null : server1 - server0,
    takes,
    serverTakes: null,
  };
}

// One statement per take: refill by the server's clock, capped at the burst, and take `n` parts if
// they are there. n.t is read before the row's lock is waited for: GREATEST keeps `at` from going
// back when another worker's take committed meanwhile. `avail` (the statement's snapshot, before
// any take) tells a refused worker how long until the parts would be there.
const TAKE = `
WITH n AS (SELECT clock_timestamp() AS t),
s AS (
  SELECT LEAST($4::float8, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (n.t - b.at))) * $2::float8) AS avail
  FROM lane_bucket b, n WHERE b.lane = $1),
u AS (
  UPDATE lane_bucket b
     SET tokens = LEAST($4::float8, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (n.t - b.at))) * $2::float8) - $3::float8,
         at = GREATEST(n.t, b.at)
    FROM n
   WHERE b.lane = $1
     AND LEAST($4::float8, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (n.t - b.at))) * $2::float8) >= $3::float8
  RETURNING b.tokens, CAST(EXTRACT(EPOCH FROM b.at) * 1000 AS float8) AS at_ms)
SELECT u.tokens, u.at_ms, s.avail FROM s LEFT JOIN u ON true`;

/** (b): one of the workers sharing the lane's bucket. */
async function bucketChild({ url, lane, start, end }) {
  const { sleep } = await import('../dist/time/sleep.js');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const backend = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const take = { name: 'take', text: TAKE, values: [lane, TPS, GROUP, BURST] };
  await client.query(take); // prepared before the start (and the bucket's row refilled by it only)
  await sleepUntil(start);
  const cpu0 = process.cpuUsage();
  const server0 = processCpuMs(backend);
  const takes = [];
  const serverTakes = [];
  let parts = 0;
  let statements = 0;
  let refused = 0;
  while (nowMs() < end) {
    const row = (await client.query(take)).rows[0];
    statements++;
    let wait;
    if (row.at_ms != null) {
      const at = nowMs();
      if (row.at_ms >= end) break; // granted after the run: not counted (the bucket is dropped)
      takes.push([at, GROUP]);
      serverTakes.push([row.at_ms, GROUP]);
      parts += GROUP;
      wait = ((GROUP - row.tokens) / TPS) * 1000;
    } else {
      refused++;
      // not there, or another worker took them first (then about a group's time from now)
      const short = GROUP - row.avail;
      wait = ((short > 0 ? short : GROUP) / TPS) * 1000;
    }
    // +1 as src/delivery/lane.ts: a timer fires up to 1 ms before the ms it was asked for
    if (wait > 0) await sleep(wait + 1);
  }
  const cpu = process.cpuUsage(cpu0);
  const server1 = processCpuMs(backend);
  await client.end();
  return {
    parts,
    statements,
    refused,
    cpuMs: (cpu.user + cpu.system) / 1000,
    serverCpuMs: server0 == null || server1 == null ? null : server1 - server0,
    takes,
    serverTakes,
  };
}

// ---- the parent ----

function child(kind, args) {
  const p = spawn(process.execPath, [self, '--child', kind, JSON.stringify(args)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  p.stdout.setEncoding('utf8');
  // resolved on close too: a child that failed before pinning is reported by `done`
  const pinned = new Promise((resolve) => {
    p.stdout.on('data', (d) => {
      out += d;
      if (out.includes('pinned\n')) resolve();
    });
    p.on('close', resolve);
  });
  const done = new Promise((resolve, reject) =>
    p.on('close', (code, signal) => {
      if (code !== 0)
        return reject(new Error(`bench/laneRate: a ${kind} child failed (${signal ?? `exit ${code}`})`));
      resolve(JSON.parse(out.trim().split('\n').pop()));
    }),
  );
  return { pinned, done };
}

function summarize(results, seconds, extra) {
  const parts = results.reduce((a, r) => a + r.parts, 0);
  const statements = results.reduce((a, r) => a + r.statements, 0);
  const cpuMs = results.reduce((a, r) => a + r.cpuMs, 0);
  const server = results.map((r) => r.serverCpuMs);
  const serverCpuMs = server.includes(null) ? null : server.reduce((a, b) => a + b, 0);
  const per1000 = (x) => (x == null ? null : round((x / parts) * 1000, 2));
  return {
    workers: results.length,
    parts,
    achievedOverTarget: round(parts / seconds / TPS, 4),
    max1sWindowTakers: slidingMax(results.flatMap((r) => r.takes)),
    ...(results[0].serverTakes
      ? { max1sWindowServer: slidingMax(results.flatMap((r) => r.serverTakes)) }
      : {}),
    statements,
    statementsPer1000: per1000(statements),
    refused: results.reduce((a, r) => a + r.refused, 0),
    workerCpuMsPer1000: per1000(cpuMs),
    serverCpuMsPer1000: per1000(serverCpuMs),
    perWorkerParts: results.map((r) => r.parts),
    ...extra,
  };
}

async function parent() {
  const given = process.env.BENCH_PG_URL;
  const bin = given ? null : findBin();
  if (!given && !bin) {
    process.stdout.write(
      `${JSON.stringify({ bench: 'laneRate', skipped: 'no PostgreSQL server installed (/usr/lib/postgresql/*/bin/initdb); BENCH_PG_URL names one' })}\n`,
    );
    return;
  }
  const server = given ? null : await startPostgres(bin);
  const url = given ?? server.url;
  const lane = `bench-lane-${process.pid}-${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  try {
    await admin.connect();
    const version = (await admin.query('SHOW server_version')).rows[0].server_version;
    const load = () => os.loadavg().map((x) => round(x, 2));

    // (a) pinned
    const loadA = load();
    let start = nowMs() + 500;
    let end = start + SECONDS * 1000;
    const a = child('pinned', { url, lane, start, end });
    await a.pinned;
    const other = await admin.query(
      `SELECT pg_try_advisory_lock(${LANE_LOCK_SPACE}, hashtext(CAST($1 AS TEXT))) AS ok`,
      [lane],
    );
    if (other.rows[0].ok) throw new Error('a second worker pinned a lane already pinned');
    const pinned = summarize([await a.done], SECONDS, {
      secondWorkerRefused: true,
      loadBefore: loadA,
      loadAfter: load(),
    });

    // (b) the shared bucket
    await admin.query(
      'CREATE TABLE IF NOT EXISTS lane_bucket (lane text PRIMARY KEY, tokens double precision NOT NULL, at timestamptz NOT NULL)',
    );
    // empty until the start: the children's first (untimed) take refills it by their preparation's wait only
    const loadB = load();
    start = nowMs() + 1000;
    end = start + SECONDS * 1000;
    await admin.query(
      'INSERT INTO lane_bucket (lane, tokens, at) VALUES ($1, 0, to_timestamp($2 / 1000.0))',
      [lane, start],
    );
    const kids = Array.from({ length: WORKERS }, () => child('bucket', { url, lane, start, end }).done);
    const results = await Promise.all(kids);
    await admin.query('DELETE FROM lane_bucket WHERE lane = $1', [lane]);
    const bucket = summarize(results, SECONDS, { burst: BURST, loadBefore: loadB, loadAfter: load() });

    process.stdout.write(
      `${JSON.stringify({
        bench: 'laneRate',
        targetTps: TPS,
        seconds: SECONDS,
        group: GROUP,
        pinned,
        bucket,
        postgres: version,
        ownServer: !given,
        node: process.version,
        cpus: os.cpus().length,
      })}\n`,
    );
  } finally {
    await admin.end().catch(() => {});
    server?.stop();
  }
}

if (process.argv[2] === '--child') {
  const kind = process.argv[3];
  const args = JSON.parse(process.argv[4]);
  const r = kind === 'pinned' ? await pinnedChild(args) : await bucketChild(args);
  process.stdout.write(`${JSON.stringify(r)}\n`);
} else {
  await parent();
}
