import fs from 'node:fs';
import path from 'node:path';
import { ALIMTALK_MAX_VARIABLES, firstDifference } from '../campaign/alimtalk.js';
import { checkAdText } from '../campaign/compliance.js';
import { InputError, located } from '../campaign/errors.js';
import { IMAGE_LIMITS, RCS_IMAGE_LIMITS, readJpegInfo } from '../campaign/jpeg.js';
import { readPngInfo } from '../campaign/png.js';
import type { Template } from '../campaign/template.js';
import { providerConfig, providerFor, type Config } from '../config/config.js';

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
  const dir = path.dirname(path.resolve(file));
  const bodyText = t.body.pieces.reduce((s, piece, i) => s + piece + (i < t.body.vars.length ? `#{${t.body.vars[i]}}` : ''), '');

  if (t.alimtalk) {
    let approved = t.alimtalk.approvedText;
    if (t.alimtalk.textFile !== null) {
      const target = insideFolder(dir, t.alimtalk.textFile, file, 'alimtalk.textFile');
      if (!fs.existsSync(target)) throw new InputError(`${file}: alimtalk.textFile "${t.alimtalk.textFile}": no such file`);
      approved = fs.readFileSync(target, 'utf8');
    }
    if (approved !== null) {
      const diff = firstDifference(bodyText, approved);
      if (diff) {
        throw new InputError(
          located(file, { line: undefined }, `the body differs from the approved AlimTalk template at its line ${diff.line}: "${diff.body}" vs approved "${diff.approved}"`),
        );
      }
    }
    const vars = new Set(t.body.vars);
    if (vars.size > ALIMTALK_MAX_VARIABLES) throw new InputError(`${file}: ${vars.size} variables; an AlimTalk template has at most ${ALIMTALK_MAX_VARIABLES}`);
  }

  if (t.ad) {
    const problems = checkAdText(bodyText, t.sender ?? config.senderName);
    const first = problems[0];
    if (first) throw new InputError(located(file, { line: bodyLine(file, first.line) }, first.message));
  }

  if (t.rcs || t.channel === 'rcs') {
    const chatbot = t.rcs?.chatbotId ?? sender;
    if (chatbot && /^01[016789]/.test(chatbot.replace(/\D/g, ''))) {
      throw new InputError(`${file}: RCS cannot be sent from a mobile number (${chatbot}): use the brand's chatbot (representative or landline) number`);
    }
  }

  const images: string[] = [];
  if (t.images.length && t.channel === 'rcs') {
    images.push(...checkRcsImages(t, config, dir));
  } else if (t.images.length) {
    const providerName = providerFor(config, 'mms');
    const type = providerConfig(config, providerName)?.type ?? 'sim';
    const limits = Object.hasOwn(IMAGE_LIMITS, type) ? IMAGE_LIMITS[type] : undefined;
    if (!limits) throw new InputError(`${file}: provider "${providerName}" (${type}) cannot send MMS images`);
    if (t.images.length > limits.count) throw new InputError(`${file}: ${t.images.length} images; ${type} takes at most ${limits.count} per MMS`);
    for (const rel of t.images) {
      const { abs, bytes } = readImage(dir, rel, file);
      const info = readJpegInfo(bytes);
      if (!info) throw new InputError(`${file}: image "${rel}" is not a JPEG (its header says otherwise); MMS takes jpg only`);
      if (bytes.length > limits.bytes) throw new InputError(`${file}: image "${rel}" is ${Math.ceil(bytes.length / 1024)} KB; ${type} takes at most ${limits.bytes / 1024} KB`);
      if (info.width > limits.width || info.height > limits.height) {
        throw new InputError(`${file}: image "${rel}" is ${info.width}x${info.height}; ${type} takes at most ${limits.width}x${limits.height}`);
      }
      images.push(abs);
    }
  }
  return { images };
}

/** An image the template names, inside the template's folder. */
function readImage(dir: string, rel: string, file: string): { abs: string; bytes: Buffer } {
  const abs = insideFolder(dir, rel, file, 'images');
  try {
    return { abs, bytes: fs.readFileSync(abs) };
  } catch {
    throw new InputError(`${file}: image "${rel}": no such file`);
  }
}

/** RCS MMS images: jpg or png (from their headers), within the RCS route's provider limits. */
function checkRcsImages(t: Template, config: Config, dir: string): string[] {
  const file = t.file;
  const providerName = providerFor(config, 'rcs');
  const type = providerConfig(config, providerName)?.type ?? 'sim';
  const limits = Object.hasOwn(RCS_IMAGE_LIMITS, type) ? RCS_IMAGE_LIMITS[type] : undefined;
  if (!limits) throw new InputError(`${file}: provider "${providerName}" (${type}) cannot send RCS images`);
  if (t.images.length > limits.count) throw new InputError(`${file}: ${t.images.length} images; ${type} takes at most ${limits.count} per RCS MMS`);
  return t.images.map((rel) => {
    const { abs, bytes } = readImage(dir, rel, file);
    if (!readJpegInfo(bytes) && !readPngInfo(bytes)) throw new InputError(`${file}: image "${rel}" is neither JPEG nor PNG (its header says otherwise); RCS takes jpg or png`);
    if (bytes.length > limits.bytes) {
      throw new InputError(`${file}: image "${rel}" is ${bytes.length.toLocaleString('en-US')} bytes; ${type} takes at most ${limits.bytes.toLocaleString('en-US')} bytes (${limits.bytes / 1024 / 1024} MB) per RCS image`);
    }
    return abs;
  });
}

/** A path from a template, resolved inside the template's folder: no absolute paths, no "..". */
function insideFolder(dir: string, rel: string, file: string, key: string): string {
  const abs = path.resolve(dir, rel);
  if (path.isAbsolute(rel) || (abs !== dir && !abs.startsWith(dir + path.sep))) {
    throw new InputError(`${file}: ${key} "${rel}" points outside the template's folder; keep assets beside the template`);
  }
  return abs;
}

/** The template-file line of a body line, for error messages. */
function bodyLine(file: string, bodyLineNo: number): number | undefined {
  try {
    const lines = fs.readFileSync(file, 'utf8').replace(/\r\n?/g, '\n').split('\n');
    let start = 0;
    if (lines[0]?.trim() === '---') start = lines.findIndex((l, i) => i > 0 && l.trim() === '---') + 1;
    while (start < lines.length && lines[start]!.trim() === '') start++;
    return start + bodyLineNo;
  } catch {
    return undefined;
  }
}
