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
        throw new InputError(`${file}: alimtalk.textFile "${rel}" is not UTF-8 text`);
      }
    }
    if (approved !== null) {
      const diff = firstDifference(bodyText, approved);
      if (diff) {
        throw InputError.at(
          file,
          { line: undefined },
          `the body differs from the approved AlimTalk template at its line ${diff.line}: "${diff.body}" vs approved "${diff.approved}"`,
        );
      }
    }
    const vars = new Set(t.body.vars);
    if (vars.size > ALIMTALK_MAX_VARIABLES)
      throw new InputError(
        `${file}: ${vars.size} variables; an AlimTalk template has at most ${ALIMTALK_MAX_VARIABLES}`,
      );
  }

  if (t.ad) {
    const problems = checkAdText(bodyText, t.sender ?? config.senderName);
    const first = problems[0];
    if (first) throw InputError.at(file, { line: bodyLine(file, first.line) }, first.message);
  }

  if (t.rcs || t.channel === 'rcs') {
    const chatbot = t.rcs?.chatbotId ?? sender;
    if (chatbot && /^01[016789]/.test(chatbot.replace(/\D/g, ''))) {
      throw new InputError(
        `${file}: RCS cannot be sent from a mobile number (${chatbot}): use the brand's chatbot (representative or landline) number`,
      );
    }
  }

  const images: string[] = [];
  if (t.images.length && t.channel === 'rcs') {
    images.push(...checkRcsImages(t, config, dir));
  } else if (t.images.length) {
    const providerName = providerFor(config, 'mms');
    const type = providerConfig(config, providerName)?.type ?? 'sim';
    const limits = imageLimits(type).mms;
    if (!limits) throw new InputError(`${file}: provider "${providerName}" (${type}) cannot send MMS images`);
    if (t.images.length > limits.count)
      throw new InputError(
        `${file}: ${t.images.length} images; ${type} takes at most ${limits.count} per MMS`,
      );
    for (const rel of t.images) {
      const { abs, bytes } = readImage(
        dir,
        rel,
        file,
        limits.bytes,
        (n) =>
          `${file}: image "${rel}" is ${Math.ceil(n / 1024)} KB; ${type} takes at most ${limits.bytes / 1024} KB`,
      );
      const info = readImageInfo(bytes);
      if (info?.format !== 'jpeg')
        throw new InputError(
          `${file}: image "${rel}" is not a JPEG (its header says otherwise); MMS takes jpg only`,
        );
      if (bytes.length > limits.bytes)
        throw new InputError(
          `${file}: image "${rel}" is ${Math.ceil(bytes.length / 1024)} KB; ${type} takes at most ${limits.bytes / 1024} KB`,
        );
      if (info.width > limits.width || info.height > limits.height) {
        throw new InputError(
          `${file}: image "${rel}" is ${info.width}x${info.height}; ${type} takes at most ${limits.width}x${limits.height}`,
        );
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
  tooLarge: (bytes: number) => string,
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
  if (!limits) throw new InputError(`${file}: provider "${providerName}" (${type}) cannot send RCS images`);
  if (t.images.length > limits.count)
    throw new InputError(
      `${file}: ${t.images.length} images; ${type} takes at most ${limits.count} per RCS MMS`,
    );
  return t.images.map((rel) => {
    const tooLarge = (n: number): string =>
      `${file}: image "${rel}" is ${n.toLocaleString('en-US')} bytes; ${type} takes at most ${limits.bytes.toLocaleString('en-US')} bytes (${limits.bytes / 1024 / 1024} MB) per RCS image`;
    const { abs, bytes } = readImage(dir, rel, file, limits.bytes, tooLarge);
    if (!readImageInfo(bytes))
      throw new InputError(
        `${file}: image "${rel}" is neither JPEG nor PNG (its header says otherwise); RCS takes jpg or png`,
      );
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
  const refuse = (): InputError =>
    new InputError(
      `${file}: ${key} "${rel}" points outside the template's folder; keep assets beside the template`,
    );
  const abs = path.resolve(dir, rel);
  if (path.isAbsolute(rel) || outside(abs)) throw refuse();
  const named = `${file}: ${key === 'images' ? 'image' : key} "${rel}"`;
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new InputError(`${named}: no such file`);
    if (code === 'ELOOP') throw new InputError(`${named}: too many levels of symbolic links`);
    if (code === 'EACCES') throw new InputError(`${named}: permission denied`);
    throw new InputError(`${named}: cannot be resolved`);
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
