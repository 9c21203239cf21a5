import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect } from 'vitest';
import { isPostgresUrl } from '../../src/journal/postgres.js';
import { prng } from '../../src/providers/sim/prng.js';
import { runUms, UMS } from './cli.js';

/**
 * What the reliability suite shares: the tally it prints, the seed, a `ums` process to kill,
 * the kill loop, and the two promises checked afterwards (exactly once where the provider can be
 * asked, at most once with the rest `unknown` where it cannot).
 */

export interface Tally {
  kills: number;
  faults: number;
  duplicates: number;
  lost: number;
  unknown: number;
}

/** A tally for one test file, printed when the file is done. */
export function useTally(label: string): Tally {
  const tally: Tally = { kills: 0, faults: 0, duplicates: 0, lost: 0, unknown: 0 };
  afterAll(() => {
    console.log(
      `reliability (${label}): ${tally.kills} kills survived, ${tally.faults} faults injected, duplicates ${tally.duplicates}, lost ${tally.lost}, unknown ${tally.unknown}`,
    );
  });
  return tally;
}

/** The seed (UMS_RELIABILITY_SEED, else the clock), printed so a failure can be repeated. */
export function seeded(what: string): () => number {
  const seed = Number(process.env.UMS_RELIABILITY_SEED ?? Date.now() % 100000);
  console.log(`${what} seed ${seed} (UMS_RELIABILITY_SEED=${seed} repeats it)`);
  return prng(seed);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Running {
  child: ReturnType<typeof spawn>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  /** true once the process has ended */
  done(): boolean;
}

const live = new Set<Running>();

/** For afterEach: a test that failed half-way leaves no `ums` running. */
export function killLeftovers(): void {
  for (const r of live) r.child.kill('SIGKILL');
  live.clear();
}

/** The built `ums` as a separate process, to be killed at any instant. */
export function start(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
  /** a command `ums` is run through (its arguments last): one that waits for a test's signal first */
  launcher: string[] = [],
): Running {
  const argv = [...launcher, process.execPath, UMS, ...args];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let ended = false;
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const running: Running = {
    child,
    exited: new Promise((r) =>
      child.on('close', (code, signal) => {
        ended = true;
        live.delete(running);
        r({ code, signal, stdout, stderr });
      }),
    ),
    done: () => ended,
  };
  live.add(running);
  return running;
}

/** Lines in an append-only log (the simulator's carrier log), counted without parsing: it grows while we poll. */
export function carrierCount(file: string): number {
  if (!fs.existsSync(file)) return 0;
  const buf = fs.readFileSync(file);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

export interface KillLoop {
  rng: () => number;
  dir: string;
  env?: Record<string, string>;
  rows: number;
  /** how many messages the peer has taken so far (the kills are placed by it) */
  reached: () => number;
  kills?: number;
  /** exit codes a run that finished before its kill landed may have */
  finishedCodes?: number[];
  tally: Tally;
}

export const SEND = ['send', 'recipients.csv', '-t', 'notice.md', '--yes'];

/**
 * A config's lines for the journal at `journal` (a file, or a PostgreSQL URL). On PostgreSQL with
 * a short lease: after a kill, the next run waits for the dead worker's lease to run out before it
 * takes over the rows left `sending` (30 s by default, most of such a test's time). The rows are
 * taken over the same way after 1 s, and no two runs here overlap, so the length proves nothing.
 */
export function journalLines(journal: string): string[] {
  const lines = [`journal: ${JSON.stringify(journal)}`];
  if (isPostgresUrl(journal)) lines.push('leaseMs: 1000');
  return lines;
}

/**
 * Runs `ums send` (or `ums resume`, as cron or an operator would) and SIGKILLs it at seeded
 * instants: most when the peer has taken a random share of the rows, a few at a random time
 * after start (start-up, planning). Returns the instants, for the failure message.
 */
export async function killLoop(o: KillLoop): Promise<string[]> {
  const n = o.kills ?? 20;
  const points = Array.from({ length: n }, () => o.rng())
    .sort((a, b) => a - b)
    .map((x, i) => ({
      at: Math.floor(x * o.rows * 0.95),
      byTime: i < 3 && o.rng() < 0.7,
      delayMs: Math.floor(o.rng() * 400),
    }));
  const log: string[] = [];
  for (const [i, p] of points.entries()) {
    // Cron would run the same `ums send` again; `resume` too, once the plan is whole (something was sent).
    const args = i % 2 === 1 && o.reached() > 0 ? ['resume'] : SEND;
    const run = start(args, o.dir, o.env);
    if (p.byTime)
      await sleep(p.delayMs); // may land in start-up or planning
    else {
      const deadline = Date.now() + 60_000;
      while (o.reached() < p.at && !run.done() && Date.now() < deadline) await sleep(5);
    }
    const reached = o.reached();
    run.child.kill('SIGKILL');
    const ended = await run.exited;
    log.push(
      `${args[0]} killed ${p.byTime ? `after ${p.delayMs} ms` : `at ${p.at}`} (peer had ${reached}): ${ended.signal ?? `exit ${ended.code}`}`,
    );
    if (ended.signal === 'SIGKILL') o.tally.kills++;
    else expect(o.finishedCodes ?? [0], `${log.at(-1)}\n${ended.stderr}`).toContain(ended.code); // it finished before the kill landed
  }
  return log;
}

export interface ExportedRow {
  row: number;
  to: string;
  status: string;
  reason: string;
}

/** The journal's view: statuses by count, and every row (`ums report` and `ums export`, as a user would). */
export async function journalRows(
  dir: string,
  env: Record<string, string> = {},
): Promise<{ statuses: Record<string, number>; rows: ExportedRow[] }> {
  const report = await runUms(['report', '--json'], { cwd: dir, env });
  expect([0, 3], report.stderr).toContain(report.code); // 3: some rows failed, rejected or unknown
  const r = JSON.parse(report.stdout) as { campaign: string; statuses: Record<string, number> };
  const exported = await runUms(['export', r.campaign, '--format', 'json'], {
    cwd: dir,
    env,
    timeoutMs: 120_000,
  });
  expect(exported.code, exported.stderr).toBe(0);
  return { statuses: r.statuses, rows: JSON.parse(exported.stdout) as ExportedRow[] };
}

function countsAtPeer(
  received: Map<string, number>,
  phones: string[],
): { duplicates: string[]; strangers: string[] } {
  const wanted = new Set(phones);
  return {
    duplicates: [...received].filter(([, n]) => n > 1).map(([to]) => to),
    strangers: [...received.keys()].filter((to) => !wanted.has(to)),
  };
}

/**
 * Where the provider can be asked: every recipient reached the peer exactly once, and the journal
 * has every CSV row, each sent or delivered.
 */
export async function expectExactlyOnce(o: {
  received: Map<string, number>;
  phones: string[];
  dir: string;
  env?: Record<string, string>;
  tally: Tally;
}): Promise<void> {
  const { duplicates, strangers } = countsAtPeer(o.received, o.phones);
  const lost = o.phones.filter((to) => !o.received.has(to));
  o.tally.duplicates += duplicates.length;
  o.tally.lost += lost.length;
  expect(duplicates.slice(0, 20)).toEqual([]);
  expect(lost.slice(0, 20)).toEqual([]);
  expect(strangers.slice(0, 20)).toEqual([]);
  const { statuses, rows } = await journalRows(o.dir, o.env);
  o.tally.unknown += statuses.unknown ?? 0;
  expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(o.phones.length);
  expect(rows).toHaveLength(o.phones.length);
  expect(rows.filter((r) => r.status !== 'sent' && r.status !== 'delivered').slice(0, 20)).toEqual([]);
}

/**
 * Where the provider cannot be asked (SMPP): no recipient reached the peer twice; every row the
 * journal calls sent or delivered reached it once; the others are `unknown`, at most `maxUnknown`.
 * Returns the number unknown.
 */
export async function expectAtMostOnce(o: {
  received: Map<string, number>;
  phones: string[];
  dir: string;
  env?: Record<string, string>;
  tally: Tally;
  maxUnknown: number;
}): Promise<{ unknown: number; unknownReceived: number }> {
  const { duplicates, strangers } = countsAtPeer(o.received, o.phones);
  const { statuses, rows } = await journalRows(o.dir, o.env);
  const ok = rows.filter((r) => r.status === 'sent' || r.status === 'delivered');
  const unknown = rows.filter((r) => r.status === 'unknown');
  const lost = ok.filter((r) => !o.received.has(r.to));
  const unknownReceived = unknown.filter((r) => o.received.has(r.to)).length;
  o.tally.duplicates += duplicates.length;
  o.tally.lost += lost.length;
  o.tally.unknown += unknown.length;
  console.log(
    `  ${unknown.length} unknown (${unknownReceived} of them reached the peer, ${unknown.length - unknownReceived} did not); bound ${o.maxUnknown}`,
  );
  expect(duplicates.slice(0, 20)).toEqual([]);
  expect(strangers.slice(0, 20)).toEqual([]);
  expect(lost.slice(0, 20)).toEqual([]);
  expect(Object.values(statuses).reduce((a, b) => a + b, 0)).toBe(o.phones.length);
  expect(rows).toHaveLength(o.phones.length);
  expect(new Set(rows.map((r) => r.to)).size).toBe(o.phones.length);
  expect(ok.length + unknown.length).toBe(o.phones.length);
  expect(unknown.length).toBeLessThanOrEqual(o.maxUnknown);
  // a row the peer never saw is not reported sent, and nobody the journal does not know was reached
  expect(o.received.size).toBeLessThanOrEqual(o.phones.length);
  return { unknown: unknown.length, unknownReceived };
}

/**
 * Runs `fn` with a small tmpfs to put a journal on (`fill` fills it under a running process,
 * returning a function that frees the space). It must hold about twice the journal: a planned
 * campaign may still be all in the write-ahead log, and `resume` checkpoints it into the database
 * file beside it (8,000 rows: ~4 MB of log; 8 MB of disk was too small for resume once space was freed). Mounting needs root: elsewhere the test is skipped, saying why.
 */
export async function withSmallDisk(
  ctx: { skip: () => void },
  fn: (mount: string, fill: () => () => void) => Promise<void>,
  sizeMb = 16,
): Promise<void> {
  const mount = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', mount], { stdio: 'ignore' });
  } catch {
    console.log('disk-full test skipped: cannot mount a tmpfs here (needs root)');
    ctx.skip();
    return;
  }
  const fill = (): (() => void) => {
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
    return () => fs.rmSync(filler);
  };
  try {
    await fn(mount, fill);
  } finally {
    execFileSync('umount', [mount]);
  }
}

/** Fails with what `ums` said when it ended before it should have (before a fault was injected). */
export async function expectStillRunning(run: Running, when: string): Promise<void> {
  if (!run.done()) return;
  const e = await run.exited;
  expect.fail(`ums ended ${when}: ${e.signal ?? `exit ${e.code}`}\n${e.stderr}`);
}

/** How `ums` ended, waiting at most `ms`: a run that does not end by then is killed and the test fails (a hang). */
export async function ended(
  run: Running,
  ms: number,
  what: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)));
  const e = await Promise.race([run.exited, late]);
  clearTimeout(timer);
  if (e) return e;
  run.child.kill('SIGKILL');
  const killed = await run.exited;
  return expect.fail(`ums did not end within ${ms / 1000} s ${what}: it hangs\n${killed.stderr}`);
}
