/**
 * A problem with what the user gave us (CSV, template, config, options): nothing is sent,
 * the CLI prints the one-line message and exits 2.
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(message: string) {
    super(message);
  }
}

/** `file line 7, column 3: message`: the location prefix every input error starts with. */
export function located(file: string, where: { line?: number; row?: number; column?: string | number }, message: string): string {
  const parts: string[] = [];
  if (where.row !== undefined) parts.push(`row ${where.row}`);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.column !== undefined) parts.push(`column ${typeof where.column === 'number' ? where.column : `"${where.column}"`}`);
  return `${file}${parts.length ? ' ' + parts.join(', ') : ''}: ${message}`;
}
