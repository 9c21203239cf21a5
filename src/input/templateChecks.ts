import fs from 'node:fs';
import path from 'node:path';
import { ALIMTALK_MAX_VARIABLES, firstDifference } from '../campaign/alimtalk.js';
import { checkAdText } from '../campaign/compliance.js';
import type { Template } from '../campaign/template.js';
import { type Config, providerConfig, providerFor } from '../config/config.js';
import { InputError } from '../errors.js';
import { imageLimits } from '../providers/registry.js';
import { readImageInfo } from './imageInfo.js';
import { MAX_APPROVED_TEXT_BYTES, MAX_TEMPLATE_BYTES, MB, readInputFile } from './readableFile.js';

/** No image any provider takes is larger: an image is never read past this. */
const MAX_IMAGE_BYTES = 10 * MB;

export interface CheckedAssets {
  /** absolute paths of the MMS images, checked */
  images: string[];
}

/**
 * Everything about a template that needs files or config, checked before any row is planned:
 * the approved AlimTalk text, ad rules, MMS images (read from their real headers), RCS sender.
 */
export function checkTemplateAssets(t: Template, config: Config, sender: string | null): CheckedAssets {
  const file = t.file;
  const dir = realFolder(path.dirname(path.resolve(file)));
  const bodyText = t.body.pieces.reduce(
    (s, piece, i) => s + piece + (i < t.body.vars.length ? `#{${t.body.vars[i]}}` : ''),
    '',
  );

  if (t.alimtalk) {
    let approved = t.alimtalk.approvedText;
    if (t.alimtalk.textFile !== null) {
      const rel = t.alimtalk.textFile;
      const target = insideFolder(dir, rel, file, 'alimtalk.textFile');
      const bytes = readInputFile(target, {
        what: 'text file',
        name: `${file}: alimtalk.textFile "${rel}"`,
        maxBytes: MAX_APPROVED_TEXT_BYTES,
        allowEmpty: true,
      });
      try {
        approved = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      } catch {
        throw InputError.of('chk.textFileUtf8', { file, rel });
      }
    }
    if (approved !== null) {
      const diff = firstDifference(bodyText, approved);
      if (diff) {
        throw InputError.atKey(file, { line: undefined }, 'chk.approvedDiff', {
          line: diff.line,
          body: diff.body,
          approved: diff.approved,
        });
      }
    }
    const vars = new Set(t.body.vars);
    if (vars.size > ALIMTALK_MAX_VARIABLES)
      throw InputError.of('chk.tooManyVars', { file, n: vars.size, max: ALIMTALK_MAX_VARIABLES });
  }

  if (t.ad) {
    const problems = checkAdText(bodyText, t.sender ?? config.senderName);
    const first = problems[0];
    if (first) throw InputError.at(file, { line: bodyLine(file, first.line) }, first.message);
  }

  if (t.rcs || t.channel === 'rcs') {
    const chatbot = t.rcs?.chatbotId ?? sender;
    if (chatbot && /^01[016789]/.test(chatbot.replace(/\D/g, ''))) {
      throw InputError.of('chk.rcsMobile', { file, chatbot });
    }
  }

  const images: string[] = [];
  if (t.images.length && t.channel === 'rcs') {
    images.push(...checkRcsImages(t, config, dir));
  } else if (t.images.length) {
    const providerName = providerFor(config, 'mms');
    const type = providerConfig(config, providerName)?.type ?? 'sim';
    const limits = imageLimits(type).mms;
    if (!limits) throw InputError.of('chk.noMmsImages', { file, provider: providerName, type });
    if (t.images.length > limits.count)
      throw InputError.of('chk.tooManyImages', { file, n: t.images.length, type, max: limits.count });
    for (const rel of t.images) {
      const { abs, bytes } = readImage(dir, rel, file, limits.bytes, (n) =>
        InputError.of('chk.imageKb', { file, rel, kb: Math.ceil(n / 1024), type, max: limits.bytes / 1024 }),
      );
      const info = readImageInfo(bytes);
      if (info?.format !== 'jpeg') throw InputError.of('chk.notJpeg', { file, rel });
      if (bytes.length > limits.bytes)
        throw InputError.of('chk.imageKb', {
          file,
          rel,
          kb: Math.ceil(bytes.length / 1024),
          type,
          max: limits.bytes / 1024,
        });
      if (info.width > limits.width || info.height > limits.height) {
        throw InputError.of('chk.imageSize', {
          file,
          rel,
          w: info.width,
          h: info.height,
          type,
          mw: limits.width,
          mh: limits.height,
        });
      }
      images.push(abs);
    }
  }
  return { images };
}

