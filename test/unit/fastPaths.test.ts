import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsvSync } from 'csv-parse/sync';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseAny, normalisePhone } from '../../src/campaign/phone.js';
import { InputError } from '../../src/errors.js';
import { MAX_RECORD_CHARS, readRecipients, SimpleCsvParser } from '../../src/input/recipients.js';

/**
 * Differential tests of the two hand-written fast paths of planning against the libraries they
 * stand in for: SimpleCsvParser (src/input/recipients.ts) against csv-parse with readRecipients'
 * options, and fastKoreanMobile (inside normalisePhone, src/campaign/phone.ts) against
 * libphonenumber-js and against our own careful path. A fast path may give up on an input (the
 * library then decides); it may never give another answer. Seeded from FC_SEED when set.
 */

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

// ---------------------------------------------------------------- CSV

/** The options readWithCsvParse gives csv-parse (src/input/recipients.ts). */
const CSV_PARSE_OPTIONS = {
  bom: true,
  record_delimiter: ['\r\n', '\n', '\r'],
  skip_empty_lines: true,
  max_record_size: MAX_RECORD_CHARS,
  relax_column_count: false,
};

const ENDINGS = ['\r\n', '\n', '\r'] as const;

/** A value as a Korean recipient list holds them, odd ones included. */
const value = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('홍길동', '김 민수', '010-1234-5678', '+82 10 1234 5678', '한빛, 마트'),
  },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '  공백 ', 'ABC Mart', '"캠핑 의자, 2개"', 'say ""hi""') },
  { weight: 1, arbitrary: fc.constantFrom('여러\n줄', 'a\r\nb', 'c\rd', '\n', '끝\r\n', '"', ',', '\ufeff') },
  {
    weight: 3,
    arbitrary: fc.string({ maxLength: 6, unit: fc.constantFrom('가', '힣', 'a', ' ', ',', '"', '1', '\n') }),
  },
);

interface CsvCase {
  text: string;
  /** quote every field, quote where needed, or write values raw (which may make the file malformed) */
  quoting: 'always' | 'needed' | 'raw';
}

