import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import { type ChannelInput, pickChannel } from '../../src/campaign/channel.js';
import { Planner } from '../../src/campaign/plan.js';
import { parseTemplate } from '../../src/campaign/template.js';
import { DEFAULT_PRICES } from '../../src/campaign/types.js';
import { prng } from '../../src/providers/sim/prng.js';
import { countEucKrBytes, describeForeignChars, findNonEucKr } from '../../src/text/eucKr.js';

/**
 * The oracle: an independent strict KS X 1001 encoder. iconv-lite's cp949 encodes a character;
 * it is strict EUC-KR only when it is ASCII (1 byte) or a double-byte pair with both bytes in
 * 0xA1-0xFE that decodes back to the same character. Anything else (CP949's extension area,
 * "?" substitution, astral characters) is rejected.
 */
function strictCharBytes(ch: string): 1 | 2 | null {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x80) return 1;
  if (cp > 0xffff) return null;
  if (cp >= 0xd800 && cp <= 0xdfff) return null; // lone surrogate
  const b = iconv.encode(ch, 'cp949');
  if (b.length !== 2) return null;
  const [hi, lo] = [b[0]!, b[1]!];
  if (hi < 0xa1 || hi > 0xfe || lo < 0xa1 || lo > 0xfe) return null;
  if (iconv.decode(b, 'cp949') !== ch) return null;
  return 2;
}

function strictBytes(s: string): number {
  let n = 0;
  for (const ch of s) {
    const b = strictCharBytes(ch);
    if (b === null) return -1;
    n += b;
  }
  return n;
}

function strictForeign(s: string): { char: string; position: number }[] {
  const out: { char: string; position: number }[] = [];
  let pos = 0;
  for (const ch of s) {
    pos++;
    if (strictCharBytes(ch) === null) out.push({ char: ch, position: pos });
  }
  return out;
}

describe('countEucKrBytes', () => {
  it('counts ASCII as 1 byte each', () => {
    expect(countEucKrBytes('')).toBe(0);
    expect(countEucKrBytes('a')).toBe(1);
    expect(countEucKrBytes('Hello, World! 123')).toBe(17);
    expect(countEucKrBytes('~`!@#$%^&*()_+{}|:"<>?')).toBe(22);
  });

  it('counts Hangul syllables as 2 bytes each', () => {
    expect(countEucKrBytes('가')).toBe(2);
    expect(countEucKrBytes('한글')).toBe(4);
    expect(countEucKrBytes('홍길동님')).toBe(8);
    expect(countEucKrBytes('주문 1건')).toBe(2 + 2 + 1 + 1 + 2);
  });

  it('counts KS X 1001 symbols (★ ㈜ ·) as 2 bytes each', () => {
    expect(countEucKrBytes('★')).toBe(2);
    expect(countEucKrBytes('㈜')).toBe(2);
    expect(countEucKrBytes('·')).toBe(2); // U+00B7: above 0x7F, so not ASCII, but in KS X 1001
    expect(countEucKrBytes('★㈜·')).toBe(6);
    expect(countEucKrBytes('㈜한빛 ★')).toBe(2 + 4 + 1 + 2);
  });

  it('counts a newline as 1 byte and CRLF as 2', () => {
    expect(countEucKrBytes('\n')).toBe(1);
    expect(countEucKrBytes('\r\n')).toBe(2);
    expect(countEucKrBytes('가\n나')).toBe(5);
    expect(countEucKrBytes('가\r\n나')).toBe(6);
  });

  it('rejects the CP949-only Hangul 똠 and 햏 with -1', () => {
    expect(countEucKrBytes('똠')).toBe(-1);
    expect(countEucKrBytes('햏')).toBe(-1);
    expect(countEucKrBytes('안녕 똠방각하')).toBe(-1);
    expect(countEucKrBytes('abc햏')).toBe(-1);
  });

  it('rejects emoji, including surrogate pairs and a lone surrogate', () => {
    expect(countEucKrBytes('😀')).toBe(-1);
    expect(countEucKrBytes('주문 완료 🎉')).toBe(-1);
    expect(countEucKrBytes('✓')).toBe(-1); // BMP, not in KS X 1001
    expect(countEucKrBytes('a\ud83d')).toBe(-1); // lone high surrogate
  });

  it('has exactly the 2,350 precomposed Hangul of KS X 1001', () => {
    let inside = 0;
    for (let c = 0xac00; c <= 0xd7a3; c++) if (countEucKrBytes(String.fromCharCode(c)) === 2) inside++;
    expect(inside).toBe(2350);
  });
});

