import { DateTime } from 'luxon';
import { DomainError, ErrorCode } from '../common/domain-error';

/**
 * IANA time zones, read from the platform's data (ICU, through luxon and Intl). No offsets are written
 * down here: Sydney's or Berlin's rules come from the same tz database the rest of the system uses.
 */

/** Wall-clock fields of an instant in some zone. `month` is 1-12, `millisecond` 0-999. */
export interface LocalDateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

/**
 * What `localToUtc` does with a wall time that a DST transition skips (spring forward: 02:30 in Los Angeles
 * on 2026-03-08) or repeats (fall back: 01:30 on 2026-11-01 happens twice). Same meanings as Temporal's
 * `disambiguation` option:
 * - `compatible` (default, what JavaScript's Date and most libraries do): a repeated time is the earlier of
 *   the two instants (still on daylight time); a skipped time is moved forward by the gap (02:30 -> 03:30).
 * - `earlier` / `later`: the first / second instant of a repeated time; for a skipped time, the instant the
 *   gap length before / after (02:30 -> 01:30 / 03:30).
 * - `reject`: throws DomainError(INVALID_TIMESTAMP) for both.
 */
export type Disambiguation = 'compatible' | 'earlier' | 'later' | 'reject';

/** Longest IANA name today is 30 characters; anything much longer is not a zone. */
const MAX_ZONE_LENGTH = 64;
/**
 * IANA spelling: segments start with a capital letter and hold letters, digits, '_', '-' and '+'
 * ("America/Port-au-Prince", "Etc/GMT+5", "EST5EDT"). This keeps paths ("../../etc/passwd"), shell text
 * and lower-cased spellings out before the platform is even asked.
 */
const IANA_SHAPE = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/;
const DAY_MS = 86_400_000;

/** Whether `zone` is an IANA zone name the platform knows ("Europe/Berlin", "UTC", "Etc/UTC"). */
export function isValidTimezone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length === 0 || zone.length > MAX_ZONE_LENGTH) return false;
  if (!IANA_SHAPE.test(zone)) return false;
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return false;
  }
  // Intl matches names case-insensitively; the zone files (and timedatectl) do not.
  return resolved === zone || resolved.toLowerCase() !== zone.toLowerCase();
}

/** Returns `zone` if it is a valid IANA name; throws DomainError(INVALID_TIMEZONE) otherwise. */
export function assertValidTimezone(zone: unknown): string {
  if (!isValidTimezone(zone)) {
    throw new DomainError(ErrorCode.INVALID_TIMEZONE, `${quoteValue(zone)} is not a known IANA time zone (e.g. "Europe/Berlin", "UTC")`, {
      timezone: typeof zone === 'string' ? zone.slice(0, MAX_ZONE_LENGTH) : undefined,
    });
  }
  return zone;
}

/** The zone this process runs in (follows `process.env.TZ`), or 'UTC' if the platform cannot tell. */
export function hostTimezone(): string {
  try {
    const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
    return isValidTimezone(zone) ? zone : 'UTC';
  } catch {
    return 'UTC';
  }
}

/** Offset of `zone` from UTC at `epochMs`, in minutes east of Greenwich (Sydney in November: +660). */
export function utcOffsetMinutes(zone: string, epochMs: number): number {
  return dateTimeIn(epochMs, zone).offset;
}

/**
 * The zone's standard (winter, non-DST) offset in the year of `epochMs`: the smaller of its offsets on
 * 1 January and 1 July, which covers both hemispheres (Sydney +600, Los Angeles -480, Kolkata +330).
 * Limit: a zone that changes its base offset during that year reports the smaller of the two.
 */
export function standardOffsetMinutes(zone: string, epochMs: number): number {
  const at = dateTimeIn(epochMs, zone);
  const january = at.set({ month: 1, day: 1, hour: 12, minute: 0, second: 0, millisecond: 0 });
  const july = at.set({ month: 7, day: 1, hour: 12, minute: 0, second: 0, millisecond: 0 });
  return Math.min(january.offset, july.offset);
}

/** Whether daylight saving time is in effect in `zone` at `epochMs`. */
export function isDst(zone: string, epochMs: number): boolean {
  return utcOffsetMinutes(zone, epochMs) > standardOffsetMinutes(zone, epochMs);
}

/** The wall-clock reading of `epochMs` in `zone`. Fractions of a millisecond are dropped (floored). */
export function utcToLocal(epochMs: number, zone: string): LocalDateTimeParts {
  const at = dateTimeIn(epochMs, zone);
  return { year: at.year, month: at.month, day: at.day, hour: at.hour, minute: at.minute, second: at.second, millisecond: at.millisecond };
}

