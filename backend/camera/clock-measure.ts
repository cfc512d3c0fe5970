/**
 * Measuring a camera's clock without writing it, over a CameraReader: poll GET datetime around the camera's
 * second ticks until its error (camera minus Pi) is known to about a round trip. The arithmetic is clock-phase.ts
 * and sync-timing.ts; this file does the asking and the waiting, on the clock and waiter it is given.
 */
import { Clock } from '../time/clock';
import { ASSUMED_MAX_DRIFT_PPM } from '../time/drift';
import { CameraMeasurement, MeasurementKind } from './camera-measurement';
import { PiNow } from './camera-clock-model';
import { CameraReader, Reading } from './camera-reader';
import { iso } from './camera-report';
import { ErrorWindow, planningWindow, planRound, probeUseful, windowOf, writeDecision } from './clock-phase';
import { ClockReading, recentRoundTripMs } from './sync-timing';
import { Waiter } from './waiter';

/** What measuring and writing a camera's clock use: the camera, the Pi's clocks, and a way to wait on them. */
export interface ClockIo {
  reader: CameraReader;
  clock: Clock;
  waiter: Pick<Waiter, 'until'>;
}

/** A clock known only this loosely is "uncertain" (the camera shows whole seconds: ±500 is no measurement; ±200 still says which part of the second). */
export const MEANINGFUL_BOUND_MS = 200;
/** A change of wall minus monotonic beyond this means the Pi clock was stepped. */
export const STEP_TOLERANCE_MS = 20;
/** Reads a measurement starts with (a coarse window and the round trip). */
const FIRST_READS = 3;
/** Rounds of probes around the camera's ticks (each about one second), and the time they may take. */
const MEASURE_MAX_ROUNDS = 5;
const MEASURE_BUDGET_MS = 6000;
/** Probes in one round, at most (one second unknown: one every 50 ms). */
const MAX_PROBES_PER_ROUND = 20;
/** Between a probe's answer and the next send, and from planning to the first send, ms. */
const PROBE_GAP_MS = 2;
const PROBE_LEAD_MS = 5;
/** Below this the measurement stops refining (and a round trip's worth is the best a link allows). */
const MEASURE_TIGHT_MS = 8;
/** Pi timestamps are whole milliseconds. */
const TIMESTAMP_RESOLUTION_MS = 1;
/** Longest single wait of a measurement between looks at whether it was cancelled. */
const CANCEL_CHECK_MS = 100;

/** What a measurement's readings claim (see `conclude`). */
export interface Phase {
  readings: Reading[];
  /** The error window, widened by the slack of `conclude`; null if the readings contradict each other or the Pi stepped. */
  window: ErrorWindow | null;
  /** Camera minus Pi and its bound; null when uncertain (`uncertain` says why). */
  errorMs: number | null;
  boundMs: number | null;
  uncertain: string | null;
  roundTripMs: number | null;
  /** The Pi's wall minus monotonic, monotonic and wall time at the end. */
  epoch: number;
  atMono: number;
  atMs: number;
}

export interface MeasureOptions {
  /** Where to look first (only a guess: the readings alone decide what is claimed). */
  hint?: ErrorWindow | null;
  /** Stop as soon as the camera is known to be beyond this (a write follows and refines it); 0: write whatever it shows. */
  thresholdMs?: number;
  /** Readings already taken of the same setting of the camera's clock. */
  seed?: Reading[];
  /** Asked between reads and during waits: true ends the measurement with null. */
  stop?: () => boolean;
  /** false: no confirmation pair (nothing else can write the camera's clock meanwhile). */
  confirm?: boolean;
  /** A write's own before and after: one round fewer (see targetBound). */
  loose?: boolean;
}

/**
 * Polls the camera's clock around its second ticks until its error is known to about a round trip: three
 * reads for a coarse window and the latency, then rounds of probes timed to be handled where a tick may be,
 * each round splitting what is left (clock-phase.ts). Stops when tight, when `thresholdMs` is decided to be
 * exceeded (a write follows and refines it), when a round teaches nothing (the link is too slow or jittery
 * for more) or after MEASURE_BUDGET_MS. `hint` only says where to look first. null if `stop()` said so.
 */
