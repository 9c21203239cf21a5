import type { ProviderImageLimits } from '../types.js';

/** NHN SMS (DOMAIN.md): MMS up to 3 jpg attachments of 300 KB each (sizes in pixels unstated: Solapi's). */
export const NHN_IMAGE_LIMITS: ProviderImageLimits = {
  mms: { count: 3, bytes: 300 * 1024, width: 1500, height: 1440 },
};

/** AlimTalk text after substitution: 1,300 characters since NHN's release of 2025-10-28. */
export const NHN_ALIMTALK_MAX_CHARS = 1300;
