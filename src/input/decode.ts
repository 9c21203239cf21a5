import { Transform, type TransformCallback } from 'node:stream';
import type iconv from 'iconv-lite';
import type { Msg } from '../errors.js';
import { iconvLite } from '../text/cp949.js';

export type TextEncoding = 'utf8' | 'cp949';

/**
 * Bytes -> text for a CSV that may be UTF-8 (with or without BOM) or CP949 (Korean Excel).
 * With 'auto' the first non-ASCII bytes decide: valid UTF-8 means UTF-8, anything else CP949.
 * Decoding is strict either way: a byte that is invalid in the chosen encoding is an error
 * (never U+FFFD mojibake), and a NUL byte means the file is not text.
 */
export class DecodeStream extends Transform {
  encoding: TextEncoding | 'ascii-so-far';
  private utf8: TextDecoder | null = null;
  private cp949: ReturnType<typeof iconv.getDecoder> | null = null;
  private offset = 0;
  /** the 1-based line the next chunk starts on, for error messages */
  private line = 1;
  private first = true;

  constructor(requested: 'auto' | TextEncoding) {
    super({ decodeStrings: true, readableObjectMode: false, encoding: 'utf8' });
    this.encoding = requested === 'auto' ? 'ascii-so-far' : requested;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      let data = chunk;
      if (this.first) {
        this.first = false;
        if (data[0] === 0xff && data[1] === 0xfe)
          throw new DecodeError('is UTF-16 (Excel "Unicode text"): save it as CSV UTF-8 or CSV', 0, 1, {
            key: 'decode.utf16Excel',
          });
        if (data[0] === 0xfe && data[1] === 0xff)
          throw new DecodeError('is UTF-16: save it as CSV UTF-8', 0, 1, { key: 'decode.utf16' });
        if (looksLikeUtf16(data))
          throw new DecodeError('is UTF-16 (no byte order mark): save it as CSV UTF-8', 0, 1, {
            key: 'decode.utf16NoBom',
          });
        if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
          if (this.encoding === 'ascii-so-far') this.encoding = 'utf8';
          data = data.subarray(3);
          this.offset = 3;
        }
      }
      const nul = data.indexOf(0);
      if (nul >= 0)
        throw new DecodeError(
          'is not a text CSV (NUL byte, binary data?)',
          this.offset + nul,
          this.line + countLines(data, nul),
          { key: 'decode.nul' },
        );
      let text = '';
      if (this.encoding === 'ascii-so-far') {
        const firstHigh = data.findIndex((b) => b >= 0x80);
        if (firstHigh < 0) {
          text = data.toString('latin1');
        } else {
          text = data.toString('latin1', 0, firstHigh);
          const rest = data.subarray(firstHigh);
          this.encoding = looksLikeUtf8(rest)
            ? this.validUtf8Reading(data, this.offset + firstHigh, this.line + countLines(data, firstHigh))
            : mostlyUtf8(rest)
              ? 'utf8'
              : 'cp949';
          text += this.decode(
            data.subarray(firstHigh),
            this.offset + firstHigh,
            this.line + countLines(data, firstHigh),
          );
        }
      } else {
        text = this.decode(data, this.offset, this.line);
      }
      this.offset += data.length;
      this.line += countLines(data, data.length);
      done(null, text);
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      let tail = '';
      if (this.utf8) {
        try {
          tail = this.utf8.decode();
        } catch {
          tail = '\uFFFD'; // fatal: the file ends inside a character
        }
      } else if (this.cp949) tail = this.cp949.end() ?? '';
      if (tail.includes('\uFFFD'))
        throw new DecodeError(
          `ends in the middle of a ${this.encoding === 'utf8' ? 'UTF-8' : 'CP949'} character`,
          this.offset,
          this.line,
          { key: 'decode.truncated', params: { encoding: this.encoding === 'utf8' ? 'UTF-8' : 'CP949' } },
        );
      done(null, tail);
    } catch (err) {
      done(err as Error);
    }
  }

  /**
   * Bytes that are valid UTF-8 may be CP949 all the same: a short Korean file whose every
   * syllable is also a UTF-8 sequence (첨캐 = C3 B7 C4 B3 reads `÷ĳ`). UTF-8 unless the CP949
   * reading is clearly Korean and the UTF-8 one is no plausible text; neither clear, or both:
   * the user must say (--encoding).
   */
  private validUtf8Reading(bytes: Buffer, at: number, line: number): TextEncoding {
    const utf8 = new TextDecoder('utf-8').decode(sampleEnd(bytes));
    if (/[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]/.test(utf8)) return 'utf8'; // Hangul as UTF-8
    const cp949 = iconvLite().decode(bytes, 'cp949');
    if (cp949.includes('\uFFFD')) return 'utf8';
    const korean = clearlyKorean(cp949);
    const text = plausibleUtf8Text(utf8);
    if (korean !== text) return korean ? 'cp949' : 'utf8';
    const show = (t: string): string => {
      const i = t.search(/[^\x00-\x7f]/);
      return t.slice(Math.max(0, i - 4), i + 8).replace(/[\r\n]+/g, ' ');
    };
    throw new DecodeError(
      `could be UTF-8 ("${show(utf8)}") or CP949 ("${show(cp949)}"): pass --encoding utf8 or --encoding cp949`,
      at,
      line,
      { key: 'decode.ambiguous', params: { utf8: show(utf8), cp949: show(cp949) } },
    );
  }

  /** `at`: the file offset of data[0]; `line`: the line data[0] is on. */
  private decode(data: Buffer, at: number, line: number): string {
    if (this.encoding === 'utf8') {
      this.utf8 ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      try {
        return this.utf8.decode(data, { stream: true });
      } catch {
        const bad = firstInvalidUtf8(data);
        throw new DecodeError(
          'has bytes that are not valid UTF-8 (pass --encoding cp949 if it is a Korean Excel file)',
          at + bad,
          line + countLines(data, bad),
          { key: 'decode.notUtf8' },
        );
      }
    }
    this.cp949 ??= iconvLite().getDecoder('cp949');
    const text = this.cp949.write(data);
    const bad = text.indexOf('\uFFFD');
    if (bad >= 0) {
      const before = text.slice(0, bad);
      throw new DecodeError(
        'has bytes that are neither UTF-8 nor CP949 (binary data?)',
        at + iconvLite().encode(before, 'cp949').length,
        line + before.split('\n').length - 1,
        { key: 'decode.neither' },
      );
    }
    return text;
  }
}

