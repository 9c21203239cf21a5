import { ALIMTALK_MAX_CHARS } from '../../campaign/channel.js';
import { RCS_CHARS } from '../../campaign/rcs.js';
import type { ProviderLimits } from '../types.js';

/** Solapi (DOMAIN.md): MMS 1 image <= 200 KB <= 1500x1440; RCS 1 MB of media per card; Kakao's and RCS's text lengths. */
export const SOLAPI_LIMITS: ProviderLimits = {
  images: {
    mms: { count: 1, bytes: 200 * 1024, width: 1500, height: 1440 },
    rcs: { count: 1, bytes: 1024 * 1024 },
  },
  alimtalkChars: ALIMTALK_MAX_CHARS,
  rcsChars: RCS_CHARS,
};
