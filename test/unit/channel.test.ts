import { describe, expect, it } from 'vitest';
import { type ChannelInput, pickChannel } from '../../src/campaign/channel.js';

const base: ChannelInput = {
  requested: 'auto',
  bodyBytes: 50,
  subjectBytes: null,
  bodyChars: 30,
  hasImages: false,
  recipient: 'mobile',
  body: 'x'.repeat(30),
};
const pick = (over: Partial<ChannelInput>) => pickChannel({ ...base, ...over });

describe('pickChannel: auto', () => {
  it('<= 90 bytes without a subject is an SMS', () => {
    expect(pick({ bodyBytes: 1 })).toEqual({ ok: true, channel: 'sms', parts: 1, upgradedBySubject: false });
    expect(pick({ bodyBytes: 90 })).toEqual({ ok: true, channel: 'sms', parts: 1, upgradedBySubject: false });
  });

  it('over 90 bytes is an LMS, not flagged as a subject upgrade', () => {
    expect(pick({ bodyBytes: 91 })).toEqual({ ok: true, channel: 'lms', parts: 1, upgradedBySubject: false });
    expect(pick({ bodyBytes: 2000 })).toMatchObject({ ok: true, channel: 'lms' });
  });

  it('a subject on a short text makes it an LMS and says so', () => {
    expect(pick({ bodyBytes: 20, subjectBytes: 10 })).toEqual({
      ok: true,
      channel: 'lms',
      parts: 1,
      upgradedBySubject: true,
    });
    expect(pick({ bodyBytes: 90, subjectBytes: 10 })).toMatchObject({
      channel: 'lms',
      upgradedBySubject: true,
    });
    // a long text was an LMS anyway: the subject did not change the price
    expect(pick({ bodyBytes: 91, subjectBytes: 10 })).toMatchObject({
      channel: 'lms',
      upgradedBySubject: false,
    });
  });

  it('an image makes it an MMS', () => {
    expect(pick({ hasImages: true, bodyBytes: 10 })).toMatchObject({ ok: true, channel: 'mms' });
    expect(pick({ hasImages: true, bodyBytes: 1500, subjectBytes: 20 })).toMatchObject({
      ok: true,
      channel: 'mms',
    });
  });

  it('landlines take SMS/LMS like mobiles', () => {
    expect(pick({ recipient: 'landline', bodyBytes: 40 })).toMatchObject({ ok: true, channel: 'sms' });
    expect(pick({ recipient: 'landline', bodyBytes: 400 })).toMatchObject({ ok: true, channel: 'lms' });
  });
});

describe('pickChannel: explicit channels', () => {
  it('explicit sms at 95 bytes is rejected, not upgraded', () => {
    const r = pick({ requested: 'sms', bodyBytes: 95 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('too_long');
      expect(r.reason).toContain('95 bytes');
      expect(r.reason).toMatch(/SMS/);
      expect(r.reason).toMatch(/\b90\b/);
    }
  });

  it('explicit sms far over every limit still names the SMS limit of 90', () => {
    const r = pick({ requested: 'sms', bodyBytes: 2500 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('too_long');
      expect(r.reason).toMatch(/2,?500 bytes/);
      expect(r.reason).toMatch(/SMS limit of 90\b/);
    }
  });

  it('explicit lms stays lms even when short', () => {
    expect(pick({ requested: 'lms', bodyBytes: 10 })).toEqual({
      ok: true,
      channel: 'lms',
      parts: 1,
      upgradedBySubject: false,
    });
  });

  it('explicit mms stays mms', () => {
    expect(pick({ requested: 'mms', hasImages: true, bodyBytes: 10 })).toMatchObject({
      ok: true,
      channel: 'mms',
    });
  });
});

describe('pickChannel: subject and body limits', () => {
  it('a subject of 40 bytes is fine, 41 is rejected with its size', () => {
    expect(pick({ subjectBytes: 40 })).toMatchObject({ ok: true, channel: 'lms' });
    const r = pick({ subjectBytes: 41 });
    expect(r).toMatchObject({ ok: false, code: 'too_long' });
    if (!r.ok) {
      expect(r.reason).toContain('subject');
      expect(r.reason).toContain('41');
    }
  });

  it('over 2,000 bytes is rejected with the count, whatever the channel', () => {
    for (const requested of ['auto', 'lms', 'mms'] as const) {
      const r = pick({ requested, bodyBytes: 2001, hasImages: requested === 'mms' });
      expect(r, requested).toMatchObject({ ok: false, code: 'too_long' });
      if (!r.ok) expect(r.reason, requested).toMatch(/2,?001 bytes/);
    }
    const big = pick({ bodyBytes: 12345 });
    expect(big.ok).toBe(false);
    if (!big.ok) expect(big.reason).toMatch(/12,?345 bytes/);
  });
});

describe('pickChannel: international numbers', () => {
  it('take SMS, with parts by GSM-7/UCS-2', () => {
    expect(pick({ recipient: 'international', body: 'Hello' })).toEqual({
      ok: true,
      channel: 'sms',
      parts: 1,
      upgradedBySubject: false,
    });
    expect(pick({ recipient: 'international', body: 'a'.repeat(161) })).toMatchObject({
      ok: true,
      channel: 'sms',
      parts: 2,
    });
    expect(pick({ recipient: 'international', body: '가'.repeat(71) })).toMatchObject({
      ok: true,
      channel: 'sms',
      parts: 2,
    });
  });

  it('reject LMS, MMS, a subject or images', () => {
    for (const over of [
      { requested: 'lms' as const },
      { requested: 'mms' as const, hasImages: true },
      { hasImages: true },
      { subjectBytes: 10 },
    ]) {
      const r = pick({ recipient: 'international', ...over });
      expect(r, JSON.stringify(over)).toMatchObject({ ok: false, code: 'channel' });
      if (!r.ok) expect(r.reason).toMatch(/international/);
    }
  });
});

describe('pickChannel: alimtalk and rcs count characters', () => {
  it('alimtalk: 1,000 characters pass, 1,001 are rejected with the count', () => {
    // byte counts are irrelevant for alimtalk: a huge byte count must not matter
    expect(pick({ requested: 'alimtalk', bodyChars: 1000, bodyBytes: 5000 })).toEqual({
      ok: true,
      channel: 'alimtalk',
      parts: 1,
      upgradedBySubject: false,
    });
    const r = pick({ requested: 'alimtalk', bodyChars: 1001 });
    expect(r).toMatchObject({ ok: false, code: 'too_long' });
    if (!r.ok) expect(r.reason).toMatch(/1,?001 characters/);
  });

  it('alimtalk needs a Korean mobile number', () => {
    for (const recipient of ['landline', 'international'] as const) {
      const r = pick({ requested: 'alimtalk', recipient });
      expect(r, recipient).toMatchObject({ ok: false, code: 'channel' });
      if (!r.ok) expect(r.reason).toMatch(/mobile/);
    }
  });

  it('rcs: 1,300 characters pass, 1,301 are rejected', () => {
    expect(pick({ requested: 'rcs', bodyChars: 1300 })).toMatchObject({ ok: true, channel: 'rcs' });
    expect(pick({ requested: 'rcs', bodyChars: 1301 })).toMatchObject({ ok: false, code: 'too_long' });
  });
});