describe('findNonEucKr', () => {
  it('returns nothing for sendable text', () => {
    expect(findNonEucKr('[한빛마트] 홍길동님 ★ ㈜ · 1.7L\r\n')).toEqual([]);
  });

  it('finds CP949-only Hangul with 1-based positions', () => {
    expect(findNonEucKr('똠')).toEqual([{ char: '똠', position: 1 }]);
    expect(findNonEucKr('가똠나햏')).toEqual([
      { char: '똠', position: 2 },
      { char: '햏', position: 4 },
    ]);
  });

  it('counts positions in code points: an emoji before counts once', () => {
    // '😀' is two UTF-16 units but one character to a person.
    expect(findNonEucKr('😀a똠')).toEqual([
      { char: '😀', position: 1 },
      { char: '똠', position: 3 },
    ]);
    expect(findNonEucKr('ab👍🏽c')).toEqual([
      { char: '👍', position: 3 },
      { char: '🏽', position: 4 },
    ]);
  });

  it('reports a lone surrogate rather than skipping it', () => {
    expect(findNonEucKr('a\ud83db')).toEqual([{ char: '\ud83d', position: 2 }]);
  });

  it('describes the characters with their code points and positions', () => {
    const text = describeForeignChars(findNonEucKr('가😀나똠'));
    expect(text).toContain('"😀" (U+1F600) at 2');
    expect(text).toContain('"똠" (U+B620) at 4');
  });
});

