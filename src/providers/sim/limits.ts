import type { ProviderImageLimits } from '../types.js';

/** The simulator takes images as Solapi does, so a campaign tried on it is refused where Solapi would refuse it. */
export const SIM_IMAGE_LIMITS: ProviderImageLimits = {
  mms: { count: 1, bytes: 200 * 1024, width: 1500, height: 1440 },
  rcs: { count: 1, bytes: 1024 * 1024 },
};
