import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { issueKey, issueMsg } from '../config/issues.js';
import { InputError, type MsgParams } from '../errors.js';
import type { MessageKey } from '../i18n/en.js';
import { describeCodePoint, findControlChar } from '../text/controls.js';
import { isEucKrChar } from '../text/eucKr.js';
import { checkButtons } from './alimtalk.js';
import { AD_MARKER } from './compliance.js';
import { RCS_KIND_NAMES, type RcsRequest } from './rcs.js';
import { CHANNELS, type ChannelChoice } from './types.js';

/** A text with `#{var}` holes: pieces[i] + value(vars[i]) + ... + pieces[last]. */
export interface TextPattern {
  pieces: string[];
  vars: string[];
}

export interface AlimtalkButton {
  type: string;
  name: string;
  [field: string]: string;
}

export interface Template {
  file: string;
  channel: ChannelChoice;
  subject: TextPattern | null;
  body: TextPattern;
  ad: boolean;
  fallback: 'sms' | 'lms' | 'auto' | 'none';
  fallbackText: TextPattern | null;
  images: string[];
  from: string | null;
  /** the company or service an ad names (front matter `sender:`) */
  sender: string | null;
  alimtalk: {
    /** Solapi's words (채널 pfId KA01PF…, 템플릿 ID KA01TP…): what every provider without its own ids gets */
    pfId: string;
    templateId: string;
    /**
     * A configured provider's own ids, under its name, in its own words: `nhn: { templateCode: ORDER_01 }`
     * (NHN's 템플릿 코드), `solapi2: { pfId, templateId }`. Checked against the config before planning.
     */
    providers: Record<string, AlimtalkIds>;
    buttons: AlimtalkButton[];
    /** the text Kakao approved, inline; or `textFile` to read beside the template */
    approvedText: string | null;
    textFile: string | null;
    /** item-list templates allow 700 characters instead of 1,000 */
    itemList: boolean;
  } | null;
  rcs: {
    brandId: string;
    chatbotId: string | null;
    templateId: string | null;
    buttons: Record<string, string>[];
    /** the RCS kind every row is sent as, or auto (typed per row by length, subject and images) */
    kind: RcsRequest;
  } | null;
  /** Every variable used anywhere, with the 1-based line of the template file it first appears on. */
  variables: { name: string; line: number }[];
}

/** One provider's own AlimTalk ids (alimtalk.<provider>): Solapi's pfId/templateId, NHN's templateCode. */
export interface AlimtalkIds {
  pfId?: string;
  templateId?: string;
  templateCode?: string;
}

/** The keys a provider block under alimtalk: may hold. */
export const ALIMTALK_ID_KEYS = ['pfId', 'templateId', 'templateCode'] as const;

/** YAML reads an unquoted 0212345678 as the number 212345678: phone numbers must be quoted. */
export const QUOTE_NUMBER =
  'write the number in quotes, e.g. "0212345678" (unquoted, YAML reads a number and drops its leading 0)';

const buttonSchema = z.object({ type: z.string(), name: z.string() }).catchall(z.string());

const frontMatterSchema = z
  .object({
    channel: z.enum(['auto', ...CHANNELS]).default('auto'),
    subject: z.string().optional(),
    ad: z.boolean().default(false),
    from: z.string({ error: QUOTE_NUMBER }).optional(),
    sender: z.string().optional(),
    fallback: z.enum(['sms', 'lms', 'auto', 'none']).default('auto'),
    fallbackText: z.string().optional(),
    images: z.array(z.string()).default([]),
    alimtalk: z
      .object({
        pfId: z.string().min(1),
        templateId: z.string().min(1),
        buttons: z.array(buttonSchema).default([]),
        text: z.string().optional(),
        textFile: z.string().optional(),
        itemList: z.boolean().default(false),
      })
      // any other key names a configured provider and holds its own ids (checked against the config later)
      .catchall(
        z
          .object(
            {
              pfId: z.string().min(1).optional(),
              templateId: z.string().min(1).optional(),
              templateCode: z.string().min(1).optional(),
            },
            {
              error:
                'not a key of alimtalk: a provider name holds that provider’s own ids, e.g. nhn: { templateCode: ORDER_01 }',
            },
          )
          .strict(),
      )
      .optional(),
    rcs: z
      .object({
        brandId: z.string().min(1),
        chatbotId: z.string({ error: QUOTE_NUMBER }).optional(),
        templateId: z.string().optional(),
        /** the approved template's type: text (90 characters, information only) or image (500) */
        templateType: z.enum(['text', 'image']).optional(),
        /** without a template: auto, or the RCS message type every row must fit */
        type: z.enum(['auto', 'sms', 'lms', 'mms']).optional(),
        buttons: z.array(z.record(z.string(), z.string())).default([]),
      })
      .strict()
      .optional(),
  })
  .strict();

