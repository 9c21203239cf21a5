/**
 * Control and invisible characters: the ones no message may carry, and the ones no terminal may
 * be handed raw.
 *
 * In text that is sent (body, subject, fallback text): C0 controls except the newline (\t and a
 * lone \r included: carriers and Solapi refuse them, 1028), DEL and C1 (U+0080-U+009F). A \r\n
 * inside a value is a line break and becomes \n, as in templates.
 */
const SENT_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** Index of the first character no message may carry, or -1. */
export function findControlChar(text: string): number {
  const m = SENT_CONTROL.exec(text);
  return m === null ? -1 : m.index;
}

const NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x07: 'BEL',
  0x08: 'BS',
  0x09: 'TAB',
  0x0b: 'VT',
  0x0c: 'FF',
  0x0d: 'CR',
  0x1b: 'ESC',
  0x7f: 'DEL',
  0x200b: 'ZERO WIDTH SPACE',
  0x200e: 'LRM',
  0x200f: 'RLM',
  0x202a: 'LRE',
  0x202b: 'RLE',
  0x202c: 'PDF',
  0x202d: 'LRO',
  0x202e: 'RLO',
  0x2066: 'LRI',
  0x2067: 'RLI',
  0x2068: 'FSI',
  0x2069: 'PDI',
  0xfeff: 'BOM',
};

/** `U+0007 (BEL)` */
export function describeCodePoint(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = NAMES[code];
  return name ? `${hex} (${name})` : hex;
}

/**
 * What a terminal must not be handed raw: every control character (C0, DEL, C1: escape sequences,
 * carriage returns that overwrite a line, bells), the format characters (bidi overrides such as
 * U+202E that reverse what follows, zero-width spaces that hide inside a number, BOMs, tags),
 * line and paragraph separators, and lone surrogates. U+200D (ZWJ) stays: it joins emoji.
 */
const UNSAFE_FOR_TERMINAL = /[\p{Cc}\p{Zl}\p{Zp}]|(?!\u200d)\p{Cf}|\p{Cs}/gu;
const UNSAFE_KEEP_NEWLINE = /[\u0000-\u0009\u000b-\u001f\p{Zl}\p{Zp}\u007f-\u009f]|(?!\u200d)\p{Cf}|\p{Cs}/gu;

/**
 * `text` with every character of UNSAFE_FOR_TERMINAL written as `<U+XXXX>`: what the user gave
 * stays readable and nothing in it reaches the terminal as a control. `keepNewlines`: \n stays.
 */
export function escapeForTerminal(text: string, keepNewlines = false): string {
  const re = keepNewlines ? UNSAFE_KEEP_NEWLINE : UNSAFE_FOR_TERMINAL;
  re.lastIndex = 0;
  if (!re.test(text)) return text;
  re.lastIndex = 0;
  return text.replace(re, (c) => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`);
}
