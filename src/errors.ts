/**
 * The one error vocabulary of ums: what went wrong, and the exit code it means (DESIGN.md). Pure:
 * every layer throws these; only src/cli/main.ts turns one into a line on stderr and an exit code.
 */

export const EXIT = { ok: 0, fault: 1, input: 2, incomplete: 3, locked: 75 } as const;

/**
 * A problem with what the user gave us (CSV, template, config, options): nothing is sent,
 * the CLI prints the one-line message and exits 2.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
}

/** A runtime fault (provider down, auth refused, journal unwritable, Ctrl-C): `ums resume` continues (exit 1). */
export class FaultError extends Error {
  override readonly name = 'FaultError';
}

/** Another live process holds the campaign (exit 75). */
export class LockedError extends Error {
  override readonly name = 'LockedError';
}

/** The exit code an error means: input 2, locked 75, anything else (a fault, or a bug) 1. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof InputError) return EXIT.input;
  if (err instanceof LockedError) return EXIT.locked;
  return EXIT.fault;
}

/** `file line 7, column 3: message`: the location prefix every input error starts with. */
export function located(
  file: string,
  where: { line?: number; row?: number; column?: string | number },
  message: string,
): string {
  const parts: string[] = [];
  if (where.row !== undefined) parts.push(`row ${where.row}`);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.column !== undefined)
    parts.push(`column ${typeof where.column === 'number' ? where.column : `"${where.column}"`}`);
  return `${file}${parts.length ? ` ${parts.join(', ')}` : ''}: ${message}`;
}
