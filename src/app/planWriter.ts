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
import { Journal } from '../journal/journal.js';
import { YoungGenerationCap } from './youngGeneration.js';

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
 * waiting as objects keeps the writer's heap small (measured: 1,000 vs 5,000, ~10 MB less peak RSS
 * for a million rows and no slower).
 */
export const TRANSACTION_ROWS = 1000;

/**
 * CSVs at least this large (~60,000 rows) are planned with the worker, on a machine with more than
 * one core; below it, starting a thread (~50 ms, ~25 MB of memory) does not pay.
 */
export const WORKER_MIN_CSV_BYTES = 4 * 1024 * 1024;

/** Messages per packet sent to the worker: a packet is copied between threads in one go. */
const PACKET_ROWS = 1000;

/** Packets queued for the worker before add() waits: bounds memory when SQLite is the slower side. */
const MAX_PACKETS_IN_FLIGHT = 8;

/**
 * The worker's young generation: enough for a transaction's worth of messages; far less than the
 * 32 MB V8 would take. (While the planning thread's YoungGenerationCap holds, which is a flag of the
 * whole process, the worker's stays smaller still: 2-4 MB, with no measurable cost.)
 */
const WORKER_YOUNG_GENERATION_MB = 8;

/**
 * The main thread checkpoints the WAL after this many packets (~5 MB of WAL), and the worker never
 * does: copying pages into the database file is a third of SQLite's work, and the main thread has
 * time to spare while the worker's inserts set the pace. Letting the worker checkpoint too kept the
 * WAL small but cost ~25% throughput.
 */
const CHECKPOINT_EVERY_PACKETS = 20;

/**
 * A checkpoint made while the worker writes never catches up with it, and SQLite starts the WAL
 * over only after one has copied all of it: the WAL file would grow to the plan's size (259 MB for
 * a million rows, beside a 199 MB journal). So after this many packets (~21 MB of WAL) the main
 * thread waits for the worker to commit what it was sent, checkpoints all of it, and the worker's
 * next transaction starts the WAL from its beginning. Measured, 1M rows: the WAL peaks at 21 MB,
 * at a cost of 2-8% of throughput.
 */
const RESTART_WAL_EVERY_PACKETS = 80;

