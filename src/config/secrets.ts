/**
 * Values of expanded `${VAR}`s are secrets (DESIGN.md): never printed, never stored. The config
 * loader registers each value here; the CLI's out/err and the journal's reason and report texts
 * pass through redact(). Values shorter than MIN_SECRET characters are not scrubbed: they would
 * turn every number in the output into stars and hide nothing.
 */
const MIN_SECRET = 4;
const secrets = new Set<string>();
let ordered: string[] = [];

export function addSecret(value: string): void {
  if (value.length < MIN_SECRET || secrets.has(value)) return;
  secrets.add(value);
  // longest first: a secret that contains another is scrubbed whole
  ordered = [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with every registered secret replaced by `***`. */
export function redact(text: string): string;
export function redact(text: string | null): string | null;
export function redact(text: string | null): string | null {
  if (text === null || ordered.length === 0) return text;
  let out = text;
  for (const s of ordered) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** For tests: forget every secret. */
export function clearSecrets(): void {
  secrets.clear();
  ordered = [];
}
