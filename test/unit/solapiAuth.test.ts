import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  freshSalt,
  isoSeconds,
  parseAuthorization,
  solapiSignature,
} from '../../src/providers/solapi/auth.js';

describe('Solapi HMAC-SHA256 authorization', () => {
  const secret = 'test-secret-0123456789';
  const date = '2019-07-01T00:41:48Z';
  const salt = 'jqsba2jxjnrjor';

  it('signs date + salt with the secret (vector from openssl dgst -sha256 -hmac)', () => {
    // printf '%s' '2019-07-01T00:41:48Zjqsba2jxjnrjor' | openssl dgst -sha256 -hmac 'test-secret-0123456789'
    expect(solapiSignature(secret, date, salt)).toBe(
      'fa34942ab7a4d2679effbe660e0bddfdde838d377350bd74c77f0975a03221f0',
    );
  });

  it('agrees with node:crypto computed here for other inputs, including Korean text in the secret', () => {
    for (const [s, d, n] of [
      ['비밀키-secret', '2024-02-29T23:59:59Z', 'abcdefghijklmnop'],
      ['x', '2030-01-01T00:00:00Z', '0123456789ab'],
    ] as const) {
      expect(solapiSignature(s, d, n)).toBe(
        createHmac('sha256', Buffer.from(s, 'utf8'))
          .update(Buffer.from(d + n, 'utf8'))
          .digest('hex'),
      );
    }
  });

  it('builds the header in the documented form and it parses back', () => {
    const at = new Date('2019-07-01T00:41:48.123Z');
    const header = authorizationHeader('NCSAYU7YDBXYORXC', secret, at, salt);
    expect(header).toBe(
      `HMAC-SHA256 apiKey=NCSAYU7YDBXYORXC, date=${date}, salt=${salt}, signature=fa34942ab7a4d2679effbe660e0bddfdde838d377350bd74c77f0975a03221f0`,
    );
    expect(parseAuthorization(header)).toEqual({
      method: 'HMAC-SHA256',
      apiKey: 'NCSAYU7YDBXYORXC',
      date,
      salt,
      signature: 'fa34942ab7a4d2679effbe660e0bddfdde838d377350bd74c77f0975a03221f0',
    });
    expect(header).not.toContain(secret);
  });

  it('uses a fresh salt of 12-64 characters every time, so no two signatures repeat', () => {
    const salts = new Set(Array.from({ length: 200 }, () => freshSalt()));
    expect(salts.size).toBe(200);
    for (const s of salts) {
      expect(s.length).toBeGreaterThanOrEqual(12);
      expect(s.length).toBeLessThanOrEqual(64);
    }
    const at = new Date();
    const signatures = new Set(
      Array.from({ length: 50 }, () => parseAuthorization(authorizationHeader('k', secret, at))!.signature),
    );
    expect(signatures.size).toBe(50);
  });

  it('writes the date as ISO 8601 UTC in whole seconds', () => {
    expect(isoSeconds(new Date('2024-05-06T07:08:09.999Z'))).toBe('2024-05-06T07:08:09Z');
  });
});
