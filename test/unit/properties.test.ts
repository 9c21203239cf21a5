import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsvSync } from 'csv-parse/sync';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS, exportRecord, neutraliseFormula } from '../../src/app/exportRows.js';
import { planCampaign } from '../../src/app/planCampaign.js';
import {
  type ChannelInput,
  type ChannelPick,
  LMS_MAX_BYTES,
  pickChannel,
  SMS_MAX_BYTES,
  SUBJECT_MAX_BYTES,
} from '../../src/campaign/channel.js';
import { maskPhone, maskPhoneNumbers } from '../../src/campaign/phone.js';
import { CHANNELS } from '../../src/campaign/types.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { InputError } from '../../src/errors.js';
import { estimateRows, readRecipients, SimpleCsvParser } from '../../src/input/recipients.js';
import type { Journal, MessageRecord } from '../../src/journal/journal.js';
import { escapeForTerminal } from '../../src/text/controls.js';
import { countEucKrBytes } from '../../src/text/eucKr.js';
import { openTestJournal } from '../support/journal.js';

/**
 * Properties of the pure core, in-process, over random inputs (fast-check): the planner never
 * crashes whatever the CSV bytes or template text (it plans, or refuses with an InputError, which
 * the CLI turns into exit 2 and one line); EUC-KR byte counts agree with a strict KS X 1001 encoder;
 * the channel choice is monotone in length; CSV exports never hand a spreadsheet a formula.
 * Seeded from FC_SEED when set (fast-check prints the seed and the shrunk input of any failure).
 */

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const tried: Record<string, number> = {};
const count = (what: string): void => {
  tried[what] = (tried[what] ?? 0) + 1;
};
afterAll(() => {
  const total = Object.values(tried).reduce((a, b) => a + b, 0);
  console.log(
    `properties: ${total} inputs tried (${Object.entries(tried)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  );
});

// ---------------------------------------------------------------- the planner never crashes

let dir: string;
let journal: Journal;
let config: Config;
let runs = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-props-'));
  journal = openTestJournal('journal.db');
  config = loadConfig(undefined, {}, dir);
  // a real 16x16 JPEG header, so `images: [a.jpg]` can pass the asset checks
  const sof0 = Buffer.from([
    0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03,
    0x11, 0x01,
  ]);
  fs.writeFileSync(
    path.join(dir, 'a.jpg'),
    Buffer.concat([Buffer.from([0xff, 0xd8]), sof0, Buffer.from([0xff, 0xd9])]),
  );
});

afterAll(() => {
  journal?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const STATUSES = new Set(['planned', 'rejected', 'skipped', 'held']);

/** Plan the inputs: it must plan (every row accounted for) or throw InputError, nothing else. */
async function planOrRefuse(
  csv: Uint8Array,
  template: Uint8Array,
  encoding: 'auto' | 'utf8' | 'cp949',
): Promise<'planned' | 'refused'> {
  let outcome: 'planned' | 'refused' = 'planned';
  const n = ++runs;
  const csvFile = path.join(dir, `r${n}.csv`);
  const templateFile = path.join(dir, `t${n}.md`);
  fs.writeFileSync(csvFile, csv);
  fs.writeFileSync(templateFile, template);
  try {
    const { campaign } = await planCampaign({
      csvFile,
      templateFile,
      encoding,
      config,
      journal,
      lock: () => undefined,
    });
    expect(campaign.state).toBe('draft');
    const messages: MessageRecord[] = [...journal.messages(campaign.id)];
    const firstLegs = messages.filter((m) => m.leg === 0);
    expect(firstLegs.map((m) => m.row)).toEqual(Array.from({ length: campaign.rows }, (_, i) => i + 1));
    for (const m of messages) {
      expect(STATUSES.has(m.status), m.status).toBe(true);
      if (m.status === 'planned') {
        expect(m.to).not.toBeNull();
        expect(CHANNELS as readonly string[]).toContain(m.channel);
      }
      if (m.status === 'rejected' || m.status === 'skipped') expect(m.reason ?? '').toMatch(/^[a-z_]+: \S/);
    }
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    outcome = 'refused';
    if (process.env.DEBUG_PROPS) console.log('REFUSED', err.message.slice(0, 140));
    expect(err.message).not.toContain('\n'); // the CLI prints it as one line
    expect(err.message.length).toBeGreaterThan(0);
  } finally {
    fs.rmSync(csvFile, { force: true });
    fs.rmSync(templateFile, { force: true });
  }
  // a refused (or planned) input never leaves a half-planned campaign behind
  expect(journal.listCampaigns().filter((c) => c.state === 'planning')).toEqual([]);
  return outcome;
}

/** Text encoded as a Korean user's file might be: UTF-8 (with or without BOM), CP949, UTF-16. */
const encodeAs = (text: string, how: string): Uint8Array => {
  switch (how) {
    case 'utf8-bom':
      return Buffer.from(`\uFEFF${text}`, 'utf8');
    case 'cp949':
      return iconv.encode(text, 'cp949');
    case 'utf16le':
      return iconv.encode(text, 'utf16le');
    default:
      return Buffer.from(text, 'utf8');
  }
};
const fileEncoding = fc.constantFrom(
  'utf8',
  'utf8',
  'utf8',
  'utf8',
  'utf8-bom',
  'cp949',
  'cp949',
  'cp949',
  'utf16le',
);

/** Splice random bytes into a file somewhere (or not): broken characters, NULs, stray quotes. */
const withNoise = (bytes: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    { weight: 4, arbitrary: bytes },
    {
      weight: 1,
      arbitrary: fc
        .tuple(bytes, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }))
        .map(([b, at, noise]) => {
          const i = at % (b.length + 1);
          return Buffer.concat([b.subarray(0, i), noise, b.subarray(i)]);
        }),
    },
  );

const CELLS = [
  '010-1234-5678',
  '01098765432',
  '+82 10-5555-0101',
  '821012345678',
  '1012345678',
  '+1 650-253-0000',
  '001-1-650-253-0000',
  '008-1-201-555-0123',
  '1588-1234',
  '010-1234',
  '1.01E+10',
  '０１０-１２３４-５６７８',
  '02-555-0100',
  '',
  ' ',
  '홍길동',
  '똠순이',
  '😀',
  '=HYPERLINK("http://x","click")',
  '+cmd',
  '-2+3',
  '@SUM(A1)',
  '"',
  '""',
  '"a,b"',
  '"여러\n줄"',
  'a"b',
  '\t',
  '\r',
  '\n',
  ',',
  '\uFEFF',
  '#{name}',
  '__proto__',
  'Y',
  '동의',
  'x'.repeat(120),
  '가'.repeat(60),
];
const HEADERS = [
  'phone',
  'phone',
  'name',
  'item',
  'to',
  '휴대폰',
  '전화번호',
  '',
  ' name ',
  '__proto__',
  'night_consent',
  '"phone"',
  'a"b',
  'PHONE',
];

const cell = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...CELLS) },
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
);
/** RFC 4180 quoting, as a spreadsheet writes it */
const quoted = (v: string): string => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
const phoneHeader = fc
  .tuple(
    fc.shuffledSubarray(['name', 'item', 'memo', 'night_consent']),
    fc.constantFrom('phone', 'phone', 'to', '휴대폰', 'PHONE', ' phone '),
    fc.nat(),
  )
  .map(([others, phone, at]) => [
    ...others.slice(0, at % (others.length + 1)),
    phone,
    ...others.slice(at % (others.length + 1)),
  ]);
const structuredCsv = fc
  .oneof(
    { weight: 3, arbitrary: phoneHeader },
    { weight: 1, arbitrary: fc.array(fc.constantFrom(...HEADERS), { minLength: 1, maxLength: 6 }) },
  )
  .chain((header) =>
    fc.record({
      header: fc.constant(header),
      rows: fc.array(fc.array(cell, { minLength: header.length, maxLength: header.length }), {
        minLength: 1,
        maxLength: 8,
      }),
      ragged: fc.oneof(
        { weight: 7, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.array(cell, { maxLength: 7 }) },
      ),
      quoting: fc.constantFrom(true, true, true, false),
      eol: fc.constantFrom('\n', '\n', '\r\n', '\r'),
      finalEol: fc.boolean(),
      encoding: fileEncoding,
    }),
  )
  .map(({ header, rows, ragged, quoting, eol, finalEol, encoding }) => {
    const line = (r: string[]) => (quoting ? r.map(quoted) : r).join(',');
    const lines = [line(header), ...rows.map(line), ...(ragged ? [line(ragged)] : [])];
    return encodeAs(lines.join(eol) + (finalEol ? eol : ''), encoding);
  });
const csvBytes = fc.oneof(
  { weight: 4, arbitrary: withNoise(structuredCsv) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
);

const FRONT_MATTER_LINES = [
  'channel: auto',
  'channel: sms',
  'channel: lms',
  'channel: mms',
  'channel: alimtalk',
  'channel: rcs',
  'channel: fax',
  'channel: SMS',
  'subject: "#{name} 안내"',
  'subject: 안내',
  'subject: "#{item}#{item}#{item}#{item}#{item}#{item}"',
  'ad: true',
  'ad: false',
  'ad: "yes"',
  'sender: 한빛마트',
  'from: "0212345678"',
  'from: 0212345678',
  'from: "02-ABC-1234"',
  'from: "15881234"',
  'images: [a.jpg]',
  'images: [../../etc/passwd.jpg]',
  'images: [/etc/passwd]',
  'images: [missing.jpg]',
  'images: a.jpg',
  'fallback: lms',
  'fallback: sms',
  'fallback: none',
  'fallback: fax',
  'fallbackText: "#{name}님 대체 문자"',
  'fallbackText: "똠 😀"',
  'alimtalk: { pfId: KA01PF1, templateId: KA01TP1 }',
  'alimtalk: { pfId: KA01PF1, templateId: KA01TP1, text: "#{name}님 안내" }',
  'alimtalk: { pfId: KA01PF1, templateId: KA01TP1, buttons: [{ type: WL, name: 조회 }] }',
  'alimtalk: { pfId: KA01PF1, templateId: KA01TP1, textFile: ../../etc/passwd }',
  'alimtalk: { pfId: KA01PF1, templateId: KA01TP1, buttons: [{ type: WL, name: 조회, linkMo: "https://x.example" }] }',
  'rcs: { brandId: B1 }',
  'rcs: { brandId: B1, chatbotId: "0212345678" }',
  'rcs: { brandId: B1, chatbotId: "01012345678" }',
  'a: &a [lol, lol, lol]',
  'b: [*a, *a, *a, *a, *a, *a, *a, *a]',
  'subject: *a',
  'x: !!js/function "function () {}"',
  'subject: !!binary aGk=',
  'channel: !shell auto',
  '__proto__: { channel: sms }',
  '<<: { channel: sms }',
  '  nested: 1',
  '- item',
  '{',
  'key: [unclosed',
  '"ad": true',
  '...',
  '\tchannel: auto',
  'subject: |\n  여러\n  줄',
];
const BODY_TOKENS = [
  '#{name}',
  '#{phone}',
  '#{item}',
  '#{missing}',
  '#{}',
  '#{a.b}',
  '#{',
  '}',
  '#{ name }',
  '#{na me}',
  '(광고)',
  '[광고]',
  '한빛마트',
  '무료수신거부 080-123-4567',
  '무료수신거부 02-123-4567',
  '안녕하세요',
  '똠',
  '😀',
  '\n',
  ' ',
  '가'.repeat(50),
  'x'.repeat(95),
  'y'.repeat(2100),
  '---',
  '\r\n',
];
const structuredTemplate = fc
  .record({
    frontMatter: fc.option(fc.array(fc.constantFrom(...FRONT_MATTER_LINES), { maxLength: 6 }), { freq: 5 }),
    body: fc.array(fc.oneof(fc.constantFrom(...BODY_TOKENS), fc.string({ maxLength: 10 })), {
      maxLength: 12,
    }),
    encoding: fc.constantFrom('utf8', 'utf8', 'utf8', 'utf8-bom', 'cp949', 'utf16le'),
  })
  .map(({ frontMatter, body, encoding }) =>
    encodeAs((frontMatter ? `---\n${frontMatter.join('\n')}\n---\n` : '') + body.join(''), encoding),
  );
const templateBytes = fc.oneof(
  { weight: 5, arbitrary: withNoise(structuredTemplate) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
);

const GOOD_CSV = Buffer.from(
  'name,phone,item\n홍길동,010-1234-5678,무선 이어폰\n김영희,01098765432,겨울 담요\nJohn,+1 650-253-0000,mug\n똠순이,010-5555-6666,담요\n',
);
const GOOD_TEMPLATES = [
  '---\nchannel: auto\n---\n#{name}님, 주문하신 #{item} 상품이 발송되었습니다.\n',
  '---\nchannel: auto\n---\n주문하신 상품이 발송되었습니다.\n',
  '---\nchannel: lms\nsubject: "안내"\n---\n#{phone} 고객님께 안내드립니다.\n',
].map((t) => Buffer.from(t));
const requestedEncoding = fc.constantFrom<'auto' | 'utf8' | 'cp949'>(
  'auto',
  'auto',
  'auto',
  'auto',
  'auto',
  'auto',
  'utf8',
  'cp949',
);

describe('the planner never crashes', () => {
  it('random CSV bytes: plans every row or refuses with an InputError', async () => {
    await fc.assert(
      fc.asyncProperty(
        csvBytes,
        fc.constantFrom(GOOD_TEMPLATES[1]!, GOOD_TEMPLATES[1]!, GOOD_TEMPLATES[0]!, GOOD_TEMPLATES[2]!),
        requestedEncoding,
        async (csv, template, encoding) => {
          count(`CSV files ${await planOrRefuse(csv, template, encoding)}`);
        },
      ),
      { numRuns: 200, seed },
    );
  });

  it('random templates: plans every row or refuses with an InputError', async () => {
    await fc.assert(
      fc.asyncProperty(templateBytes, requestedEncoding, async (template, encoding) => {
        count(`templates ${await planOrRefuse(GOOD_CSV, template, encoding)}`);
      }),
      { numRuns: 200, seed },
    );
  });
});

describe('encoding detection', () => {
  it('a clean UTF-8, UTF-8 BOM or CP949 file reads back exactly: never an error, never mojibake', async () => {
    // Hangul (all of CP949, so 똠 too), ASCII, KS X 1001 symbols; CP949 pairs like 황 (C8 B2) look like UTF-8
    const ch = fc
      .oneof(
        fc.integer({ min: 0x20, max: 0x7e }),
        fc.integer({ min: 0xac00, max: 0xd7a3 }),
        fc.constantFrom(0xd669, 0xb620, 0x2605, 0x203b, 0xb7, 0x3131),
      )
      .map((cp) => String.fromCodePoint(cp));
    const value = fc.array(ch, { maxLength: 12 }).map((a) => a.join(''));
    const table = fc.integer({ min: 1, max: 4 }).chain((width) =>
      fc.tuple(
        fc.uniqueArray(
          value.filter((v) => v.trim() !== '' && v.trim() === v),
          { minLength: width, maxLength: width },
        ),
        fc.array(
          fc.array(value, { minLength: width, maxLength: width }).filter((r) => r.some((v) => v !== '')),
          { minLength: 1, maxLength: 6 },
        ),
      ),
    );
    await fc.assert(
      fc.asyncProperty(table, fc.constantFrom('utf8', 'utf8-bom', 'cp949'), async ([header, rows], how) => {
        count('encodings');
        const text = `${[header, ...rows].map((r) => r.map((v) => `"${v.replaceAll('"', '""')}"`).join(',')).join('\n')}\n`;
        const file = path.join(dir, `enc${++runs}.csv`);
        fs.writeFileSync(file, encodeAs(text, how));
        const got: string[][] = [];
        const bytes = encodeAs(text, how);
        try {
          await readRecipients(file, 'auto', { onHeader: (h) => got.push(h), onRow: (r) => got.push(r) });
        } catch (err) {
          // the one error allowed: CP949 bytes that are valid UTF-8 as well, both readings plausible
          const alsoUtf8 =
            how === 'cp949' &&
            (() => {
              try {
                new TextDecoder('utf-8', { fatal: true }).decode(bytes);
                return true;
              } catch {
                return false;
              }
            })();
          if (
            alsoUtf8 &&
            err instanceof InputError &&
            /could be UTF-8 .* or CP949 .*: pass --encoding/.test(err.message)
          )
            return;
          throw err;
        } finally {
          fs.rmSync(file, { force: true });
        }
        expect(got).toEqual([header, ...rows]);
      }),
      { numRuns: 300, seed },
    );
  });
});

// ---------------------------------------------------------------- EUC-KR byte counts

/**
 * A strict KS X 1001 encoder built independently of src/text: iconv-lite's cp949, keeping only
 * characters it encodes as one pair with both bytes in 0xA1-0xFE (CP949's extra Hangul such as
 * 똠 use lead bytes 0x81-0xC6 with other trail bytes), and that decode back to themselves.
 */
function strictEucKrBytes(text: string): number {
  let bytes = 0;
  for (const ch of text) {
    if (ch.length === 1 && ch.charCodeAt(0) < 0x80) {
      bytes += 1;
      continue;
    }
    const enc = iconv.encode(ch, 'cp949');
    const strict =
      enc.length === 2 &&
      enc[0]! >= 0xa1 &&
      enc[0]! <= 0xfe &&
      enc[1]! >= 0xa1 &&
      enc[1]! <= 0xfe &&
      iconv.decode(enc, 'cp949') === ch;
    if (!strict) return -1;
    bytes += 2;
  }
  return bytes;
}

/** Code points from the ranges where the counting can go wrong. */
const mixedChar = fc
  .oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0x00, max: 0x7f }) }, // ASCII, controls and NUL included
    { weight: 6, arbitrary: fc.integer({ min: 0xac00, max: 0xd7a3 }) }, // every Hangul syllable: 2,350 in KS X 1001, 8,822 CP949-only
    { weight: 1, arbitrary: fc.integer({ min: 0x3131, max: 0x318e }) }, // compatibility jamo
    { weight: 1, arbitrary: fc.integer({ min: 0x1100, max: 0x11ff }) }, // conjoining jamo (not in KS X 1001)
    { weight: 2, arbitrary: fc.integer({ min: 0x4e00, max: 0x9fff }) }, // CJK: some Hanja are in, most are not
    { weight: 2, arbitrary: fc.integer({ min: 0x2000, max: 0x33ff }) }, // punctuation, symbols, arrows, shapes, kana, ㈜ ㎏
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0x4ff }) }, // Latin-1, Latin Extended, Greek, Cyrillic
    { weight: 1, arbitrary: fc.integer({ min: 0xff00, max: 0xffff }) }, // full-width forms, specials, U+FFFD
    { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xf8ff }) }, // private use
    { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }) }, // lone surrogates
    { weight: 1, arbitrary: fc.integer({ min: 0x1f300, max: 0x1faff }) }, // emoji (surrogate pairs)
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        0xb620,
        0xd6fd,
        0x20ac,
        0xb7,
        0xa4,
        0xae,
        0x2116,
        0x3231,
        0x33a1,
        0x2605,
        0x203b,
      ),
    }, // 똠 햏 € · ¤ ® № ㈱ ㎡ ★ ※
  )
  .map((cp) => String.fromCodePoint(cp));

describe('EUC-KR byte counting', () => {
  it('countEucKrBytes agrees with a strict KS X 1001 encoder on random mixed strings', () => {
    fc.assert(
      fc.property(
        fc.array(mixedChar, { maxLength: 40 }).map((a) => a.join('')),
        (text) => {
          count('EUC-KR strings');
          expect(countEucKrBytes(text)).toBe(strictEucKrBytes(text));
        },
      ),
      { numRuns: 3000, seed },
    );
  });

  it('…and on strings of only KS X 1001 text, where it is the encoded length', () => {
    const ksx = fc
      .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0xac00, max: 0xd7a3 }))
      .map((cp) => String.fromCodePoint(cp))
      .filter((c) => strictEucKrBytes(c) > 0);
    fc.assert(
      fc.property(
        fc.array(ksx, { maxLength: 60 }).map((a) => a.join('')),
        (text) => {
          count('EUC-KR strings');
          expect(countEucKrBytes(text)).toBe(iconv.encode(text, 'cp949').length);
        },
      ),
      { numRuns: 500, seed },
    );
  });
});

// ---------------------------------------------------------------- channel choice

/** Cheapest first; a rejection is worse than any channel. */
const RANK: Record<string, number> = { sms: 0, lms: 1, mms: 2, alimtalk: 3, rcs: 3 };
const rank = (p: ChannelPick): number => (p.ok ? RANK[p.channel]! : 9);

const channelContext = fc.record({
  requested: fc.constantFrom<ChannelInput['requested']>(
    'auto',
    'auto',
    'auto',
    'sms',
    'lms',
    'mms',
    'alimtalk',
    'rcs',
  ),
  subjectBytes: fc.option(fc.integer({ min: 0, max: SUBJECT_MAX_BYTES + 20 }), { freq: 2 }),
  hasImages: fc.boolean(),
  recipient: fc.constantFrom<ChannelInput['recipient']>('mobile', 'mobile', 'landline'),
});
const length = fc.oneof(
  fc.integer({ min: 0, max: LMS_MAX_BYTES + 500 }),
  fc.constantFrom(SMS_MAX_BYTES, SMS_MAX_BYTES + 1, LMS_MAX_BYTES, LMS_MAX_BYTES + 1),
);

describe('pickChannel', () => {
  it('is monotone in length: more bytes never give a cheaper channel, and an explicit channel never changes', () => {
    fc.assert(
      fc.property(channelContext, length, length, (ctx, a, b) => {
        count('channel choices');
        const [short, long] = a <= b ? [a, b] : [b, a];
        const pick = (n: number) =>
          pickChannel({ ...ctx, bodyBytes: n, bodyChars: n, body: 'x'.repeat(Math.min(n, 10)) });
        const p = pick(short);
        const q = pick(long);
        expect(rank(q)).toBeGreaterThanOrEqual(rank(p));
        if (p.ok && q.ok) expect(q.parts).toBeGreaterThanOrEqual(p.parts);
        for (const r of [p, q]) {
          if (ctx.requested !== 'auto' && r.ok) expect(r.channel).toBe(ctx.requested);
          if (ctx.requested === 'auto' && r.ok && ctx.subjectBytes !== null)
            expect(r.channel).not.toBe('sms');
        }
        const countsBytes = ctx.requested !== 'alimtalk' && ctx.requested !== 'rcs';
        if (countsBytes && long > LMS_MAX_BYTES) expect(q.ok).toBe(false); // rejected beyond 2,000 bytes
      }),
      { numRuns: 2000, seed },
    );
  });

  it('international numbers: SMS only, parts never fall as the text grows', () => {
    const text = fc
      .array(fc.oneof(fc.constantFrom('a', ' ', '€', '{', '\n'), fc.constantFrom('가', 'é', 'ж', '😀')), {
        maxLength: 400,
      })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(text, fc.nat(), (body, cut) => {
        count('channel choices');
        const prefix = [...body].slice(0, cut % ([...body].length + 1)).join('');
        const pick = (s: string) =>
          pickChannel({
            requested: 'auto',
            bodyBytes: 0,
            subjectBytes: null,
            bodyChars: 0,
            hasImages: false,
            recipient: 'international',
            body: s,
          });
        const p = pick(prefix);
        const q = pick(body);
        expect(p.ok && q.ok).toBe(true);
        if (p.ok && q.ok) {
          expect([p.channel, q.channel]).toEqual(['sms', 'sms']);
          expect(q.parts).toBeGreaterThanOrEqual(p.parts);
        }
      }),
      { numRuns: 500, seed },
    );
  });
});

// ---------------------------------------------------------------- CSV exports

describe('CSV export rows', () => {
  it('never start a text cell with a formula character; JSON keeps the text as it is', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom('=HYPERLINK("http://x","click")', '+cmd', '-2+3', '@SUM(A1)', '\t=1', '\r=1', "'=1"),
    );
    fc.assert(
      fc.property(text, fc.option(text), fc.option(text), (reason, provider, providerId) => {
        count('export rows');
        const m: MessageRecord = {
          row: 1,
          leg: 0,
          to: '01012345678',
          channel: 'sms',
          status: 'rejected',
          reason,
          parts: 0,
          bytes: 0,
          subject: null,
          body: null,
          costEst: 0,
          cost: null,
          provider,
          providerId,
          attempts: 0,
          sentAt: null,
          doneAt: null,
        };
        const csv = exportRecord(m, true);
        expect(Object.keys(csv)).toEqual([...EXPORT_COLUMNS]);
        for (const v of [csv.reason, csv.provider, csv.provider_id])
          if (typeof v === 'string') expect(v).not.toMatch(/^[=+\-@\t\r]/);
        expect([reason, `'${reason}`]).toContain(neutraliseFormula(reason));
        const json = exportRecord(m, false);
        expect([json.reason, json.provider, json.provider_id]).toEqual([reason, provider, providerId]);
      }),
      { numRuns: 1000, seed },
    );
  });
});

