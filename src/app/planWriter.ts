import os from 'node:os';
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
  Worker,
  workerData,
} from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { PlannedMessage } from '../campaign/types.js';
import { Journal, type KindProviders } from '../journal/journal.js';

/**
 * Where planned messages go: `journal.insertPlanned`, either right here or from a worker thread.
 *
 * Planning a large CSV is two jobs of about the same size: reading, parsing and planning the rows,
 * and SQLite storing them. A worker thread with its own connection to the journal file does the
 * second while the main thread does the first, so that they overlap on a multi-core machine. What
 * is stored is the same either way: `insertPlanned` with the same messages in the same order.
 */
export interface PlanSink {
  /** The next message, in row order. Throws (soon after, not necessarily at once) when storing failed. */
  add(message: PlannedMessage): void;
  /** Everything added is committed; the worker, if any, has exited. */
  finish(): Promise<void>;
  /** Stop: what is not committed yet is dropped. Safe after a failure, and twice. */
  abort(): Promise<void>;
}

/**
 * Messages per insertPlanned transaction: a commit in WAL mode costs no fsync, and fewer messages
 * waiting as objects keeps the writer's heap small (1,000 vs 5,000: ~10 MB less peak RSS for a
 * million rows and no slower, in bench/plan.js).
 */
export const TRANSACTION_ROWS = 1000;

/**
 * CSVs at least this large (~60,000 rows) are planned with the worker, on a machine with more than
 * one core; below it, starting a thread (~50 ms, ~25 MB of memory) does not pay (compare
 * `BENCH_PLAN_ROWS=60000 node bench/plan.js` with and without UMS_PLAN_WRITER=inline).
 */
export const WORKER_MIN_CSV_BYTES = 4 * 1024 * 1024;

/** Messages per packet sent to the worker: a packet is copied between threads in one go. */
const PACKET_ROWS = 1000;

/** Packets queued for the worker before add() waits: bounds memory when SQLite is the slower side. */
const MAX_PACKETS_IN_FLIGHT = 8;

/**
 * The worker's young generation: enough for a transaction's worth of messages; far less than the
 * 32 MB V8 would take (a documented per-thread limit: Worker's resourceLimits).
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * The main thread checkpoints the WAL after this many packets (~5 MB of WAL), and the worker never
 * does: copying pages into the database file is a third of SQLite's work, and the main thread has
 * time to spare while the worker's inserts set the pace. Letting the worker checkpoint too kept the
 * WAL small but cost ~25% throughput (bench/plan.js: rowsPerSec).
 */
const CHECKPOINT_EVERY_PACKETS = 20;

/**
 * A checkpoint made while the worker writes never catches up with it, and SQLite starts the WAL
 * over only after one has copied all of it: the WAL file would grow to the plan's size (259 MB for
 * a million rows, beside a 199 MB journal). So after this many packets (~21 MB of WAL) the main
 * thread waits for the worker to commit what it was sent, checkpoints all of it, and the worker's
 * next transaction starts the WAL from its beginning. bench/plan.js (1M rows): the WAL peaks at
 * 21 MB (peakWalMB), at a cost of 2-8% of throughput.
 */
const RESTART_WAL_EVERY_PACKETS = 80;

/** add() waiting this long for a worker that takes no packet gives up with an error (never a hang). */
const STALL_SECONDS = 300;

/**
 * A sink for campaign `campaignId`. `UMS_PLAN_WRITER=inline|worker` overrides the choice by size
 * and cores (tests use it to run either path on small files).
 */
export function openPlanSink(
  journal: Journal,
  campaignId: string,
  csvBytes: number,
  env: NodeJS.ProcessEnv = process.env,
  providers?: KindProviders,
): PlanSink {
  // on PostgreSQL the server stores the rows (COPY) in a process of its own: planned here
  return journal.dialect === 'sqlite' && planWriterFor(journal.file, csvBytes, env) === 'worker'
    ? new WorkerSink(journal, campaignId, providers)
    : new InlineSink(journal, campaignId, providers);
}

