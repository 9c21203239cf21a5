import fs from 'node:fs';
import { InputError, type Msg } from '../errors.js';
import { en, type MessageKey } from '../i18n/en.js';

/**
 * The one way ums opens a file the user gave it (config, CSV, template, AlimTalk text file, images,
 * opt-out lists): opened first, then checked through the open descriptor (fstat), then read through
 * that same descriptor, so a file swapped between the check and the read does not help. A file must
 * be a regular file under its kind's size cap; where `allowPipe` says so, a FIFO (or `-`, stdin) too.
 * Opening never waits: a FIFO that is not allowed is opened without blocking and refused.
 */

export const KB = 1024;
export const MB = 1024 * 1024;
/** Size caps per kind of file. */
export const MAX_CONFIG_BYTES = 1 * MB;
export const MAX_TEMPLATE_BYTES = 256 * KB;
export const MAX_APPROVED_TEXT_BYTES = 256 * KB;

export interface InputFileOptions {
  /** what the file is, for messages: "config file", "template", "image" */
  what: string;
  /** how the file is named in messages (default: the path as given) */
  name?: string;
  /** refuse a file over this many bytes (default: no cap) */
  maxBytes?: number;
  /** the whole message for a file over maxBytes (default: "<name>: the <what> is N bytes; ...") */
  tooLarge?: (bytes: number) => InputError;
  /** a FIFO (a named pipe), or `-` for stdin, may be read too (once, as a stream) */
  allowPipe?: boolean;
  /** an empty file is fine (default: refused, "the <what> is empty") */
  allowEmpty?: boolean;
}

export interface OpenedInput {
  fd: number;
  /** the size fstat gave for a regular file; null for a pipe */
  size: number | null;
  pipe: boolean;
}

function article(what: string): string {
  return `${/^[aeiou]/i.test(what) ? 'an' : 'a'} ${what}`;
}

function kindOf(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a pipe (FIFO)';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function openError(name: string, what: string, err: unknown): InputError {
  const code = (err as NodeJS.ErrnoException).code;
  const params = { file: name, what };
  if (code === 'ENOENT')
    return new InputError(`${name}: no such ${what}`, { key: 'err.file.missing', params });
  if (code === 'EACCES' || code === 'EPERM')
    return new InputError(`${name}: permission denied`, { key: 'err.file.denied', params });
  if (code === 'ENOTDIR')
    return new InputError(`${name}: no such ${what} (a part of the path is not a folder)`, {
      key: 'err.file.missing',
      params,
    });
  if (code === 'ELOOP') return InputError.of('file.loop', { file: name });
  if (code === 'EISDIR')
    return new InputError(`${name}: is a directory, not ${article(what)}`, { key: 'err.file.isDir', params });
  const text = (err as Error).message.replace(new RegExp(`^${code ?? '\\w+'}:\\s*`), '');
  return InputError.of('file.cannotOpen', { file: name, what, text });
}

/** `a recipient CSV` in English; the noun alone in a language with a catalog entry for it. */
function aNoun(what: string): Msg | string {
  const key = `noun.${what}`;
  return Object.hasOwn(en, key) ? { key: key as MessageKey, en: article(what) } : article(what);
}

/**
 * Open `file` for reading and check it through its descriptor. The caller closes `fd`.
 * `-` with allowPipe is stdin (fd 0, not to be closed).
 */
export function openInputFile(file: string, opts: InputFileOptions): OpenedInput {
  const name = opts.name ?? file;
  if (file === '-' && opts.allowPipe) return { fd: 0, size: null, pipe: true };
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once (and is refused below) instead of
    // waiting forever; on a regular file it changes nothing. A pipe that is allowed is opened
    // blocking, as `cat` would: it waits for its writer.
    const nonBlock = opts.allowPipe ? 0 : fs.constants.O_NONBLOCK;
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOCTTY | nonBlock);
  } catch (err) {
    throw openError(name, opts.what, err);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isFIFO() && opts.allowPipe) return { fd, size: null, pipe: true };
    if (st.isDirectory())
      throw new InputError(`${name}: is a directory, not ${article(opts.what)}`, {
        key: 'err.file.isDir',
        params: { file: name, what: opts.what },
      });
    if (!st.isFile()) {
      throw InputError.of('file.notRegular', {
        file: name,
        kind: kindOf(st),
        a: aNoun(opts.what),
        orPipe: opts.allowPipe ? { key: 'file.orPipe' } : '',
      });
    }
    if (st.size === 0 && !opts.allowEmpty)
      throw new InputError(`${name}: the ${opts.what} is empty`, {
        key: 'err.file.empty',
        params: { file: name, what: opts.what },
      });
    if (opts.maxBytes !== undefined && st.size > opts.maxBytes) throw tooLarge(name, opts, st.size);
    return { fd, size: st.size, pipe: false };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

function tooLarge(name: string, opts: InputFileOptions, bytes: number): InputError {
  if (opts.tooLarge) return opts.tooLarge(bytes);
  return InputError.of('file.tooLarge', {
    file: name,
    what: opts.what,
    bytes: bytes.toLocaleString('en-US'),
    a: aNoun(opts.what),
    max: opts.maxBytes!.toLocaleString('en-US'),
  });
}

/**
 * The whole of a small file, read through the descriptor it was checked on. A regular file that
 * grows past the cap while it is read is refused all the same (never more than cap + 1 bytes held).
 */
export function readInputFile(file: string, opts: InputFileOptions): Buffer {
  const name = opts.name ?? file;
  const { fd, size } = openInputFile(file, { ...opts, allowPipe: false });
  try {
    const cap = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    let buf = Buffer.allocUnsafe(Math.min((size ?? 0) + 1, cap + 1, 64 * MB) || 1);
    let filled = 0;
    for (;;) {
      if (filled === buf.length) {
        if (filled > cap) throw tooLarge(name, opts, filled);
        const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, cap + 1));
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      let n: number;
      try {
        n = fs.readSync(fd, buf, filled, buf.length - filled, null);
      } catch (err) {
        throw openError(name, opts.what, err);
      }
      if (n === 0) break;
      filled += n;
      if (filled > cap) throw tooLarge(name, opts, filled);
    }
    if (filled === 0 && !opts.allowEmpty)
      throw new InputError(`${name}: the ${opts.what} is empty`, {
        key: 'err.file.empty',
        params: { file: name, what: opts.what },
      });
    return buf.subarray(0, filled);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Check a file that is read later, more than once (the recipient CSV: its digest, then its rows):
 * a regular file, not empty. Returns its size.
 */
export function checkReadableFile(
  file: string,
  what: string,
  opts: Omit<InputFileOptions, 'what'> = {},
): number {
  const { fd, size } = openInputFile(file, { ...opts, what, allowPipe: false });
  fs.closeSync(fd);
  return size!;
}
