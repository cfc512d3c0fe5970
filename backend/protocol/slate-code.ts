/**
 * The time slate's QR text, shared by the page that draws it and the server that reads it back from photos
 * (no Node, no DOM: the page imports it). Documented in docs/slate.md, so other tools can read it too:
 *
 *   TS1;<pi>;<unixMs>;<frame>;<frameMs>;<errMs>;<clock>
 *
 * - `TS1`: this format, version 1.
 * - `<pi>`: the Pi's identity, 1-16 of [A-Za-z0-9_-] (PI_NAME, else a hash of the machine id): not secret.
 * - `<unixMs>`: the Pi's time, decimal Unix milliseconds, at which this frame reaches the screen at the
 *   earliest (the frame's start plus one frame period).
 * - `<frame>`: a frame counter of the page that drew it (decimal, from 0).
 * - `<frameMs>`: the display's frame period as the page measured it, ms with one decimal (16.7 at 60 Hz).
 * - `<errMs>`: how far the page's idea of the Pi's time can be off, ms with one decimal (its last probe).
 * - `<clock>`: which setting of the Pi's clock `<unixMs>` is on: `<run>.<n>` (the server run, 4 hex digits, and
 *   the number of times its clock was moved since): a photo taken before a step can be put on the clock after it.
 */
export const SLATE_CODE_VERSION = 'TS1' as const;

export interface SlateCode {
  piId: string;
  unixMs: number;
  frame: number;
  frameMs: number;
  errMs: number;
  clock: string;
}

export const PI_ID_PATTERN = /^[A-Za-z0-9_-]{1,16}$/;
export const SLATE_CLOCK_PATTERN = /^[0-9a-f]{4}\.[0-9]{1,9}$/;
const CODE = /^TS1;([A-Za-z0-9_-]{1,16});([0-9]{1,15});([0-9]{1,10});([0-9]{1,3}(?:\.[0-9])?);([0-9]{1,5}(?:\.[0-9])?);([0-9a-f]{4}\.[0-9]{1,9})$/;

/** The QR text of one frame. Times are rounded to whole ms, the periods to 0.1 ms (the error up, never down). */
export function formatSlateCode(code: SlateCode): string {
  return [SLATE_CODE_VERSION, code.piId, Math.round(code.unixMs), Math.max(0, Math.floor(code.frame)), code.frameMs.toFixed(1), (Math.ceil(code.errMs * 10) / 10).toFixed(1), code.clock].join(';');
}

/** The fields of a slate's QR text, or null when the text is not one (another QR code, another version). */
export function parseSlateCode(text: string): SlateCode | null {
  const m = CODE.exec(text.trim());
  if (!m) return null;
  const [unixMs, frame, frameMs, errMs] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  if (!Number.isSafeInteger(unixMs) || frameMs <= 0) return null;
  return { piId: m[1], unixMs, frame, frameMs, errMs, clock: m[6] };
}

/** Whether a QR text claims to be a slate at all (any version): a newer slate is told apart from a stranger's code. */
export function looksLikeSlateCode(text: string): boolean {
  return /^TS[0-9]+;/.test(text.trim());
}