export class DecodeError extends Error {
  constructor(
    readonly problem: string,
    readonly byteOffset: number,
    /** 1-based line of the file the bad byte is on */
    readonly line = 1,
    /** the problem as a catalog message (its English text is `problem`) */
    readonly msg?: Msg,
  ) {
    super(problem);
  }
}

/** Newlines (0x0A: never part of a UTF-8 or CP949 multi-byte character) in bytes[0, end). */
function countLines(bytes: Buffer, end: number): number {
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0 && i < end; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** Index of the byte where `bytes` stops being valid UTF-8 (0 if only a sequence begun earlier is at fault). */
function firstInvalidUtf8(bytes: Buffer): number {
  const invalid = (end: number): boolean => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  if (!invalid(bytes.length)) return 0;
  // invalid(lo) is false, invalid(hi) true: validity of a prefix only ever goes from true to false
  let lo = 0;
  let hi = bytes.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (invalid(mid)) hi = mid;
    else lo = mid;
  }
  return hi - 1;
}

/** True when `bytes` is valid UTF-8, ignoring a character cut off at the end. */
function looksLikeUtf8(bytes: Buffer): boolean {
  let end = bytes.length;
  // Back off an incomplete trailing sequence: at most 3 continuation bytes.
  for (let i = 1; i <= 3 && i <= bytes.length; i++) {
    const b = bytes[bytes.length - i]!;
    if ((b & 0xc0) === 0xc0) {
      end = bytes.length - i;
      break;
    }
    if ((b & 0xc0) !== 0x80) break;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    return true;
  } catch {
    return false;
  }
}

