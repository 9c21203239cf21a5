/**
 * Times in the configured zone (config `timezone`, default Asia/Seoul): the one module that turns an
 * instant into text. People read `2026-12-02 09:00 KST`; exports and JSON carry ISO 8601 with the
 * zone's offset (`2026-12-02T09:00:00+09:00`). Intl only: no time library.
 */

export const DEFAULT_TIME_ZONE = 'Asia/Seoul';

/** Names people use where Intl (en) only says "GMT+9". */
const ABBREVIATIONS: Record<string, string> = {
  'Asia/Seoul': 'KST',
  'Asia/Tokyo': 'JST',
  UTC: 'UTC',
  'Etc/UTC': 'UTC',
};

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      timeZoneName: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  zoneName: string;
}

/** The wall clock in `timeZone` at instant `ms` (the one Intl reading of it: quiet hours use it too). */
export function wallClock(ms: number, timeZone: string): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour) % 24,
    minute: Number(parts.minute),
    second: Number(parts.second),
    zoneName: parts.timeZoneName ?? '',
  };
}

/** The zone's offset from UTC at instant `ms`, in minutes (Seoul: 540). */
export function offsetMinutes(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - (ms - (((ms % 1000) + 1000) % 1000))) / 60_000);
}

type Instant = Date | number | string;

function toMs(at: Instant): number {
  return at instanceof Date ? at.getTime() : typeof at === 'number' ? at : Date.parse(at);
}

const two = (n: number): string => String(n).padStart(2, '0');

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

function abbreviation(timeZone: string, w: WallClock, offset: number): string {
  const known = ABBREVIATIONS[timeZone];
  if (known) return known;
  if (w.zoneName && !/^GMT[+-]/.test(w.zoneName))
    return w.zoneName === 'GMT' && offset === 0 ? 'UTC' : w.zoneName;
  return `UTC${offsetText(offset)}`;
}

/** For a person: `2026-12-02 09:00 KST` (with `seconds`: `2026-12-02 09:00:05 KST`); `-` for no time. */
export function humanTime(
  at: Instant | null | undefined,
  timeZone: string = DEFAULT_TIME_ZONE,
  seconds = false,
): string {
  if (at === null || at === undefined || at === '') return '-';
  const ms = toMs(at);
  if (Number.isNaN(ms)) return String(at);
  const w = wallClock(ms, timeZone);
  const offset = offsetMinutes(ms, timeZone);
  return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}${seconds ? `:${two(w.second)}` : ''} ${abbreviation(timeZone, w, offset)}`;
}

/** For exports and JSON: ISO 8601 with the zone's offset, `2026-12-02T09:00:00+09:00`; null stays null. */
export function isoInZone(at: Instant, timeZone?: string): string;
export function isoInZone(at: Instant | null | undefined, timeZone?: string): string | null;
export function isoInZone(
  at: Instant | null | undefined,
  timeZone: string = DEFAULT_TIME_ZONE,
): string | null {
  if (at === null || at === undefined || at === '') return null;
  const ms = toMs(at);
  if (Number.isNaN(ms)) return String(at);
  const w = wallClock(ms, timeZone);
  const frac = ((ms % 1000) + 1000) % 1000;
  return `${w.year}-${two(w.month)}-${two(w.day)}T${two(w.hour)}:${two(w.minute)}:${two(w.second)}${frac ? `.${String(frac).padStart(3, '0')}` : ''}${offsetText(offsetMinutes(ms, timeZone))}`;
}

/** An ISO 8601 text names its own offset (`Z`, `+09:00`, `+0900`, `+09`). */
export function hasOffset(text: string): boolean {
  return /(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$/.test(text.trim()) && /T|\s\d/.test(text.trim());
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?$/;

/**
 * An ISO 8601 time as an epoch ms; one without an offset (`2026-12-02T09:00`) is a wall-clock time
 * in `timeZone`. NaN when it is not a time.
 */
export function parseInZone(text: string, timeZone: string = DEFAULT_TIME_ZONE): number {
  const s = text.trim();
  const m = LOCAL.exec(s);
  if (!m) return hasOffset(s) ? Date.parse(s) : Number.NaN;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '0'] = m;
  const wall = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    Number(frac.padEnd(3, '0')),
  );
  const check = new Date(wall);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23)
    return Number.NaN;
  // the offset at the guess, then at the corrected instant (right across a DST change)
  let at = wall - offsetMinutes(wall, timeZone) * 60_000;
  at = wall - offsetMinutes(at, timeZone) * 60_000;
  return at;
}
