import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTemplate } from '../../src/campaign/template.js';
import { loadConfig } from '../../src/config/config.js';
import { InputError } from '../../src/errors.js';
import { readImageInfo } from '../../src/input/imageInfo.js';
import { checkTemplateAssets } from '../../src/input/templateChecks.js';
import { tinyJpeg } from '../support/fakeSolapi.js';

/** A JPEG: SOI, an APP0 segment, then SOF0 with these dimensions. */
const jpeg = (w: number, h: number): Buffer =>
  Buffer.from([
    ...[0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00],
    ...[0xff, 0xc0, 0x00, 0x0b, 0x08, h >> 8, h & 255, w >> 8, w & 255, 0x01, 0x01, 0x11, 0x00],
    ...[0xff, 0xd9],
  ]);

/** A PNG's signature and IHDR chunk (and a few bytes after, as a file has). */
function png(w: number, h: number, chunk = 'IHDR'): Buffer {
  const b = Buffer.alloc(40);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]).copy(b);
  b.write(chunk, 12, 'latin1');
  b.writeUInt32BE(w, 16);
  b.writeUInt32BE(h, 20);
  b.set([8, 2, 0, 0, 0], 24);
  return b;
}

const GIF = Buffer.from('GIF89a\x20\x00\x20\x00\x00\x00\x00;', 'latin1');
/** A WebP (RIFF, WEBP, an extended VP8X header saying 32x32). */
const WEBP = Buffer.concat([
  Buffer.from('RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00', 'latin1'),
  Buffer.from([0, 0, 0, 0, 31, 0, 0, 31, 0, 0]),
]);

describe('image headers (image-size, plus what it lets through)', () => {
  it('reads the format and dimensions of a JPEG and a PNG', () => {
    expect(readImageInfo(jpeg(1500, 1440))).toEqual({ format: 'jpeg', width: 1500, height: 1440 });
    expect(readImageInfo(tinyJpeg())).toEqual({ format: 'jpeg', width: 8, height: 8 });
    expect(readImageInfo(png(800, 600))).toEqual({ format: 'png', width: 800, height: 600 });
  });

  it('reads a JPEG whose frame header comes first, right after SOI (image-size skips the first segment)', () => {
    const sofFirst = Buffer.from([
      ...[0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x02, 0x58, 0x03, 0x20, 0x03],
      ...[0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xd9],
    ]);
    expect(readImageInfo(sofFirst)).toEqual({ format: 'jpeg', width: 800, height: 600 });
  });

  it('a header cut short is refused, even when the bytes are a slice of a larger buffer', () => {
    // readInputFile hands back a slice of a (possibly pooled) Buffer: what follows the cut must not
    // be read as the width and height
    const whole = Buffer.concat([png(800, 600), jpeg(1500, 1440)]);
    expect(readImageInfo(whole.subarray(0, 20))).toBeNull();
    expect(readImageInfo(whole.subarray(0, 16))).toBeNull();
    const jpegFirst = Buffer.concat([jpeg(1500, 1440), png(800, 600)]);
    expect(readImageInfo(jpegFirst.subarray(0, 15))).toBeNull();
    for (let n = 0; n < 17; n++) expect(readImageInfo(jpeg(1500, 1440).subarray(0, n))).toBeNull();
  });

  it('GIF and WebP are neither JPEG nor PNG', () => {
    expect(readImageInfo(GIF)).toBeNull();
    expect(readImageInfo(WEBP)).toBeNull();
  });

  it('refuses what image-size takes and no handset shows: a zero dimension, a CgBI PNG, a broken signature', () => {
    expect(readImageInfo(jpeg(100, 0))).toBeNull(); // the height would come in a DNL marker
    expect(readImageInfo(png(0, 600))).toBeNull();
    // Apple's CgBI PNG: a CgBI chunk first, IHDR after it
    const cgbi = Buffer.concat([png(4, 0, 'CgBI').subarray(0, 16), png(800, 600).subarray(8)]);
    expect(readImageInfo(cgbi)).toBeNull();
    const badSignature = png(800, 600);
    badSignature[0] = 0x09; // image-size compares bytes 1-7 of the signature only
    expect(readImageInfo(badSignature)).toBeNull();
  });

  it('a huge-dimension header is read as it is (the limits are the caller’s)', () => {
    expect(readImageInfo(jpeg(65535, 65535))).toEqual({ format: 'jpeg', width: 65535, height: 65535 });
    expect(readImageInfo(png(0x7fffffff, 0x7fffffff))).toMatchObject({ width: 0x7fffffff });
  });
});

describe('the template checks refuse by header, one line naming the file', () => {
  const config = loadConfig(undefined, {}, os.tmpdir());
  function check(channel: 'mms' | 'rcs', name: string, bytes: Buffer): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-img-'));
    fs.writeFileSync(path.join(dir, name), bytes);
    const front = channel === 'rcs' ? ['channel: rcs', 'rcs: { brandId: B1 }'] : ['channel: mms'];
    const t = parseTemplate(
      ['---', ...front, `images: [${name}]`, '---', '#{msg}', ''].join('\n'),
      path.join(dir, 'm.md'),
    );
    try {
      checkTemplateAssets(t, config, '15881234');
      return 'ok';
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      expect(err.message).not.toContain('\n');
      return err.message;
    }
  }

  it('MMS: a PNG renamed .jpg, a GIF, a WebP and a truncated JPEG are not JPEGs', () => {
    for (const bytes of [png(800, 600), GIF, WEBP, jpeg(100, 100).subarray(0, 14)])
      expect(check('mms', 'a.jpg', bytes)).toMatch(/m\.md: image "a\.jpg" is not a JPEG/);
  });

  it('MMS: a huge-dimension header is refused with its size and the limit', () => {
    expect(check('mms', 'a.jpg', jpeg(65535, 65535))).toMatch(
      /m\.md: image "a\.jpg" is 65535x65535; sim takes at most 1500x1440$/,
    );
    expect(check('mms', 'a.jpg', jpeg(1500, 1440))).toBe('ok');
  });

  it('RCS: a GIF, a WebP and a PNG cut inside its header are neither JPEG nor PNG', () => {
    for (const bytes of [GIF, WEBP, png(800, 600).subarray(0, 20)])
      expect(check('rcs', 'card.png', bytes)).toMatch(/m\.md: image "card\.png" is neither JPEG nor PNG/);
    expect(check('rcs', 'card.png', png(800, 600))).toBe('ok');
  });
});
