import { createRequire } from 'node:module';

type Libphonenumber = typeof import('libphonenumber-js/max');
let libphonenumber: Libphonenumber | null = null;

/**
 * libphonenumber, loaded the first time a number needs it: most recipient lists hold Korean
 * numbers only.
 */
function parsePhoneNumberFromString(text: string): ReturnType<Libphonenumber['parsePhoneNumberFromString']> {
  libphonenumber ??= createRequire(import.meta.url)('libphonenumber-js/max') as Libphonenumber;
  return libphonenumber.parsePhoneNumberFromString(text);
}

export type PhoneKind = 'mobile' | 'landline' | 'international';

export type PhoneResult = { ok: true; to: string; kind: PhoneKind } | { ok: false; reason: string };

const SEPARATORS = /[\s\-.()\u00a0\u2010-\u2015]/g;
// 010 + 8 digits; the older 011/016/017/018/019 + 7 or 8 (010 + 7 digits is a typo, not a number)
const KR_MOBILE = /^(?:010\d{8}|01[16789]\d{7,8})$/;
// Seoul 02 + 7-8 digits; other areas 0[3-6]x + 7-8 digits; 070 internet phones; 050x safe numbers.
const KR_LANDLINE = /^(?:02\d{7,8}|0[3-6][1-5]\d{7,8}|070\d{8}|050\d{8,9})$/;
const KR_REPRESENTATIVE = /^1[5-8]\d{6}$/;

/**
 * Normalise a recipient number: Korean numbers to their national digits (`01012345678`),
 * other countries to E.164 (`+14155550100`). Korean numbers are matched by hand first:
 * they are nearly every row, and libphonenumber costs ~50x more per call (bench/fastpaths.js:
 * phonesPerSec). The two agree: test/unit/fastPaths.test.ts.
 */
export function normalisePhone(raw: string): PhoneResult {
  const mobile = fastKoreanMobile(raw);
  if (mobile !== null) return { ok: true, to: mobile, kind: 'mobile' };
  return normaliseAny(raw);
}

/** Scratch space for fastKoreanMobile's digits: 13 is more than any Korean mobile number needs. */
const FAST_DIGITS = new Uint8Array(13);

/**
 * The common case without regexes or intermediate strings: a Korean mobile number written with
 * ASCII digits, spaces, "-", ".", "(", ")" and at most one leading "+". Returns exactly what
 * normaliseAny would return as `to` for a mobile number, or null for anything else (normaliseAny
 * then decides, so every other input, valid or not, gets the one careful treatment).
 */
function fastKoreanMobile(raw: string): string | null {
  const d = FAST_DIGITS;
  let count = 0;
  let plus = false;
  let separators = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      if (count === d.length) return null;
      d[count++] = c - 0x30;
    } else if (c === 0x20 || c === 0x2d || c === 0x2e || c === 0x28 || c === 0x29) {
      separators = true;
    } else if (c === 0x2b && count === 0 && !plus) {
      plus = true;
    } else {
      return null;
    }
  }
  // Where the national number starts in d[], and whether a "0" goes before it.
  let start: number;
  let zero: boolean;
  if (count < 2) return null;
  if (plus || (d[0] === 8 && d[1] === 2 && count >= 11)) {
    if (d[0] !== 8 || d[1] !== 2) return null; // another country
    start = d[2] === 0 ? 3 : 2; // +82 (0)10 ...: one trunk zero is dropped
    zero = true;
  } else if (d[0] === 0) {
    if (d[1] === 0) return null; // 00: the international prefix
    start = 0;
    zero = false;
  } else if (d[0] === 1 && (count === 9 || count === 10)) {
    start = 0; // Excel dropped the leading zero
    zero = true;
  } else {
    return null;
  }
  // KR_MOBILE on the national number
  const length = count - start + (zero ? 1 : 0);
  if (length !== 10 && length !== 11) return null;
  const i = zero ? start : start + 1; // index in d[] of the national number's second digit
  if (!zero && d[start] !== 0) return null;
  if (d[i] !== 1) return null;
  const third = d[i + 1]!;
  if (third !== 0 && third !== 1 && third !== 6 && third !== 7 && third !== 8 && third !== 9) return null;
  if (third === 0 && length !== 11) return null; // 010 takes 8 digits after it
  if (!plus && !separators && !zero) return raw; // already 01012345678
  let value = 0;
  for (let k = i; k < count; k++) value = value * 10 + d[k]!;
  return `0${value}`;
}

