import fs from 'node:fs';
import path from 'node:path';
import { writePrivateFileSync } from '../input/privateFile.js';
import { MB, readInputFile } from '../input/readableFile.js';
import type { SideLog, SideState, SideStore } from './types.js';

/**
 * A side log as a file: appended in place (opened 0600), not written through input/privateFile.ts,
 * which replaces a whole file atomically: a log grows by a line per request and must keep every line
 * written so far. One write() per append, so a kill -9 at any instant leaves it usable.
 */
export class FileSideLog implements SideLog {
  private readonly fd: number;
  /** one process appends (the campaign's lock holder) */
  readonly shared = false;

  constructor(readonly where: string) {
    fs.mkdirSync(path.dirname(where), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(where, 'a', 0o600);
    // A SIGKILL can cut a large write() short: end the fragment's line, or the next record would be
    // glued to it and read as garbage.
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const r = fs.openSync(where, 'r');
      try {
        fs.readSync(r, last, 0, 1, size - 1);
      } finally {
        fs.closeSync(r);
      }
      if (last[0] !== 0x0a) fs.writeSync(this.fd, '\n');
    }
  }

  lines(): string[] {
    return fs.readFileSync(this.where, 'utf8').split('\n');
  }

  fresh(): string[] {
    return [];
  }

  append(text: string): void {
    const bytes = Buffer.from(text);
    const written = fs.writeSync(this.fd, bytes);
    if (written !== bytes.length) {
      // What follows (a request leaving, an answer) must not happen unrecorded.
      throw Object.assign(
        new Error(
          `could not write to ${this.where} (${written} of ${bytes.length} bytes written: is the disk full?); the request was not sent`,
        ),
        { code: 'ENOSPC' },
      );
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** One value in a file, replaced whole (0600). */
export class FileSideState implements SideState {
  constructor(readonly file: string) {}

  get(): string | null {
    try {
      // NHN's state keeps every report it made (its send list is read whole at each poll): tens of
      // MB for a large campaign, which must not read as no state at all
      return readInputFile(this.file, { what: 'provider state', maxBytes: 256 * MB }).toString('utf8');
    } catch {
      return null;
    }
  }

  put(value: string): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writePrivateFileSync(this.file, value);
  }
}

/** Side logs and state as files in `dir` (the journal's stateDir): a name is a file's (relative to `dir`). */
export function fileSideStore(dir: string): SideStore {
  return {
    log: (name) => new FileSideLog(path.resolve(dir, name)),
    state: (name) => new FileSideState(path.resolve(dir, name)),
  };
}

/** The context's store, or files in its stateDir. */
export function sideStoreOf(ctx: { stateDir: string; side?: SideStore }): SideStore {
  return ctx.side ?? fileSideStore(ctx.stateDir);
}