describe('cross-check against a strict encoder built from iconv-lite', () => {
  it('agrees on every BMP character', () => {
    const disagree: string[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCharCode(c);
      const want = strictCharBytes(ch) ?? -1;
      if (countEucKrBytes(ch) !== want) disagree.push(`U+${c.toString(16).toUpperCase()}`);
    }
    expect(disagree.slice(0, 20)).toEqual([]);
  });

  it('agrees on a few hundred seeded random mixed strings (bytes and foreign positions)', () => {
    const rand = prng(20241125);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const commonHangul = [
      ...'가나다라마바사아자차카타파하한국어주문발송완료님상품배송안내고객감사합니다송장번호',
    ];
    const symbols = [...'★☆○●◎◇◆□■△▲→←↑↓㈜①②·※〔〕【】「」『』≠≤≥∞℃￦￡♪°±×÷～'];
    const foreign = ['😀', '🎉', '✓', '똠', '햏', '\u00e9', '\u4e02', '\ud83d'];
    let accepted = 0;
    let rejected = 0;
    for (let n = 0; n < 400; n++) {
      const clean = rand() < 0.5; // half the strings avoid random syllables so many are sendable
      const len = 1 + Math.floor(rand() * 60);
      let s = '';
      for (let i = 0; i < len; i++) {
        const r = rand();
        if (r < 0.3) s += String.fromCharCode(0x20 + Math.floor(rand() * 95));
        else if (r < 0.35) s += pick(['\n', '\r\n', '\t']);
        else if (r < 0.65) s += pick(commonHangul);
        else if (r < 0.8) s += pick(symbols);
        else if (clean) s += pick(commonHangul);
        else if (r < 0.95) s += String.fromCharCode(0xac00 + Math.floor(rand() * 11172));
        else s += pick(foreign);
      }
      const want = strictBytes(s);
      expect(countEucKrBytes(s), JSON.stringify(s)).toBe(want);
      expect(findNonEucKr(s), JSON.stringify(s)).toEqual(strictForeign(s));
      if (want >= 0) accepted++;
      else rejected++;
    }
    // the sample must exercise both outcomes, or the cross-check proves nothing
    expect(accepted).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('byte-limit edges through pickChannel', () => {
  const input = (body: string, extra: Partial<ChannelInput> = {}): ChannelInput => ({
    requested: 'auto',
    bodyBytes: countEucKrBytes(body),
    subjectBytes: null,
    bodyChars: [...body].length,
    hasImages: false,
    recipient: 'mobile',
    body,
    ...extra,
  });
  const ninety = `${'가'.repeat(44)}ab`; // 88 + 2
  const ninetyOne = `${ninety}.`;
  const twoThousand = `${'한'.repeat(999)}ab`; // 1998 + 2
  const twoThousandOne = `${twoThousand}!`;

  it('builds the edge texts it means to', () => {
    expect(strictBytes(ninety)).toBe(90);
    expect(strictBytes(ninetyOne)).toBe(91);
    expect(strictBytes(twoThousand)).toBe(2000);
    expect(strictBytes(twoThousandOne)).toBe(2001);
  });

  it('90 bytes is an SMS, 91 an LMS', () => {
    expect(pickChannel(input(ninety))).toMatchObject({ ok: true, channel: 'sms' });
    expect(pickChannel(input(ninetyOne))).toMatchObject({
      ok: true,
      channel: 'lms',
      upgradedBySubject: false,
    });
  });

  it('2,000 bytes is an LMS, 2,001 is rejected with the count', () => {
    expect(pickChannel(input(twoThousand))).toMatchObject({ ok: true, channel: 'lms' });
    const r = pickChannel(input(twoThousandOne));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('too_long');
      expect(r.reason).toMatch(/2,?001 bytes/);
    }
  });

  it('explicit sms: 90 bytes passes, 91 is rejected', () => {
    expect(pickChannel(input(ninety, { requested: 'sms' }))).toMatchObject({ ok: true, channel: 'sms' });
    const r = pickChannel(input(ninetyOne, { requested: 'sms' }));
    expect(r).toMatchObject({ ok: false, code: 'too_long' });
  });
});

describe('byte-limit edges through Planner', () => {
  const template = parseTemplate('---\nchannel: auto\n---\n#{msg}\n', 'edge.md');
  const smsTemplate = parseTemplate('---\nchannel: sms\n---\n#{msg}\n', 'edge-sms.md');
  const header = ['phone', 'msg'];
  const plan = (t = template, msg: string) =>
    new Planner(t, header, 0, DEFAULT_PRICES).plan(['010-1234-5678', msg], 1);

  it('90 bytes -> SMS, 91 -> LMS, with the byte count recorded', () => {
    const a = plan(template, '가'.repeat(45));
    expect(a).toMatchObject({ status: 'planned', channel: 'sms', bytes: 90 });
    const b = plan(template, `${'가'.repeat(45)}x`);
    expect(b).toMatchObject({ status: 'planned', channel: 'lms', bytes: 91 });
  });

  it('2,000 bytes -> LMS, 2,001 -> rejected naming the count', () => {
    const a = plan(template, '★'.repeat(1000));
    expect(a).toMatchObject({ status: 'planned', channel: 'lms', bytes: 2000 });
    const b = plan(template, `${'★'.repeat(1000)}\n`);
    expect(b.status).toBe('rejected');
    expect(b.reason).toMatch(/^too_long: .*2,?001 bytes/);
  });

  it('channel sms rejects 91 bytes instead of upgrading it', () => {
    expect(plan(smsTemplate, 'a'.repeat(90))).toMatchObject({ status: 'planned', channel: 'sms' });
    const r = plan(smsTemplate, 'a'.repeat(91));
    expect(r.status).toBe('rejected');
    expect(r.channel).toBeNull();
    expect(r.reason).toMatch(/91 bytes/);
  });
});
