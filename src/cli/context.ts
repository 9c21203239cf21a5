import path from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import { type Config, loadConfig } from '../config/config.js';
import { redact } from '../config/secrets.js';
import { InputError } from '../errors.js';
import { type Lang, pickLang, setLang } from '../i18n/index.js';
import { Journal } from '../journal/journal.js';
import { isPostgresUrl } from '../journal/postgres.js';
import { DEFAULT_TIME_ZONE, parseInZone } from '../time/zone.js';

export { EXIT } from '../errors.js';

/** Where a command writes and what it knows of its terminal; tests never need a real TTY. */
export interface Cli {
  out: (line: string) => void;
  err: (line: string) => void;
  /**
   * Stream output of any size: resolves when stdout can take more (backpressure); throws
   * OutputClosed once the reader is gone (`ums ... | head`).
   */
  write: (chunk: string | Uint8Array) => Promise<void>;
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdoutIsTTY: boolean;
  stdinIsTTY: boolean;
  color: ChalkInstance;
  /** the wall clock for quiet hours; UMS_NOW=<ISO time> starts it elsewhere (tests, rehearsals) */
  now: () => Date;
  /** `--lang` as given (src/cli/main.ts), which the config's `lang:` does not override */
  langFlag?: Lang;
}

/** stdout failed (EPIPE: its reader is gone, as with `| head`): the command ends quietly or, for other errors, with one line. */
export class OutputClosed extends Error {
  override readonly name = 'OutputClosed';
  constructor(readonly code: string) {
    super(`stdout: ${code === 'EPIPE' ? 'the reader is gone' : `cannot write (${code})`}`);
  }
}

/** The real process; `clock: false` leaves UMS_NOW unread (to report that it is wrong). */
export function processCli(clock = true): Cli {
  const stdoutIsTTY = Boolean(process.stdout.isTTY);
  const noColor = 'NO_COLOR' in process.env || !stdoutIsTTY || process.env.TERM === 'dumb';
  // A closed stdout never becomes an uncaught 'error' (a stack trace): output stops, work goes on
  // (a send keeps sending and recording); streaming commands stop at their next write.
  let stdoutError: string | null = null;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    stdoutError ??= err.code ?? 'EIO';
  });
  process.stderr.on('error', () => undefined);
  const write = async (chunk: string | Uint8Array): Promise<void> => {
    if (stdoutError) throw new OutputClosed(stdoutError);
    if (!process.stdout.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          process.stdout.off('drain', done);
          process.stdout.off('error', done);
          process.stdout.off('close', done);
          resolve();
        };
        process.stdout.on('drain', done);
        process.stdout.on('error', done);
        process.stdout.on('close', done);
      });
    }
    if (stdoutError) throw new OutputClosed(stdoutError);
  };
  return {
    // the one place printing passes: no value of an expanded ${VAR} reaches the terminal or a log
    out: (line) => {
      if (!stdoutError) process.stdout.write(`${redact(line)}\n`);
    },
    err: (line) => process.stderr.write(`${redact(line)}\n`),
    write,
    env: process.env,
    cwd: process.cwd(),
    stdoutIsTTY,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    color: new Chalk({ level: noColor ? 0 : 1 }),
    now: clock ? clockFrom(process.env.UMS_NOW) : () => new Date(),
  };
}

/**
 * A clock that starts at `start` (if given) and runs at real speed from there; a start without an
 * offset (`2026-12-02T20:55`) is a wall-clock time in `timeZone` (the configured one: openConfig).
 */
export function clockFrom(start: string | undefined, timeZone: string = DEFAULT_TIME_ZONE): () => Date {
  if (!start) return () => new Date();
  const at = parseInZone(start, timeZone);
  if (!/^\d{4}-\d{2}-\d{2}/.test(start.trim()) || Number.isNaN(at))
    throw InputError.of('err.umsNow', { value: start });
  const offset = at - Date.now();
  return () => new Date(Date.now() + offset);
}

export interface CommonOptions {
  config?: string;
  db?: string;
}

export function openConfig(cli: Cli, opts: CommonOptions): Config {
  const config = loadConfig(opts.config, cli.env, cli.cwd);
  setLang(pickLang(cli.langFlag, config.lang ?? undefined, cli.env));
  // UMS_NOW without an offset is read in the configured zone (processCli read it in the default one)
  if (cli.env.UMS_NOW && config.timezone !== DEFAULT_TIME_ZONE)
    cli.now = clockFrom(cli.env.UMS_NOW, config.timezone);
  return config;
}

export function openJournal(cli: Cli, config: Config, opts: CommonOptions): Journal {
  const file = opts.db ?? cli.env.UMS_DB ?? config.journal;
  const base = opts.db || cli.env.UMS_DB || !config.file ? cli.cwd : path.dirname(config.file);
  // a journal on PostgreSQL: provider side files go to the config's folder's .ums (the working folder's without one)
  if (isPostgresUrl(file))
    return Journal.open(file, {
      stateDir: path.join(config.file ? path.dirname(config.file) : cli.cwd, '.ums'),
    });
  return Journal.open(path.resolve(base, file));
}