/** A whole CSV: a header, rows, one or mixed line endings, maybe a BOM, empty lines, a last newline or not. */
const csvCase: fc.Arbitrary<CsvCase> = fc
  .record({
    width: fc.integer({ min: 1, max: 4 }),
    rows: fc.integer({ min: 0, max: 6 }),
    bom: fc.boolean(),
    mixed: fc.boolean(),
    ending: fc.constantFrom(...ENDINGS),
    trailing: fc.boolean(),
    quoting: fc.constantFrom('always', 'needed', 'needed', 'raw'),
    ragged: fc.integer({ min: 0, max: 9 }),
  })
  .chain((c) =>
    fc
      .record({
        values: fc.array(
          fc.array(value, { minLength: c.width, maxLength: c.width + (c.ragged === 0 ? 1 : 0) }),
          {
            minLength: c.rows,
            maxLength: c.rows,
          },
        ),
        ends: fc.array(fc.constantFrom(...ENDINGS), { minLength: c.rows + 1, maxLength: c.rows + 1 }),
        blank: fc.array(fc.boolean(), { minLength: c.rows + 1, maxLength: c.rows + 1 }),
      })
      .map(({ values, ends, blank }): CsvCase => {
        const field = (v: string): string => {
          if (c.quoting === 'always' || (c.quoting === 'needed' && /[",\r\n\ufeff]/.test(v)))
            return `"${v.replaceAll('"', '""')}"`;
          return v;
        };
        const header = Array.from({ length: c.width }, (_, i) => ['name', 'phone', '상점', 'item'][i]!);
        const lines = [header, ...values].map((r) => r.map(field).join(','));
        let text = c.bom ? '\ufeff' : '';
        lines.forEach((line, i) => {
          const end = c.mixed ? ends[i]! : c.ending;
          text += line;
          if (i < lines.length - 1 || c.trailing) text += end;
          if (blank[i] && i < lines.length - 1) text += end; // an empty line
        });
        return { text, quoting: c.quoting };
      }),
  );

/** csv-parse's records for `text`, or its error. */
function csvParse(text: string): { records: string[][] } | { error: Error } {
  try {
    return { records: parseCsvSync(text, CSV_PARSE_OPTIONS) as string[][] };
  } catch (error) {
    return { error: error as Error };
  }
}

/** SimpleCsvParser over `text`, cut in pieces at `cuts`: its records, and whether it gave up. */
function simple(text: string, cuts: number[]): { records: string[][]; gaveUp: boolean } {
  const records: string[][] = [];
  const parser = new SimpleCsvParser((r) => records.push(r));
  const at = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
  let from = 0;
  try {
    for (const to of at) {
      parser.write(text.slice(from, to), false);
      from = to;
    }
    parser.write(text.slice(from), true);
  } catch (err) {
    if ((err as Error).message.startsWith('not a simple CSV')) return { records, gaveUp: true };
    throw err;
  }
  return { records, gaveUp: false };
}

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ums-fastpaths-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let files = 0;
/** readRecipients over `bytes` written to a file: the header and rows it hands out, or its error. */
async function readFile(
  bytes: Uint8Array,
  encoding: 'auto' | 'utf8' | 'cp949',
): Promise<{ records: string[][] } | { error: Error }> {
  const file = path.join(dir, `r${++files}.csv`);
  fs.writeFileSync(file, bytes);
  const records: string[][] = [];
  try {
    await readRecipients(file, encoding, {
      onHeader: (h) => records.push(h),
      onRow: (r, row) => {
        expect(row).toBe(records.length);
        records.push(r);
      },
    });
    return { records };
  } catch (error) {
    return { error: error as Error };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

describe('SimpleCsvParser against csv-parse', () => {
  it('hands out only what csv-parse reads, in any pieces: all of it, or a prefix before it gives up', () => {
    let whole = 0;
    fc.assert(
      fc.property(csvCase, fc.array(fc.nat({ max: 200 }), { maxLength: 4 }), ({ text }, cuts) => {
        const expected = csvParse(text);
        const got = simple(text, cuts);
        if ('error' in expected) {
          // csv-parse refuses the text: the fast path must not have read it to the end
          expect(got.gaveUp).toBe(true);
          return;
        }
        if (got.gaveUp) {
          expect(expected.records.slice(0, got.records.length)).toEqual(got.records);
        } else {
          whole++;
          expect(got.records).toEqual(expected.records);
        }
      }),
      { numRuns: 3000, seed },
    );
    // the generator must reach the fast path's own work, not only its giving up
    expect(whole).toBeGreaterThan(300);
  });
});

describe('readRecipients against csv-parse', () => {
  it('reads a UTF-8 file (BOM or not, any line endings and quoting) as csv-parse does, or refuses it with an InputError', async () => {
    await fc.assert(
      fc.asyncProperty(csvCase, async ({ text }) => {
        const expected = csvParse(text);
        const got = await readFile(Buffer.from(text, 'utf8'), 'auto');
        const ok = 'records' in expected && expected.records.length > 1 ? expected.records : null;
        if (ok === null) {
          expect('error' in got ? got.error : got.records).toBeInstanceOf(InputError);
          return;
        }
        if ('error' in got) {
          // what we refuse that csv-parse reads: a header that names no column, or names one twice
          expect(got.error).toBeInstanceOf(InputError);
          expect(got.error.message).toMatch(/header column has no name|appears twice|are the same name/);
          return;
        }
        expect(got.records).toEqual([ok[0]!.map((h) => h.trim()), ...ok.slice(1)]);
      }),
      { numRuns: 400, seed },
    );
  });

  it('reads a CP949 file the same as its UTF-8 twin', async () => {
    await fc.assert(
      fc.asyncProperty(csvCase, async ({ text }) => {
        const plain = text.replace(/^\ufeff/, '').replaceAll('\ufeff', '');
        const utf8 = await readFile(Buffer.from(plain, 'utf8'), 'utf8');
        const cp949 = await readFile(iconv.encode(plain, 'cp949'), 'cp949');
        if ('error' in utf8) {
          expect('error' in cp949).toBe(true);
          // the same fault at the same line, row and column (bytes may differ)
          const same = (e: Error): string =>
            e.message.replace(/^\S+\.csv/, 'F').replace(/byte \d+/, 'byte N');
          expect(same((cp949 as { error: Error }).error)).toBe(same(utf8.error));
        } else {
          expect(cp949).toEqual(utf8);
        }
      }),
      { numRuns: 200, seed },
    );
  });
});

// ---------------------------------------------------------------- phone numbers

type Libphonenumber = typeof import('libphonenumber-js/max');
const libphonenumber = createRequire(import.meta.url)('libphonenumber-js/max') as Libphonenumber;

const digits = (min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ minLength: min, maxLength: max, unit: fc.constantFrom(...'0123456789') });
const separator = fc.constantFrom('', '', '-', ' ', '.', ' - ', '  ');

/** Numbers as people type them: prefixes of every kind, separators, country codes, zeros lost or doubled. */
const phoneText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({
        country: fc.constantFrom('', '', '', '+82', '+82 ', '82', '82-', '+82 (0)', '+820', '0082 ', '+1 '),
        prefix: fc.constantFrom(
          '010',
          '010',
          '011',
          '016',
          '017',
          '018',
          '019',
          '012',
          '013',
          '10',
          '0010',
          '02',
          '031',
          '033',
          '051',
          '064',
          '035',
          '070',
          '0505',
          '0502',
          '050',
          '060',
          '080',
          '15',
          '16',
          '18',
          '1588',
          '0',
        ),
        middle: fc.oneof({ weight: 3, arbitrary: digits(3, 4) }, digits(0, 5)),
        last: fc.oneof({ weight: 3, arbitrary: digits(4, 4) }, digits(0, 5)),
        sep: separator,
        parens: fc.boolean(),
      })
      .map(({ country, prefix, middle, last, sep, parens }) => {
        let p: string = prefix;
        if (country !== '' && p.startsWith('0') && p !== '0') p = p.slice(1);
        const head = parens ? `(${p})` : p;
        return `${country}${head}${sep}${middle}${middle && last ? sep : ''}${last}`;
      }),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 16, unit: fc.constantFrom(...'0123456789 -.()+') }) },
  { weight: 1, arbitrary: digits(8, 13) },
);

