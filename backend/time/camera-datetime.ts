import { DomainError, ErrorCode } from '../common/domain-error';
import { assertValidTimezone, daysInMonth, isDst, quoteValue, utcOffsetMinutes } from './timezone';

/**
 * The camera's clock format (Canon CCAPI `functions/datetime`, see ccapi-notes.md):
 * `{"datetime": "Wed, 25 Nov 2026 19:12:00 +1000", "dst": true}`.
 *
 * - the clock part is the wall time the camera displays, DST already included;
 * - the offset is the camera's zone setting (never `GMT`, east is `+`);
 * - `dst` says whether daylight saving is on; the camera adds exactly one hour for it, so the true instant
 *   is `parse(datetime) - 1 h` when it is, and the wall offset is the zone setting + 1 h.
 *
 * What is written: with DST off, the zone setting is the WALL offset; with DST on, the wall offset - 1 h.
 * Both always give the camera the right displayed time and the right instant. For most zones that is the
 * zone's standard offset either way. Where it is not:
 * - a zone whose offset drops below its usual one for part of the year (Africa/Casablanca during Ramadan,
 *   +01 becomes +00, not DST): `+0000` with `dst: false`. Writing the "standard" +0100 there would put the
 *   camera one hour off;
 * - a DST that is not one hour (Australia/Lord_Howe, +10:30 / +11:00): in summer `+1000` with `dst: true`,
 *   so the camera's zone menu reads +10:00 instead of +10:30 while its time and instant are right.
 */
export interface CameraDateTime {
  datetime: string;
  dst: boolean;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;
const MINUTE_MS = 60_000;
/** What a camera adds to its zone setting when `dst` is on, whatever the zone's real DST. */
const DST_MINUTES = 60;
/** Real zones span UTC-12:00 to UTC+14:00. */
const MIN_OFFSET_MINUTES = -12 * 60;
const MAX_OFFSET_MINUTES = 14 * 60;

const SHAPE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/;

/**
 * What to write to the camera so that it shows the wall time of `zone` at `epochMs` (whole seconds, the
 * fraction is dropped) and knows the right UTC instant: the zone setting is the wall offset, less the hour
 * the camera adds when `dst` is on (see the top of this file).
 */
export function formatCameraDateTime(epochMs: number, zone: string): CameraDateTime {
  assertValidTimezone(zone);
  if (typeof epochMs !== 'number' || !Number.isFinite(epochMs)) {
    throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${quoteValue(epochMs)} is not a time`);
  }
  const seconds = Math.floor(epochMs / 1000) * 1000;
  const wallOffset = utcOffsetMinutes(zone, seconds);
  const dst = isDst(zone, seconds);
  const zoneSetting = cameraZoneSetting(wallOffset, dst);
  const wall = new Date(seconds + wallOffset * MINUTE_MS);
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const datetime =
    `${DAYS[wall.getUTCDay()]}, ${pad(wall.getUTCDate())} ${MONTHS[wall.getUTCMonth()]} ${pad(wall.getUTCFullYear(), 4)} ` +
    `${pad(wall.getUTCHours())}:${pad(wall.getUTCMinutes())}:${pad(wall.getUTCSeconds())} ${formatOffset(zoneSetting)}`;
  return { datetime, dst };
}

/** The camera's zone setting (minutes east) that shows `wallOffsetMinutes`: the camera adds 60 when `dst` is on. */
export function cameraZoneSetting(wallOffsetMinutes: number, dst: boolean): number {
  return dst ? wallOffsetMinutes - DST_MINUTES : wallOffsetMinutes;
}

/** `+hhmm` / `-hhmm`; `+0000` for UTC. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

/**
 * Reads the camera's answer to `GET functions/datetime`, the inverse of `formatCameraDateTime`: `epochMs`
 * is the start of the second shown, and `wallOffsetMinutes` the offset of the wall time it displays (its
 * zone setting plus the DST hour), which is what to compare with a zone's `utcOffsetMinutes`. Strict: anything that is not exactly the camera's
 * format (day name that does not match the date, offset beyond ±14 h or with minutes >= 60, a missing or
 * non-boolean `dst`) throws DomainError(CAMERA_BAD_ANSWER) quoting the answer.
 */
export function parseCameraDateTime(body: unknown): CameraDateTime & { epochMs: number; wallOffsetMinutes: number } {
  const bad = (why: string): never => {
    throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera's clock answer ${quoteValue(body, 120)} is not understood: ${why}`, {
      answer: quoteValue(body, 200),
    });
  };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('expected {"datetime": ..., "dst": ...}');
  const { datetime, dst } = body as Record<string, unknown>;
  if (typeof datetime !== 'string') return bad('"datetime" is missing or not text');
  if (typeof dst !== 'boolean') return bad('"dst" is missing or not true/false');

  const match = SHAPE.exec(datetime);
  if (!match) return bad('expected a time like "Wed, 25 Nov 2026 19:12:00 +1000"');
  const [, dayName, dd, monthName, yyyy, hh, mi, ss, sign, oh, om] = match;
  const year = Number(yyyy);
  const month = MONTHS.indexOf(monthName as (typeof MONTHS)[number]) + 1;
  const day = Number(dd);
  const [hour, minute, second] = [Number(hh), Number(mi), Number(ss)];
  if (year < 1970 || day < 1 || day > daysInMonth(year, month)) return bad(`there is no ${dd} ${monthName} ${yyyy}`);
  if (hour > 23 || minute > 59 || second > 59) return bad(`${hh}:${mi}:${ss} is not a time of day`);
  const offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  if (Number(om) > 59 || offsetMinutes < MIN_OFFSET_MINUTES || offsetMinutes > MAX_OFFSET_MINUTES) {
    return bad(`${sign}${oh}${om} is not a time-zone offset`);
  }

  const wall = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  wall.setUTCFullYear(year);
  if (DAYS[wall.getUTCDay()] !== dayName) return bad(`${dd} ${monthName} ${yyyy} is a ${DAYS[wall.getUTCDay()]}, not a ${dayName}`);

  const wallOffsetMinutes = offsetMinutes + (dst ? DST_MINUTES : 0);
  const epochMs = wall.getTime() - wallOffsetMinutes * MINUTE_MS;
  return { epochMs, datetime, dst, wallOffsetMinutes };
}
