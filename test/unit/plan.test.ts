import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkVariables,
  findPhoneColumn,
  PHONE_COLUMNS,
  Planner,
  SeenNumbers,
} from '../../src/campaign/plan.js';
import { parseTemplate } from '../../src/campaign/template.js';
import { DEFAULT_PRICES, type Prices } from '../../src/campaign/types.js';
import { InputError } from '../../src/errors.js';

const HEADER = ['name', 'phone', 'item'];
const shipped = parseTemplate(
  ['---', 'channel: auto', '---', '#{name}님, #{item} 발송', ''].join('\n'),
  'shipped.md',
);

function planner(template = shipped, header = HEADER, prices: Prices = DEFAULT_PRICES): Planner {
  return new Planner(template, header, header.indexOf('phone'), prices);
}

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('Planner.plan', () => {
  it('plans a normal row: normalised number, rendered text, channel, bytes, cost', () => {
    const m = planner().plan(['홍길동', '010-1234-5678', '담요'], 1);
    expect(m).toMatchObject({
      row: 1,
      to: '01012345678',
      channel: 'sms',
      status: 'planned',
      reason: null,
      parts: 1,
      bytes: 8 * 2 + 3, // 8 Hangul at 2 bytes + ',', ' ', ' ' at 1
      subject: null,
      body: '홍길동님, 담요 발송',
      cost: DEFAULT_PRICES.sms,
      leg: 0,
      vars: null,
      deferrable: false,
    });
  });

  it('rejects a row with an empty variable value, naming the column', () => {
    const m = planner().plan(['홍길동', '010-1234-5678', ''], 7);
    expect(m.status).toBe('rejected');
    expect(m.row).toBe(7);
    expect(m.reason).toMatch(/^missing_value: /);
    expect(m.reason).toContain('"item"');
    expect(m.body).toBeNull();
  });

  it('treats a whitespace-only value as empty', () => {
    const m = planner().plan(['   ', '010-1234-5678', '담요'], 2);
    expect(m.status).toBe('rejected');
    expect(m.reason).toContain('"name"');
  });

  it('rejects an invalid number with the phone reason', () => {
    const m = planner().plan(['홍길동', '010-1234', '담요'], 3);
    expect(m.status).toBe('rejected');
    expect(m.reason).toMatch(/^invalid_phone: .*010-1234/);
    expect(m.to).toBeNull();
  });

  it('skips duplicates after normalisation as "duplicate of row N" (N: the sheet row, header = 1)', () => {
    const p = planner();
    expect(p.plan(['a', '010-1234-5678', 'x'], 1).status).toBe('planned');
    expect(p.plan(['b', '01098765432', 'x'], 2).status).toBe('planned');
    for (const [raw, row] of [
      ['+82 10-1234-5678', 3],
      ['01012345678', 4],
      ['1012345678', 5],
    ] as const) {
      const d = p.plan(['c', raw, 'x'], row);
      expect(d.status, raw).toBe('skipped');
      expect(d.reason, raw).toBe('duplicate: duplicate of row 2');
      expect(d.cost, raw).toBe(0);
    }
    const d2 = p.plan(['d', '+82-10-9876-5432', 'x'], 6);
    expect(d2.reason).toBe('duplicate: duplicate of row 3');
  });

  it('tells 125,000 distinct numbers apart and remembers the first row of each', () => {
    const p = planner(parseTemplate('#{name}', 'n.md'));
    const numbers: string[] = [];
    for (let i = 0; i < 100_000; i++)
      numbers.push(`010${String(10_000_000 + ((i * 7919) % 90_000_000)).padStart(8, '0')}`);
    for (let i = 0; i < 20_000; i++) numbers.push(`02${String(1_000_000 + i * 13)}`); // 9-digit Seoul landlines
    for (let i = 0; i < 5_000; i++) numbers.push(`+1415${String(2_000_000 + i)}`);
    expect(new Set(numbers).size).toBe(numbers.length);
    let row = 0;
    for (const n of numbers) {
      const m = p.plan(['x', n], ++row);
      if (m.status !== 'planned') throw new Error(`row ${row} (${n}): ${m.status} ${m.reason}`);
    }
    // every number again, in another order and spelling: each is a duplicate of its own first row
    for (let i = numbers.length - 1; i >= 0; i -= 331) {
      const n = numbers[i]!;
      const spelled = n.startsWith('+') ? n : `${n.slice(0, 3)}-${n.slice(3)}`;
      const m = p.plan(['x', spelled], ++row);
      expect(m.reason, n).toBe(`duplicate: duplicate of row ${i + 2}`);
    }
  });

  it('a rejected row does not claim its number: a later valid row with it is planned', () => {
    const p = planner();
    expect(p.plan(['a', '010-1234-5678', ''], 1).status).toBe('rejected');
    expect(p.plan(['a', '010-1234-5678', 'x'], 2).status).toBe('planned');
  });

  it('rejects characters outside EUC-KR, naming them and their positions', () => {
    // rendered: "김똠😀님, 컵 발송": 똠 at 2, 😀 at 3 (code points)
    const m = planner().plan(['김똠😀', '010-1234-5678', '컵'], 1);
    expect(m.status).toBe('rejected');
    expect(m.reason).toMatch(/^non_euckr: /);
    expect(m.reason).toContain('"똠" (U+B620) at 2');
    expect(m.reason).toContain('"😀" (U+1F600) at 3');
  });

  it('rejects non-EUC-KR characters in the subject too', () => {
    const t = parseTemplate('---\nchannel: lms\nsubject: "#{item} 안내"\n---\n#{name}님', 's.md');
    const m = planner(t).plan(['김', '010-1234-5678', '햏'], 1);
    expect(m.status).toBe('rejected');
    expect(m.reason).toMatch(/subject/);
    expect(m.reason).toContain('"햏"');
  });

  it('emoji are fine for alimtalk, which counts characters', () => {
    const t = parseTemplate('---\nalimtalk: { pfId: P, templateId: T }\n---\n#{name}님 #{item}', 'a.md');
    const m = planner(t).plan(['김😀', '010-1234-5678', '컵'], 1);
    expect(m).toMatchObject({
      status: 'planned',
      channel: 'alimtalk',
      bytes: [...'김😀님 컵'].length,
      cost: DEFAULT_PRICES.alimtalk,
    });
  });

  it('skips an empty row', () => {
    const m = planner().plan(['', '', ''], 4);
    expect(m.status).toBe('skipped');
    expect(m.reason).toMatch(/^empty_row: /);
    const blank = planner().plan([' ', '  ', ''], 5);
    expect(blank.status).toBe('skipped');
  });

  it('costs come from the prices given, per part', () => {
    const prices: Prices = { sms: 7, lms: 31, mms: 77, alimtalk: 5, rcs: 9 };
    const p = planner(shipped, HEADER, prices);
    expect(p.plan(['a', '010-1111-2222', 'x'], 1)).toMatchObject({ channel: 'sms', cost: 7 });
    expect(p.plan(['a', '010-1111-3333', 'x'.repeat(200)], 2)).toMatchObject({ channel: 'lms', cost: 31 });
    // international SMS: price per GSM part; 'Hi a: ' + 200 ASCII chars in GSM-7 = 206 septets = 2 parts
    const ascii = parseTemplate('Hi #{name}: #{item}', 'ascii.md');
    const intl = planner(ascii, HEADER, prices).plan(['a', '+1 415-555-0132', 'x'.repeat(200)], 3);
    expect(intl).toMatchObject({
      status: 'planned',
      channel: 'sms',
      to: '+14155550132',
      parts: 2,
      cost: 14,
      bytes: 181,
    }); // 206 septets packed
    // outside GSM-7 the text goes as UCS-2: 2 octets a character
    expect(planner(ascii, HEADER, prices).plan(['a', '+1 415-555-0133', '안녕'], 4)).toMatchObject({
      parts: 1,
      bytes: 16,
    });
    const mms = parseTemplate('---\nchannel: auto\nimages: [a.jpg]\n---\n#{name} #{item}', 'm.md');
    expect(planner(mms, HEADER, prices).plan(['a', '010-1111-4444', 'x'], 1)).toMatchObject({
      channel: 'mms',
      cost: 77,
    });
  });

  it('counts short texts turned into LMS by a subject', () => {
    const t = parseTemplate('---\nchannel: auto\nsubject: 안내\n---\n#{name}님 #{item}', 's.md');
    const p = planner(t);
    expect(p.plan(['a', '010-1111-2222', 'x'], 1)).toMatchObject({ channel: 'lms', subject: '안내' });
    expect(p.plan(['a', '010-1111-3333', 'x'.repeat(100)], 2)).toMatchObject({ channel: 'lms' });
    expect(p.subjectUpgrades).toBe(1);
  });

  it('an international number with a template subject is rejected (international is SMS only)', () => {
    const t = parseTemplate('---\nchannel: auto\nsubject: Notice\n---\nHi #{name} #{item}', 's.md');
    const m = planner(t).plan(['Emily', '+1 415-555-0132', 'cup'], 1);
    expect(m.status).toBe('rejected');
    expect(m.reason).toMatch(/^channel: .*international/);
  });

  it('channel alimtalk to a landline is rejected', () => {
    const t = parseTemplate(
      '---\nchannel: alimtalk\nalimtalk: { pfId: P, templateId: T }\n---\n#{name} #{item}',
      'a.md',
    );
    const m = planner(t).plan(['a', '02-123-4567', 'x'], 1);
    expect(m.status).toBe('rejected');
    expect(m.reason).toMatch(/^channel: .*mobile/);
  });
});