describe('normalisePhone against libphonenumber-js', () => {
  it('its fast path answers as its careful path does, wherever it answers', () => {
    fc.assert(
      fc.property(phoneText, (raw) => {
        expect(normalisePhone(raw)).toEqual(normaliseAny(raw));
      }),
      { numRuns: 20000, seed },
    );
  });

  /**
   * Where the two differ by design, and so are not compared: a number dialled with 00 (we read 00 82
   * as Korea, and weigh Korean carriers' prefixes ourselves: test/unit/phone.test.ts), one written
   * 82... without + and under 11 digits (a local number to us), and other countries (which we hand
   * to libphonenumber itself), and 012 (M2M/IoT lines, mobile to libphonenumber, not a recipient
   * to us), area-code short numbers (051-100: a service, not a recipient), and a long-distance
   * carrier's code before a number (083 2-300-0000: we read no such codes), and 010 with 7 digits after
   * it (libphonenumber's table still allows it; every 010 number today has 8: a typo to us), and a
   * "+" anywhere but first (libphonenumber drops a trailing "010-1234-5678+"; to us it is not a
   * phone number's character there). And we check the shape of a Korean number (prefix and length), not
   * libphonenumber's table of allocated ranges: a number it calls possible but not valid
   * (010-0000-0000) we plan, and the provider refuses if no one has it.
   */
  const compared = (raw: string): boolean => {
    const d = raw.replace(/[\s\-.()]/g, '');
    const national = d.replace(/^\+?82/, '').replace(/^0/, '');
    return (
      !d.startsWith('00') &&
      !(d.startsWith('82') && d.length < 11) &&
      !/^\+(?!82)/.test(d) &&
      !/.\+/.test(d) &&
      !national.startsWith('12') &&
      !/^10\d{7}$/.test(national)
    );
  };
  const KOREAN_LANDLINE = ['FIXED_LINE', 'VOIP', 'PERSONAL_NUMBER'];

  it('reads a Korean number as libphonenumber (region KR) does: the same number, of the same kind', () => {
    const seen = { mobile: 0, landline: 0, rangesOnly: 0 };
    fc.assert(
      fc.property(phoneText, (raw) => {
        if (!compared(raw)) return;
        const ours = normalisePhone(raw);
        const theirs = libphonenumber.parsePhoneNumberFromString(raw, 'KR');
        const valid = theirs?.isValid() === true && theirs.country === 'KR';
        const type = valid ? theirs!.getType() : undefined;
        if (ours.ok) {
          // the same digits, a number of that length and prefix, and never another kind than ours
          expect(theirs, raw).toBeDefined();
          expect(`0${theirs!.nationalNumber}`, raw).toBe(ours.to);
          expect(theirs!.isPossible(), raw).toBe(true);
          seen[ours.kind === 'mobile' ? 'mobile' : 'landline']++;
          if (!valid) seen.rangesOnly++;
          else if (ours.kind === 'mobile') expect(type, raw).toBe('MOBILE');
          else expect(KOREAN_LANDLINE, `${raw}: ${type}`).toContain(type);
        } else if (theirs?.carrierCode) {
          // not compared (see above)
        } else if (
          type === 'MOBILE' ||
          (KOREAN_LANDLINE.includes(type ?? '') &&
            /^[+0]|^82/.test(raw) &&
            theirs!.nationalNumber.length >= 8)
        ) {
          // a number libphonenumber finds valid we take too (a landline with its 0 or +82: "2-300-0000"
          // could be a Seoul number with its 0 lost, or anything else: refused)
          expect(ours, raw).toEqual({
            ok: true,
            to: `0${theirs!.nationalNumber}`,
            kind: type === 'MOBILE' ? 'mobile' : 'landline',
          });
        }
      }),
      { numRuns: 20000, seed },
    );
    expect(seen.mobile).toBeGreaterThan(2000);
    expect(seen.landline).toBeGreaterThan(1000);
  });
});
