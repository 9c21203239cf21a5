import type { MessageKey } from '../i18n/en.js';

/**
 * Sender numbers (발신번호) as Korean carriers register them: 8-11 digits; 15xx/16xx/18xx
 * representative numbers exactly 8; landlines with their area code. Returns a reason or null.
 */
export function checkSenderNumber(
  raw: string,
): { ok: true; number: string } | { ok: false; reason: string; key: MessageKey } {
  const number = raw.replace(/[\s\-.()]/g, '');
  if (!/^\d+$/.test(number))
    return { ok: false, reason: `sender number "${raw}" must be digits only`, key: 'sender.digits' };
  if (number.length < 8 || number.length > 11)
    return { ok: false, reason: `sender number "${raw}" must have 8 to 11 digits`, key: 'sender.length' };
  if (/^1[5-9]/.test(number)) {
    return number.length === 8
      ? { ok: true, number }
      : {
          ok: false,
          reason: `representative number "${raw}" (15xx/16xx/18xx) must have exactly 8 digits`,
          key: 'sender.representative',
        };
  }
  if (!number.startsWith('0'))
    return {
      ok: false,
      reason: `sender number "${raw}" must start with 0 (area code or 010) or be a 15xx/16xx/18xx number`,
      key: 'sender.start',
    };
  if (
    /^02\d{7,8}$/.test(number) ||
    /^0[3-6][1-5]\d{7,8}$/.test(number) ||
    /^01[016789]\d{7,8}$/.test(number) ||
    /^0(?:70|50\d?|80)\d{7,8}$/.test(number)
  ) {
    return { ok: true, number };
  }
  return {
    ok: false,
    reason: `sender number "${raw}" is not a Korean landline, mobile, 070 or representative number`,
    key: 'sender.kind',
  };
}