/** Where openPlanSink stores the rows of a CSV of `csvBytes` into the journal at `journalFile`. */
export function planWriterFor(
  journalFile: string,
  csvBytes: number,
  env: NodeJS.ProcessEnv = process.env,
): 'worker' | 'inline' {
  const forced = env.UMS_PLAN_WRITER;
  const wanted =
    forced === 'worker' ||
    (forced !== 'inline' && csvBytes >= WORKER_MIN_CSV_BYTES && os.availableParallelism() > 1);
  // A worker needs the journal as a file, and compiled JavaScript to run (not TypeScript under a test runner).
  return wanted && journalFile !== ':memory:' && journalFile !== '' && import.meta.url.endsWith('.js')
    ? 'worker'
    : 'inline';
}

/**
 * Messages per COPY on PostgreSQL (the server stores one while the next is planned): 2,000 instead
 * of 1,000 planned a million rows at ~118,000 rows/s instead of ~96,000 (bench/plan.js with
 * BENCH_PLAN_PG); 5,000 was no faster, with ~60 MB more peak RSS.
 */
const POSTGRES_COPY_ROWS = 2000;

class InlineSink implements PlanSink {
  private batch: PlannedMessage[] = [];
  private readonly rows: number;

  constructor(
    private readonly journal: Journal,
    private readonly campaignId: string,
    private readonly providers?: KindProviders,
  ) {
    this.rows = journal.dialect === 'postgres' ? POSTGRES_COPY_ROWS : TRANSACTION_ROWS;
  }

  add(message: PlannedMessage): void {
    this.batch.push(message);
    if (this.batch.length >= this.rows) this.flush();
  }

  async finish(): Promise<void> {
    this.flush();
  }

  async abort(): Promise<void> {
    this.batch = [];
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.journal.insertPlanned(this.campaignId, batch, this.providers);
  }
}

// ---- packing: messages <-> numbers and strings, cheap to pass between threads ----

/**
 * A packet of messages as two flat lists, in row order: each message's numbers (NUMBERS_EACH of
 * them) and its strings (STRINGS_EACH), followed by its fallback leg's, if it has one. Copying two
 * flat arrays between threads costs less than copying a thousand objects (bench/plan.js, cpuSeconds:
 * 10.3 s against 14.5 s when the messages themselves were posted, one pair of runs at load 10).
 */
interface Packet {
  count: number;
  numbers: number[];
  strings: (string | null)[];
}

const NUMBERS_EACH = 7;
const STRINGS_EACH = 8;

/** Appends `m` (and its fallback leg) to the packet's lists. */
function pack(m: PlannedMessage, numbers: number[], strings: (string | null)[]): void {
  numbers.push(m.row, m.parts, m.bytes, m.cost, m.leg, m.deferrable ? 1 : 0, m.fallback ? 1 : 0);
  strings.push(m.to, m.channel, m.status, m.reason, m.subject, m.body, m.vars, m.rcsKind);
  if (m.fallback) pack(m.fallback, numbers, strings);
}

/** The message at `at` in a packet; `at` moves past it (and its fallback leg). */
function unpack(p: Packet, at: { n: number; s: number }): PlannedMessage {
  const n = p.numbers;
  const s = p.strings;
  const i = at.n;
  const j = at.s;
  at.n += NUMBERS_EACH;
  at.s += STRINGS_EACH;
  // Every field of PlannedMessage but the optional fallback is named here, or this does not compile.
  const m: PlannedMessage = {
    row: n[i]!,
    parts: n[i + 1]!,
    bytes: n[i + 2]!,
    cost: n[i + 3]!,
    leg: n[i + 4]!,
    deferrable: n[i + 5] === 1,
    to: s[j]!,
    channel: s[j + 1] as PlannedMessage['channel'],
    status: s[j + 2] as PlannedMessage['status'],
    reason: s[j + 3]!,
    subject: s[j + 4]!,
    body: s[j + 5]!,
    vars: s[j + 6]!,
    rcsKind: s[j + 7] as PlannedMessage['rcsKind'],
  };
  if (n[i + 6] === 1) m.fallback = unpack(p, at);
  return m;
}

