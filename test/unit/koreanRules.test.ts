import { describe, expect, it } from 'vitest';
import { checkButtons, firstDifference } from '../../src/campaign/alimtalk.js';
import { pickChannel } from '../../src/campaign/channel.js';
import { checkAdText } from '../../src/campaign/compliance.js';
import { parseOptoutList } from '../../src/campaign/optoutList.js';
import { Planner } from '../../src/campaign/plan.js';
import {
  DEFAULT_QUIET_HOURS,
  inQuietHours,
  isConsent,
  msUntilQuietHours,
} from '../../src/campaign/quietHours.js';
import { checkSenderNumber } from '../../src/campaign/sender.js';
import { parseTemplate } from '../../src/campaign/template.js';
import { DEFAULT_PRICES } from '../../src/campaign/types.js';
import { readImageInfo } from '../../src/input/imageInfo.js';

const kst = (s: string): Date => new Date(`${s}+09:00`);

describe('quiet hours (21:00-08:00 Asia/Seoul)', () => {
  it('opens at 21:00:00 exactly', () => {
    expect(inQuietHours(kst('2026-11-25T20:59:59'), DEFAULT_QUIET_HOURS)).toBe(false);
    expect(inQuietHours(kst('2026-11-25T21:00:00'), DEFAULT_QUIET_HOURS)).toBe(true);
  });
  it('closes at 08:00:00 exactly', () => {
    expect(inQuietHours(kst('2026-11-26T07:59:59'), DEFAULT_QUIET_HOURS)).toBe(true);
    expect(inQuietHours(kst('2026-11-26T08:00:00'), DEFAULT_QUIET_HOURS)).toBe(false);
  });
  it('is judged in Seoul time, whatever the machine says: 12:00 UTC is 21:00 KST', () => {
    expect(inQuietHours(new Date('2026-11-25T11:59:59Z'), DEFAULT_QUIET_HOURS)).toBe(false);
    expect(inQuietHours(new Date('2026-11-25T12:00:00Z'), DEFAULT_QUIET_HOURS)).toBe(true);
  });
  it('is configurable, including a window that does not wrap midnight', () => {
    const q = { start: 13 * 60, end: 14 * 60, timeZone: 'Asia/Seoul' };
    expect(inQuietHours(kst('2026-11-25T12:59:59'), q)).toBe(false);
    expect(inQuietHours(kst('2026-11-25T13:30:00'), q)).toBe(true);
    expect(inQuietHours(kst('2026-11-25T14:00:00'), q)).toBe(false);
  });
  it('says how long until the window opens', () => {
    expect(msUntilQuietHours(kst('2026-11-25T20:58:00'), DEFAULT_QUIET_HOURS)).toBe(120_000);
    expect(msUntilQuietHours(kst('2026-11-25T22:00:00'), DEFAULT_QUIET_HOURS)).toBe(0);
  });
  it('reads night consent values', () => {
    for (const yes of ['Y', 'yes', 'TRUE', '1', '동의']) expect(isConsent(yes)).toBe(true);
    for (const no of ['', 'N', 'no', '0', undefined]) expect(isConsent(no)).toBe(false);
  });
});