export async function measureClock(io: ClockIo, options: MeasureOptions): Promise<Phase | null> {
  const { reader, clock } = io;
  const stop = options.stop ?? (() => false);
  const start = piNow(clock);
  const startMono = start.mono;
  const readings: Reading[] = [...(options.seed ?? [])];
  while (readings.length < FIRST_READS) {
    if (stop()) return null;
    readings.push(await reader.readClock());
  }
  let previousWidth = Infinity;
  for (let round = 0; round < MEASURE_MAX_ROUNDS + (options.hint ? 1 : 0); round++) {
    const window = windowOf(readings);
    if (!window) break;
    const rtt = recentRoundTripMs(readings.map(roundTripOf)) ?? 0;
    const width = window.high - window.low;
    if (width / 2 <= targetBound(rtt, options.loose)) break;
    if (options.thresholdMs !== undefined && (options.thresholdMs === 0 || writeDecision(window, options.thresholdMs) === 'write')) break;
    if (clock.monotonic() - startMono > MEASURE_BUDGET_MS) break;
    // The guess of where to look serves the first round only: if the clock is not where it should be, the next
    // rounds search the whole window (and a round spent on a wrong guess does not count as one that taught nothing).
    const hint = round === 0 ? options.hint : null;
    if (!hint) {
      if (previousWidth - width < 1) break;
      previousWidth = width;
    }
    const oneWay = rtt / 2;
    const planned = planningWindow(window, hint);
    const guessed = planned.low !== window.low || planned.high !== window.high;
    const plan = planRound(planned, clock.now() + oneWay + PROBE_LEAD_MS, rtt + PROBE_GAP_MS, MAX_PROBES_PER_ROUND, guessed);
    for (const atMs of plan) {
      const known = windowOf(readings);
      if (!known) break;
      const wait = atMs - oneWay - clock.now();
      // A probe made pointless by what came back (the tick is already placed elsewhere) is not sent.
      if (!probeUseful(known, Math.max(atMs, clock.now() + oneWay), oneWay)) continue;
      if (clock.monotonic() + wait - startMono > MEASURE_BUDGET_MS + 1000) break;
      if (wait > 0 && (await pauseFor(io, wait, stop))) return null;
      if (stop()) return null;
      readings.push(await reader.readClock());
    }
  }
  const decided = options.thresholdMs !== undefined && readings.length && (() => {
    const w = windowOf(readings);
    return w !== null && (options.thresholdMs === 0 || writeDecision(w, options.thresholdMs!) === 'write');
  })();
  if (!decided && options.confirm !== false && (await confirm(io, readings, stop))) return null;
  return conclude(readings, start, piNow(clock));
}

/**
 * One more pair of probes, handled just before and just after the tick the readings predict (a second later):
 * if the camera's clock moved during the measurement (someone set it), they contradict the rest and the
 * measurement is uncertain rather than wrong. Readings of an unmoved clock never contradict. true if stopped.
 */
async function confirm(io: ClockIo, readings: Reading[], stop: () => boolean): Promise<boolean> {
  const { clock } = io;
  const window = windowOf(readings);
  if (!window || (window.high - window.low) / 2 > MEANINGFUL_BOUND_MS) return false;
  const oneWay = (recentRoundTripMs(readings.map(roundTripOf)) ?? 0) / 2;
  const middle = (window.low + window.high) / 2;
  const margin = (window.high - window.low) / 2 + oneWay + PROBE_GAP_MS;
  const earliest = clock.now() + oneWay + PROBE_LEAD_MS + margin;
  const tick = Math.ceil((earliest + middle) / 1000) * 1000 - middle;
  for (const atMs of [tick - margin, tick + margin]) {
    const wait = atMs - oneWay - clock.now();
    if (wait > 0 && (await pauseFor(io, wait, stop))) return true;
    if (stop()) return true;
    readings.push(await io.reader.readClock());
  }
  return false;
}