const VARIABLE = /#\{([^}\n]*)\}/g;

/** Parse a template file's text. Pure: `file` only names the source in errors. */
export function parseTemplate(source: string, file: string): Template {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const lines = text.split('\n');
  let frontMatter: Record<string, unknown> = {};
  let bodyStart = 0; // index into lines
  if (lines[0]?.trim() === '---') {
    const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
    if (end < 0) throw InputError.atKey(file, { line: 1 }, 'tpl.fmNotClosed');
    frontMatter = parseFrontMatter(lines.slice(1, end).join('\n'), file);
    bodyStart = end + 1;
  }
  const parsed = frontMatterSchema.safeParse(frontMatter);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const keyName = issueKey(issue);
    const line =
      findLine(lines, new RegExp(`^\\s*${escapeRegExp(String(keyName.split('.')[0] ?? ''))}\\s*:`)) ?? 1;
    if (issue.code === 'unrecognized_keys')
      throw InputError.atKey(file, { line }, 'tpl.fmUnknownKey', {
        key: keyName,
        known: Object.keys(frontMatterSchema.shape).join(', '),
      });
    if (issue.code === 'invalid_value' && keyName === 'channel')
      throw InputError.atKey(file, { line }, 'tpl.unknownChannel', {
        channel: String(frontMatter.channel),
        channels: CHANNELS.join(', '),
      });
    throw InputError.atKey(file, { line }, 'tpl.fmIssue', {
      key: keyName,
      problem: { ...issueMsg(issue), en: issue.message },
    });
  }
  const fm = parsed.data;

  const bodyLines = lines.slice(bodyStart);
  while (bodyLines.length && bodyLines[bodyLines.length - 1]!.trim() === '') bodyLines.pop();
  while (bodyLines.length && bodyLines[0]!.trim() === '') {
    bodyLines.shift();
    bodyStart++;
  }
  const bodyText = bodyLines.join('\n');
  if (bodyText.trim() === '') throw InputError.atKey(file, { line: bodyStart + 1 }, 'tpl.noBody');

  // What is sent may carry no control character (but newlines), and only an ad may look like one.
  const fixedText = (text: string, firstLine: number, what: string): void => {
    const at = findControlChar(text);
    if (at >= 0) {
      const line = firstLine + text.slice(0, at).split('\n').length - 1;
      throw InputError.atKey(file, { line }, 'tpl.controlChar', {
        char: describeCodePoint(text.charCodeAt(at)),
        what: { key: `tpl.part.${what}` as MessageKey, en: what },
      });
    }
    if (!fm.ad && AD_MARKER.test(text)) {
      throw InputError.atKey(file, { line: firstLine }, 'tpl.adNotAd', {
        what: { key: `tpl.part.${what}` as MessageKey, en: what },
        marker: AD_MARKER.exec(text)![0].trim(),
      });
    }
  };
  fixedText(bodyText, bodyStart + 1, 'body');
  if (fm.subject !== undefined) fixedText(fm.subject, findLine(lines, /^\s*subject\s*:/) ?? 1, 'subject');
  if (fm.fallbackText !== undefined)
    fixedText(fm.fallbackText, findLine(lines, /^\s*fallbackText\s*:/) ?? 1, 'fallbackText');

  const variables: { name: string; line: number }[] = [];
  const compile = (s: string, firstLine: number): TextPattern =>
    compilePattern(s, file, firstLine, lines, variables);
  const subjectLine = findLine(lines, /^\s*subject\s*:/) ?? 1;

  const channel: ChannelChoice = fm.channel;
  if (channel === 'sms' && fm.subject !== undefined) {
    throw InputError.atKey(file, { line: subjectLine }, 'tpl.smsSubject');
  }
  if ((channel === 'sms' || channel === 'lms') && fm.images.length > 0) {
    throw InputError.atKey(file, { line: findLine(lines, /^\s*images\s*:/) ?? 1 }, 'tpl.noImages', {
      channel,
    });
  }
  if (channel === 'mms' && fm.images.length === 0) {
    throw InputError.atKey(file, { line: findLine(lines, /^\s*channel\s*:/) ?? 1 }, 'tpl.mmsNeedsImage');
  }
  if (channel === 'alimtalk' && !fm.alimtalk) {
    throw InputError.atKey(file, { line: findLine(lines, /^\s*channel\s*:/) ?? 1 }, 'tpl.alimtalkNeeds');
  }
  if (channel === 'rcs' && !fm.rcs) {
    throw InputError.atKey(file, { line: findLine(lines, /^\s*channel\s*:/) ?? 1 }, 'tpl.rcsNeeds');
  }
  if (fm.alimtalk && fm.ad) {
    throw InputError.atKey(file, { line: findLine(lines, /^\s*ad\s*:/) ?? 1 }, 'tpl.alimtalkAd');
  }
  if (fm.alimtalk) {
    const problems = checkButtons(fm.alimtalk.buttons as AlimtalkButton[]);
    if (problems.length)
      throw InputError.atKey(file, { line: findLine(lines, /^\s*buttons\s*:/) ?? 1 }, 'tpl.buttons', {
        problem: problems[0]!,
      });
  }
  const resolvedChannel: ChannelChoice =
    channel === 'auto' && fm.alimtalk ? 'alimtalk' : channel === 'auto' && fm.rcs ? 'rcs' : channel;
  const rcsKind = fm.rcs && resolvedChannel === 'rcs' ? checkRcsFrontMatter(fm, lines, file) : 'auto';

  // SMS/LMS/MMS carry EUC-KR only: a character outside it in the template's own text would reject
  // every row; it is one error here, at its line. What a variable brings is checked per row.
  const textChannel = resolvedChannel !== 'alimtalk' && resolvedChannel !== 'rcs';
  const eucKrText = (text: string, firstLine: number, what: string, multiline: boolean): void => {
    const bad = firstForeignLiteral(text);
    if (!bad) return;
    const line = multiline ? firstLine + text.slice(0, bad.at).split('\n').length - 1 : firstLine;
    throw InputError.atKey(file, { line }, 'tpl.notEucKr', {
      shown: bad.shown,
      what: { key: `tpl.part.${what}` as MessageKey, en: what },
      remove: { key: bad.count > 1 ? 'tpl.removeThem' : 'tpl.removeIt' },
      orAlimtalk: what === 'fallbackText' ? '' : { key: 'tpl.orAlimtalk' },
    });
  };
  if (textChannel) {
    eucKrText(bodyText, bodyStart + 1, 'body', true);
    if (fm.subject !== undefined) eucKrText(fm.subject, subjectLine, 'subject', false);
  } else if (fm.fallback !== 'none' && fm.fallbackText !== undefined) {
    eucKrText(fm.fallbackText, findLine(lines, /^\s*fallbackText\s*:/) ?? 1, 'fallbackText', false);
  }

  return {
    file,
    channel: resolvedChannel,
    subject: fm.subject !== undefined ? compile(fm.subject, subjectLine) : null,
    body: compile(bodyText, bodyStart + 1),
    ad: fm.ad,
    fallback: fm.fallback,
    fallbackText:
      fm.fallbackText !== undefined
        ? compile(fm.fallbackText, findLine(lines, /^\s*fallbackText\s*:/) ?? 1)
        : null,
    images: fm.images,
    from: fm.from ?? null,
    sender: fm.sender ?? null,
    alimtalk: fm.alimtalk
      ? {
          pfId: fm.alimtalk.pfId,
          templateId: fm.alimtalk.templateId,
          providers: providerIds(fm.alimtalk),
          buttons: fm.alimtalk.buttons as AlimtalkButton[],
          approvedText: fm.alimtalk.text ?? null,
          textFile: fm.alimtalk.textFile ?? null,
          itemList: fm.alimtalk.itemList,
        }
      : null,
    rcs: fm.rcs
      ? {
          brandId: fm.rcs.brandId,
          chatbotId: fm.rcs.chatbotId ?? null,
          templateId: fm.rcs.templateId ?? null,
          buttons: fm.rcs.buttons,
          kind: rcsKind,
        }
      : null,
    variables,
  };
}