describe('estimateRows', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-estimate-'));
  const estimate = (name: string, text: string): number => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return estimateRows(file, fs.statSync(file).size);
  };

  it('counts the lines of a file that fits its sample, with or without a last newline', () => {
    expect(estimate('a.csv', 'phone\n01012345678\n01012345679\n')).toBe(3);
    expect(estimate('b.csv', 'phone\n01012345678\n01012345679')).toBe(3);
    expect(estimate('c.csv', '')).toBe(0);
  });

  it('comes within a few percent for a large file of rows alike', () => {
    const rows = ['name,phone,item'];
    for (let i = 0; i < 300_000; i++)
      rows.push(`고객${i},010${String(10_000_000 + i * 37).slice(0, 8)},${'상품'.repeat(1 + (i % 5))}`);
    const got = estimate('big.csv', `${rows.join('\n')}\n`);
    expect(got).toBeGreaterThan(300_001 * 0.95);
    expect(got).toBeLessThan(300_001 * 1.05);
  });
});

// ---------------------------------------------------------------- what a terminal is shown

/** Every character a terminal must not get raw: controls, C1, bidi and other format characters, separators. */
const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]|(?!\u200d)\p{Cf}/u;
const nastyChar = fc
  .oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 2, arbitrary: fc.integer({ min: 0x00, max: 0x1f }) },
    { weight: 2, arbitrary: fc.integer({ min: 0x7f, max: 0x9f }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        0x200b,
        0x200c,
        0x200e,
        0x200f,
        0x202a,
        0x202b,
        0x202c,
        0x202d,
        0x202e,
        0x2066,
        0x2067,
        0x2068,
        0x2069,
        0x061c,
        0xfeff,
        0x00ad,
        0x2028,
        0x2029,
        0xe0001,
      ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }) },
    { weight: 2, arbitrary: fc.integer({ min: 0xac00, max: 0xd7a3 }) },
  )
  .map((cp) => String.fromCodePoint(cp));
