import { wallClock } from '../time/zone.js';

/**
 * Quiet hours for advertising (정보통신망법 제50조): 21:00-08:00 in Asia/Seoul unless the
 * recipient gave separate night consent. Pure: the instant is passed in.
 */
export interface QuietHours {
  /** minutes after local midnight the window opens (21:00 -> 1260) */
  start: number;
  /** minutes after local midnight it closes (08:00 -> 480) */
  end: number;
  timeZone: string;
}

export const DEFAULT_QUIET_HOURS: QuietHours = { start: 21 * 60, end: 8 * 60, timeZone: 'Asia/Seoul' };

export function parseClock(hhmm: string): number | null {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(hhmm.trim());
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Seconds after local midnight of `at` in `timeZone`. */
export function localSecondsOfDay(at: Date, timeZone: string): number {
  const w = wallClock(at.getTime(), timeZone);
  return w.hour * 3600 + w.minute * 60 + w.second;
}

/** True when `at` falls inside the window: [start, end) wrapping midnight. */
export function inQuietHours(at: Date, q: QuietHours): boolean {
  const s = localSecondsOfDay(at, q.timeZone);
  const start = q.start * 60;
  const end = q.end * 60;
  return start <= end ? s >= start && s < end : s >= start || s < end;
}

/** Milliseconds from `at` until the window opens next (0 when inside it). */
export function msUntilQuietHours(at: Date, q: QuietHours): number {
  if (inQuietHours(at, q)) return 0;
  const s = localSecondsOfDay(at, q.timeZone);
  const start = q.start * 60;
  const wait = start > s ? start - s : 86400 - s + start;
  return wait * 1000 - at.getMilliseconds();
}

/** Milliseconds from `at`, inside the window, until it closes (0 when outside it). */
export function msUntilQuietHoursEnd(at: Date, q: QuietHours): number {
  if (!inQuietHours(at, q)) return 0;
  const s = localSecondsOfDay(at, q.timeZone);
  const end = q.end * 60;
  const wait = end > s ? end - s : 86400 - s + end;
  return wait * 1000 - at.getMilliseconds();
}

export function formatClock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** A CSV night_consent value that means yes. */
export function isConsent(value: string | undefined): boolean {
  return value !== undefined && /^(y|yes|true|1|o|동의|예)$/i.test(value.trim());
}
