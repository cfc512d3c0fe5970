import { DomainError, ErrorCode } from '../common/domain-error';
import { dateTimeIn, daysInMonth, quoteValue } from './timezone';

/** The text forms of a time. `as const` object rather than an enum, as in the protocol. */
export const TimeFormat = {
  /** Milliseconds since the epoch, whole: `1795594320000`. */
  UNIX_MS: 'unix-ms',
  /** Microseconds since the epoch, whole: `1795594320000000`. */
  UNIX_US: 'unix-us',
  /** UTC, millisecond precision: `2026-11-25T08:12:00.000Z`. */
  ISO8601: 'iso8601',
  /** Local time of the zone with its numeric offset: `2026-11-25T19:12:00.000+11:00`. */
  RFC3339: 'rfc3339',
  /**
   * RFC 1123 style with the zone's current numeric offset (never "GMT"), whole seconds:
   * `Wed, 25 Nov 2026 19:12:00 +1100`. Not the CCAPI payload, which carries the standard offset and a dst
   * flag: that is `formatCameraDateTime` in camera-datetime.ts.
   */
  CAMERA: 'camera',
  /** For people, whole seconds: `25 Nov 2026, 19:12:00 AEDT (UTC+11:00)`; `... 08:12:00 UTC` in UTC. */
  HUMAN: 'human',
  /** ISO 8601 basic, UTC, whole seconds, for file names and storage: `20261125T081200Z`. */
  COMPACT: 'compact',
} as const;
export type TimeFormat = (typeof TimeFormat)[keyof typeof TimeFormat];

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const; // luxon: 1 = Monday
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
/** English locales whose CLDR data names the zones people there use (PST, CET, AEDT, IST, NZDT). */
const ABBREVIATION_LOCALES = ['en-US', 'en-GB', 'en-AU', 'en-IN', 'en-NZ'];
/** The range of a JavaScript Date. */
const MAX_EPOCH_MS = 8.64e15;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * Renders `epochMs` in `format`; `zone` (IANA, default UTC) matters for rfc3339, camera and human only.
 * Formats without milliseconds floor them. Throws DomainError for a non-finite time or a bad zone.
 */