class Packer {
  private numbers: number[] = [];
  private strings: (string | null)[] = [];
  count = 0;

  add(m: PlannedMessage): void {
    pack(m, this.numbers, this.strings);
    this.count++;
  }

  /** The packet so far; the packer starts over. */
  take(): Packet {
    const packet = { count: this.count, numbers: this.numbers, strings: this.strings };
    this.numbers = [];
    this.strings = [];
    this.count = 0;
    return packet;
  }
}

/** The messages of `packet`, appended to `out`. Exported for the round-trip test. */
export function unpackInto(packet: Packet, out: PlannedMessage[]): void {
  const at = { n: 0, s: 0 };
  for (let i = 0; i < packet.count; i++) out.push(unpack(packet, at));
}

/** `messages` as one packet. Exported for the round-trip test. */
export function packAll(messages: PlannedMessage[]): Packet {
  const packer = new Packer();
  for (const m of messages) packer.add(m);
  return packer.take();
}

// ---- the worker ----

interface WriterData {
  umsPlanWriter: true;
  journalFile: string;
  campaignId: string;
  /** waiting messages' providers by channel and RCS kind (journal.insertPlanned) */
  providers?: KindProviders;
  /**
   * Int32 [IN_FLIGHT]: packets sent and not yet taken by the worker; [FAILED]: 1 once the worker
   * failed; [SYNCED]: 'sync' messages done (all rows before each committed)
   */
  state: SharedArrayBuffer;
  /** the worker's error, readable synchronously (receiveMessageOnPort) */
  errors: MessagePort;
}

type ToWorker = { kind: 'rows'; packet: Packet } | { kind: 'sync' } | { kind: 'end' };

interface SerialisedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

const IN_FLIGHT = 0;
const FAILED = 1;
const SYNCED = 2;

class WorkerSink implements PlanSink {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(12));
  private readonly errors: MessagePort;
  private readonly exited: Promise<void>;
  private readonly packer = new Packer();
  private error: Error | null = null;
  private ended = false;
  private packetsSent = 0;
  private syncs = 0;

  constructor(
    private readonly journal: Journal,
    campaignId: string,
    providers?: KindProviders,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.errors = port1;
    const data: WriterData = {
      umsPlanWriter: true,
      journalFile: journal.file,
      campaignId,
      providers,
      state: this.state.buffer as SharedArrayBuffer,
      errors: port2,
    };
    this.worker = new Worker(new URL(import.meta.url), {
      workerData: data,
      transferList: [port2],
      // Its garbage is short-lived (a thousand messages at a time): a small young generation
      // is enough, and keeps the process's memory close to what inline planning takes.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('error', (err) => {
        this.error ??= err;
        Atomics.store(this.state, FAILED, 1);
      });
      this.worker.once('exit', () => resolve());
    });
  }

  add(message: PlannedMessage): void {
    this.packer.add(message);
    if (this.packer.count >= PACKET_ROWS) this.send();
  }

  async finish(): Promise<void> {
    if (this.packer.count > 0) this.send();
    this.check();
    this.ended = true;
    this.worker.postMessage({ kind: 'end' } satisfies ToWorker);
    await this.exited;
    try {
      this.check();
    } finally {
      this.errors.close();
    }
    // The worker is gone: nobody else writes, so this copies the rest and gives the WAL's disk space back.
    this.journal.checkpoint('TRUNCATE');
  }

  async abort(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.worker.terminate();
    }
    await this.exited;
    this.errors.close();
  }

  private send(): void {
    this.check();
    // Backpressure: add() is called synchronously for each row, so wait right here for SQLite.
    this.waitFor(IN_FLIGHT, () => Atomics.load(this.state, IN_FLIGHT) < MAX_PACKETS_IN_FLIGHT);
    const packet = this.packer.take();
    Atomics.add(this.state, IN_FLIGHT, 1);
    this.worker.postMessage({ kind: 'rows', packet } satisfies ToWorker);
    this.packetsSent++;
    if (this.packetsSent % RESTART_WAL_EVERY_PACKETS === 0) this.restartWal();
    else if (this.packetsSent % CHECKPOINT_EVERY_PACKETS === 0) this.journal.checkpoint();
  }

  /** See RESTART_WAL_EVERY_PACKETS. */
  private restartWal(): void {
    const done = ++this.syncs;
    this.worker.postMessage({ kind: 'sync' } satisfies ToWorker);
    this.waitFor(SYNCED, () => Atomics.load(this.state, SYNCED) >= done);
    // Nobody writes now: this copies all of the WAL, which the worker's next transaction then reuses from the start.
    this.journal.checkpoint();
  }

  /**
   * Block until `done()`, woken by changes to state[index]. A worker that died without setting
   * FAILED cannot tell this thread, blocked here, that it is gone (its 'error' event needs the
   * event loop): give up after minutes without any change.
   */
  private waitFor(index: number, done: () => boolean): void {
    let waited = 0;
    while (!done()) {
      const seen = Atomics.load(this.state, index);
      if (Atomics.wait(this.state, index, seen, 1000) === 'timed-out' && ++waited >= STALL_SECONDS) {
        throw new Error(`the journal writer thread made no progress for ${STALL_SECONDS} s`);
      }
      if (Atomics.load(this.state, index) !== seen) waited = 0;
      this.check();
    }
  }

  /** Throw the worker's error, if it failed. */
  private check(): void {
    if (Atomics.load(this.state, FAILED) === 0) return;
    const received = receiveMessageOnPort(this.errors);
    if (received) this.error ??= rebuild(received.message as SerialisedError);
    throw this.error ?? new Error('the journal writer thread stopped');
  }
}

