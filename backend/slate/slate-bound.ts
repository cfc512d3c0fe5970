/**
 * How well one photo of the slate tells a camera's offset, and several photos together. Pure: plain values in,
 * plain values out.
 *
 * The offset is "camera minus Pi" at the start of the exposure: the camera's stamp (DateTimeOriginal with its
 * sub-seconds, in its zone) minus the Pi's time when the shutter opened. That is what puts a photo on the
 * Pi's time: whatever the camera's shutter lag, its stamp minus this offset is when the picture was taken.
 *
 * Why the interval holds (s: the slate's time in the code; F: the display's frame period; Λ: how much later
 * than the earliest a frame may reach the screen, SLATE_LATENCY_FRAMES × F; e: the page's own error; r: the
 * EXIF resolution; X: the exposure time; E: the EXIF stamp, as an instant):
 * - The page writes into frame N the Pi's time at which N reaches the screen at the earliest (the frame's
 *   start plus one period: a frame drawn now is shown at the next vsync or later). N is then on screen from
 *   s + λ until s + λ + F, λ in [0, Λ], with s itself known to ±e.
 * - The camera read N's code, so its exposure [a, a + X] overlapped N's time on screen: a is in
 *   [s + λ - X, s + λ + F]. A blend of two frames decodes as one of them or not at all; either way it overlapped.
 * - The camera truncates its clock to the digits it writes: its clock read between E and E + r (10 ms with
 *   Canon's two sub-second digits; a whole second without any).
 * - So camera minus Pi = (clock) - a lies in [E - s - Λ - F - e, E - s + r + X + e]: width Λ + F + r + X + 2e.
 *   At 60 Hz, 1/250 s, two sub-second digits, a kiosk's e of 1 ms and Λ of one frame: 49.4 ms, ±24.7 ms.
 *
 * Several photos of one camera: the true offset is in every photo's interval, so in their intersection (the
 * camera's drift between the photos widens each by DRIFT_PPM times its distance from the middle one). Their
 * phases differ (where in the frame the shutter opened, where in the 10 ms the clock was), so the intersection
 * is tighter than any one of them; its middle is the estimate. Photos whose intervals do not meet contradict
 * each other (a clock set in between, two bodies with one serial number): then the median of their middles,
 * with a bound wide enough to hold every interval, and `consistent: false`.
 */

/** What one photo tells, in ms. */
export interface PhotoTiming {
  /** The camera's stamp as an instant (Unix ms): DateTimeOriginal + sub-seconds - its zone's offset. */
  cameraMs: number;
  /** Sub-second digits in the photo (0: whole seconds only). */
  subSecDigits: number;
  /** Exposure time, ms; null when the photo does not say (then UNKNOWN_EXPOSURE_MS is assumed). */
  exposureMs: number | null;
  /** The slate's code: its time, the display's frame period and the page's own error. */
  slateMs: number;
  frameMs: number;
  pageErrMs: number;
}

export interface SlateBoundSettings {
  /** How many frame periods later than the earliest a frame may reach the screen (the compositor's queue). */
  latencyFrames: number;
}

/** Assumed when a photo has no ExposureTime: a readable code rules out long exposures (the code changes every frame). */
export const UNKNOWN_EXPOSURE_MS = 100;
/** A camera clock's drift between photos of one group (the product's assumption for unknown clocks). */
export const DRIFT_PPM = 50;
/** The longest frame period a slate is trusted with (below 24 Hz a code is up too long to mean one instant). */
export const MAX_FRAME_MS = 42;

/** The terms of a photo's interval, for the answer and the docs. */
export interface BoundTerms {
  frameMs: number;
  latencyMs: number;
  exifResolutionMs: number;
  exposureMs: number;
  exposureAssumed: boolean;
  pageErrMs: number;
}

export interface OffsetInterval {
  /** Camera minus Pi, ms: the middle of [lowMs, highMs], and half its width. */
  offsetMs: number;
  boundMs: number;
  lowMs: number;
  highMs: number;
}

export interface PhotoOffset extends OffsetInterval {
  terms: BoundTerms;
}

/** One photo's offset and the interval that holds it (see the file's comment). */
export function photoOffset(t: PhotoTiming, settings: SlateBoundSettings): PhotoOffset {
  const frameMs = t.frameMs;
  const latencyMs = settings.latencyFrames * frameMs;
  const exifResolutionMs = 1000 / 10 ** Math.max(0, Math.min(3, t.subSecDigits));
  const exposureAssumed = t.exposureMs === null || !Number.isFinite(t.exposureMs) || t.exposureMs < 0;
  const exposureMs = exposureAssumed ? UNKNOWN_EXPOSURE_MS : (t.exposureMs as number);
  const e = Math.max(0, t.pageErrMs);
  const d = t.cameraMs - t.slateMs;
  const lowMs = d - latencyMs - frameMs - e;
  const highMs = d + exifResolutionMs + exposureMs + e;
  return { ...middle(lowMs, highMs), terms: { frameMs, latencyMs: round3(latencyMs), exifResolutionMs, exposureMs, exposureAssumed, pageErrMs: e } };
}

export interface GroupOffset extends OffsetInterval {
  photos: number;
  /** The median of the photos' middles (the estimate itself when they contradict each other). */
  medianMs: number;
  /** Every photo's interval meets the others (after the drift allowance). */
  consistent: boolean;
}

/** Several photos of one camera: the intersection of their intervals (see the file's comment). */
export function groupOffset(photos: Array<OffsetInterval & { slateMs: number }>, driftPpm = DRIFT_PPM): GroupOffset {
  if (!photos.length) throw new Error('groupOffset needs at least one photo');
  const mid = median(photos.map((p) => p.slateMs));
  const widened = photos.map((p) => {
    const drift = (Math.abs(p.slateMs - mid) * driftPpm) / 1e6;
    return { lowMs: p.lowMs - drift, highMs: p.highMs + drift, offsetMs: p.offsetMs };
  });
  const lowMs = Math.max(...widened.map((p) => p.lowMs));
  const highMs = Math.min(...widened.map((p) => p.highMs));
  const medianMs = round3(median(photos.map((p) => p.offsetMs)));
  if (lowMs <= highMs) return { ...middle(lowMs, highMs), photos: photos.length, medianMs, consistent: true };
  const boundMs = Math.max(...widened.map((p) => Math.max(medianMs - p.lowMs, p.highMs - medianMs)));
  return { offsetMs: medianMs, boundMs: round3(boundMs), lowMs: round3(medianMs - boundMs), highMs: round3(medianMs + boundMs), photos: photos.length, medianMs, consistent: false };
}

function middle(lowMs: number, highMs: number): OffsetInterval {
  return { offsetMs: round3((lowMs + highMs) / 2), boundMs: round3((highMs - lowMs) / 2), lowMs: round3(lowMs), highMs: round3(highMs) };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
