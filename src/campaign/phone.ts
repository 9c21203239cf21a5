import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneKind = 'mobile' | 'landline' | 'international';

export type PhoneResult =
  | { ok: true; to: string; kind: PhoneKind }
  | { ok: false; reason: string };

const SEPARATORS = /[\s\-.()\u00a0\u2010-\u2015]/g;
const KR_MOBILE = /^01[016789]\d{7,8}$/;
// Seoul 02 + 7-8 digits; other areas 0[3-6]x + 7-8 digits; 070 internet phones; 050x safe numbers.
const KR_LANDLINE = /^(?:02\d{7,8}|0[3-6][1-5]\d{7,8}|070\d{8}|050\d{8,9})$/;
const KR_REPRESENTATIVE = /^1[5-8]\d{6}$/;

/**
 * Normalise a recipient number: Korean numbers to their national digits (`01012345678`),
 * other countries to E.164 (`+14155550100`). Korean numbers are matched by hand first:
 * they are nearly every row, and libphonenumber costs ~50x more per call.
 */
export function normalisePhone(raw: string): PhoneResult {
  const trimmed = raw.trim();
  if (trimmed === '') return { ok: false, reason: 'phone number is empty' };
  if (/^\d(\.\d+)?e\+?\d+$/i.test(trimmed)) {
    return { ok: false, reason: `phone number "${trimmed}" was mangled by a spreadsheet (scientific notation)` };
  }
  let digits = trimmed.replace(SEPARATORS, '');
  let international = false;
  if (digits.startsWith('+')) {
    international = true;
    digits = digits.slice(1);
  } else if (digits.startsWith('00')) {
    // 00 is the international dialling prefix: no Korean number starts with it.
    digits = digits.slice(2);
    international = true;
  }
  if (!/^\d+$/.test(digits)) return { ok: false, reason: `phone number "${trimmed}" contains characters other than digits` };

  let national: string | undefined;
  if (!international) {
    if (digits.startsWith('82') && digits.length >= 11) national = '0' + stripTrunkZero(digits.slice(2));
    else if (digits.startsWith('0') || KR_REPRESENTATIVE.test(digits)) national = digits;
    // Excel stores 010-1234-5678 as the number 1012345678: the leading zero is gone.
    else if (/^1[016789]\d{7,8}$/.test(digits)) national = '0' + digits;
  } else if (digits.startsWith('82')) {
    national = '0' + stripTrunkZero(digits.slice(2));
  }

  if (national !== undefined) {
    if (KR_MOBILE.test(national)) return { ok: true, to: national, kind: 'mobile' };
    if (KR_LANDLINE.test(national)) return { ok: true, to: national, kind: 'landline' };
    if (KR_REPRESENTATIVE.test(national)) {
      return { ok: false, reason: `phone number "${trimmed}" is a representative number (15xx/16xx/18xx): it cannot receive messages` };
    }
    return { ok: false, reason: `phone number "${trimmed}" is not a valid Korean number` };
  }
  if (!international) return { ok: false, reason: `phone number "${trimmed}" is not a valid Korean number (use +country code for other countries)` };

  const parsed = parsePhoneNumberFromString('+' + digits);
  if (!parsed || !parsed.isValid()) return { ok: false, reason: `phone number "${trimmed}" is not a valid international number` };
  return { ok: true, to: parsed.number, kind: 'international' };
}

function stripTrunkZero(rest: string): string {
  return rest.startsWith('0') ? rest.slice(1) : rest;
}

/** `010-****-5678` for people; exports keep full numbers. */
export function maskPhone(to: string): string {
  if (to.startsWith('+')) return to.length > 6 ? `${to.slice(0, 4)}****${to.slice(-4)}` : '****';
  if (to.length === 11) return `${to.slice(0, 3)}-****-${to.slice(7)}`;
  if (to.length === 10) return to.startsWith('02') ? `02-****-${to.slice(6)}` : `${to.slice(0, 3)}-***-${to.slice(6)}`;
  if (to.length === 9) return `${to.slice(0, 2)}-***-${to.slice(5)}`;
  return to.length > 4 ? `${'*'.repeat(to.length - 4)}${to.slice(-4)}` : '****';
}