function serialise(err: unknown): SerialisedError {
  const e = err as Partial<SerialisedError> | null;
  return {
    name: String(e?.name ?? 'Error'),
    message: String(e?.message ?? err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    stack: e?.stack,
  };
}

/** The worker's error as the main thread would have met it: the same class for SQLite errors, code and message. */
function rebuild(e: SerialisedError): Error {
  const err =
    e.name === 'SqliteError' && e.code
      ? new Database.SqliteError(e.message, e.code)
      : Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  if (e.stack) err.stack = e.stack;
  return err;
}

function runWorker(port: MessagePort, data: WriterData): void {
  const state = new Int32Array(data.state);
  let journal: Journal | null = null;
  let batch: PlannedMessage[] = [];
  const store = (): void => {
    journal!.insertPlanned(data.campaignId, batch, data.providers);
    batch = [];
  };
  const fail = (err: unknown): void => {
    try {
      data.errors.postMessage(serialise(err));
    } finally {
      Atomics.store(state, FAILED, 1);
      Atomics.notify(state, IN_FLIGHT);
      Atomics.notify(state, SYNCED);
      try {
        journal?.close();
      } finally {
        process.exit(1);
      }
    }
  };
  try {
    journal = Journal.open(data.journalFile);
    journal.stopAutoCheckpoint();
  } catch (err) {
    fail(err);
    return;
  }
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.kind === 'rows') {
        unpackInto(msg.packet, batch);
        // Taken off the queue: the main thread may send another (however many rows wait for their transaction).
        Atomics.sub(state, IN_FLIGHT, 1);
        Atomics.notify(state, IN_FLIGHT);
        if (batch.length >= TRANSACTION_ROWS) store();
      } else if (msg.kind === 'sync') {
        if (batch.length > 0) store();
        Atomics.add(state, SYNCED, 1);
        Atomics.notify(state, SYNCED);
      } else {
        if (batch.length > 0) store();
        journal!.close();
        journal = null;
        port.close();
      }
    } catch (err) {
      fail(err);
    }
  });
}

// This module is also the worker's entry point.
if (!isMainThread && parentPort && (workerData as Partial<WriterData> | null)?.umsPlanWriter === true) {
  runWorker(parentPort, workerData as WriterData);
}