export function formatTimestamp(epochMs: number, format: TimeFormat, zone = 'UTC'): string {
  const at = dateTimeIn(epochMs, format === TimeFormat.RFC3339 || format === TimeFormat.CAMERA || format === TimeFormat.HUMAN ? zone : 'UTC');
  const unix = format === TimeFormat.UNIX_MS || format === TimeFormat.UNIX_US;
  if (!unix && (at.year < 0 || at.year > 9999)) {
    throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${quoteValue(epochMs)} has no four-digit year`);
  }
  const date = `${pad(at.year, 4)}-${pad(at.month)}-${pad(at.day)}`;
  const time = `${pad(at.hour)}:${pad(at.minute)}:${pad(at.second)}`;
  switch (format) {
    case TimeFormat.UNIX_MS:
      return String(Math.floor(epochMs));
    case TimeFormat.UNIX_US:
      return String(Math.round(epochMs * 1000));
    case TimeFormat.ISO8601:
      return `${date}T${time}.${pad(at.millisecond, 3)}Z`;
    case TimeFormat.RFC3339:
      return `${date}T${time}.${pad(at.millisecond, 3)}${offsetText(at.offset, ':')}`;
    case TimeFormat.CAMERA:
      return `${WEEKDAYS[at.weekday - 1]}, ${pad(at.day)} ${MONTHS[at.month - 1]} ${pad(at.year, 4)} ${time} ${offsetText(at.offset, '')}`;
    case TimeFormat.HUMAN: {
      const head = `${at.day} ${MONTHS[at.month - 1]} ${pad(at.year, 4)}, ${time}`;
      const name = zoneAbbreviation(at.toMillis(), zone);
      const utc = `UTC${offsetText(at.offset, ':')}`;
      return name ? `${head} ${name} (${utc})` : at.offset === 0 ? `${head} UTC` : `${head} ${utc}`;
    }
    case TimeFormat.COMPACT:
      return `${pad(at.year, 4)}${pad(at.month)}${pad(at.day)}T${pad(at.hour)}${pad(at.minute)}${pad(at.second)}Z`;
    default:
      throw new DomainError(ErrorCode.BAD_REQUEST, `unknown time format ${quoteValue(format)}`);
  }
}

/**
 * Reads `text` written in `format` back to ms since the epoch (fractions of a millisecond are kept).
 * Strict: every field is range-checked (no 13th month, no 30 February, no 24:00), the camera form's weekday
 * must match its date, and nothing but the exact form is accepted. Throws DomainError(INVALID_TIMESTAMP).
 */
export function parseTimestamp(text: string, format: TimeFormat): number {
  const fail = (why: string): never => {
    throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `invalid ${format} time ${quoteValue(text)}: ${why}`, { format });
  };
  if (typeof text !== 'string') return fail('not a string');
  let m: RegExpExecArray | null;
  switch (format) {
    case TimeFormat.UNIX_MS:
      if (!/^\d{1,16}(\.\d{1,6})?$/.test(text)) return fail('expected milliseconds since the epoch');
      return inRange(Number(text), fail);
    case TimeFormat.UNIX_US: {
      if (!/^\d{1,19}$/.test(text)) return fail('expected whole microseconds since the epoch');
      const us = BigInt(text);
      return inRange(Number(us / 1000n) + Number(us % 1000n) / 1000, fail);
    }
    case TimeFormat.ISO8601:
      m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
      if (!m) return fail('expected YYYY-MM-DDTHH:mm:ss.sssZ');
      return fromFields(m[1], m[2], m[3], m[4], m[5], m[6], m[7], 0, fail);
    case TimeFormat.RFC3339: {
      const ms = parseIsoWithZone(text, true);
      return ms === null ? fail('expected YYYY-MM-DDTHH:mm:ss[.sss] followed by Z or ±hh:mm') : ms;
    }
    case TimeFormat.CAMERA: {
      m = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-]\d{2})(\d{2})$/.exec(text);
      if (!m) return fail("expected 'Wed, 25 Nov 2026 19:12:00 +1100'");
      const offset = offsetMinutes(m[8], m[9]);
      if (offset === null) return fail('offset out of range');
      const month = MONTHS.indexOf(m[3] as (typeof MONTHS)[number]) + 1;
      const ms = fromFields(m[4], String(month), m[2], m[5], m[6], m[7], undefined, offset, fail);
      const weekday = WEEKDAYS[(new Date(ms + offset * 60_000).getUTCDay() + 6) % 7];
      if (weekday !== m[1]) return fail(`that date is a ${weekday}`);
      return ms;
    }
    case TimeFormat.HUMAN: {
      m = /^(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}), (\d{2}):(\d{2}):(\d{2}) (?:UTC|(?:[A-Z]{2,6} \()?UTC([+-]\d{2}):(\d{2})\)?)$/.exec(text);
      // The bracket must close exactly when it opened.
      if (!m || text.includes('(') !== text.endsWith(')')) return fail("expected '25 Nov 2026, 19:12:00 AEDT (UTC+11:00)'");
      const offset = m[7] === undefined ? 0 : offsetMinutes(m[7], m[8]);
      if (offset === null) return fail('offset out of range');
      const month = MONTHS.indexOf(m[2] as (typeof MONTHS)[number]) + 1;
      return fromFields(m[3], String(month), m[1], m[4], m[5], m[6], undefined, offset, fail);
    }
    case TimeFormat.COMPACT:
      m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
      if (!m) return fail('expected YYYYMMDDTHHmmssZ');
      return fromFields(m[1], m[2], m[3], m[4], m[5], m[6], undefined, 0, fail);
    default:
      throw new DomainError(ErrorCode.BAD_REQUEST, `unknown time format ${quoteValue(format)}`);
  }
}

/**
 * A client's clock reading as ms since the epoch: a finite, non-negative number of ms (fractions kept), or
 * an ISO 8601 / RFC 3339 string with an explicit zone (`Z` or `±hh:mm`): a time without a zone would be read
 * in whatever zone the Pi happens to be in. Anything else throws DomainError(INVALID_TIMESTAMP).
 * Plausibility (build date floor) is checked separately by `assertPlausibleTime`.
 */
export function parseClientTime(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_EPOCH_MS) return value;
  if (typeof value === 'string') {
    const ms = parseIsoWithZone(value, false);
    if (ms !== null) return ms;
  }
  throw new DomainError(
    ErrorCode.INVALID_TIMESTAMP,
    `invalid client time ${quoteValue(value)}: expected ms since the epoch or an ISO 8601 time with a zone (Z or ±hh:mm)`,
  );
}

/**
 * A duration for people: '350 ms', '2.5 s', '45 s', '2 min 5 s', '1 h 5 min', '3 d 4 h'. Rounded to the
 * smallest unit shown; negative durations get a minus sign.
 */
export function formatDuration(ms: number): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new RangeError(`not a duration: ${quoteValue(ms)}`);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 9.95) return `${trimZero(ms.toFixed(ms < 1 ? 2 : 1))} ms`;
  if (Math.round(ms) < 1000) return `${Math.round(ms)} ms`;
  if (ms < 9_950) return `${trimZero((ms / 1000).toFixed(1))} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return joinUnits([Math.floor(seconds / 60), 'min'], [seconds % 60, 's']);
  const minutes = Math.round(ms / 60_000);
  if (minutes < 24 * 60) return joinUnits([Math.floor(minutes / 60), 'h'], [minutes % 60, 'min']);
  const hours = Math.round(ms / 3_600_000);
  return joinUnits([Math.floor(hours / 24), 'd'], [hours % 24, 'h']);
}

// ---- helpers ----------------------------------------------------------------------------------

function trimZero(fixed: string): string {
  return fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed;
}

function joinUnits(major: [number, string], minor: [number, string]): string {
  return minor[0] === 0 ? `${major[0]} ${major[1]}` : `${major[0]} ${major[1]} ${minor[0]} ${minor[1]}`;
}

/** `+11:00` / `+1100` for minutes east of UTC. */
function offsetText(offsetMinutes: number, separator: string): string {
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(Math.round(offsetMinutes));
  return `${sign}${pad(Math.floor(abs / 60))}${separator}${pad(abs % 60)}`;
}

/** The zone's everyday abbreviation at that instant (AEDT, CEST, PST, IST), or null if CLDR has none. */
function zoneAbbreviation(epochMs: number, zone: string): string | null {
  for (const locale of ABBREVIATION_LOCALES) {
    const name = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' })
      .formatToParts(epochMs)
      .find((part) => part.type === 'timeZoneName')?.value;
    if (name && /^[A-Z]{2,6}$/.test(name) && name !== 'UTC') return name;
  }
  return null;
}

/** `+hh` and `mm` to minutes east of UTC, or null when out of range. */
function offsetMinutes(signedHours: string, minutes: string): number | null {
  const h = Number(signedHours.slice(1));
  const m = Number(minutes);
  if (h > 23 || m > 59) return null;
  return (signedHours.startsWith('-') ? -1 : 1) * (h * 60 + m);
}

/**
 * Strict ISO 8601 / RFC 3339 date-time with a zone; null if malformed or out of range. Seconds and the
 * fraction (up to 9 digits, kept below the millisecond) are optional only when `requireSeconds` is false.
 */
function parseIsoWithZone(text: string, requireSeconds: boolean): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-]\d{2}):(\d{2}))$/.exec(text);
  if (!m || (requireSeconds && m[6] === undefined)) return null;
  const offset = m[8] ? 0 : offsetMinutes(m[9], m[10]);
  if (offset === null) return null;
  try {
    return fromFields(m[1], m[2], m[3], m[4], m[5], m[6] ?? '0', m[7], offset, () => {
      throw new Error('out of range');
    });
  } catch {
    return null;
  }
}

/** Range-checks the fields of a wall time at a fixed offset and returns its epoch ms. */
function fromFields(
  year: string,
  month: string,
  day: string,
  hour: string,
  minute: string,
  second: string,
  fraction: string | undefined,
  offsetMin: number,
  fail: (why: string) => never,
): number {
  const [y, mo, d, h, mi, s] = [year, month, day, hour, minute, second].map(Number);
  if (mo < 1 || mo > 12) return fail('no such month');
  if (d < 1 || d > daysInMonth(y, mo)) return fail('no such day in that month');
  if (h > 23 || mi > 59 || s > 59) return fail('no such time of day');
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y);
  // Digit by digit: 0.007 * 1000 is 7.000000000000001 in floating point.
  const fractionMs = fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) + (fraction.length > 3 ? Number(`0.${fraction.slice(3)}`) : 0) : 0;
  return inRange(date.getTime() + fractionMs - offsetMin * 60_000, fail);
}

function inRange(ms: number, fail: (why: string) => never): number {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_EPOCH_MS ? ms : fail('outside the range of a date');
}
