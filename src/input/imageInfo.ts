import { imageSize } from 'image-size';

/** The two formats any provider takes (MMS: jpeg only; RCS: jpeg or png). */
export type ImageFormat = 'jpeg' | 'png';

/** What an image's own header says about it (never its file name). */
export interface ImageInfo {
  format: ImageFormat;
  width: number;
  height: number;
}

const FORMATS: Record<string, ImageFormat> = { jpg: 'jpeg', png: 'png' };

/**
 * The format and dimensions from an image's header, read by image-size. Returns null when the bytes
 * are neither JPEG nor PNG (a PNG renamed .jpg, a GIF, a WebP), or the header is cut short or corrupt.
 */
export function readImageInfo(bytes: Uint8Array): ImageInfo | null {
  let size: ReturnType<typeof imageSize>;
  try {
    size = imageSize(ownCopy(bytes));
  } catch {
    return null; // image-size throws (TypeError, RangeError) on unknown, truncated or corrupt headers
  }
  const format = size.type === undefined ? undefined : FORMATS[size.type];
  if (!format) return null;
  // What image-size lets through and the old hand-written readers refused (no handset shows it):
  // a zero dimension (a JPEG whose height comes in a later DNL marker), a PNG signature with a wrong
  // first byte (image-size compares bytes 1-7 only), and Apple's "CgBI" PNG (an iOS-only variant with
  // a chunk before IHDR that standard decoders cannot read).
  if (!(size.width > 0 && size.height > 0)) return null;
  if (format === 'png' && !standardPng(bytes)) return null;
  return { format, width: size.width, height: size.height };
}

/** An empty APP0 segment (marker, length 2): what image-size skips when SOF comes first. */
const EMPTY_APP0 = [0xff, 0xe0, 0x00, 0x02];

/**
 * The bytes as image-size can read them, measured against the old hand-written readers (every JPEG
 * and PNG on a build machine, their truncations, mutations; test/unit/imageInfo.test.ts):
 * - a copy with an ArrayBuffer of its own: image-size reads through DataViews on the buffer behind
 *   the bytes, so on a slice (Node's pooled Buffers are slices) a header cut short reads whatever
 *   follows in memory as its width and height; on the copy it throws, as it should;
 * - in a JPEG, an empty APP0 segment after SOI: image-size skips the first segment unread, so a JPEG
 *   whose frame header (SOF) comes first, right after SOI, was "no size found".
 */
function ownCopy(bytes: Uint8Array): Uint8Array {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return new Uint8Array(bytes);
  const copy = new Uint8Array(bytes.length + EMPTY_APP0.length);
  copy.set(bytes.subarray(0, 2));
  copy.set(EMPTY_APP0, 2);
  copy.set(bytes.subarray(2), 2 + EMPTY_APP0.length);
  return copy;
}

/** The PNG signature, all 8 bytes, then "IHDR" as the first chunk's type (bytes 12-15; 8-11: its length). */
function standardPng(bytes: Uint8Array): boolean {
  const start = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = [0x49, 0x48, 0x44, 0x52];
  return start.every((b, i) => bytes[i] === b) && ihdr.every((b, i) => bytes[12 + i] === b);
}
