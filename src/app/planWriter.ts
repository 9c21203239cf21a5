import Database from 'better-sqlite3';
import { MessageChannel, type MessagePort, isMainThread, parentPort, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';
import type { PlannedMessage } from '../campaign/types.js';
import { Journal } from '../journal/journal.js';

/**
 * Where planned messages go: `journal.insertPlanned`, either right here or from a worker thread.
 *
 * Planning a large CSV is two jobs of about the same size: reading, parsing and planning the rows,
 * and SQLite storing them. A worker thread with its own connection to the journal file does the
 * second while the main thread does the first, so they overlap on a multi-core machine. What is
 * stored is the same either way: the same `insertPlanned`, with the same messages in the same order.
 */
export interface PlanSink {
  /** Hand over messages in row order. Throws (soon, not necessarily at once) when storing failed. */
  write(batch: PlannedMessage[]): void;
  /** Everything written is committed; the worker, if any, is gone. */
  finish(): Promise<void>;
  /** Stop: messages not yet committed are dropped. Safe after a failure, and twice. */
  abort(): Promise<void>;
}

/** CSVs at least this large are planned with the worker; below it, thread start-up (~50 ms) is not worth it. */
export const WORKER_MIN_CSV_BYTES = 4 * 1024 * 1024;

/** Batches written but not yet committed before write() waits: bounds memory when SQLite is the slower side. */
const MAX_IN_FLIGHT = 4;

/**
 * A sink for a campaign being planned. `UMS_PLAN_WRITER=inline|worker` overrides the choice by size
 * (tests use it to run either path on small files).
 */
export function openPlanSink(journal: Journal, campaignId: string, csvBytes: number, env: NodeJS.ProcessEnv = process.env): PlanSink {
  const forced = env['UMS_PLAN_WRITER'];
  const wanted = forced === 'worker' || (forced !== 'inline' && csvBytes >= WORKER_MIN_CSV_BYTES);
  // A worker needs the journal as a file, and compiled JavaScript to run (not TypeScript under a test runner).
  if (wanted && journal.file !== ':memory:' && journal.file !== '' && import.meta.url.endsWith('.js')) {
    return new WorkerSink(journal.file, campaignId);
  }
  return {
    write: (batch) => journal.insertPlanned(campaignId, batch),
    finish: async () => {},
    abort: async () => {},
  };
}

// ---- packing: PlannedMessage[] <-> typed arrays and one string, cheap to copy between threads ----

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
 * (or a change of its type) fails to compile here until it is packed too.
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
  deferrable: 'boolean',
  fallback: 'message?',
};
const FIELD_LIST = Object.entries(FIELDS) as [keyof PlannedMessage, Kind][];
const NUMBERS_PER_MESSAGE = FIELD_LIST.filter(([, k]) => k === 'number' || k === 'boolean' || k === 'message?').length;
const STRINGS_PER_MESSAGE = FIELD_LIST.filter(([, k]) => k === 'string' || k === 'string?').length;
/** string lengths: -1 null, -2 undefined */
const NULL = -1;
const UNDEFINED = -2;

interface Packed {
  count: number;
  numbers: Float64Array;
  lengths: Int32Array;
  text: string;
}

class Packer {
  private numbers: Float64Array;
  private lengths: Int32Array;
  private n = 0;
  private l = 0;
  private readonly strings: string[] = [];

  constructor(messages: number) {
    this.numbers = new Float64Array(messages * NUMBERS_PER_MESSAGE);
    this.lengths = new Int32Array(messages * STRINGS_PER_MESSAGE);
  }

  pack(batch: PlannedMessage[]): Packed {
    for (let i = 0; i < batch.length; i++) this.message(batch[i]!);
    return { count: batch.length, numbers: this.numbers.subarray(0, this.n), lengths: this.lengths.subarray(0, this.l), text: this.strings.join('') };
  }

  private message(m: PlannedMessage): void {
    const record = m as unknown as Record<string, unknown>;
    for (let f = 0; f < FIELD_LIST.length; f++) {
      const [name, kind] = FIELD_LIST[f]!;
      const v = record[name];
      if (kind === 'number') this.number(v as number);
      else if (kind === 'boolean') this.number(v ? 1 : 0);
      else if (kind === 'message?') {
        this.number(v === undefined ? 0 : 1);
        if (v !== undefined) this.message(v as PlannedMessage);
      } else {
        if (this.l === this.lengths.length) this.lengths = grow(this.lengths, new Int32Array(this.lengths.length * 2 + 16));
        if (typeof v === 'string') {
          this.lengths[this.l++] = v.length;
          this.strings.push(v);
        } else {
          this.lengths[this.l++] = v === undefined ? UNDEFINED : NULL;
        }
      }
    }
  }

  private number(v: number): void {
    if (this.n === this.numbers.length) this.numbers = grow(this.numbers, new Float64Array(this.numbers.length * 2 + 16));
    this.numbers[this.n++] = v;
  }
}

