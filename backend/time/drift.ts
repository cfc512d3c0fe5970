/**
 * How fast a clock drifts from its reference, from successive measurements of its offset: pure arithmetic,
 * no clocks. Used for the cameras (camera minus the Pi, from read-only measurements) and for the Pi itself
 * (the Pi minus the phone, from client syncs).
 *
 * Each measurement is a hard bound: the true offset at `atMono` lies within `offsetMs ± boundMs`. If the rate
 * is constant, the rates that fit every measurement form an interval, found exactly from the pairs of
 * measurements (for a line through boxes, the pairwise conditions are sufficient). The estimate is the
 * weighted least-squares slope (weights 1/bound²) kept inside that interval, and its bound reaches both ends:
 * so the bound holds whenever the measurements' bounds do.
 */

/** One measurement of a clock against its reference. */
export interface OffsetSample {
  /** Monotonic instant of the measurement, ms. */
  atMono: number;
  /** The clock minus its reference, ms. */
  offsetMs: number;
  /** |measured - true| <= boundMs. */
  boundMs: number;
}

export interface DriftEstimate {
  /** Rate of the clock against its reference, parts per million; positive: it gains (runs fast). */
  ppm: number;
  /** The true rate lies within ppm ± boundPpm (if the rate was constant and every measurement's bound held). */
  boundPpm: number;
  /** The same in seconds per day. */
  sPerDay: number;
  boundSPerDay: number;
  samples: number;
  /** Time from the first to the last sample, ms. */
  spanMs: number;
  /**
   * The figure means something: its bound is within DRIFT_KNOWN_BOUND_S_PER_DAY. A photographer shown
   * "drifts -16 s/day" from 4 s of data would think the camera broken, so until then it is "not known yet".
   */
  known: boolean;
  /** Until `known`: about how much longer the measurements must span, ms (the bound shrinks as 1/span); else 0. */
  knownInMs: number;
}

const MS_PER_DAY = 86_400_000;
/** ppm to seconds per day: 1 ppm = 86.4 ms/day. */
export const S_PER_DAY_PER_PPM = MS_PER_DAY / 1e6 / 1000;

/**
 * Crystal clocks this product meets drift less than this (Canon bodies ~1.5 ppm, others up to ~13 ppm, a Pi
 * -6 to +2 ppm): the rate assumed for the error bound of a clock whose drift has not been measured yet.
 */
export const ASSUMED_MAX_DRIFT_PPM = 50;
/**
 * A drift is shown as a figure only when its bound is at most this (1 s/day, 11.6 ppm): below the spread of the
 * clocks it describes, so the figure tells a fast clock from a slow one.
 */
export const DRIFT_KNOWN_BOUND_S_PER_DAY = 1;
/** No running crystal clock drifts this fast (43 s a day): samples that need it mean the clock was set in between. */
export const IMPLAUSIBLE_DRIFT_PPM = 500;

/** The rates (ms per ms) that fit every sample, or null if none does (a step, or a bound that did not hold). */
export function feasibleRates(samples: readonly OffsetSample[]): { low: number; high: number } | null {
  let low = -Infinity;
  let high = Infinity;
  for (let i = 0; i < samples.length; i++) {
    for (let j = 0; j < samples.length; j++) {
      const dt = samples[j].atMono - samples[i].atMono;
      if (dt === 0 && i < j && Math.abs(samples[j].offsetMs - samples[i].offsetMs) > samples[i].boundMs + samples[j].boundMs) return null;
      if (dt <= 0) continue;
      high = Math.min(high, (samples[j].offsetMs + samples[j].boundMs - (samples[i].offsetMs - samples[i].boundMs)) / dt);
      low = Math.max(low, (samples[j].offsetMs - samples[j].boundMs - (samples[i].offsetMs + samples[i].boundMs)) / dt);
    }
  }
  return low <= high ? { low, high } : null;
}

/** The drift from `samples` (any order); null with fewer than two at different instants, or if they contradict each other. */
export function estimateDrift(samples: readonly OffsetSample[]): DriftEstimate | null {
  if (samples.length < 2) return null;
  const times = samples.map((s) => s.atMono);
  const spanMs = Math.max(...times) - Math.min(...times);
  if (!(spanMs > 0)) return null;
  const feasible = feasibleRates(samples);
  if (!feasible) return null;

  const weights = samples.map((s) => 1 / Math.max(s.boundMs, 0.5) ** 2);
  const total = weights.reduce((a, b) => a + b, 0);
  const meanT = samples.reduce((a, s, i) => a + weights[i] * s.atMono, 0) / total;
  const meanO = samples.reduce((a, s, i) => a + weights[i] * s.offsetMs, 0) / total;
  let sxy = 0;
  let sxx = 0;
  samples.forEach((s, i) => {
    sxy += weights[i] * (s.atMono - meanT) * (s.offsetMs - meanO);
    sxx += weights[i] * (s.atMono - meanT) ** 2;
  });
  const fitted = sxx > 0 ? sxy / sxx : (feasible.low + feasible.high) / 2;
  const slope = Math.min(feasible.high, Math.max(feasible.low, fitted));
  const bound = Math.max(slope - feasible.low, feasible.high - slope);
  const ppm = slope * 1e6;
  const boundPpm = bound * 1e6;
  const boundSPerDay = boundPpm * S_PER_DAY_PER_PPM;
  return { ppm, boundPpm, sPerDay: ppm * S_PER_DAY_PER_PPM, boundSPerDay, samples: samples.length, spanMs, ...knownness(boundSPerDay, spanMs) };
}