/**
 * What the readings claim, taken between `start` and `end`. The bound is the window's half width plus what could
 * move it unseen: whole-ms stamps, a Pi step under STEP_TOLERANCE_MS, drift during the measurement. Contradicting
 * readings, a Pi step or a bound beyond MEANINGFUL_BOUND_MS make it uncertain: nothing is claimed rather than a
 * bound not backed up.
 */
export function conclude(readings: Reading[], start: PiNow, end: PiNow): Phase {
  const shift = Math.abs(end.epoch - start.epoch);
  const base = { readings, epoch: end.epoch, atMono: end.mono, atMs: end.mono + end.epoch, roundTripMs: recentRoundTripMs(readings.map(roundTripOf)) };
  const window = windowOf(readings);
  if (!window) return { ...base, window: null, errorMs: null, boundMs: null, uncertain: "the camera's answers contradict each other (its clock or the Pi's moved during the measurement)" };
  if (shift > STEP_TOLERANCE_MS) return { ...base, window: null, errorMs: null, boundMs: null, uncertain: 'the Pi clock was stepped during the measurement' };
  const slack = TIMESTAMP_RESOLUTION_MS + shift + (ASSUMED_MAX_DRIFT_PPM / 1e6) * (end.mono - start.mono);
  const widened = { low: window.low - slack, high: window.high + slack };
  const errorMs = (widened.low + widened.high) / 2;
  const boundMs = (widened.high - widened.low) / 2;
  if (boundMs > MEANINGFUL_BOUND_MS) {
    const rtt = base.roundTripMs === null ? '' : `, round trips of about ${Math.round(base.roundTripMs)} ms`;
    return { ...base, window: widened, errorMs: null, boundMs: null, uncertain: `the camera's clock is known only to ±${Math.ceil(boundMs)} ms${rtt}` };
  }
  return { ...base, window: widened, errorMs, boundMs, uncertain: null };
}

/** The measurement a phase makes of camera `cameraId`: whole ms, the rounding inside the bound. */
export function toMeasurement(phase: Phase, kind: MeasurementKind, cameraId: string): CameraMeasurement {
  const certain = phase.errorMs !== null && phase.boundMs !== null;
  return {
    cameraId,
    at: iso(phase.atMs),
    atMono: phase.atMono,
    offsetMs: certain ? Math.round(phase.errorMs!) + 0 : null,
    boundMs: certain ? Math.ceil(phase.boundMs! + 0.5) : null,
    uncertain: !certain,
    ...(phase.uncertain ? { reason: phase.uncertain } : {}),
    samples: phase.readings.length,
    roundTripMs: phase.roundTripMs === null ? null : Math.round(phase.roundTripMs * 10) / 10,
    kind,
  };
}

/** The Pi's clocks now. */
export function piNow(clock: Clock): PiNow {
  return { epoch: clock.epochOfMonotonic(), mono: clock.monotonic() };
}

/**
 * Where a measurement stops refining, from the round trip: about three quarters of it (what a few rounds of
 * probes reach), or a whole one when `loose` (a write's own before and after: one round fewer, tens of ms still).
 */
export function targetBound(roundTripMs: number, loose = false): number {
  return Math.max(MEASURE_TIGHT_MS, (loose ? 1 : 0.75) * roundTripMs + 2);
}

/** Half the round trip to expect of the next request, from this sync's own latest readings (a level shift followed at once). */
export function oneWayOf(readings: readonly ClockReading[]): number {
  return (recentRoundTripMs(readings.map(roundTripOf)) ?? 0) / 2;
}

export function roundTripOf(r: ClockReading): number {
  return r.receivedAtMs - r.sentAtMs;
}

/** Waits `ms`, looking every CANCEL_CHECK_MS whether to stop; true if it stopped. */
async function pauseFor({ clock, waiter }: ClockIo, ms: number, stop: () => boolean): Promise<boolean> {
  const until = clock.monotonic() + ms;
  for (;;) {
    if (stop()) return true;
    const left = until - clock.monotonic();
    if (left <= 0) return false;
    await waiter.until(clock.monotonic() + Math.min(left, CANCEL_CHECK_MS));
  }
}