/**
 * An image the template names, inside the template's folder (symlinks resolved), a regular file
 * read no further than `maxBytes` (the provider's limit): `tooLarge` words the refusal.
 */
function readImage(
  dir: string,
  rel: string,
  file: string,
  maxBytes: number,
  tooLarge: (bytes: number) => InputError,
): { abs: string; bytes: Buffer } {
  const abs = insideFolder(dir, rel, file, 'images');
  const bytes = readInputFile(abs, {
    what: 'image file',
    name: `${file}: image "${rel}"`,
    maxBytes: Math.min(maxBytes, MAX_IMAGE_BYTES),
    tooLarge,
  });
  return { abs, bytes };
}

/** RCS MMS images: jpg or png (from their headers), within the RCS route's provider limits. */
function checkRcsImages(t: Template, config: Config, dir: string): string[] {
  const file = t.file;
  const providerName = providerFor(config, 'rcs');
  const type = providerConfig(config, providerName)?.type ?? 'sim';
  const limits = imageLimits(type).rcs;
  if (!limits) throw InputError.of('chk.noRcsImages', { file, provider: providerName, type });
  if (t.images.length > limits.count)
    throw InputError.of('chk.tooManyRcsImages', { file, n: t.images.length, type, max: limits.count });
  return t.images.map((rel) => {
    const tooLarge = (n: number): InputError =>
      InputError.of('chk.rcsImageBytes', {
        file,
        rel,
        bytes: n.toLocaleString('en-US'),
        type,
        max: limits.bytes.toLocaleString('en-US'),
        mb: limits.bytes / 1024 / 1024,
      });
    const { abs, bytes } = readImage(dir, rel, file, limits.bytes, tooLarge);
    if (!readImageInfo(bytes)) throw InputError.of('chk.notJpegPng', { file, rel });
    return abs;
  });
}

/** A folder's real path (symlinks resolved), or the path itself when it cannot be resolved. */
function realFolder(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return dir;
  }
}

/**
 * A path from a template, resolved inside the template's folder: no absolute paths, no "..", and no
 * symlink out of it (the real path, every link followed, must be inside the folder's real path).
 * Returns the real path: what is read is what was checked.
 */
function insideFolder(dir: string, rel: string, file: string, key: string): string {
  const outside = (abs: string): boolean => abs !== dir && !abs.startsWith(dir + path.sep);
  const refuse = (): InputError => InputError.of('chk.outside', { file, key, rel });
  const abs = path.resolve(dir, rel);
  if (path.isAbsolute(rel) || outside(abs)) throw refuse();
  const named = `${file}: ${key === 'images' ? 'image' : key} "${rel}"`;
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw InputError.of('file.noSuchFile', { file: named });
    if (code === 'ELOOP') throw InputError.of('file.loop', { file: named });
    if (code === 'EACCES') throw InputError.of('file.deniedPlain', { file: named });
    throw InputError.of('chk.unresolved', { file: named });
  }
  if (outside(real)) throw refuse();
  return real;
}

/** The template-file line of a body line, for error messages. */
function bodyLine(file: string, bodyLineNo: number): number | undefined {
  try {
    const lines = readInputFile(file, { what: 'template', maxBytes: MAX_TEMPLATE_BYTES })
      .toString('utf8')
      .replace(/\r\n?/g, '\n')
      .split('\n');
    let start = 0;
    if (lines[0]?.trim() === '---') start = lines.findIndex((l, i) => i > 0 && l.trim() === '---') + 1;
    while (start < lines.length && lines[start]!.trim() === '') start++;
    return start + bodyLineNo;
  } catch {
    return undefined;
  }
}
