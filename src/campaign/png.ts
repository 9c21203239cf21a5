import type { JpegInfo } from './jpeg.js';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/**
 * Read the dimensions from a PNG's header (the signature, then the IHDR chunk, which must come
 * first). Returns null when the bytes are not a PNG: a JPEG renamed .png is caught here.
 */
export function readPngInfo(bytes: Uint8Array): JpegInfo | null {
  if (bytes.length < 24 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  // bytes 8-11: IHDR's length (13), 12-15: "IHDR", 16-19: width, 20-23: height (big-endian)
  if (bytes[12] !== 0x49 || bytes[13] !== 0x48 || bytes[14] !== 0x44 || bytes[15] !== 0x52) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  return width > 0 && height > 0 ? { width, height } : null;
}
