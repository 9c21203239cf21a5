import type { ProviderImageLimits } from '../types.js';

/** Solapi (DOMAIN.md): MMS 1 image <= 200 KB <= 1500x1440; RCS 1 MB of media per card. */
export const SOLAPI_IMAGE_LIMITS: ProviderImageLimits = {
  mms: { count: 1, bytes: 200 * 1024, width: 1500, height: 1440 },
  rcs: { count: 1, bytes: 1024 * 1024 },
};
