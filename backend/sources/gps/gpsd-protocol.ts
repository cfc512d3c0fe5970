/**
 * gpsd's JSON protocol (gpsd.io `gpsd_json.html`), the part a time source needs: pure functions from a line to a
 * typed message, and a line splitter that survives garbage. No socket here (that is `gpsd-client.ts`).
 */

/** What we ask of gpsd on connecting: JSON reports, and TOFF/PPS (the receiver's time against the host clock). */
export const WATCH_COMMAND = '?WATCH={"enable":true,"json":true,"pps":true}\n';

/** A line longer than this is dropped whole: gpsd's longest reports (SKY with many satellites) are a few KiB. */
export const MAX_LINE_CHARS = 64 * 1024;

export interface GpsdVersion {
  class: 'VERSION';
  release: string;
  protoMajor: number | null;
  protoMinor: number | null;
}

/** Time-position-velocity: the fix and the receiver's time. */
export interface GpsdTpv {
  class: 'TPV';
  device: string | null;
  /** 0 unknown, 1 no fix, 2 2D fix, 3 3D fix. */
  mode: 0 | 1 | 2 | 3;
  /** The receiver's UTC time, ms since the epoch; null when the report has none. */
  timeMs: number | null;
  /** gpsd's estimate of the time's error, ms (its `ept` is in seconds); null when absent. */
  eptMs: number | null;
}

/**
 * TOFF: the receiver's time (`real`) paired with gpsd's host clock (CLOCK_REALTIME) when the serial data of that
 * time arrived (`clock`). PPS: the same, `clock` taken at the pulse. Both ms since the epoch, to the microsecond.
 */
export interface GpsdTimeStamp {
  class: 'TOFF' | 'PPS';
  device: string | null;
  realMs: number;
  clockMs: number;
}

export interface GpsdDevice {
  path: string;
  driver: string | null;
  /** False when gpsd reports the device as deactivated (`activated` 0 or absent in a DEVICE report). */
  active: boolean;
}

export interface GpsdDevices {
  class: 'DEVICES';
  devices: GpsdDevice[];
}

export interface GpsdDeviceReport extends GpsdDevice {
  class: 'DEVICE';
}

export interface GpsdError {
  class: 'ERROR';
  message: string;
}

/** Any other class (WATCH, SKY, GST, ATT...): known to be gpsd's, not needed here. */
export interface GpsdOther {
  class: 'OTHER';
  name: string;
}

export type GpsdMessage = GpsdVersion | GpsdTpv | GpsdTimeStamp | GpsdDevices | GpsdDeviceReport | GpsdError | GpsdOther;

type Json = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** `2026-12-07T21:30:25.123Z` (gpsd's form: UTC, Z, optional fraction) to ms since the epoch; null otherwise. */
export function parseGpsdTime(text: unknown): number | null {
  if (typeof text !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return null;
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 31 February over to March: refuse what does not read back.
  if (new Date(ms).getUTCDate() !== day && second < 60) return null;
  // A two-digit year is taken by Date.UTC as 19xx; gpsd always sends four digits, so 0-99 cannot come from it.
  if (year < 100) return null;
  return ms + (m[7] ? Number(`0.${m[7]}`) * 1000 : 0);
}

/** seconds + nanoseconds (gpsd's `*_sec`/`*_nsec`) to ms; null unless both are whole numbers in range. */
function secNsec(sec: unknown, nsec: unknown): number | null {
  if (!Number.isInteger(sec) || !Number.isInteger(nsec)) return null;
  const s = sec as number;
  const n = nsec as number;
  if (n < 0 || n >= 1e9 || Math.abs(s) > 1e11) return null;
  return s * 1000 + n / 1e6;
}

function device(v: Json): GpsdDevice | null {
  const path = str(v.path);
  if (!path) return null;
  const activated = v.activated;
  // gpsd: an ISO time (older: a number of seconds) while active; 0 or absent once the device is closed.
  const active = (typeof activated === 'string' && activated.length > 0) || (typeof activated === 'number' && activated > 0);
  return { path, driver: str(v.driver), active };
}

/**
 * One line from gpsd as a typed message; null for anything that is not a JSON object with a string `class`, or a
 * TPV/TOFF/PPS whose fields are malformed (so garbage never reaches the time logic).
 */
export function parseGpsdLine(line: string): GpsdMessage | null {
  const text = line.trim();
  if (!text.startsWith('{') || text.length > MAX_LINE_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Json;
  const cls = str(v.class);
  if (!cls) return null;
  switch (cls) {
    case 'VERSION':
      return { class: 'VERSION', release: str(v.release) ?? '?', protoMajor: num(v.proto_major), protoMinor: num(v.proto_minor) };
    case 'TPV': {
      const mode = v.mode === undefined ? 0 : v.mode;
      if (mode !== 0 && mode !== 1 && mode !== 2 && mode !== 3) return null;
      const timeMs = v.time === undefined ? null : parseGpsdTime(v.time);
      if (v.time !== undefined && timeMs === null) return null;
      const ept = num(v.ept);
      return { class: 'TPV', device: str(v.device), mode, timeMs, eptMs: ept === null ? null : Math.abs(ept) * 1000 };
    }
    case 'TOFF':
    case 'PPS': {
      const realMs = secNsec(v.real_sec, v.real_nsec);
      const clockMs = secNsec(v.clock_sec, v.clock_nsec);
      if (realMs === null || clockMs === null) return null;
      return { class: cls, device: str(v.device), realMs, clockMs };
    }
    case 'DEVICES': {
      if (!Array.isArray(v.devices)) return null;
      const devices = v.devices.flatMap((d) => (typeof d === 'object' && d !== null && !Array.isArray(d) ? [device(d as Json)] : [])).filter((d): d is GpsdDevice => d !== null);
      return { class: 'DEVICES', devices };
    }
    case 'DEVICE': {
      const d = device(v);
      return d ? { class: 'DEVICE', ...d } : null;
    }
    case 'ERROR':
      return { class: 'ERROR', message: str(v.message) ?? '' };
    default:
      return { class: 'OTHER', name: cls };
  }
}

/**
 * Splits a stream of text into lines (`\n`, an optional `\r` before it dropped). A line that grows past `maxChars`
 * before its newline is dropped whole, up to and including that newline: a peer that never sends one cannot grow
 * the buffer without bound.
 */
export class LineSplitter {
  private buffer = '';
  private skipping = false;
  /** Lines dropped for their length (for a test or a log line). */
  dropped = 0;

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      if (nl < 0) break;
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      if (this.skipping) {
        this.skipping = false;
        this.buffer = '';
        continue;
      }
      const line = this.buffer + piece;
      this.buffer = '';
      if (line.length > this.maxChars) {
        this.dropped++;
        continue;
      }
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    if (!this.skipping) {
      this.buffer += chunk.slice(start);
      if (this.buffer.length > this.maxChars) {
        this.dropped++;
        this.skipping = true;
        this.buffer = '';
      }
    }
    return lines;
  }

  /** Forgets a partial line (a new connection starts clean). */
  reset(): void {
    this.buffer = '';
    this.skipping = false;
  }
}
