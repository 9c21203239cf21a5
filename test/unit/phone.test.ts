import { describe, expect, it } from 'vitest';
import { maskPhone, normalisePhone } from '../../src/campaign/phone.js';

const ok = (raw: string) => {
  const r = normalisePhone(raw);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be accepted, got: ${r.reason}`);
  return r;
};
const bad = (raw: string): string => {
  const r = normalisePhone(raw);
  if (r.ok) throw new Error(`expected ${JSON.stringify(raw)} to be rejected, got ${r.to} (${r.kind})`);
  return r.reason;
};

describe('normalisePhone: Korean mobile numbers', () => {
  it.each([
    ['010-1234-5678'],
    ['01012345678'],
    ['010 1234 5678'],
    ['010.1234.5678'],
    ['(010) 1234-5678'],
    [' 010-1234-5678 '],
    ['+82 10-1234-5678'],
    ['+821012345678'],
    ['82-10-1234-5678'],
    ['821012345678'],
    ['+82 (0)10-1234-5678'],
    ['0082 10 1234 5678'],
    ['1012345678'], // Excel turned 010-1234-5678 into a number and dropped the 0
    ['０１０－１２３４－５６７８'], // typed in a Korean IME's full-width mode
    ['＋８２\u300010-1234-5678'],
  ])('%s -> 01012345678 (mobile)', (raw) => {
    expect(ok(raw)).toEqual({ ok: true, to: '01012345678', kind: 'mobile' });
  });

  it('keeps older 01x prefixes with 10 digits', () => {
    expect(ok('011-234-5678')).toEqual({ ok: true, to: '0112345678', kind: 'mobile' });
    expect(ok('016-1234-5678')).toMatchObject({ to: '01612345678', kind: 'mobile' });
  });
});

describe('normalisePhone: Korean landlines', () => {
  it('02-123-4567 is a Seoul landline', () => {
    expect(ok('02-123-4567')).toEqual({ ok: true, to: '021234567', kind: 'landline' });
    expect(ok('02-1234-5678')).toEqual({ ok: true, to: '0212345678', kind: 'landline' });
  });

  it('other area codes and 070 internet phones are landlines', () => {
    expect(ok('031-123-4567')).toEqual({ ok: true, to: '0311234567', kind: 'landline' });
    expect(ok('070-1234-5678')).toEqual({ ok: true, to: '07012345678', kind: 'landline' });
    expect(ok('+82 2-123-4567')).toEqual({ ok: true, to: '021234567', kind: 'landline' });
  });

  it('rejects representative numbers (15xx/16xx/18xx): they cannot receive messages', () => {
    expect(bad('1588-1234')).toMatch(/representative/);
    expect(bad('15881234')).toMatch(/representative/);
    expect(bad('1644-0000')).toMatch(/representative/);
  });
});

describe('normalisePhone: rejections', () => {
  it('takes full-width digits only: circled digits and superscripts are not numbers', () => {
    expect(bad('①⓪-1234-5678')).toMatch(/"①⓪-1234-5678" contains characters other than digits/);
    expect(bad('010-1234-567⁸')).toMatch(/other than digits/);
    expect(bad('０１０－１２３４')).toMatch(/"０１０－１２３４"/); // too short, named as the user wrote it
  });

  it('rejects letters, naming the input', () => {
    expect(bad('010-CALL-NOW')).toMatch(/010-CALL-NOW/);
    expect(bad('abc')).toMatch(/digits/);
  });

  it('rejects an empty or blank value', () => {
    expect(bad('')).toMatch(/empty/);
    expect(bad('   ')).toMatch(/empty/);
  });

  it('rejects a number mangled into scientific notation by a spreadsheet', () => {
    expect(bad('1.01E+09')).toMatch(/scientific notation/);
    expect(bad('1.01234E+10')).toMatch(/scientific notation/);
  });

  it('rejects too short or unknown Korean numbers', () => {
    expect(bad('010-1234')).toMatch(/not a valid Korean number/);
    expect(bad('010-1234-56789')).toMatch(/not a valid Korean number/);
    // 010 + 8 digits; only the older 011/016/017/018/019 also had 7
    expect(bad('010-1234-567')).toMatch(/not a valid Korean number/);
    expect(bad('0101234567')).toMatch(/not a valid Korean number/);
    expect(bad('+82 10-1234-567')).toMatch(/not a valid Korean number/);
    expect(ok('011-123-4567')).toEqual({ ok: true, to: '0111234567', kind: 'mobile' });
    expect(bad('12345')).toMatch(/not a valid Korean number/);
  });

  it('rejects an invalid international number', () => {
    expect(bad('+999 1234 5678')).toMatch(/international/);
    expect(bad('+1 123')).toMatch(/international/);
  });
});

describe('normalisePhone: international numbers to E.164', () => {
  it('+1 415-555-0132 -> +14155550132', () => {
    expect(ok('+1 415-555-0132')).toEqual({ ok: true, to: '+14155550132', kind: 'international' });
  });

  it('the 00 dialling prefix means international', () => {
    expect(ok('0044 20 7946 0958')).toEqual({ ok: true, to: '+442079460958', kind: 'international' });
    expect(ok('001 415 555 0132')).toEqual({ ok: true, to: '+14155550132', kind: 'international' });
  });

  it('other countries keep their own digits', () => {
    expect(ok('+86 138 1234 5678')).toEqual({ ok: true, to: '+8613812345678', kind: 'international' });
  });

  it("Korean carriers' prefixes (001, 002, 008, 00700...) are read too, when only one reading is a valid number", () => {
    expect(ok('001-1-650-253-0000').to).toBe('+16502530000'); // 00 + 1 1650... and 001 + 1 650...: the same number
    expect(ok('002-81-90-1234-5678').to).toBe('+819012345678');
    expect(ok('00700-1-650-253-0000').to).toBe('+16502530000');
    expect(ok('001-65-8123-4567').to).toBe('+6581234567');
  });

  it('refuses a 00 number that is valid in two countries, rather than guess', () => {
    // 00 81 201-555-0123 (Japan) or 008 1 201-555-0123 (US)
    expect(bad('008-1-201-555-0123')).toMatch(/ambiguous: .*\+812015550123 or \+12015550123/);
    // 00 82 10-0123-4567 (a Korean mobile) or 008 20 100-123-4567 (Egypt)
    expect(bad('008-20-100-123-4567')).toMatch(/ambiguous: .*\+821001234567 or \+201001234567/);
  });

  it('+82 before a representative number still says what it is', () => {
    expect(bad('+82 1588 1234')).toMatch(/representative/);
  });
});

describe('maskPhone', () => {
  it('hides the middle of Korean numbers', () => {
    expect(maskPhone('01012345678')).toBe('010-****-5678');
    expect(maskPhone('0212345678')).toBe('02-****-5678');
    expect(maskPhone('0311234567')).toBe('031-***-4567');
    expect(maskPhone('021234567')).toBe('02-***-4567');
  });

  it('hides the middle of international numbers', () => {
    const m = maskPhone('+14155550132');
    expect(m).not.toContain('555');
    expect(m.startsWith('+1')).toBe(true);
    expect(m.endsWith('0132')).toBe(true);
  });

  it('never shows a short number whole', () => {
    expect(maskPhone('')).toBe('****');
    expect(maskPhone('1234')).not.toBe('1234');
  });

  it('never reveals more than the last four digits of the middle', () => {
    for (const n of ['01012345678', '0212345678', '0311234567', '+14155550132', '+442079460958']) {
      const m = maskPhone(n);
      const shown = m.replace(/\D/g, '');
      expect(shown.length, m).toBeLessThanOrEqual(8);
    }
  });
});