/**
 * Every form of number: Korean mobile and landline, representative numbers, international. (Exported
 * for the differential test of fastKoreanMobile: test/unit/fastPaths.test.ts.)
 */
export function normaliseAny(raw: string): PhoneResult {
  const trimmed = raw.trim();
  if (trimmed === '') return { ok: false, reason: 'phone number is empty' };
  const ascii = toHalfWidth(trimmed);
  if (/^\d(\.\d+)?e\+?\d+$/i.test(ascii)) {
    return {
      ok: false,
      reason: `phone number "${trimmed}" was mangled by a spreadsheet (scientific notation)`,
    };
  }
  let digits = ascii.replace(SEPARATORS, '');
  if (digits.startsWith('+')) {
    digits = digits.slice(1);
    if (!/^\d+$/.test(digits))
      return { ok: false, reason: `phone number "${trimmed}" contains characters other than digits` };
    return internationalNumber(digits, trimmed);
  }
  if (!/^\d+$/.test(digits))
    return { ok: false, reason: `phone number "${trimmed}" contains characters other than digits` };
  // 00 is the international dialling prefix: no Korean number starts with it.
  if (digits.startsWith('00')) return dialledAbroad(digits, trimmed);

  let national: string | undefined;
  if (digits.startsWith('82') && digits.length >= 11) national = koreanNational(digits.slice(2));
  else if (digits.startsWith('0') || KR_REPRESENTATIVE.test(digits)) national = digits;
  // Excel stores 010-1234-5678 as the number 1012345678: the leading zero is gone.
  else if (/^1(?:0\d{8}|[16789]\d{7,8})$/.test(digits)) national = `0${digits}`;
  if (national === undefined)
    return {
      ok: false,
      reason: `phone number "${trimmed}" is not a valid Korean number (use +country code for other countries)`,
    };
  return koreanNumber(national, trimmed);
}

/**
 * Korean carriers' own international prefixes (001 KT, 002 LG U+, 005 SK Broadband, 006, 008,
 * 00700 SK Telink, 00300...), which Korean users write where the rest of the world writes 00.
 */
const KR_INTERNATIONAL_PREFIXES = [
  '001',
  '002',
  '005',
  '006',
  '008',
  '00300',
  '00345',
  '00365',
  '00700',
  '00727',
  '00766',
  '00770',
];

/**
 * A number that starts with 00: "00 CC ..." (the ITU prefix) or "001 CC ..." (a Korean carrier's
 * prefix) can both be valid numbers in different countries (008-1-201-555-0123: US via 008, or
 * Japan +81 201... via 00). Take it only when every valid reading names the same number.
 */
function dialledAbroad(digits: string, trimmed: string): PhoneResult {
  const itu = internationalNumber(digits.slice(2), trimmed);
  const valid = new Map<string, PhoneResult & { ok: true }>();
  if (itu.ok) valid.set(itu.to, itu);
  for (const prefix of KR_INTERNATIONAL_PREFIXES) {
    if (!digits.startsWith(prefix) || digits.length <= prefix.length) continue;
    const r = internationalNumber(digits.slice(prefix.length), trimmed);
    if (r.ok) valid.set(r.to, r);
  }
  if (valid.size === 1) return [...valid.values()][0]!;
  if (valid.size > 1) {
    const readings = [...valid.keys()]
      .map((to) => (to.startsWith('+') ? to : `+82${to.slice(1)}`))
      .join(' or ');
    return {
      ok: false,
      reason: `phone number "${trimmed}" is ambiguous: 00 or a Korean carrier's prefix (001, 002, 008...) make it ${readings}; write it as + and the country code`,
    };
  }
  return itu;
}