/** Whether a bound makes the figure meaningful and, if not, how much more span would (bound ~ 1/span). */
export function knownness(boundSPerDay: number, spanMs: number): { known: boolean; knownInMs: number } {
  if (boundSPerDay <= DRIFT_KNOWN_BOUND_S_PER_DAY) return { known: true, knownInMs: 0 };
  return { known: false, knownInMs: Math.ceil(spanMs * (boundSPerDay / DRIFT_KNOWN_BOUND_S_PER_DAY - 1)) };
}

/**
 * A bound on the clock's offset `elapsedMs` after a measurement `offsetMs ± boundMs`: the rate known (its
 * estimate and bound), or else ASSUMED_MAX_DRIFT_PPM. `|offset + rate × elapsed| + bound + rateBound × elapsed`.
 */
export function offsetBoundAfter(measured: { offsetMs: number; boundMs: number }, drift: DriftEstimate | null, elapsedMs: number): number {
  const elapsed = Math.max(0, elapsedMs);
  const known = drift !== null && Math.abs(drift.ppm) + drift.boundPpm <= ASSUMED_MAX_DRIFT_PPM;
  const rate = known ? drift.ppm / 1e6 : 0;
  const rateBound = known ? drift.boundPpm / 1e6 : ASSUMED_MAX_DRIFT_PPM / 1e6;
  return Math.abs(measured.offsetMs + rate * elapsed) + measured.boundMs + rateBound * elapsed;
}

function plausible(rates: { low: number; high: number } | null): boolean {
  const max = IMPLAUSIBLE_DRIFT_PPM / 1e6;
  return rates !== null && rates.low <= max && rates.high >= -max;
}

/**
 * Successive measurements of one clock against one reference. A measurement that contradicts the older ones
 * (the rate changed, the clock was set, a bound did not hold) or needs an implausible rate drops the oldest until they agree again, so one
 * bad sample never freezes the estimate. At most `maxSamples` are kept.
 */
export class DriftSeries {
  private samples: OffsetSample[] = [];

  constructor(private readonly maxSamples = 48) {}

  add(sample: OffsetSample): void {
    if (!Number.isFinite(sample.offsetMs) || !Number.isFinite(sample.boundMs) || sample.boundMs < 0) return;
    this.samples.push(sample);
    if (this.samples.length > this.maxSamples) this.samples.shift();
    while (this.samples.length > 1 && !plausible(feasibleRates(this.samples))) this.samples.shift();
  }

  clear(): void {
    this.samples = [];
  }

  get count(): number {
    return this.samples.length;
  }

  get last(): OffsetSample | null {
    return this.samples.at(-1) ?? null;
  }

  estimate(): DriftEstimate | null {
    return estimateDrift(this.samples);
  }
}

/** The estimate rounded for the wire (2 decimals of ppm, ms of s/day). */
export function roundedDrift(d: DriftEstimate): DriftEstimate {
  const r = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
  return { ...d, ppm: r(d.ppm, 2), boundPpm: r(d.boundPpm, 2), sPerDay: r(d.sPerDay, 3), boundSPerDay: r(d.boundSPerDay, 3), spanMs: Math.round(d.spanMs), knownInMs: Math.round(d.knownInMs) };
}

/**
 * A clock synced now and then against a reference (the Pi against the phones): its drift from the syncs that
 * measured it without setting it, and a bound on its error now. The series runs on the monotonic clock (the
 * clock minus reference, plus the wall clock's steps since the series began), so a step of the wall clock in
 * between does not break it. A new reference (another phone: its clock differs by tens of ms) starts afresh.
 */
export class SyncedClockTracker {
  private readonly series = new DriftSeries();
  private reference: string | null = null;
  private seriesEpoch = 0;
  private after: { offsetMs: number; boundMs: number; atMono: number; epoch: number } | null = null;

  /**
   * A sync: the clock minus its reference was `offsetMs ± boundMs` at `atMono`, with wall minus monotonic
   * `epoch`; `stepped`: the clock was then set to the reference (its error after is within ±boundMs), and
   * `epoch` is the one after the step.
   */
  observe(sync: { reference: string; offsetMs: number; boundMs: number; atMono: number; epoch: number; stepped: boolean }): void {
    if (sync.reference !== this.reference) {
      this.series.clear();
      this.reference = sync.reference;
    }
    if (!sync.stepped) {
      if (this.series.count === 0) this.seriesEpoch = sync.epoch;
      // The clock's wall time is monotonic + epoch: taking the epoch's changes off leaves its oscillator's drift.
      this.series.add({ atMono: sync.atMono, offsetMs: sync.offsetMs - (sync.epoch - this.seriesEpoch), boundMs: sync.boundMs });
    }
    this.after = { offsetMs: sync.stepped ? 0 : sync.offsetMs, boundMs: sync.boundMs, atMono: sync.atMono, epoch: sync.epoch };
  }

  drift(): DriftEstimate | null {
    return this.series.estimate();
  }

  /** A bound on |clock - reference| now (ms), following any step of the wall clock since the last sync; null before one. */
  errorNowMs(nowMono: number, epochNow: number): number | null {
    if (!this.after) return null;
    const offsetMs = this.after.offsetMs + (epochNow - this.after.epoch);
    return offsetBoundAfter({ offsetMs, boundMs: this.after.boundMs }, this.drift(), nowMono - this.after.atMono);
  }
}