/**
 * The instant at which clocks in `zone` read `parts`. Skipped and repeated wall times at DST transitions
 * are resolved by `disambiguation` (see `Disambiguation`; default `compatible`: repeated -> earlier instant,
 * skipped -> shifted forward by the gap). Throws DomainError(INVALID_TIMESTAMP) for impossible fields
 * (month 13, 30 February, hour 24).
 */
export function localToUtc(parts: LocalDateTimeParts, zone: string, disambiguation: Disambiguation = 'compatible'): number {
  assertValidTimezone(zone);
  const asUtc = wallTimeAsUtc(parts);
  // A transition changes the offset at most once within a day or so, so the offsets a day before and a
  // day after are the only ones this wall time can have.
  const before = utcOffsetMinutes(zone, asUtc - DAY_MS);
  const after = utcOffsetMinutes(zone, asUtc + DAY_MS);
  const candidates = [...new Set([before, after])]
    .map((offset) => asUtc - offset * 60_000)
    .filter((instant) => wallTimeAsUtc(utcToLocal(instant, zone)) === asUtc)
    .sort((a, b) => a - b);

  if (candidates.length === 1) return candidates[0];
  const describe = () => `${formatParts(parts)} in ${zone}`;
  if (candidates.length > 1) {
    if (disambiguation === 'reject') {
      throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${describe()} happens twice (clocks go back); refusing to guess which`);
    }
    return disambiguation === 'later' ? candidates[candidates.length - 1] : candidates[0];
  }
  // Skipped wall time: read it with the offset from before the gap (moves it forward) or after (backward).
  if (disambiguation === 'reject') {
    throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${describe()} does not exist (clocks go forward); refusing it`);
  }
  return disambiguation === 'earlier' ? asUtc - after * 60_000 : asUtc - before * 60_000;
}

/**
 * Makes the running Node process follow `zone` (after the system zone was changed): Node caches the zone
 * and re-reads it when `process.env.TZ` is assigned. Returns the previous value of TZ (undefined if unset)
 * so that callers and tests can put it back with `restoreProcessTimezone`.
 */
export function applyProcessTimezone(zone: string): string | undefined {
  const valid = assertValidTimezone(zone);
  const previous = process.env.TZ;
  process.env.TZ = valid;
  return previous;
}

/** Puts back a TZ value returned by `applyProcessTimezone` (undefined removes it). */
export function restoreProcessTimezone(previous: string | undefined): void {
  if (previous === undefined) delete process.env.TZ;
  else process.env.TZ = previous;
}

// ---- helpers shared with format.ts ------------------------------------------------------------

/** A luxon DateTime for `epochMs` in `zone`; throws DomainError for a bad zone or a non-time. */
export function dateTimeIn(epochMs: number, zone: string): DateTime {
  assertValidTimezone(zone);
  const at = typeof epochMs === 'number' && Number.isFinite(epochMs) ? DateTime.fromMillis(Math.floor(epochMs), { zone }) : null;
  if (!at || !at.isValid) {
    throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${quoteValue(epochMs)} is not a representable time`);
  }
  return at;
}

/** Days in a month (1-12) of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** The epoch ms that these wall-clock fields would be in UTC; validates every field. */
export function wallTimeAsUtc(parts: LocalDateTimeParts): number {
  const { year, month, day, hour, minute, second, millisecond } = parts ?? ({} as LocalDateTimeParts);
  const ok =
    isIntIn(year, 1, 9999) &&
    isIntIn(month, 1, 12) &&
    isIntIn(day, 1, daysInMonth(year, month)) &&
    isIntIn(hour, 0, 23) &&
    isIntIn(minute, 0, 59) &&
    isIntIn(second, 0, 59) &&
    isIntIn(millisecond, 0, 999);
  if (!ok) throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${quoteValue(parts)} is not a valid date and time`);
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millisecond));
  date.setUTCFullYear(year); // Date.UTC maps years 0-99 to 1900-1999
  return date.getTime();
}

function isIntIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function formatParts(p: LocalDateTimeParts): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** A value for an error message: JSON where possible, never longer than about 60 characters. */
export function quoteValue(value: unknown, max = 60): string {
  let text: string;
  if (typeof value === 'number') text = String(value); // JSON would print NaN and Infinity as null
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (value === undefined || typeof value === 'function' || typeof value === 'symbol') text = String(typeof value === 'function' ? '[function]' : value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