/**
 * True when `bytes` is UTF-8 text with a few broken sequences: a damaged UTF-8 file. Read as
 * CP949 it would fail at the wrong place or, worse, decode into mojibake; CP949 text read as
 * UTF-8 is mostly invalid sequences, so a handful of valid multi-byte characters cannot tip it.
 */
function mostlyUtf8(bytes: Buffer): boolean {
  let good = 0;
  let bad = 0;
  for (const ch of new TextDecoder('utf-8').decode(bytes)) {
    const c = ch.codePointAt(0)!;
    if (c === 0xfffd) bad++;
    else if (c >= 0x80) good++;
  }
  return good >= 4 && bad * 8 <= good;
}

/** UTF-16 text without a BOM: ASCII characters with a NUL byte beside each of them. */
function looksLikeUtf16(bytes: Buffer): boolean {
  if (bytes.length < 4) return false;
  const le = bytes[0] !== 0 && bytes[1] === 0 && bytes[2] !== 0 && bytes[3] === 0;
  const be = bytes[0] === 0 && bytes[1] !== 0 && bytes[2] === 0 && bytes[3] !== 0;
  return le || be;
}

/** `bytes` without a character cut off at its end (the rest of it is in the next chunk). */
function sampleEnd(bytes: Buffer): Buffer {
  for (let i = 1; i <= 3 && i <= bytes.length; i++) {
    const b = bytes[bytes.length - i]!;
    if ((b & 0xc0) === 0xc0) return bytes.subarray(0, bytes.length - i);
    if ((b & 0xc0) !== 0x80) break;
  }
  return bytes;
}

/**
 * A CP949 reading that is clearly Korean: its non-ASCII characters are all Hangul syllables, none
 * glued to a Latin letter (`Jos챕` is "José" read the wrong way).
 */
function clearlyKorean(text: string): boolean {
  if (/[^\x00-\x7f\uac00-\ud7a3]/.test(text)) return false;
  return !/[A-Za-z][\uac00-\ud7a3]|[\uac00-\ud7a3][A-Za-z]/.test(text);
}

/**
 * A UTF-8 reading that is plausible text: every non-ASCII character is Latin-1 punctuation or a
 * symbol (· ° © ×...), a letter in a word with Latin letters (José, Müller), or a letter in a word of
 * two or more letters of one alphabet (Greek, Cyrillic, Hebrew, Arabic).
 */
function plausibleUtf8Text(text: string): boolean {
  for (const m of text.matchAll(/[\p{L}\p{M}]+|[^\x00-\x7f]/gu)) {
    const word = m[0];
    if (!/[^\x00-\x7f]/.test(word)) continue;
    if (word.length === 1 && /[\u00a0-\u00bf\u00d7\u00f7]/.test(word)) continue;
    // a Latin word, but not with letters of Latin Extended-B (U+0180–U+024F): CP949's Hangul from
    // leads C6–C8 reads as them in UTF-8 (황A = C8 B2 41 reads "ȲA"), and a word of those is rarer
    // than a Korean file; both then plausible or neither, the user says (--encoding)
    if (/[A-Za-z]/.test(word) && /^[\p{Script=Latin}\p{M}]+$/u.test(word) && !/[\u0180-\u024f]/.test(word))
      continue;
    if (
      word.length >= 2 &&
      (/^[\u0370-\u03ff]+$/.test(word) ||
        /^[\u0400-\u04ff]+$/.test(word) ||
        /^[\u0590-\u05ff]+$/.test(word) ||
        /^[\u0600-\u06ff]+$/.test(word))
    )
      continue;
    return false;
  }
  return true;
}