/** `digits`: country code and number, without + or 00. */
function internationalNumber(digits: string, trimmed: string): PhoneResult {
  if (digits.startsWith('82')) return koreanNumber(koreanNational(digits.slice(2)), trimmed);
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  if (!parsed?.isValid())
    return { ok: false, reason: `phone number "${trimmed}" is not a valid international number` };
  return { ok: true, to: parsed.number, kind: 'international' };
}

/** The national form of what follows +82: a trunk 0 added (or kept); 15xx/16xx/18xx have none. */
function koreanNational(rest: string): string {
  return KR_REPRESENTATIVE.test(rest) ? rest : `0${stripTrunkZero(rest)}`;
}

function koreanNumber(national: string, trimmed: string): PhoneResult {
  if (KR_MOBILE.test(national)) return { ok: true, to: national, kind: 'mobile' };
  if (KR_LANDLINE.test(national)) return { ok: true, to: national, kind: 'landline' };
  if (KR_REPRESENTATIVE.test(national)) {
    return {
      ok: false,
      reason: `phone number "${trimmed}" is a representative number (15xx/16xx/18xx): it cannot receive messages`,
    };
  }
  return { ok: false, reason: `phone number "${trimmed}" is not a valid Korean number` };
}

function stripTrunkZero(rest: string): string {
  return rest.startsWith('0') ? rest.slice(1) : rest;
}

/** `010-****-5678` for people; exports keep full numbers. */
export function maskPhone(to: string): string {
  if (to.startsWith('+')) return to.length > 6 ? `${to.slice(0, 4)}****${to.slice(-4)}` : '****';
  if (to.length === 11) return `${to.slice(0, 3)}-****-${to.slice(7)}`;
  if (to.length === 10)
    return to.startsWith('02') ? `02-****-${to.slice(6)}` : `${to.slice(0, 3)}-***-${to.slice(6)}`;
  if (to.length === 9) return `${to.slice(0, 2)}-***-${to.slice(5)}`;
  return to.length > 4 ? `${'*'.repeat(to.length - 4)}${to.slice(-4)}` : '****';
}

/**
 * Full-width ASCII (０１０－１２３４－５６７８, typed with a Korean IME in full-width mode) as plain ASCII.
 * Only these exact compatibility forms: NFKC would also turn ① or ² into digits, which no one meant.
 */
function toHalfWidth(text: string): string {
  return text.replace(/[\uff01-\uff5e\u3000]/g, (c) =>
    c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0),
  );
}

/** Characters that may sit between the digits of a number as people (and copy-paste) write it. */
const NUMBER_GLUE = /[\s\-.()/+\u00a0\u2010-\u2015\u2212\u3000\uff0b\uff0d\uff0e\uff08\uff09\p{Cf}]/u;
const isDigit = (c: string): boolean => (c >= '0' && c <= '9') || (c >= '\uff10' && c <= '\uff19');
const isWordChar = (c: string | undefined): boolean => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/**
 * `text` with every phone number in it masked as maskPhone does (`010-****-5678`), for the reasons
 * and messages people read; exports keep full numbers. A number is found after removing the format
 * characters (zero-width spaces, bidi marks) and separators inside it: a run of 8 to 15 digits that
 * starts with 0, 1, 82 or a +, and is not part of a longer word (`c-0123456789ab`, `M4V2018...`).
 * A longer run (two numbers written next to each other, or one with garbage in it) is split at its
 * spaces, and any piece of it still over 15 digits keeps only its last 4.
 */
export function maskPhoneNumbers(text: string): string {
  // the phone column's own cell quoted by a reason (`phone number "010-1234-5678x" contains ...`) is a
  // number whatever else it holds: letters or marks glued to it must not make it print whole
  return maskNumbersIn(
    text.replace(PHONE_CELL, (_m, cell: string, rest: string) => `phone number "${maskCell(cell)}"${rest}`),
  );
}