describe('ad text (정보통신망법 제50조)', () => {
  const good = '(광고) 한빛마트\n세일 안내\n무료수신거부 080-123-4567';
  it('accepts a compliant ad', () => expect(checkAdText(good, '한빛마트')).toEqual([]));
  it('wants "(광고)" exactly at the start', () => {
    for (const bad of ['[광고] 한빛마트', '(광 고) 한빛마트', '（광고） 한빛마트', '한빛마트 (광고)']) {
      const p = checkAdText(`${bad}\n무료수신거부 080-123-4567`, '한빛마트');
      expect(p.map((x) => x.message).join()).toMatch(/begin with "\(광고\)"/);
    }
  });
  it('wants the sender named', () => {
    expect(checkAdText(good, null)[0]!.message).toMatch(/name its sender/);
    expect(checkAdText(good, '다른회사')[0]!.message).toMatch(/"다른회사" does not appear/);
  });
  it('wants a free 080 opt-out line (무료수신거부 or 무료거부)', () => {
    expect(checkAdText('(광고) 한빛마트\n세일', '한빛마트')[0]!.message).toMatch(/opt-out/);
    expect(checkAdText('(광고) 한빛마트\n무료수신거부 02-123-4567', '한빛마트')[0]).toMatchObject({
      line: 2,
      message: expect.stringMatching(/080/),
    });
    expect(checkAdText('(광고) 한빛마트\n무료거부 0801234567', '한빛마트')).toEqual([]);
  });
  it('refuses an ad on AlimTalk at parse time', () => {
    expect(() =>
      parseTemplate('---\nad: true\nalimtalk: { pfId: P, templateId: T }\n---\n(광고) x', 't.md'),
    ).toThrow(/AlimTalk carries information only/);
  });
});

describe('AlimTalk', () => {
  it('takes 1,000 characters, not 1,001 (emoji count as one)', () => {
    const base = {
      requested: 'alimtalk' as const,
      bodyBytes: 0,
      subjectBytes: null,
      hasImages: false,
      recipient: 'mobile' as const,
      body: '',
    };
    expect(pickChannel({ ...base, bodyChars: 1000 })).toMatchObject({ ok: true, channel: 'alimtalk' });
    expect(pickChannel({ ...base, bodyChars: 1001 })).toMatchObject({ ok: false, code: 'too_long' });
  });
  it('checks buttons: type, required links, name length, count', () => {
    expect(checkButtons([{ type: 'WL', name: '주문 조회', linkMo: 'https://x.kr' }])).toEqual([]);
    expect(checkButtons([{ type: 'WL', name: '주문 조회' }])[0]).toMatch(/WL needs linkMo/);
    expect(checkButtons([{ type: 'AL', name: '앱', linkAnd: 'a://x' }])[0]).toMatch(/AL needs linkIos/);
    expect(checkButtons([{ type: 'XX', name: 'x' }])[0]).toMatch(/unknown type "XX"/);
    expect(checkButtons([{ type: 'DS', name: '가'.repeat(14) }])).toEqual([]);
    expect(checkButtons([{ type: 'DS', name: '가'.repeat(15) }])[0]).toMatch(/15 characters/);
    expect(checkButtons(Array.from({ length: 6 }, () => ({ type: 'DS', name: 'x' })))[0]).toMatch(
      /6 buttons/,
    );
    expect(checkButtons([{ type: 'WL', name: 'x', linkMo: 'javascript:alert(1)' }])[0]).toMatch(/http\(s\)/);
  });
  it('compares the body with the approved text, ignoring line endings and trailing spaces only', () => {
    expect(firstDifference('#{name}님,\r\n주문 완료  ', '#{name}님,\n주문 완료')).toBeNull();
    expect(firstDifference('#{name}님,\n주문 완료!', '#{name}님,\n주문 완료')).toMatchObject({ line: 2 });
    expect(firstDifference('#{이름}님', '#{name}님')).toMatchObject({ line: 1 });
  });
});

