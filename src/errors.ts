/**
 * The one error vocabulary of ums: what went wrong, and the exit code it means (DESIGN.md). Pure:
 * every layer throws these; only src/cli/main.ts turns one into a line on stderr and an exit code.
 */

import type { MessageKey } from './i18n/en.js';
import { currentLang, type Lang, t } from './i18n/index.js';

export const EXIT = { ok: 0, fault: 1, input: 2, incomplete: 3, locked: 75 } as const;

/** Where in a file an input error is: `row 7` (a CSV record), `line 7` (a file line), a column. */
export interface Where {
  line?: number;
  row?: number;
  column?: string | number;
}

/**
 * The same error for a person reading another language: the catalog key of the message (its English
 * text stays the error's `message`, what tests and logs see), its parameters, and the file and place
 * of `located()` so the prefix is translated too. src/cli/main.ts prints `t(key, params)` outside English.
 */
export interface Localised {
  key?: MessageKey;
  params?: Record<string, string | number>;
  at?: { file: string; where: Where };
}

/** A catalog message as a parameter of another (`the file {problem}`): filled in each language. */
export interface Msg {
  key: MessageKey;
  params?: Record<string, string | number>;
  /** the English text where it is not the catalog's (another library's words, kept as they were) */
  en?: string;
}
export type MsgParams = Record<string, string | number | Msg>;

function fill(params: MsgParams, lang: Lang): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params))
    out[k] =
      typeof v !== 'object' ? v : lang === 'en' && v.en !== undefined ? v.en : t(v.key, v.params, lang);
  return out;
}

class UmsError extends Error {
  constructor(
    message: string,
    readonly localised?: Localised,
  ) {
    super(message);
  }

  /** `file row 7: message`, its place kept for the translated prefix. */
  static at<T extends UmsError>(
    this: new (
      message: string,
      localised?: Localised,
    ) => T,
    file: string,
    where: Where,
    message: string,
    localised: Omit<Localised, 'at'> = {},
  ): T {
    return new this(located(file, where, message), { ...localised, at: { file, where } });
  }

  /** The error of catalog message `key`: its English text is the message, the key prints it in another language. */
  static of<T extends UmsError>(
    this: new (
      message: string,
      localised?: Localised,
    ) => T,
    key: MessageKey,
    params: MsgParams = {},
  ): T {
    return new this(t(key, fill(params, 'en'), 'en'), { key, params: fill(params, currentLang()) });
  }

  /** `file row 7: <catalog message key>`, as `at()` with the message from the catalog. */
  static atKey<T extends UmsError>(
    this: new (
      message: string,
      localised?: Localised,
    ) => T,
    file: string,
    where: Where,
    key: MessageKey,
    params: MsgParams = {},
  ): T {
    return new this(located(file, where, t(key, fill(params, 'en'), 'en')), {
      key,
      params: fill(params, currentLang()),
      at: { file, where },
    });
  }
}

/**
 * A problem with what the user gave us (CSV, template, config, options): nothing is sent,
 * the CLI prints the one-line message and exits 2.
 */
export class InputError extends UmsError {
  override readonly name = 'InputError';
}

/** A runtime fault (provider down, auth refused, journal unwritable, Ctrl-C): `ums resume` continues (exit 1). */
export class FaultError extends UmsError {
  override readonly name = 'FaultError';
}

/** Another live process holds the campaign (exit 75). */
export class LockedError extends UmsError {
  override readonly name = 'LockedError';
}

/** The exit code an error means: input 2, locked 75, anything else (a fault, or a bug) 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InputError) return EXIT.input;
  if (err instanceof LockedError) return EXIT.locked;
  return EXIT.fault;
}

/** `file line 7, column 3: message`: the location prefix every input error starts with. */
export function located(file: string, where: Where, message: string): string {
  const parts: string[] = [];
  if (where.row !== undefined) parts.push(`row ${where.row}`);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.column !== undefined)
    parts.push(`column ${typeof where.column === 'number' ? where.column : `"${where.column}"`}`);
  return `${file}${parts.length ? ` ${parts.join(', ')}` : ''}: ${message}`;
}