function maskNumbersIn(text: string): string {
  if (!/[0-9\uff10-\uff19]{2}|[0-9\uff10-\uff19]\D{1,3}[0-9\uff10-\uff19]/u.test(text)) return text;
  const chars = [...text];
  const out: string[] = [];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    const startsNumber =
      (isDigit(c) || ((c === '+' || c === '\uff0b') && isDigit(chars[i + 1] ?? ''))) &&
      !gluedToWord(chars, i);
    if (!startsNumber) {
      out.push(c);
      i++;
      continue;
    }
    // the longest run of digits and glue, ending on a digit
    let end = i; // exclusive end of the run, just past its last digit
    for (let j = i; j < chars.length; j++) {
      const d = chars[j]!;
      if (isDigit(d)) end = j + 1;
      else if (!NUMBER_GLUE.test(d)) break;
    }
    if (isWordChar(chars[end])) {
      // digits glued to letters after them: an id, not a number
      out.push(...chars.slice(i, end));
      i = end;
      continue;
    }
    out.push(maskRun(chars.slice(i, end)));
    i = end;
  }
  return out.join('');
}

/** How the reasons of parsePhone quote the cell: `phone number "<cell>" <one of its endings>`. */
const PHONE_CELL = /phone number "([\s\S]*?)"( (?:was mangled|contains|is ))/g;

/**
 * A value someone typed as one phone number (a cell, `--test 010-1234-5678x`), masked as
 * maskPhoneNumbers masks a number, and still masked when letters or marks glued to it mean it is no
 * number: with 8 digits or more showing, every digit but its first 3 and last 4 is starred.
 */
export function maskPhoneCell(cell: string): string {
  return maskCell(cell);
}

/** A phone cell masked as any number is, or else (8 digits or more still showing) every digit but its first 3 and last 4 starred. */
function maskCell(cell: string): string {
  const masked = maskNumbersIn(cell);
  if (digitsOf([...masked]).length < 8) return masked;
  const chars = [...cell];
  const at = chars.flatMap((c, i) => (isDigit(c) ? [i] : []));
  if (at.length < 8) return cell;
  for (const i of at.slice(3, -4)) chars[i] = '*';
  return chars.join('');
}

/** A run that starts right after a letter or digit, or after "-", "." or "_" glued to one, is part of a word. */
function gluedToWord(chars: string[], i: number): boolean {
  const before = chars[i - 1];
  if (isWordChar(before)) return true;
  return (before === '-' || before === '.' || before === '_') && isWordChar(chars[i - 2]);
}

function maskRun(run: string[]): string {
  const digits = digitsOf(run);
  if (looksLikePhone(digits, run))
    return maskPhone(run.some((c) => c === '+' || c === '\uff0b') ? `+${digits}` : digits);
  if (digits.length <= 15) return run.join('');
  // too long for one number: judge each space-separated piece on its own
  const pieces: string[] = [];
  let piece: string[] = [];
  const flush = (): void => {
    if (piece.length === 0) return;
    const d = digitsOf(piece);
    if (looksLikePhone(d, piece)) pieces.push(maskPhone(piece.includes('+') ? `+${d}` : d));
    else if (d.length > 15) pieces.push(`${'*'.repeat(d.length - 4)}${d.slice(-4)}`);
    else pieces.push(piece.join(''));
    piece = [];
  };
  for (const c of run) {
    if (/\s/u.test(c)) {
      flush();
      pieces.push(c);
    } else {
      piece.push(c);
    }
  }
  flush();
  return pieces.join('');
}

function digitsOf(run: string[]): string {
  let d = '';
  for (const c of run) if (isDigit(c)) d += c >= '\uff10' ? String.fromCharCode(c.charCodeAt(0) - 0xfee0) : c;
  return d;
}

function looksLikePhone(digits: string, run: string[]): boolean {
  if (digits.length < 8 || digits.length > 15) return false;
  return (
    run.some((c) => c === '+' || c === '\uff0b') ||
    digits.startsWith('0') ||
    digits.startsWith('1') ||
    digits.startsWith('82')
  );
}
