/**
 * What a session knows of its camera's clock, as a plain value: the last measurement that was not uncertain, the
 * drift since the last write, and from them where the camera's error should be now. Pure: the session measures
 * and passes the Pi's clocks of now in.
 */
import { CameraClockCheck } from '../protocol/messages';
import { ASSUMED_MAX_DRIFT_PPM, DriftEstimate, estimateDrift, feasibleRates, IMPLAUSIBLE_DRIFT_PPM, offsetBoundAfter, OffsetSample, roundedDrift } from '../time/drift';
import { CameraMeasurement, CertainMeasurement } from './camera-measurement';
import { ErrorWindow, HINT_MARGIN_MS } from './clock-phase';

/** Samples of a camera's drift kept (as DriftSeries). */
const MAX_DRIFT_SAMPLES = 48;

/** The Pi's clocks at one instant: monotonic, and wall minus monotonic (`epoch`: it moves when the wall clock is stepped). */
export interface PiNow {
  mono: number;
  epoch: number;
}

export interface CameraClockModel {
  /** The last measurement that was not uncertain, and the Pi's epoch then (to follow a step of the Pi since). */
  last: { measurement: CertainMeasurement; epoch: number } | null;
  /**
   * Since the last write: camera minus the Pi's monotonic clock (offsets plus the epoch's change since `epoch`),
   * so that a step of the Pi's wall clock does not break the series.
   */
  drift: { epoch: number; samples: readonly OffsetSample[] } | null;
  /** Monotonic time of the last measurement, uncertain ones too. */
  lastMeasuredMono: number | null;
}

export const UNKNOWN_CLOCK: CameraClockModel = { last: null, drift: null, lastMeasuredMono: null };

/** A measurement taken at Pi epoch `epoch`; `keep`: as the camera's clock now and for its drift (unless uncertain). */
export function withMeasurement(model: CameraClockModel, m: CameraMeasurement, epoch: number, keep: boolean): CameraClockModel {
  const lastMeasuredMono = m.atMono;
  if (!keep || m.uncertain || m.offsetMs === null || m.boundMs === null) return { ...model, lastMeasuredMono };
  const driftEpoch = model.drift?.epoch ?? epoch;
  const sample = { atMono: m.atMono, offsetMs: m.offsetMs + (epoch - driftEpoch), boundMs: m.boundMs };
  return {
    last: { measurement: m as CertainMeasurement, epoch },
    drift: { epoch: driftEpoch, samples: withDriftSample(model.drift?.samples ?? [], sample) },
    lastMeasuredMono,
  };
}

/** The camera's clock was set (or another camera answers at its address): what was known of it no longer holds. */
export function clockForgotten(model: CameraClockModel): CameraClockModel {
  return { ...model, last: null, drift: null };
}

/** The camera's drift against the Pi since its last write, or null. */
export function driftOf(model: CameraClockModel): DriftEstimate | null {
  return model.drift ? estimateDrift(model.drift.samples) : null;
}

/** Where the camera's error should be now (camera minus Pi), from its last measurement, its drift and any Pi step since. */
export function expectedNow(model: CameraClockModel, now: PiNow): { offsetMs: number; boundMs: number } | null {
  if (!model.last) return null;
  const { measurement: m, epoch } = model.last;
  const ageMs = now.mono - m.atMono;
  const drift = driftOf(model);
  // A step of the Pi's wall clock by +d since makes camera minus Pi smaller by d.
  const offsetMs = m.offsetMs - (now.epoch - epoch);
  const total = offsetBoundAfter({ offsetMs, boundMs: m.boundMs }, drift, ageMs);
  const center = offsetMs + (driftKnown(drift) ? (drift!.ppm / 1e6) * ageMs : 0);
  return { offsetMs: center, boundMs: total - Math.abs(center) };
}

/** A guess of where to look first for the camera's tick; null when nothing useful is known. */
export function expectedWindow(model: CameraClockModel, now: PiNow): ErrorWindow | null {
  const expected = expectedNow(model, now);
  if (!expected || expected.boundMs + HINT_MARGIN_MS >= 500) return null;
  return { low: expected.offsetMs - expected.boundMs - HINT_MARGIN_MS, high: expected.offsetMs + expected.boundMs + HINT_MARGIN_MS };
}

/** The camera's clock as the status shows it; null before a measurement that was not uncertain. */
export function clockCheckOf(model: CameraClockModel, now: PiNow): CameraClockCheck | null {
  if (!model.last) return null;
  const m = model.last.measurement;
  const drift = driftOf(model);
  const expected = expectedNow(model, now)!;
  return {
    offsetMs: m.offsetMs,
    boundMs: m.boundMs,
    checkedAt: m.at,
    ageMs: Math.round(now.mono - m.atMono),
    drift: drift ? roundedDrift(drift) : null,
    errorNowMs: Math.ceil(expected.boundMs + Math.abs(expected.offsetMs)),
    driftMeasured: driftKnown(drift),
  };
}

/**
 * DriftSeries.add as a value: a sample that needs an implausible rate with the older ones (the camera was set in
 * between, a bound did not hold) drops the oldest until they agree again; at most MAX_DRIFT_SAMPLES.
 */
export function withDriftSample(samples: readonly OffsetSample[], sample: OffsetSample, max = MAX_DRIFT_SAMPLES): OffsetSample[] {
  if (!Number.isFinite(sample.offsetMs) || !Number.isFinite(sample.boundMs) || sample.boundMs < 0) return [...samples];
  let next = [...samples, sample];
  if (next.length > max) next = next.slice(1);
  while (next.length > 1 && !plausible(feasibleRates(next))) next = next.slice(1);
  return next;
}

/** A drift measured well enough to use (else ASSUMED_MAX_DRIFT_PPM is). */
function driftKnown(drift: DriftEstimate | null): drift is DriftEstimate {
  return drift !== null && Math.abs(drift.ppm) + drift.boundPpm <= ASSUMED_MAX_DRIFT_PPM;
}

function plausible(rates: { low: number; high: number } | null): boolean {
  const max = IMPLAUSIBLE_DRIFT_PPM / 1e6;
  return rates !== null && rates.low <= max && rates.high >= -max;
}