const nastyText = fc.array(nastyChar, { maxLength: 30 }).map((a) => a.join(''));

describe('escapeForTerminal', () => {
  it('leaves nothing unsafe, keeps safe text as it is, and names each character it replaced', () => {
    fc.assert(
      fc.property(nastyText, (text) => {
        count('escapes');
        const shown = escapeForTerminal(text);
        expect(shown).not.toMatch(UNSAFE);
        // undo the escapes: the original comes back (nothing lost, nothing else changed)
        const back = shown.replace(/<U\+([0-9A-F]{4,6})>/g, (_, hex: string) =>
          String.fromCodePoint(parseInt(hex, 16)),
        );
        expect(back).toBe(text.includes('<U+') ? back : text);
        if (!UNSAFE.test(text)) expect(shown).toBe(text);
        const kept = escapeForTerminal(text, true);
        expect(kept.split('\n').length).toBe(text.split('\n').length);
        for (const line of kept.split('\n')) expect(line).not.toMatch(UNSAFE);
      }),
      { numRuns: 500, seed },
    );
  });

  it('shows a bell, an escape sequence and a right-to-left override as their code points', () => {
    expect(escapeForTerminal('a\u0007b\u001b[2Jc\u202Ed\u009b')).toBe(
      'a<U+0007>b<U+001B>[2Jc<U+202E>d<U+009B>',
    );
  });
});

