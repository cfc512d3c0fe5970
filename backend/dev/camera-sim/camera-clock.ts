/**
 * The simulated camera's clock. Like a real camera it keeps UTC internally with one-second resolution
 * shown over a hidden sub-second phase: after a PUT at host instant t, the displayed second ticks exactly
 * at t + k s. It knows its zone only as "standard offset + DST on/off", and it uses the host's Date.now()
 * (it is a separate device: the simulator stands for the camera, never for the Pi's clock).
 */
export class CameraClock {
  private utcAtSetMs: number;
  private hostAtSetMs: number;

  constructor(
    offsetMs = 0,
    public stdOffsetMinutes = 0,
    public dst = false,
    public driftPpm = 0,
  ) {
    this.hostAtSetMs = Date.now();
    this.utcAtSetMs = this.hostAtSetMs + offsetMs;
  }

  /** The camera's notion of UTC at host time `hostMs`, to the millisecond (the hidden phase included). */
  nowUtcMs(hostMs = Date.now()): number {
    return this.utcAtSetMs + (hostMs - this.hostAtSetMs) * (1 + this.driftPpm / 1e6);
  }

  /** What the camera would show: the current whole second, in UTC ms. */
  displayedSecondUtcMs(hostMs = Date.now()): number {
    return Math.floor(this.nowUtcMs(hostMs) / 1000) * 1000;
  }

  /** Camera minus host clock, ms (positive: the camera is ahead). */
  errorMs(hostMs = Date.now()): number {
    return this.nowUtcMs(hostMs) - hostMs;
  }

  /** Sets the clock to the start of second `secondUtcMs` at host time `hostMs`, as a PUT does. */
  set(secondUtcMs: number, hostMs = Date.now(), stdOffsetMinutes = this.stdOffsetMinutes, dst = this.dst): void {
    this.utcAtSetMs = secondUtcMs;
    this.hostAtSetMs = hostMs;
    this.stdOffsetMinutes = stdOffsetMinutes;
    this.dst = dst;
  }

  /** Moves the clock so that it is `errorMs` off the host's now (sub-second phase included). */
  setError(errorMs: number, hostMs = Date.now()): void {
    this.utcAtSetMs = hostMs + errorMs;
    this.hostAtSetMs = hostMs;
  }

  /** The CCAPI answer: wall time (DST included) with the standard offset, and the DST flag. */
  read(hostMs = Date.now()): { datetime: string; dst: boolean } {
    return { datetime: formatSimDateTime(this.displayedSecondUtcMs(hostMs), this.stdOffsetMinutes, this.dst), dst: this.dst };
  }
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Written independently of the product's formatter on purpose: a shared bug would not show. */
export function formatSimDateTime(utcMs: number, stdOffsetMinutes: number, dst: boolean): string {
  const d = new Date(utcMs + (stdOffsetMinutes + (dst ? 60 : 0)) * 60_000);
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  const abs = Math.abs(stdOffsetMinutes);
  const offset = `${stdOffsetMinutes < 0 ? '-' : '+'}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${offset}`;
}

/** Parses a PUT body as a camera would; null when it would answer 400 "Invalid parameter". */
export function parseSimDateTime(body: unknown): { secondUtcMs: number; stdOffsetMinutes: number; dst: boolean } | null {
  if (typeof body !== 'object' || body === null) return null;
  const { datetime, dst } = body as { datetime?: unknown; dst?: unknown };
  if (typeof datetime !== 'string' || typeof dst !== 'boolean') return null;
  const m = /^([A-Z][a-z]{2}), (\d\d) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(datetime);
  if (!m) return null;
  const month = MONTHS.indexOf(m[3]);
  const [day, year, h, min, s, oh, om] = [m[2], m[4], m[5], m[6], m[7], m[9], m[10]].map(Number);
  if (month < 0 || h > 23 || min > 59 || s > 59 || om > 59 || oh > 14) return null;
  const wall = Date.UTC(year, month, day, h, min, s);
  const check = new Date(wall);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month || DAYS[check.getUTCDay()] !== m[1]) return null;
  const stdOffsetMinutes = (m[8] === '-' ? -1 : 1) * (oh * 60 + om);
  return { secondUtcMs: wall - (stdOffsetMinutes + (dst ? 60 : 0)) * 60_000, stdOffsetMinutes, dst };
}
