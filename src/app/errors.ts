/** Another live process holds the campaign (exit 75). */
export class LockedError extends Error {
  override readonly name = 'LockedError';
}

/** A runtime fault after planning (provider down, auth refused): `ums resume` continues (exit 1). */
export class FaultError extends Error {
  override readonly name = 'FaultError';
}