/** A Korean mobile number written as people, spreadsheets and copy-paste write it: separators and invisible characters inside. */
const writtenNumber = fc
  .record({
    digits: fc.tuple(
      fc.constantFrom('010', '011', '016', '019'),
      fc.integer({ min: 1000, max: 9999 }),
      fc.integer({ min: 0, max: 9999 }),
    ),
    glue: fc.array(
      fc.constantFrom(
        '',
        '-',
        ' ',
        '.',
        '\u200b',
        '\u200f',
        '\u200e',
        '\u2060',
        '\ufeff',
        '\u202e',
        '\u00a0',
        '\u2010',
        '(',
        ')',
        '\u00ad',
      ),
      { minLength: 11, maxLength: 11 },
    ),
    fullWidth: fc.boolean(),
  })
  .map(({ digits: [a, b, c], glue, fullWidth }) => {
    const national = `${a}${b}${String(c).padStart(4, '0')}`;
    const chars = [...national].map((d) => (fullWidth ? String.fromCharCode(d.charCodeAt(0) + 0xfee0) : d));
    return { national, written: chars.map((d, i) => (i === 0 ? d : glue[i - 1]! + d)).join('') };
  });

describe('maskPhoneNumbers', () => {
  it('masks a number wherever it sits in a reason, whatever separators or invisible characters are inside it', () => {
    const before = fc.constantFrom('phone number "', 'row 4: ', '', '(', '수신번호 ', 'to=');
    const after = fc.constantFrom('" is not a valid Korean number', '', ')', ' 수신거부', ', retry');
    fc.assert(
      fc.property(writtenNumber, before, after, ({ national, written }, pre, post) => {
        count('masks');
        // the number as a whole, invisible characters inside it included, becomes 010-****-5678
        expect(escapeForTerminal(maskPhoneNumbers(pre + written + post))).toBe(
          pre + maskPhone(national) + post,
        );
      }),
      { numRuns: 500, seed },
    );
  });

  it('leaves what is not a phone number alone', () => {
    for (const s of [
      'duplicate of row 12',
      '2026-12-02 09:00 KST',
      'campaign c-012345678901',
      'M4V20180307110044DHWAWBBA3L7E9WM',
      '2,000 bytes',
      '65,536 characters',
      '송장 6021-3344-1001',
    ]) {
      expect(maskPhoneNumbers(s)).toBe(s);
    }
  });

  it('masks two numbers next to each other, and international ones', () => {
    expect(maskPhoneNumbers('01012345678 01087654321')).toBe('010-****-5678 010-****-4321');
    expect(maskPhoneNumbers('phone number "+1 415 555 0132" is not valid')).not.toMatch(/555/);
  });
});