const ALIMTALK_KEYS = new Set(['pfId', 'templateId', 'buttons', 'text', 'textFile', 'itemList']);

/** The provider blocks of alimtalk: (every key that is not one of its own), own keys only. */
function providerIds(alimtalk: Record<string, unknown>): Record<string, AlimtalkIds> {
  const out = Object.create(null) as Record<string, AlimtalkIds>;
  for (const [k, v] of Object.entries(alimtalk))
    if (!ALIMTALK_KEYS.has(k) && v && typeof v === 'object') out[k] = { ...(v as AlimtalkIds) };
  return out;
}

/**
 * The RCS kind a template asks for. Front matter that no RCS message could follow is refused here
 * (exit 2, nothing planned): a template carries its approved title and image, a text template is
 * information only, an RCS SMS has no subject, images need RCS MMS.
 */
function checkRcsFrontMatter(
  fm: z.infer<typeof frontMatterSchema>,
  lines: string[],
  file: string,
): RcsRequest {
  const rcs = fm.rcs!;
  const at = (key: string): { line: number } => ({
    line: findLine(lines, new RegExp(`^\\s*${key}\\s*:`)) ?? 1,
  });
  const fail = (key: string, message: MessageKey, params: MsgParams = {}): never => {
    throw InputError.atKey(file, at(key), message, params);
  };
  if (rcs.templateId) {
    if (rcs.type !== undefined && rcs.type !== 'auto') fail('type', 'tpl.rcs.typeWithTemplate');
    const kind = rcs.templateType === 'image' ? 'image_template' : 'text_template';
    if (fm.subject !== undefined) fail('subject', 'tpl.rcs.templateSubject', { kind: RCS_KIND_NAMES[kind] });
    if (fm.images.length > 0) fail('images', 'tpl.rcs.templateImages', { kind: RCS_KIND_NAMES[kind] });
    if (kind === 'text_template' && fm.ad) fail('ad', 'tpl.rcs.templateAd');
    return kind;
  }
  if (rcs.templateType !== undefined) fail('templateType', 'tpl.rcs.templateTypeAlone');
  const type = rcs.type ?? 'auto';
  if (type === 'sms' && fm.subject !== undefined) fail('subject', 'tpl.rcs.smsSubject');
  if ((type === 'sms' || type === 'lms') && fm.images.length > 0)
    fail('images', 'tpl.rcs.noImages', { kind: RCS_KIND_NAMES[type] });
  if (type === 'mms' && fm.images.length === 0) fail('type', 'tpl.rcs.mmsNeedsImage');
  return type;
}

