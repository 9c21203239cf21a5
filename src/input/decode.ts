import iconv from 'iconv-lite';
import { Transform, type TransformCallback } from 'node:stream';

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
        if (data[0] === 0xff && data[1] === 0xfe) throw new DecodeError('is UTF-16 (Excel "Unicode text"): save it as CSV UTF-8 or CSV', 0);
        if (data[0] === 0xfe && data[1] === 0xff) throw new DecodeError('is UTF-16: save it as CSV UTF-8', 0);
        if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) {
          if (this.encoding === 'ascii-so-far') this.encoding = 'utf8';
          data = data.subarray(3);
          this.offset = 3;
        }
      }
      const nul = data.indexOf(0);
      if (nul >= 0) throw new DecodeError('is not a text CSV (NUL byte, binary data?)', this.offset + nul);
      let text = '';
      if (this.encoding === 'ascii-so-far') {
        const firstHigh = data.findIndex((b) => b >= 0x80);
        if (firstHigh < 0) {
          text = data.toString('latin1');
        } else {
          text = data.toString('latin1', 0, firstHigh);
          this.encoding = looksLikeUtf8(data.subarray(firstHigh)) ? 'utf8' : 'cp949';
          text += this.decode(data.subarray(firstHigh), this.offset + firstHigh);
        }
      } else {
        text = this.decode(data, this.offset);
      }
      this.offset += data.length;
      done(null, text);
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      let tail = '';
      if (this.utf8) tail = this.utf8.decode();
      else if (this.cp949) tail = this.cp949.end() ?? '';
      if (tail.includes('\uFFFD')) throw new DecodeError(`ends in the middle of a ${this.encoding === 'utf8' ? 'UTF-8' : 'CP949'} character`, this.offset);
      done(null, tail);
    } catch (err) {
      done(err as Error);
    }
  }

  private decode(data: Buffer, at: number): string {
    if (this.encoding === 'utf8') {
      this.utf8 ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
      try {
        return this.utf8.decode(data, { stream: true });
      } catch {
        throw new DecodeError('has bytes that are not valid UTF-8 (pass --encoding cp949 if it is a Korean Excel file)', at);
      }
    }
    this.cp949 ??= iconv.getDecoder('cp949');
    const text = this.cp949.write(data);
    const bad = text.indexOf('\uFFFD');
    if (bad >= 0) throw new DecodeError('has bytes that are neither UTF-8 nor CP949 (binary data?)', at);
    return text;
  }
}

export class DecodeError extends Error {
  constructor(
    readonly problem: string,
    readonly byteOffset: number,
  ) {
    super(problem);
  }
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
