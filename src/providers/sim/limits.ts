import { ALIMTALK_MAX_CHARS } from '../../campaign/channel.js';
import { RCS_CHARS } from '../../campaign/rcs.js';
import type { ProviderLimits } from '../types.js';

/** The simulator takes what Solapi takes, so a campaign tried on it is refused where Solapi would refuse it. */
export const SIM_LIMITS: ProviderLimits = {
  images: {
    mms: { count: 1, bytes: 200 * 1024, width: 1500, height: 1440 },
    rcs: { count: 1, bytes: 1024 * 1024 },
  },
  alimtalkChars: ALIMTALK_MAX_CHARS,
  rcsChars: RCS_CHARS,
};
