/**
 * Wall-clock formatting and calendar arithmetic in a named IANA zone, with Intl only (no date library, to
 * keep the kiosk bundle small).
 */

export interface WallFields {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
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
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** This device's zone, e.g. "Europe/Berlin". */
export function deviceTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

export function isValidTimeZone(zone: string): boolean {
  try {
    formatterFor(zone);
    return true;
  } catch {
    return false;
  }
}

/** Every zone this browser knows, the device's own first. */
export function knownTimeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] };
  const all = intl.supportedValuesOf?.('timeZone') ?? ['UTC'];
  return all.includes('UTC') ? all : ['UTC', ...all];
}

export function wallFields(epochMs: number, timeZone: string): WallFields {
  const parts = formatterFor(timeZone).formatToParts(new Date(epochMs));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** The zone's offset from UTC in ms at that instant (whole seconds). */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const f = wallFields(epochMs, timeZone);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * The instant at which the zone's wall clock shows these fields. In a DST overlap the one with the zone
 * offset in force at `near` wins (so stepping minutes near a change does not jump an hour); in a gap, the
 * instant the clock skipped over is shifted by the change.
 */
export function epochOfWall(fields: WallFields, timeZone: string, ms = 0, near?: number): number {
  const asUtc = Date.UTC(fields.year, fields.month - 1, fields.day, fields.hour, fields.minute, fields.second, ms);
  const first = asUtc - zoneOffsetMs(asUtc, timeZone);
  const candidates = [first, asUtc - zoneOffsetMs(first, timeZone)];
  if (near !== undefined) candidates.unshift(asUtc - zoneOffsetMs(near, timeZone));
  for (const c of candidates) if (zoneOffsetMs(c, timeZone) === asUtc - c) return c;
  return candidates[candidates.length - 1];
}

export function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export type WallField = keyof WallFields;

/** Steps one field of the wall clock, carrying days/months/years like a calendar; the day is clamped to the month. */
export function stepWall(fields: WallFields, field: WallField, delta: number): WallFields {
  const next = { ...fields };
  if (field === 'year' || field === 'month') {
    const months = next.year * 12 + (next.month - 1) + (field === 'year' ? delta * 12 : delta);
    next.year = Math.floor(months / 12);
    next.month = (months % 12) + 1;
    next.day = Math.min(next.day, daysInMonth(next.year, next.month));
    return next;
  }
  const unit = { day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000 }[field];
  const d = new Date(Date.UTC(next.year, next.month - 1, next.day, next.hour, next.minute, next.second) + delta * unit);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds() };
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "2024-01-01" */
export function formatDate(f: WallFields): string {
  return `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}`;
}

/** "12:00:05" */
export function formatTime(f: WallFields): string {
  return `${pad(f.hour)}:${pad(f.minute)}:${pad(f.second)}`;
}

/** "2024-01-01 12:00:05" in the zone. */
export function formatDateTime(epochMs: number, timeZone: string): string {
  const f = wallFields(epochMs, timeZone);
  return `${formatDate(f)} ${formatTime(f)}`;
}

/** "UTC+01:00", "UTC-09:30", "UTC" */
export function formatUtcOffset(offsetMs: number): string {
  if (offsetMs === 0) return 'UTC';
  const minutes = Math.round(Math.abs(offsetMs) / 60_000);
  return `UTC${offsetMs < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
}

/** Plain-words age: "just now", "40 s ago", "2 min ago", "3 h 5 min ago", "2 days ago". */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  return Math.floor(Math.max(0, ms) / 1000) < 5 ? 'just now' : `${formatDuration(ms)} ago`;
}

/** Plain-words duration, whole seconds down: "40 s", "2 min", "3 h 5 min", "1 day", "2 days". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`;
  const days = Math.floor(h / 24);
  return days === 1 ? '1 day' : `${days} days`;
}

/** A signed offset with a sensible unit: "+3 ms", "-1.502 s", "+2 h 0 min 3 s". */
export function formatOffset(ms: number): string {
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${abs < 10 ? abs.toFixed(1).replace(/\.0$/, '') : Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(3)} s`;
  return `${sign}${formatLongDuration(abs)}`;
}

/** An unsigned error bound: "3 ms", "0.4 ms", "1.2 s". */
export function formatBound(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 10) return `${abs.toFixed(1).replace(/\.0$/, '')} ms`;
  if (abs < 1000) return `${Math.round(abs)} ms`;
  return `${(abs / 1000).toFixed(1)} s`;
}

function formatLongDuration(abs: number): string {
  const totalS = Math.round(abs / 1000);
  const d = Math.floor(totalS / 86_400);
  const h = Math.floor((totalS % 86_400) / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  if (d) return `${d} d ${h} h ${m} min`;
  if (h) return `${h} h ${m} min ${s} s`;
  return `${m} min ${s} s`;
}

/** An unsigned amount of time: "3 ms", "2.4 s", "5 h 0 min 2 s". */
export function formatAmount(absMs: number): string {
  const abs = Math.abs(absMs);
  if (abs < 1000) return `${Math.round(abs)} ms`;
  if (abs < 60_000) return `${(abs / 1000).toFixed(1)} s`;
  return formatLongDuration(abs);
}

/** "2.4 s behind", "300 ms ahead", "in step" for a clock minus its reference. */
export function formatAheadBehind(diffMs: number): string {
  if (Math.abs(diffMs) < 1) return 'in step';
  return `${formatAmount(diffMs)} ${diffMs > 0 ? 'ahead' : 'behind'}`;
}

/** How far the Pi is from this device, in words: "Pi is 2.3 s ahead", "in step (within 0.1 s)". */
export function formatDifference(piMinusDeviceMs: number): string {
  const abs = Math.abs(piMinusDeviceMs);
  if (abs < 100) return 'in step (within 0.1 s)';
  const amount = abs < 60_000 ? `${(abs / 1000).toFixed(1)} s` : formatLongDuration(abs);
  return `Pi is ${amount} ${piMinusDeviceMs > 0 ? 'ahead' : 'behind'}`;
}
