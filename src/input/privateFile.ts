import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { InputError } from '../errors.js';

/**
 * The one writer of files that hold private data (exports with full numbers, provider state).
 * Deliberately not used by: the journal (SQLite writes its own file in place; journal.ts only creates
 * it 0600), and the two append-only logs (sim/carrierLog.ts, solapi/requestLog.ts), which must
 * survive a kill -9 mid-run line by line, where replacing the whole file each time would lose that.
 * - a regular file (or a new one) is replaced atomically: a temp file beside it, created 0600,
 *   written, fsynced, renamed over it (a symlink is followed: its target is replaced);
 * - a FIFO or a character device (/dev/null, /dev/stdout, a pipe a script reads) is written into,
 *   never replaced or chmodded;
 * - a directory, a block device or a socket is refused (InputError: exit 2).
 * No temp file survives a failure: it is removed on error, and removeTempFiles() removes the ones
 * still being written (for SIGINT/SIGTERM handlers).
 */

const pending = new Set<string>();

/** Remove every temp file being written now (synchronous: for a signal handler before exiting). */
export function removeTempFiles(): void {
  for (const tmp of pending) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // already gone
    }
    pending.delete(tmp);
  }
}

export interface PrivateSink {
  /** Append text or bytes; resolves when the writer can take more (backpressure). */
  write(chunk: string | Buffer): Promise<void>;
}

type Destination = { kind: 'replace'; target: string } | { kind: 'into'; target: string };

/** Where a chain of symbolic links ending nowhere points; null when `file` is not a link. */
function danglingTarget(file: string): string | null {
  let at = file;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!fs.lstatSync(at).isSymbolicLink()) return hops ? at : null;
      link = fs.readlinkSync(at);
    } catch {
      return hops ? at : null;
    }
    at = path.resolve(path.dirname(at), link);
  }
  throw InputError.of('err.out.loop', { name: file });
}

/** What `file` is and how it is written; `name` is how messages call it (e.g. `-o out.csv`). */
function destination(file: string, name: string): Destination {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // a link to a file not there yet: the file is made where the link points, the link kept
      const target = danglingTarget(file) ?? file;
      const dir = path.dirname(target);
      if (!fs.existsSync(dir))
        throw InputError.of('err.out.noFolder', {
          name,
          dir: target === file ? path.dirname(name.replace(/^-o /, '')) || dir : dir,
        });
      return { kind: 'replace', target };
    }
    if (code === 'ENOTDIR') throw InputError.of('err.out.notDir', { name });
    if (code === 'EACCES') throw InputError.of('err.out.denied', { name });
    throw InputError.of('err.atFile', {
      file: name,
      problem: { key: 'err.nodeText', params: { text: (err as Error).message.replace(/^\w+:\s*/, '') } },
    });
  }
  if (st.isDirectory()) throw InputError.of('err.out.isDir', { name });
  if (st.isFIFO() || st.isCharacterDevice()) return { kind: 'into', target: file };
  if (!st.isFile())
    throw InputError.of(st.isBlockDevice() ? 'err.out.blockDevice' : 'err.out.socket', { name });
  return { kind: 'replace', target: fs.realpathSync(file) };
}

/** An I/O failure while writing, named: exit 2 when it is the user's path, else a fault (exit 1). */
function writeError(name: string, err: unknown): Error {
  if (err instanceof InputError) return err;
  const e = err as NodeJS.ErrnoException;
  const text = e.message.replace(new RegExp(`^${e.code ?? '\\w+'}:\\s*`), '');
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS')
    return InputError.of('err.out.cannotWrite', { name, text });
  return new Error(`${name}: cannot write: ${text}`);
}

/** A hidden temp file beside `target`, named for it (same folder: the rename stays on one file system). */
function tempBeside(target: string): string {
  return path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
}

const FLUSH_BYTES = 256 * 1024;

/**
 * Write `file` from what `produce` hands the sink, streamed (never the whole content in memory).
 * Everything or nothing: a regular file appears only complete (rename), or stays as it was.
 */
export async function writePrivateFile(
  file: string,
  name: string,
  produce: (sink: PrivateSink) => Promise<void>,
): Promise<void> {
  const dest = destination(file, name);
  let handle: fs.promises.FileHandle | null = null;
  let tmp: string | null = null;
  try {
    if (dest.kind === 'into') {
      // O_WRONLY only: no O_CREAT, no O_TRUNC, no chmod: a device or pipe stays what it is
      handle = await fs.promises.open(dest.target, fs.constants.O_WRONLY | fs.constants.O_NOCTTY);
    } else {
      tmp = tempBeside(dest.target);
      pending.add(tmp);
      handle = await fs.promises.open(
        tmp,
        fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL,
        0o600,
      );
      await handle.chmod(0o600); // whatever the umask
    }
    const h = handle;
    let parts: Buffer[] = [];
    let held = 0;
    const flush = async (): Promise<void> => {
      if (!held) return;
      const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
      parts = [];
      held = 0;
      let at = 0;
      while (at < data.length) at += (await h.write(data, at, data.length - at)).bytesWritten;
    };
    await produce({
      async write(chunk) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        parts.push(b);
        held += b.length;
        if (held >= FLUSH_BYTES) await flush();
      },
    });
    await flush();
    if (dest.kind === 'replace') await handle.sync();
    await handle.close();
    handle = null;
    if (tmp !== null) {
      await fs.promises.rename(tmp, dest.target);
      pending.delete(tmp);
      tmp = null;
      syncFolder(path.dirname(dest.target));
    }
  } catch (err) {
    throw writeError(name, err);
  } finally {
    if (handle) await handle.close().catch(() => undefined);
    if (tmp !== null) {
      pending.delete(tmp);
      await fs.promises.unlink(tmp).catch(() => undefined);
    }
  }
}

/** A small private file (provider state), replaced atomically with mode 0600; synchronous. */
export function writePrivateFileSync(file: string, content: string | Buffer): void {
  const dest = destination(file, file);
  if (dest.kind === 'into') {
    const fd = fs.openSync(dest.target, fs.constants.O_WRONLY | fs.constants.O_NOCTTY);
    try {
      fs.writeFileSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
    return;
  }
  const tmp = tempBeside(dest.target);
  pending.add(tmp);
  try {
    const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    try {
      fs.fchmodSync(fd, 0o600);
      fs.writeFileSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, dest.target);
    syncFolder(path.dirname(dest.target));
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // never created
    }
    throw err;
  } finally {
    pending.delete(tmp);
  }
}

/** fsync a folder so a rename in it survives a power cut (best effort: not every file system can). */
function syncFolder(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // not supported here
  }
}