function parseFrontMatter(yamlText: string, file: string): Record<string, unknown> {
  // maxAliasCount stops "billion laughs" alias bombs; only the core schema, so no custom tags run.
  // linePos is only filled in with prettyErrors, which rewrites the message: count lines ourselves.
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, {
    schema: 'core',
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    lineCounter,
  });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const line = lineCounter.linePos(problem.pos[0]).line + 1; // +1: the opening --- is line 1
    throw InputError.atKey(file, { line }, 'tpl.fmMalformed', { problem: problem.message.split('\n')[0]! });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    throw InputError.atKey(file, { line: 2 }, 'tpl.fmMalformed', {
      problem: (err as Error).message.split('\n')[0]!,
    });
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw InputError.atKey(file, { line: 2 }, 'tpl.fmNotMapping');
  }
  return value as Record<string, unknown>;
}

function compilePattern(
  s: string,
  file: string,
  firstLine: number,
  lines: string[],
  variables: { name: string; line: number }[],
): TextPattern {
  const pieces: string[] = [];
  const vars: string[] = [];
  let last = 0;
  // text between variables must hold no stray #{ (one opened on an earlier line and never closed)
  const literal = (from: number, to: number): string => {
    const piece = s.slice(from, to);
    const unclosed = piece.indexOf('#{');
    if (unclosed >= 0) {
      const line = firstLine + s.slice(0, from + unclosed).split('\n').length - 1;
      throw InputError.atKey(file, { line }, 'tpl.varNotClosed');
    }
    return piece;
  };
  for (const m of s.matchAll(VARIABLE)) {
    const raw = m[1]!;
    const name = raw.trim();
    const line = findLine(lines, new RegExp(escapeRegExp(m[0]))) ?? firstLine;
    if (name === '') throw InputError.atKey(file, { line }, 'tpl.varEmpty');
    if (name.includes('.')) throw InputError.atKey(file, { line }, 'tpl.varDot', { name });
    if (/[#{}\s]/.test(name)) throw InputError.atKey(file, { line }, 'tpl.varChars', { name });
    pieces.push(literal(last, m.index));
    vars.push(name);
    if (!variables.some((v) => v.name === name)) variables.push({ name, line });
    last = m.index! + m[0].length;
  }
  pieces.push(literal(last, s.length));
  return { pieces, vars };
}

/**
 * The first character outside EUC-KR in the literal part of `text` (what lies between its #{…}
 * variables), with its offset, a description of up to three such characters, and how many there are.
 */
function firstForeignLiteral(text: string): { at: number; shown: string; count: number } | null {
  const found: { at: number; char: string }[] = [];
  let from = 0;
  const scan = (to: number): void => {
    for (let i = from; i < to; i++) {
      const c = text.codePointAt(i)!;
      if (c > 0xffff || !isEucKrChar(c)) found.push({ at: i, char: String.fromCodePoint(c) });
      if (c > 0xffff) i++;
    }
  };
  for (const m of text.matchAll(VARIABLE)) {
    scan(m.index);
    from = m.index + m[0].length;
  }
  scan(text.length);
  if (!found.length) return null;
  const distinct = [...new Set(found.map((f) => f.char))];
  const code = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const shown =
    distinct
      .slice(0, 3)
      .map((ch) => `"${ch}" (${code(ch)})`)
      .join(', ') + (distinct.length > 3 ? ` and ${distinct.length - 3} more` : '');
  return { at: found[0]!.at, shown, count: found.length };
}

function findLine(lines: string[], pattern: RegExp): number | undefined {
  const i = lines.findIndex((l) => pattern.test(l));
  return i < 0 ? undefined : i + 1;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The template's variables resolved to CSV column indexes. */
export interface BoundPattern {
  pieces: string[];
  columns: number[];
}

export function bindPattern(p: TextPattern, header: string[]): BoundPattern {
  return { pieces: p.pieces, columns: p.vars.map((v) => header.indexOf(v)) };
}

export function renderPattern(p: BoundPattern, values: string[]): string {
  let out = p.pieces[0]!;
  for (let i = 0; i < p.columns.length; i++) out += values[p.columns[i]!]! + p.pieces[i + 1]!;
  return out;
}

/** The UTF-16 length renderPattern would return, without building the string. */
export function renderedLength(p: BoundPattern, values: string[]): number {
  let n = 0;
  for (const piece of p.pieces) n += piece.length;
  for (const c of p.columns) n += values[c]!.length;
  return n;
}

/** The first `max` UTF-16 units (about) of what renderPattern would return, built only that far. */
export function renderPrefix(p: BoundPattern, values: string[], max: number): string {
  let out = p.pieces[0]!;
  for (let i = 0; i < p.columns.length && out.length < max; i++)
    out += values[p.columns[i]!]! + p.pieces[i + 1]!;
  if (out.length <= max) return out;
  const c = out.charCodeAt(max - 1);
  return out.slice(0, c >= 0xd800 && c <= 0xdbff ? max - 1 : max);
}