describe('fallback legs (대체발송)', () => {
  const plan = (fallback: string, body: string, fallbackText?: string) => {
    const t = parseTemplate(
      `---\nchannel: alimtalk\nalimtalk: { pfId: P, templateId: T }\nfallback: ${fallback}\n${fallbackText ? `fallbackText: "${fallbackText}"\n` : ''}---\n${body}`,
      't.md',
    );
    return new Planner(t, ['phone', 'name'], 0, DEFAULT_PRICES).plan(['010-1234-5678', '홍길동'], 1);
  };
  it('adds a held SMS leg typed by its EUC-KR bytes, with the variables substituted', () => {
    const m = plan('auto', '#{name}님, 주문이 접수되었습니다.');
    expect(m.channel).toBe('alimtalk');
    expect(JSON.parse(m.vars!)).toEqual({ '#{name}': '홍길동' });
    expect(m.fallback).toMatchObject({
      leg: 1,
      status: 'held',
      channel: 'sms',
      body: '홍길동님, 주문이 접수되었습니다.',
      cost: DEFAULT_PRICES.sms,
    });
  });
  it('types a long fallback as LMS, and rejects a forced SMS that does not fit', () => {
    const long = '가'.repeat(46); // 92 bytes
    expect(plan('auto', long).fallback).toMatchObject({ channel: 'lms', bytes: 92 });
    expect(plan('sms', long).fallback).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/^too_long: fallback: 92 bytes/),
    });
  });
  it('rejects a fallback whose text has characters outside EUC-KR (the AlimTalk may carry emoji)', () => {
    const m = plan('lms', '주문 완료 😀');
    expect(m.status).toBe('planned');
    expect(m.fallback).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/^non_euckr: .*U\+1F600/),
    });
  });
  it('uses fallbackText when given, and none with fallback: none', () => {
    expect(plan('auto', '주문 완료 😀', '#{name}님 주문 완료').fallback).toMatchObject({
      body: '홍길동님 주문 완료',
      status: 'held',
    });
    expect(plan('none', '주문 완료').fallback).toBeUndefined();
  });
});

describe('opt-outs at planning', () => {
  it('skips a number on the list, in whatever format the CSV has it', () => {
    const t = parseTemplate('hello #{name}', 't.md');
    const p = new Planner(t, ['phone', 'name'], 0, DEFAULT_PRICES, new Set(['01012345678']));
    expect(p.plan(['+82 10-1234-5678', 'a'], 1)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^opted_out/),
    });
    expect(p.plan(['010-1234-5679', 'b'], 2).status).toBe('planned');
  });
  it('reads a CSV with a phone column or a plain list, naming invalid lines', () => {
    expect(parseOptoutList('name,전화번호\na,010-1234-5678\nb,+82 10 1111 2222\n')).toEqual({
      phones: ['01012345678', '01011112222'],
      invalid: [],
    });
    const plain = parseOptoutList('01012345678\n\n# a comment\nnot-a-number\n1012345679\n');
    expect(plain.phones).toEqual(['01012345678', '01012345679']);
    expect(plain.invalid).toMatchObject([{ line: 4, value: 'not-a-number' }]);
  });
});

describe('sender numbers (발신번호)', () => {
  it('accepts registered formats', () => {
    for (const ok of [
      '02-123-4567',
      '0212345678',
      '031-123-4567',
      '1588-1234',
      '010-1234-5678',
      '070-1234-5678',
    ])
      expect(checkSenderNumber(ok).ok).toBe(true);
  });
  it('refuses malformed ones with the reason', () => {
    expect(checkSenderNumber('1588-12345')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/exactly 8 digits/),
    });
    expect(checkSenderNumber('1234567')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/8 to 11 digits/),
    });
    expect(checkSenderNumber('02-abc-4567')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/digits only/),
    });
    expect(checkSenderNumber('0912345678').ok).toBe(false);
  });
});

describe('MMS images: the real header, not the name', () => {
  const jpeg = (w: number, h: number): Uint8Array =>
    new Uint8Array([
      0xff,
      0xd8,
      0xff,
      0xe0,
      0x00,
      0x04,
      0x00,
      0x00,
      0xff,
      0xc0,
      0x00,
      0x0b,
      0x08,
      h >> 8,
      h & 255,
      w >> 8,
      w & 255,
      0x01,
      0x01,
      0x11,
      0x00,
      0xff,
      0xd9,
    ]);
  it('reads width and height from SOF0', () =>
    expect(readImageInfo(jpeg(1500, 1440))).toEqual({ format: 'jpeg', width: 1500, height: 1440 }));
  it('refuses a PNG named .jpg', () =>
    expect(readImageInfo(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBeNull());
  it('refuses a JPEG cut before its frame header', () =>
    expect(readImageInfo(jpeg(10, 10).slice(0, 9))).toBeNull());
});