function grow<T extends Float64Array | Int32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}

function unpack(p: Packed): PlannedMessage[] {
  const out: PlannedMessage[] = new Array(p.count);
  const at = { n: 0, l: 0, t: 0 };
  for (let i = 0; i < p.count; i++) out[i] = unpackMessage(p, at);
  return out;
}

function unpackMessage(p: Packed, at: { n: number; l: number; t: number }): PlannedMessage {
  const m: Record<string, unknown> = {};
  for (let f = 0; f < FIELD_LIST.length; f++) {
    const [name, kind] = FIELD_LIST[f]!;
    if (kind === 'number') m[name] = p.numbers[at.n++];
    else if (kind === 'boolean') m[name] = p.numbers[at.n++] === 1;
    else if (kind === 'message?') {
      if (p.numbers[at.n++] === 1) m[name] = unpackMessage(p, at);
    } else {
      const length = p.lengths[at.l++]!;
      if (length >= 0) {
        m[name] = p.text.slice(at.t, at.t + length);
        at.t += length;
      } else {
        m[name] = length === NULL ? null : undefined;
      }
    }
  }
  return m as unknown as PlannedMessage;
}

// ---- the worker ----

interface WriterData {
  umsPlanWriter: true;
  journalFile: string;
  campaignId: string;
  /** [0]: batches written and not yet committed; [1]: 1 once the worker failed */
  state: SharedArrayBuffer;
  errors: MessagePort;
}

type ToWorker = { kind: 'rows'; packed: Packed } | { kind: 'end' };

interface SerialisedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

const IN_FLIGHT = 0;
const FAILED = 1;

class WorkerSink implements PlanSink {
  private readonly worker: Worker;
  private readonly state = new Int32Array(new SharedArrayBuffer(8));
  private readonly errors: MessagePort;
  private readonly exited: Promise<void>;
  private error: Error | null = null;
  private ended = false;

  constructor(journalFile: string, campaignId: string) {
    const { port1, port2 } = new MessageChannel();
    this.errors = port1;
    const data: WriterData = { umsPlanWriter: true, journalFile, campaignId, state: this.state.buffer as SharedArrayBuffer, errors: port2 };
    this.worker = new Worker(new URL(import.meta.url), { workerData: data, transferList: [port2] });
    this.exited = new Promise((resolve) => {
      this.worker.once('error', (err) => {
        this.error ??= err;
        Atomics.store(this.state, FAILED, 1);
      });
      this.worker.once('exit', () => resolve());
    });
  }

  write(batch: PlannedMessage[]): void {
    if (batch.length === 0) return;
    this.check();
    // Backpressure: onRow is synchronous, so wait right here while SQLite catches up.
    for (;;) {
      const inFlight = Atomics.load(this.state, IN_FLIGHT);
      if (inFlight < MAX_IN_FLIGHT) break;
      Atomics.wait(this.state, IN_FLIGHT, inFlight, 1000);
      this.check();
    }
    const packed = new Packer(batch.length).pack(batch);
    Atomics.add(this.state, IN_FLIGHT, 1);
    this.worker.postMessage({ kind: 'rows', packed } satisfies ToWorker, [packed.numbers.buffer as ArrayBuffer, packed.lengths.buffer as ArrayBuffer]);
  }

  async finish(): Promise<void> {
    this.check();
    this.ended = true;
    this.worker.postMessage({ kind: 'end' } satisfies ToWorker);
    await this.exited;
    this.check();
  }

  async abort(): Promise<void> {
    if (!this.ended) {
      this.ended = true;
      await this.worker.terminate();
    }
    await this.exited;
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
  const e = err as Partial<SerialisedError>;
  return { name: String(e?.name ?? 'Error'), message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined, stack: e?.stack };
}

/** The worker's error as the main thread would have thrown it (same class for SQLite errors, same code and message). */
function rebuild(e: SerialisedError): Error {
  const err = e.name === 'SqliteError' && e.code ? new Database.SqliteError(e.message, e.code) : Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
  if (e.stack) err.stack = e.stack;
  return err;
}

function runWorker(port: MessagePort, data: WriterData): void {
  const state = new Int32Array(data.state);
  let journal: Journal | null = null;
  const fail = (err: unknown): void => {
    data.errors.postMessage(serialise(err));
    Atomics.store(state, FAILED, 1);
    Atomics.notify(state, IN_FLIGHT);
    journal?.close();
    process.exit(1);
  };
  try {
    journal = Journal.open(data.journalFile);
  } catch (err) {
    fail(err);
    return;
  }
  port.on('message', (msg: ToWorker) => {
    try {
      if (msg.kind === 'rows') {
        journal!.insertPlanned(data.campaignId, unpack(msg.packed));
        Atomics.sub(state, IN_FLIGHT, 1);
        Atomics.notify(state, IN_FLIGHT);
      } else {
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
