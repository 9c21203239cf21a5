import iconv from 'iconv-lite';
import { normalisePhone } from '../../campaign/phone.js';

/** Messages recipients send us (MO), pure. */

/**
 * The text of a short message by its data_coding: UCS-2, KS C 5601, Latin-1; the SMSC default
 * (0x00) is ASCII, or KS C 5601 when it has bytes over 0x7F (what Korean SMSCs send).
 */
export function decodeShortMessage(bytes: Buffer, dataCoding: number): string {
  switch (dataCoding & 0x0f) {
    case 0x08:
      return iconv.decode(bytes, 'utf16-be');
    case 0x0e:
      return iconv.decode(bytes, 'cp949');
    case 0x03:
      return bytes.toString('latin1');
    default:
      return bytes.some((b) => b > 0x7f) ? iconv.decode(bytes, 'cp949') : bytes.toString('latin1');
  }
}

/** The user data without its header, when esm_class says it has one (0x40). */
export function stripUdh(bytes: Buffer, esmClass: number): Buffer {
  if (!(esmClass & 0x40) || bytes.length === 0) return bytes;
  return bytes.subarray(Math.min(bytes.length, bytes[0]! + 1));
}

/** A sender's address as the journal writes numbers (`01012345678`), or its digits when it is not a phone number. */
export function senderNumber(addr: string, ton: number): string {
  const raw = addr.trim();
  const r = normalisePhone(ton === 1 && !raw.startsWith('+') ? `+${raw}` : raw);
  return r.ok ? r.to : raw;
}

function fold(s: string): string {
  return s
    .normalize('NFKC')
    .toUpperCase()
    .replace(/[\s\p{P}\p{S}]/gu, '');
}

/** Polite endings a Korean opt-out reply may add to its word ("수신거부합니다"). */
const ENDINGS = ['', '요', '함', '해', '해요', '합니다', '해주세요', '부탁드립니다'];

/**
 * Whether an MO text asks to be left alone: after folding case, width, spaces and punctuation it
 * is one of `words`, alone or with a polite ending ("STOP!", "수신 거부", "수신거부합니다").
 * Anything longer ("거부하지 마세요") is stored, not acted on.
 */
export function isOptOutText(text: string, words: string[]): boolean {
  const t = fold(text);
  if (!t) return false;
  for (const w of words) {
    const f = fold(w);
    if (f && t.startsWith(f) && ENDINGS.includes(t.slice(f.length))) return true;
  }
  return false;
}
