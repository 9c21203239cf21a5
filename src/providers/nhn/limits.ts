import type { ProviderLimits } from '../types.js';

/** AlimTalk text after substitution: 1,300 characters since NHN's release of 2025-10-28. */
export const NHN_ALIMTALK_MAX_CHARS = 1300;

/**
 * NHN (DOMAIN.md): MMS up to 3 jpg attachments of 300 KB each (sizes in pixels unstated: Solapi's);
 * AlimTalk 1,300 characters; no RCS.
 */
export const NHN_LIMITS: ProviderLimits = {
  images: { mms: { count: 3, bytes: 300 * 1024, width: 1500, height: 1440 } },
  alimtalkChars: NHN_ALIMTALK_MAX_CHARS,
};
