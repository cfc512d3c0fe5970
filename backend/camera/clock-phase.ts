/**
 * Pure arithmetic of a read-only measurement of a camera's clock. The camera shows whole seconds, so one
 * reading places its error (camera minus Pi) only within a second; readings whose handling falls just before
 * and just after one of the camera's ticks place it to about a round trip. This file says where the error can
 * still be (`windowOf`), when to ask next so that the answer halves what is left (`planRound`), and whether
 * a write is needed at all (`writeDecision`). No clocks, no sockets: the session does the asking.
 */
import { ClockReading } from './sync-timing';

/** Room around a guess of where the camera's error is (its last measurement, the write just made). */
export const HINT_MARGIN_MS = 20;

/** The camera's error, camera minus Pi, ms, lies in [low, high). */
export interface ErrorWindow {
  low: number;
  high: number;
}

/**
 * What every reading allows at once: each says that at some instant between sending and receiving, the camera
 * showed second S, so its error lies in [S - received, S + 1000 - sent). null when they contradict each other
 * (a clock moved during the measurement): then nothing can be claimed.
 */
export function windowOf(readings: readonly ClockReading[]): ErrorWindow | null {
  if (!readings.length) return null;
  let low = -Infinity;
  let high = Infinity;
  for (const r of readings) {
    low = Math.max(low, r.cameraMs - r.receivedAtMs);
    high = Math.min(high, r.cameraMs + 1000 - r.sentAtMs);
  }
  return low < high ? { low, high } : null;
}

/** The window where `hint` (a guess: where the error should be) narrows it; the window itself when the guess is disproved. */
export function planningWindow(window: ErrorWindow, hint: ErrorWindow | null | undefined): ErrorWindow {
  if (!hint) return window;
  const low = Math.max(window.low, hint.low);
  const high = Math.min(window.high, hint.high);
  return high - low > 1 ? { low, high } : window;
}

/**
 * Pi instants at which the camera should handle the probes of the next round, in order. With the error known
 * to within `w` of a second, the camera ticks at Pi times `k s - e` for e in the window: the probes split the
 * first such interval that is at least half reachable (from `earliestMs`) into equal parts, as many as fit
 * `minSpacingMs` apart (a request must be back before the next leaves), at most `maxProbes`. When the phase is
 * not known at all, they cover one whole second. `straddle` (the window is only a guess, nothing bounds it
 * yet): the first and last probe fall just outside it, so that one round bounds the error on both sides.
 */
export function planRound(window: ErrorWindow, earliestMs: number, minSpacingMs: number, maxProbes: number, straddle = false): number[] {
  const spacing = Math.max(minSpacingMs, 1);
  const width = window.high - window.low;
  if (width >= 1000 - spacing) {
    const step = Math.max(spacing, 1000 / maxProbes);
    const count = Math.ceil(1000 / step) + 1;
    return Array.from({ length: count }, (_, j) => earliestMs + j * step);
  }
  const margin = straddle ? spacing / 2 : 0;
  let k = Math.floor((earliestMs + window.low) / 1000);
  let start = k * 1000 - window.high - margin;
  let end = k * 1000 - window.low + margin;
  while (end - Math.max(start, earliestMs) < (width + 2 * margin) / 2) {
    k += 1;
    start += 1000;
    end += 1000;
  }
  const from = Math.max(start, earliestMs);
  const reach = end - from;
  if (straddle) {
    const count = Math.min(maxProbes, Math.max(2, Math.floor(reach / spacing) + 1));
    return Array.from({ length: count }, (_, j) => from + (reach * j) / (count - 1));
  }
  const count = Math.min(maxProbes, Math.max(1, Math.floor(reach / spacing) - 1));
  return Array.from({ length: count }, (_, j) => from + (reach * (j + 1)) / (count + 1));
}

/** Whether a probe handled at Pi time `atMs` (± `marginMs`) can still tell something: a tick of the camera may fall there. */
export function probeUseful(window: ErrorWindow, atMs: number, marginMs: number): boolean {
  const nextTick = Math.ceil((atMs + window.low - marginMs) / 1000) * 1000;
  return nextTick - atMs < window.high + marginMs;
}

/**
 * Whether a camera whose error lies in `window` needs writing for a threshold: `write` when every error the
 * window allows is beyond it, `keep` when every one is within, otherwise `undecided`.
 */
export type WriteDecision = 'write' | 'keep' | 'undecided';
export function writeDecision(window: ErrorWindow, thresholdMs: number): WriteDecision {
  if (window.low > thresholdMs || window.high <= -thresholdMs) return 'write';
  if (window.low >= -thresholdMs && window.high <= thresholdMs && thresholdMs > 0) return 'keep';
  return 'undecided';
}