describe('checkVariables', () => {
  it('passes when every variable is a column', () => {
    expect(() => checkVariables(shipped, HEADER, 'r.csv')).not.toThrow();
  });

  it('names the missing variable, the template line and the CSV', () => {
    const t = parseTemplate(
      ['---', 'channel: auto', '---', '#{name}님', '', '송장 #{invoice}'].join('\n'),
      'tpl.md',
    );
    const err = thrown(() => checkVariables(t, HEADER, 'orders.csv'));
    expect(err.message.startsWith('tpl.md line 6: ')).toBe(true);
    expect(err.message).toContain('#{invoice}');
    expect(err.message).toContain('orders.csv');
  });

  it('checks the subject variables too', () => {
    const t = parseTemplate(
      ['---', 'channel: lms', 'subject: "#{shop} 안내"', '---', '#{name}님'].join('\n'),
      'tpl.md',
    );
    const err = thrown(() => checkVariables(t, HEADER, 'orders.csv'));
    expect(err.message).toMatch(/^tpl\.md line 3: .*#\{shop\}/);
  });
});

describe('findPhoneColumn', () => {
  it.each(PHONE_COLUMNS.map((n) => [n]))('finds a column named %s', (name) => {
    expect(findPhoneColumn(['이름', 'item', name, 'memo'], 'r.csv')).toMatchObject({
      index: 2,
      how: 'header',
    });
  });

  it('covers every name DESIGN.md lists, and the Korean names issue 15 asked for', () => {
    expect([...PHONE_COLUMNS].sort()).toEqual(
      [
        'mobile',
        'phone',
        'to',
        '전화번호',
        '휴대폰',
        '휴대폰번호',
        '핸드폰',
        '핸드폰번호',
        '휴대전화',
        '휴대전화번호',
        '연락처',
        '수신번호',
        '수신자번호',
        '번호',
      ].sort(),
    );
  });

  it('ignores spaces inside a Korean header too (휴대폰 번호 is 휴대폰번호)', () => {
    expect(findPhoneColumn(['이름', '휴대폰 번호'], 'r.csv')).toEqual({
      index: 1,
      name: '휴대폰 번호',
      how: 'header',
    });
    expect(findPhoneColumn(['이름', ' 수신자 번호 '], 'r.csv').index).toBe(1);
  });

  it('prefers a specific Korean name over 번호 (주문 번호 columns come first in many sheets)', () => {
    expect(findPhoneColumn(['번호', '이름', '연락처'], 'r.csv').index).toBe(2);
  });

  it('with no header, finds the one column whose sampled values are phone numbers', () => {
    const header = ['이름', 'tel', '상품'];
    const sample = [
      ['홍길동', '010-1234-5678', '컵'],
      ['김철수', '01098765432', '접시'],
      ['', '', ''],
    ];
    expect(findPhoneColumn(header, 'r.csv', undefined, sample)).toEqual({
      index: 1,
      name: 'tel',
      how: 'content',
    });
  });

  it('two columns of phone numbers and no header: an InputError naming both, asking for --phone-column', () => {
    const err = thrown(() =>
      findPhoneColumn(['a', 'b', 'c'], 'r.csv', undefined, [['010-1234-5678', 'x', '02-555-0100']]),
    );
    expect(err.message).toMatch(/^r\.csv line 1: .*"a", "c".*--phone-column/);
  });

  it('--phone-column says it was the flag', () => {
    expect(findPhoneColumn(['name', 'phone'], 'r.csv', 'PHONE')).toEqual({
      index: 1,
      name: 'phone',
      how: 'flag',
    });
  });

  it('ignores case and surrounding spaces', () => {
    expect(findPhoneColumn(['Name', ' Phone '], 'r.csv').index).toBe(1);
    expect(findPhoneColumn(['Name', 'MOBILE'], 'r.csv').index).toBe(1);
  });

  it('prefers phone over the other names', () => {
    expect(findPhoneColumn(['to', 'mobile', 'phone'], 'r.csv').index).toBe(2);
  });

  it('--phone-column picks a column by name', () => {
    expect(findPhoneColumn(['name', 'phone', 'cell'], 'r.csv', 'cell').index).toBe(2);
    expect(findPhoneColumn(['name', 'phone', 'Cell'], 'r.csv', 'cell').index).toBe(2);
  });

  it('--phone-column naming no column is an InputError on line 1', () => {
    const err = thrown(() => findPhoneColumn(['name', 'phone'], 'r.csv', 'cell'));
    expect(err.message).toMatch(/^r\.csv line 1: .*"cell"/);
  });

  it('no phone column is an InputError listing the columns', () => {
    const err = thrown(() => findPhoneColumn(['name', 'tel'], 'r.csv'));
    expect(err.message).toMatch(/^r\.csv line 1: /);
    expect(err.message).toContain('tel');
  });
});

describe('SeenNumbers', () => {
  // The reference: the first row of each number, by a Map of strings.
  function check(numbers: string[], expectedRows: number): void {
    const seen = new SeenNumbers(expectedRows);
    const first = new Map<string, number>();
    numbers.forEach((to, i) => {
      const row = i + 1;
      const want = first.get(to) ?? 0;
      if (want === 0) first.set(to, row);
      expect(seen.firstRow(to, row), `${to} at row ${row}`).toBe(want);
    });
  }

  it('finds every repeat, at any size guess (a table that grows, one that fits, one far too large)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.integer({ min: 1_0000_0000, max: 1_9999_9999 }).map((n) => `0${n}`),
            fc.constantFrom('0212345678', '+821012345678', '01012345678', '0999999999999'),
          ),
          {
            maxLength: 3000,
          },
        ),
        // guesses past MIN_SLOTS' worth (49,152): tables of sizes that are not powers of two
        fc.integer({ min: 0, max: 200_000 }),
        (numbers, guess) => {
          // every number repeated later, some in the same run of rows
          check([...numbers, ...numbers.slice().reverse()], guess);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('grows past its first size and wraps around the end of the table', () => {
    // 200,000 numbers in a table of 66,668 slots (sized for 50,000): it grows twice, to sizes that are
    // not powers of two; at 3/4 full, probes run off the end of the table and wrap
    const numbers = Array.from(
      { length: 200_000 },
      (_, i) => `010${String((i * 7919) % 100_000_000).padStart(8, '0')}`,
    );
    check([...numbers.slice(0, 100_000), ...numbers, '01000000000'], 50_000);
  });
});

describe('text that must not be sent (issue 12)', () => {
  it('a control character from a value rejects the row, naming it, where it is and the column', () => {
    for (const [value, code] of [
      ['담\u0007요', 'U\\+0007 \\(BEL\\)'],
      ['담\t요', 'U\\+0009 \\(TAB\\)'],
      ['담\r요', 'U\\+000D \\(CR\\)'],
      ['담\u009b요', 'U\\+009B'],
      ['담\u007f요', 'U\\+007F \\(DEL\\)'],
    ] as const) {
      const m = planner().plan(['홍길동', '010-1234-5678', value], 1);
      expect(m.status).toBe('rejected');
      expect(m.reason).toMatch(
        new RegExp(`^control_char: ${code} at character 8 of the text \\(from column "item"\\)`),
      );
    }
  });

  it('a \\r\\n inside a value is a line break (\\n); a plain \\n stays', () => {
    expect(planner().plan(['홍길동', '010-1234-5678', '담\r\n요'], 1)).toMatchObject({
      status: 'planned',
      body: '홍길동님, 담\n요 발송',
    });
    expect(planner().plan(['홍길동', '010-1234-5678', '담\n요'], 1)).toMatchObject({
      status: 'planned',
      body: '홍길동님, 담\n요 발송',
    });
  });

  it('a value that makes a non-ad text begin with (광고) rejects the row', () => {
    const t = parseTemplate('---\nchannel: auto\n---\n#{name} #{item}\n', 't.md');
    expect(planner(t).plan([' (광 고)', '010-1234-5678', '세일'], 1)).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/^ad_marker: /),
    });
    expect(planner(t).plan(['홍길동', '010-1234-5678', '(광고)'], 1).status).toBe('planned');
  });

  it('a text too long to render is rejected with its full size, keeping a bounded prefix; past the string limit too', () => {
    const t = parseTemplate(`---\nchannel: auto\n---\n#{name}님 ${'#{item}'.repeat(10_000)}\n`, 't.md');
    const m = planner(t).plan(['홍길동', '010-1234-5678', 'x'.repeat(60_000)], 1);
    expect(m).toMatchObject({
      status: 'rejected',
      reason: 'too_long: 600,000,009 bytes, over the LMS limit of 2,000',
      bytes: 600_000_009,
    });
    expect(m.body!.length).toBeLessThanOrEqual(2000);
    const alimtalk = parseTemplate(
      `---\nalimtalk: { pfId: P, templateId: T }\n---\n#{name}님 ${'#{item}'.repeat(100)}\n`,
      'a.md',
    );
    const a = planner(alimtalk).plan(['홍길동', '010-1234-5678', '가'.repeat(1000)], 1);
    expect(a).toMatchObject({
      status: 'rejected',
      reason: 'too_long: 100,005 characters, over the alimtalk limit of 1,000',
    });
    expect(a.body!.length).toBeLessThanOrEqual(2000);
  });

  it('a rejected row of 2,000-4,096 characters keeps only 2,000 of them', () => {
    const m = planner().plan(['홍길동', '010-1234-5678', 'y'.repeat(3000)], 1);
    expect(m.status).toBe('rejected');
    expect(m.reason).toMatch(/^too_long: 3,0\d\d bytes/);
    expect(m.body).toHaveLength(2000);
  });
});

describe('findPhoneColumn and duplicate headers', () => {
  it('finds the Korean names issue 15 asked for, ignoring invisible characters', () => {
    for (const name of ['연락처', '핸드폰', '핸드폰번호', '휴대폰번호', '휴대전화'])
      expect(findPhoneColumn(['이름', name], 'r.csv').index).toBe(1);
    expect(findPhoneColumn(['이름', '\u200bphone'], 'r.csv').index).toBe(1);
  });
});