// ---------------------------------------------------------------- CSV record ends

describe('SimpleCsvParser', () => {
  it('reads any mix of \\r\\n, \\n and \\r as csv-parse does with the same record ends: a lone \\n never merges two records', () => {
    const value = fc.oneof(
      fc.constantFrom('홍길동', '010-1234-5678', '', 'a b', '"q"', 'x,y', '여러\n줄', 'a\r\nb', 'c\rd'),
      fc.string({ maxLength: 5 }).filter((v) => !/["\r\n,]/.test(v)),
    );
    const table = fc.integer({ min: 1, max: 4 }).chain((width) =>
      fc.array(
        fc.array(value, { minLength: width, maxLength: width }).filter((r) => r.some((v) => v !== '')),
        { minLength: 1, maxLength: 6 },
      ),
    );
    fc.assert(
      fc.property(
        table,
        fc.array(fc.constantFrom('\r\n', '\n', '\r'), { minLength: 7, maxLength: 7 }),
        fc.integer({ min: 1, max: 40 }),
        (rows, ends, cut) => {
          count('record ends');
          const text = rows
            .map(
              (r, i) =>
                r.map((v) => (/["\r\n,]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(',') + ends[i]!,
            )
            .join('');
          const expected = parseCsvSync(text, {
            record_delimiter: ['\r\n', '\n', '\r'],
            skip_empty_lines: true,
            relax_column_count: true,
          }) as string[][];
          expect(expected).toEqual(rows);
          const got: string[][] = [];
          const parser = new SimpleCsvParser((r) => got.push(r));
          try {
            // in two pieces, cut anywhere (inside a \r\n too)
            parser.write(text.slice(0, cut), false);
            parser.write(text.slice(cut), true);
          } catch (err) {
            if ((err as Error).message.startsWith('not a simple CSV')) return; // csv-parse decides (ragged widths)
            throw err;
          }
          expect(got).toEqual(rows);
        },
      ),
      { numRuns: 500, seed },
    );
  });
});

describe('UTF-8 or CP949, when the bytes are both', () => {
  const read = async (bytes: Buffer): Promise<string> => {
    const file = path.join(dir, `both${++runs}.csv`);
    fs.writeFileSync(
      file,
      Buffer.concat([Buffer.from('name,phone\n'), bytes, Buffer.from(',010-1234-5678\n')]),
    );
    try {
      const got: string[] = [];
      await readRecipients(file, 'auto', { onHeader: () => {}, onRow: (r) => got.push(r[0]!) });
      return got[0]!;
    } catch (err) {
      return `error: ${(err as Error).message}`;
    } finally {
      fs.rmSync(file, { force: true });
    }
  };
  it('prefers the reading that is Korean, keeps plausible UTF-8 text, and asks when both are plausible', async () => {
    expect(await read(iconv.encode('첨캐', 'cp949'))).toBe('첨캐'); // C3 B7 C4 B3: also UTF-8 "÷ĳ"
    expect(await read(iconv.encode('캐', 'cp949'))).toBe('캐');
    expect(await read(Buffer.from('José Müller'))).toBe('José Müller');
    expect(await read(Buffer.from('A·B'))).toBe('A·B');
    expect(await read(Buffer.from('Москва'))).toBe('Москва');
    expect(await read(Buffer.from('홍길동'))).toBe('홍길동');
    expect(await read(iconv.encode('홍길동', 'cp949'))).toBe('홍길동');
    // found by the property above (seed -1307636298): C8 B2 41 read "ȲA" as UTF-8, mojibake
    expect(await read(iconv.encode('황A', 'cp949'))).not.toBe('ȲA');
    expect(await read(Buffer.from('Nguyễn'))).toBe('Nguyễn'); // Latin Extended Additional is still text
    expect(await read(iconv.encode('첨', 'cp949'))).toMatch(
      /^error: .*line 2, byte 11: the file could be UTF-8 \("[^"]*÷[^"]*"\) or CP949 \("[^"]*첨[^"]*"\): pass --encoding utf8 or --encoding cp949$/,
    );
  });
});
