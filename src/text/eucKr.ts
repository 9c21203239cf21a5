/** KS X 1001:1998 added € (A2E6) and ® (A2E7); ICU's table predates them, carriers take them. */
const ADDED_IN_1998 = [0x20ac, 0x00ae];

/**
 * Strict KS X 1001 (EUC-KR) membership table, indexed by UTF-16 code unit.
 * Built once from the 94x94 double-byte area (both bytes 0xA1-0xFE): a CP949 decoder's extra
 * Hangul (똠, 햏...) live outside that area, so decoding only this area yields exactly the strict
 * set carriers accept. The WHATWG decoder built into Node (ICU) does it in one call, ~10x faster
 * than iconv-lite pair by pair, and every `ums` start pays for it.
 */
const KS_X_1001 = buildTable();

function buildTable(): Uint8Array {
  const table = new Uint8Array(0x10000);
  const area = Buffer.alloc(94 * 94 * 2);
  let at = 0;
  for (let hi = 0xa1; hi <= 0xfe; hi++) {
    for (let lo = 0xa1; lo <= 0xfe; lo++) {
      area[at++] = hi;
      area[at++] = lo;
    }
  }
  // One character per pair: an unassigned pair decodes to U+FFFD, never to two characters.
  const decoded = new TextDecoder('euc-kr').decode(area);
  for (let i = 0; i < decoded.length; i++) {
    const code = decoded.charCodeAt(i);
    // U+FFFD: unassigned; private use: the user-defined rows nobody's phone can show.
    if (code === 0xfffd || (code >= 0xe000 && code <= 0xf8ff) || code < 0x80) continue;
    table[code] = 1;
  }
  for (const code of ADDED_IN_1998) table[code] = 1;
  return table;
}

/**
 * EUC-KR byte length of `text` as Korean carriers count it: ASCII 1, KS X 1001 2.
 * Returns -1 when any character lies outside strict KS X 1001 (use findNonEucKr for which).
 */
export function countEucKrBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (KS_X_1001[c] === 1) bytes += 2;
    else return -1;
  }
  return bytes;
}

export interface ForeignChar {
  char: string;
  /** 1-based character position (code points, as a person counts them). */
  position: number;
}

/** Characters of `text` that strict EUC-KR cannot carry, with their positions. */
export function findNonEucKr(text: string): ForeignChar[] {
  const found: ForeignChar[] = [];
  let position = 0;
  for (const char of text) {
    position++;
    const c = char.charCodeAt(0);
    if (char.length > 1 || (c >= 0x80 && KS_X_1001[c] !== 1)) found.push({ char, position });
  }
  return found;
}

/** Human description of unsendable characters: `"😀" (U+1F600) at 5, "똠" (U+B620) at 9`. */
export function describeForeignChars(found: ForeignChar[], max = 5): string {
  const shown = found
    .slice(0, max)
    .map(
      (f) =>
        `"${f.char}" (U+${f.char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) at ${f.position}`,
    );
  const more = found.length > max ? ` and ${found.length - max} more` : '';
  return shown.join(', ') + more;
}

export function isEucKrChar(code: number): boolean {
  return code < 0x80 || KS_X_1001[code] === 1;
}
