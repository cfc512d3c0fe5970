/**
 * The slate's time, frame by frame: the Pi's clock as this screen measured it, carried forward on
 * `performance.now()` (monotonic: a step of this device's own clock moves nothing), and the display's frame
 * period from the animation frames' timestamps. Pure: no DOM, no fetch, no React.
 */
import { formatSlateCode } from '../../../backend/protocol/slate-code';
import type { Reliability } from '../../../backend/protocol/vocabulary';

/** One probe of the Pi's clock: GET /api/slate, stamped on performance.now() before sending and after the answer. */
export interface ProbeSample {
  /** The Pi's time minus performance.now() at the middle of the round trip, ms. */
  piMinusPerfMs: number;
  rttMs: number;
  /** performance.now() at the middle of the round trip. */
  atPerf: number;
  /** The setting of the Pi's clock the answer is on. */
  clock: string;
}

/** This device's monotonic clock against the Pi's: both crystals, with room to spare. */
export const DRIFT_PPM = 100;
/** A sample older than this is not used: the page probes every few seconds. */
export const MAX_SAMPLE_AGE_MS = 30_000;
/** The page's own error above which it shows no code: a slate this unsure of the Pi's time dates nothing. */
export const MAX_PAGE_ERROR_MS = 10;
/** The Pi stamps its time to the microsecond (GET /api/slate's epochMs has three decimals). */
const STAMP_MS = 0.001;

/** The Pi's time from the best recent probe (the shortest round trip, aged by the drift). */
export class PiTimeEstimate {
  private samples: ProbeSample[] = [];

  add(sample: ProbeSample): void {
    // A sample on another setting of the Pi's clock: the older ones say nothing of the clock now.
    this.samples = this.samples.filter((s) => s.clock === sample.clock && sample.atPerf - s.atPerf <= MAX_SAMPLE_AGE_MS);
    this.samples.push(sample);
  }

  /** The Pi's time at `perf`, its error bound and its clock setting; null when no recent probe. */
  at(perf: number): { piMs: number; errMs: number; clock: string } | null {
    let best: { piMs: number; errMs: number; clock: string } | null = null;
    for (const s of this.samples) {
      const age = Math.abs(perf - s.atPerf);
      if (age > MAX_SAMPLE_AGE_MS) continue;
      const errMs = s.rttMs / 2 + STAMP_MS + (age * DRIFT_PPM) / 1e6;
      if (!best || errMs < best.errMs) best = { piMs: perf + s.piMinusPerfMs, errMs, clock: s.clock };
    }
    return best;
  }

  clear(): void {
    this.samples = [];
  }
}

/** The display's frame period, from the timestamps requestAnimationFrame gives (the frames' start times). */
export class FrameClock {
  private stamps: number[] = [];
  private lastDropAt = -Infinity;

  /** Feeds one frame's timestamp. */
  tick(ts: number): void {
    const last = this.stamps.at(-1);
    this.stamps.push(ts);
    if (this.stamps.length > 61) this.stamps.shift();
    const period = this.periodMs();
    // A frame that came more than half a period late: the one before it stayed up longer than a period.
    if (last !== undefined && period !== null && ts - last > period * 1.5) this.lastDropAt = ts;
  }

  /** The median frame period over the last second, ms; null until 10 frames were seen. */
  periodMs(): number | null {
    if (this.stamps.length < 11) return null;
    const deltas = this.stamps.slice(1).map((t, i) => t - this.stamps[i]).sort((a, b) => a - b);
    return deltas[Math.floor(deltas.length / 2)];
  }

  /** No frame came late in the last `windowMs` (the code is shown only then). */
  steady(now: number, windowMs = 1000): boolean {
    return now - this.lastDropAt > windowMs;
  }
}

export interface SlateFacts {
  piId: string | null;
  reliability: Reliability | null;
  frame: number;
  periodMs: number | null;
  steady: boolean;
  /** The Pi's time at the frame's start (the requestAnimationFrame timestamp), from `PiTimeEstimate.at`. */
  estimate: { piMs: number; errMs: number; clock: string } | null;
  /** The last probe failed (the Pi does not answer). */
  probeFailed: boolean;
}

export type SlateView =
  | { kind: 'code'; text: string; piMs: number; errMs: number }
  | { kind: 'no-code'; reason: string; piMs: number | null };

/** The longest frame period a slate is drawn with (backend: MAX_FRAME_MS). */
export const MAX_FRAME_MS = 42;

/**
 * What one frame shows: the code (the Pi's time at which this frame reaches the screen at the earliest: its
 * start plus one period) or why there is none. The time in digits is shown whenever it is known.
 */
export function slateView(f: SlateFacts): SlateView {
  // The estimate is the Pi's time at the frame's start; the frame reaches the screen a period later at the earliest.
  const piMs = f.estimate ? f.estimate.piMs + (f.periodMs ?? 0) : null;
  const none = (reason: string): SlateView => ({ kind: 'no-code', reason, piMs });
  if (f.piId === null || f.reliability === null) return none(f.probeFailed ? 'The Pi does not answer: no code' : "Reading the Pi's clock…");
  if (f.reliability === 'none') return none("The Pi's time is not set yet: no code. Connect a phone to the Pi's Wi-Fi first");
  if (f.reliability === 'low') return none("The Pi's time was last confirmed over an hour ago: no code. Connect a phone to confirm it");
  if (!f.estimate) return none(f.probeFailed ? 'The Pi does not answer: no code' : "Measuring this screen against the Pi's clock…");
  if (f.estimate.errMs > MAX_PAGE_ERROR_MS) {
    return none(`This screen knows the Pi's time to ±${Math.ceil(f.estimate.errMs)} ms only (a slow Wi-Fi link): no code until ±${MAX_PAGE_ERROR_MS} ms. Move closer to the Pi`);
  }
  if (f.periodMs === null) return none('Measuring the screen…');
  if (f.periodMs > MAX_FRAME_MS) return none(`The screen draws a frame every ${Math.round(f.periodMs)} ms, too slowly for a slate: no code`);
  if (!f.steady) return none('The screen skipped a frame: no code until it draws steadily');
  const unixMs = f.estimate.piMs + f.periodMs;
  // Whole ms in the code: half a ms more of error.
  const errMs = f.estimate.errMs + 0.5;
  return { kind: 'code', text: formatSlateCode({ piId: f.piId, unixMs, frame: f.frame, frameMs: f.periodMs, errMs, clock: f.estimate.clock }), piMs: unixMs, errMs };
}