/** The planning thread's semi-spaces stop growing at this size while the worker writes: see YoungGenerationCap. */
const PLANNING_SEMI_SPACE_MB = 8;

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
): PlanSink {
  return planWriterFor(journal.file, csvBytes, env) === 'worker'
    ? new WorkerSink(journal, campaignId)
    : new InlineSink(journal, campaignId);
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

class InlineSink implements PlanSink {
  private batch: PlannedMessage[] = [];

  constructor(
    private readonly journal: Journal,
    private readonly campaignId: string,
  ) {}

  add(message: PlannedMessage): void {
    this.batch.push(message);
    if (this.batch.length >= TRANSACTION_ROWS) this.flush();
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
    this.journal.insertPlanned(this.campaignId, batch);
  }
}

// ---- packing: messages <-> a typed array and an array of strings, cheap to pass between threads ----

type Kind = 'number' | 'boolean' | 'string' | 'string?' | 'message?';
type KindOf<T> = [T] extends [number]
  ? 'number'
  : [T] extends [boolean]
    ? 'boolean'
    : [T] extends [string]
      ? 'string'
      : [T] extends [string | null]
        ? 'string?'
        : [T] extends [PlannedMessage | undefined]
          ? 'message?'
          : never;

/**
 * Every field of PlannedMessage and how it travels. Typed so that a field added to PlannedMessage
 * (or a change of a field's type) does not compile until it is listed here; the packing code is
 * generated from this list.
 */
const FIELDS: { [K in keyof PlannedMessage]-?: KindOf<PlannedMessage[K]> } = {
  row: 'number',
  to: 'string?',
  channel: 'string?',
  status: 'string',
  reason: 'string?',
  parts: 'number',
  bytes: 'number',
  subject: 'string?',
  body: 'string?',
  cost: 'number',
  leg: 'number',
  vars: 'string?',
  rcsKind: 'string?',
  deferrable: 'boolean',
  fallback: 'message?',
};
const FIELD_LIST = Object.entries(FIELDS) as [string, Kind][];
/** slots in `numbers` per message (not counting a nested one) */
const NUMBERS_EACH = FIELD_LIST.filter(
  ([, k]) => k === 'number' || k === 'boolean' || k === 'message?',
).length;

/**
 * A packet: numbers and booleans in `numbers` (transferred, not copied), strings (and nulls) in
 * `strings`, each in FIELDS order. An array of strings is what postMessage copies fastest (joining
 * them into one string first costs more than it saves).
 */
interface Packet {
  count: number;
  numbers: Float64Array;
  strings: (string | null | undefined)[];
}

interface PackState {
  numbers: Float64Array;
  n: number;
  strings: (string | null | undefined)[];
}

/**
 * Straight-line code with plain property reads: what makes packing cheap. Generated, so that it
 * always follows FIELDS; the names are FIELDS' own keys, nothing from outside.
 */
function generate(): {
  pack: (m: PlannedMessage, s: PackState) => void;
  unpack: (p: Packet, at: { n: number; s: number }) => PlannedMessage;
} {
  const packLines = [
    'return function pack(m, s) {',
    `  if (s.n + ${NUMBERS_EACH} > s.numbers.length) { const a = new Float64Array(s.numbers.length * 2 + ${NUMBERS_EACH}); a.set(s.numbers); s.numbers = a; }`,
    '  let N = s.numbers;',
    '  const S = s.strings;',
    '  let v;',
  ];
  const fields: string[] = [];
  for (const [name, kind] of FIELD_LIST) {
    const p = `m[${JSON.stringify(name)}]`;
    if (kind === 'number') {
      packLines.push(`  N[s.n++] = ${p};`);
      fields.push(`${JSON.stringify(name)}: N[at.n++]`);
    } else if (kind === 'boolean') {
      packLines.push(`  N[s.n++] = ${p} ? 1 : 0;`);
      fields.push(`${JSON.stringify(name)}: N[at.n++] === 1`);
    } else if (kind === 'message?') {
      packLines.push(
        `  v = ${p}; if (v === undefined) N[s.n++] = 0; else { N[s.n++] = 1; pack(v, s); N = s.numbers; }`,
      );
      fields.push(`${JSON.stringify(name)}: N[at.n++] === 1 ? unpack(p, at) : undefined`);
    } else {
      packLines.push(`  S.push(${p});`);
      fields.push(`${JSON.stringify(name)}: S[at.s++]`);
    }
  }
  packLines.push('};');
  const unpackSource = [
    'return function unpack(p, at) {',
    '  const N = p.numbers, S = p.strings;',
    `  return { ${fields.join(', ')} };`,
    '};',
  ].join('\n');
  return {
    pack: new Function(packLines.join('\n'))() as (m: PlannedMessage, s: PackState) => void,
    unpack: new Function(unpackSource)() as (p: Packet, at: { n: number; s: number }) => PlannedMessage,
  };
}

const codec = generate();

class Packer {
  private state: PackState = this.fresh();
  count = 0;

  add(m: PlannedMessage): void {
    codec.pack(m, this.state);
    this.count++;
  }

  /** The packet so far; the packer starts over. */
  take(): Packet {
    const s = this.state;
    const packet = { count: this.count, numbers: s.numbers.subarray(0, s.n), strings: s.strings };
    this.state = this.fresh();
    this.count = 0;
    return packet;
  }

  private fresh(): PackState {
    return { numbers: new Float64Array(PACKET_ROWS * NUMBERS_EACH), n: 0, strings: [] };
  }
}

function unpackInto(packet: Packet, out: PlannedMessage[]): void {
  const at = { n: 0, s: 0 };
  for (let i = 0; i < packet.count; i++) out.push(codec.unpack(packet, at));
}

// ---- the worker ----

interface WriterData {
  umsPlanWriter: true;
  journalFile: string;
  campaignId: string;
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
  private readonly youngGeneration = new YoungGenerationCap(PLANNING_SEMI_SPACE_MB);
  private error: Error | null = null;
  private ended = false;
  private packetsSent = 0;
  private syncs = 0;

  constructor(
    private readonly journal: Journal,
    campaignId: string,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.errors = port1;
    const data: WriterData = {
      umsPlanWriter: true,
      journalFile: journal.file,
      campaignId,
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
      this.youngGeneration.release();
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
    this.youngGeneration.release();
  }

  private send(): void {
    this.check();
    this.youngGeneration.check();
    // Backpressure: add() is called synchronously for each row, so wait right here for SQLite.
    this.waitFor(IN_FLIGHT, () => Atomics.load(this.state, IN_FLIGHT) < MAX_PACKETS_IN_FLIGHT);
    const packet = this.packer.take();
    Atomics.add(this.state, IN_FLIGHT, 1);
    this.worker.postMessage({ kind: 'rows', packet } satisfies ToWorker, [
      packet.numbers.buffer as ArrayBuffer,
    ]);
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
    journal!.insertPlanned(data.campaignId, batch);
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
