import { en, type MessageKey } from '../i18n/en.js';
import { currentLang, t } from '../i18n/index.js';
import { NHN_CODES } from '../providers/nhn/codes.js';
import { NHN_CODES_KO } from '../providers/nhn/codes.ko.js';
import { SOLAPI_CODES } from '../providers/solapi/codes.js';
import { SOLAPI_CODES_KO } from '../providers/solapi/codes.ko.js';

/**
 * Provider code tables: the English text the journal keeps, and the same code in Korean. A reason is
 * translated only when its text is the table's own (so a code two providers use differently, or a
 * provider's own free text, is never given a wrong meaning).
 */
const PROVIDER_TABLES: [Record<string, string>, Record<string, string>][] = [
  [SOLAPI_CODES, SOLAPI_CODES_KO],
  [NHN_CODES, NHN_CODES_KO],
];

/** The planner's and the journal's own reasons: the English text's shape, and its catalog key. */
const OWN_REASONS: [RegExp, MessageKey][] = [
  [/^phone number is empty$/, 'reason.phoneEmpty'],
  [/^phone number "(?<v>.*)" contains characters other than digits$/, 'reason.phoneChars'],
  [
    /^phone number "(?<v>.*)" is not a valid Korean number \(use \+country code for other countries\)$/,
    'reason.phoneNotKoreanHint',
  ],
  [/^phone number "(?<v>.*)" is not a valid Korean number$/, 'reason.phoneNotKorean'],
  [/^phone number "(?<v>.*)" is not a valid international number$/, 'reason.phoneNotIntl'],
  [/^phone number "(?<v>.*)" was mangled by a spreadsheet \(scientific notation\)$/, 'reason.phoneMangled'],
  [
    /^phone number "(?<v>.*)" is a representative number \(15xx\/16xx\/18xx\): it cannot receive messages$/,
    'reason.phoneRepresentative',
  ],
  [/^column "(?<v>.*)" is empty$/, 'reason.columnEmpty'],
  [/^the row is empty$/, 'reason.emptyRow'],
  [/^duplicate of row (?<v>\d+)$/, 'reason.duplicateOf'],
  [/^the number is on the opt-out list$/, 'reason.onOptoutList'],
  [/^the number opted out$/, 'reason.optedOut'],
  [/^the number opted out after the campaign was planned$/, 'reason.optedOutLater'],
  [/^the (?<v>\w+) message was delivered$/, 'reason.fallbackUnneeded'],
];

/** `3104: not a KakaoTalk user` as a person reads it in the current language (English: unchanged). */
export function shownReason(reason: string): string {
  if (currentLang() === 'en') return reason;
  const i = reason.indexOf(': ');
  if (i < 0) return reason;
  const code = reason.slice(0, i);
  const text = reason.slice(i + 2);
  for (const [english, korean] of PROVIDER_TABLES)
    if (Object.hasOwn(english, code) && english[code] === text && korean[code])
      return `${code}: ${korean[code]}`;
  const own = ownReasonText(text);
  if (own !== null) return `${reasonCodeName(code)}: ${own}`;
  if (code === 'cancelled') return `${reasonCodeName(code)}: ${text}`;
  return reason;
}

/** The text of one of ums's own reasons (no code: `phone number is empty`) in the current language, or null. */
export function ownReasonText(text: string): string | null {
  for (const [shape, key] of OWN_REASONS) {
    const m = shape.exec(text);
    if (m) return t(key, { v: m.groups?.v ?? '' });
  }
  return null;
}

/** A reason code (`missing_value`) as a label: the code in English, a word in Korean. */
export function reasonCodeName(code: string): string {
  const key = `reason.code.${code}`;
  return Object.hasOwn(en, key) ? t(key as MessageKey) : code;
}
