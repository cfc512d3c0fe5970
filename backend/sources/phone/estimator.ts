/**
 * Offset estimation from a burst of time-sync probes: pure functions on plain values (no Nest, no sockets,
 * no clock), so they can be unit-tested and benchmarked (test/bench/sync.bench.ts).
 *
 * One probe: the server stamps its monotonic clock when the request leaves (T1 = sentMono) and when the
 * answer arrives (T4 = receivedMono); the page answers with its wall clock (clientTime). Whatever the
 * network did, the page read its clock after T1 and before T4, and the reading is at most one clock step
 * (the page's timestamp resolution) away from its true time. So every answer confines
 *
 *   client wall - server monotonic   to   [clientTime - T4 + lo, clientTime - T1 + hi]
 *
 * where [lo, hi] is what the page's rounding can hide. This "causal window" holds however asymmetric the
 * path is; a slow answer only gives a wide window, never a wrong one. Intersecting the windows of a burst
 * keeps, on each side, the tightest answer: NTP's lowest-delay filter applied to each direction on its own.
 */

export interface ProbeSample {
  requestId: string;
  /** Server monotonic ms (fractional) when the request was sent. */
  sentMono: number;
  /** Server monotonic ms (fractional) when the answer arrived. */
  receivedMono: number;
  /** The client's wall clock (ms since the epoch) when it answered. */
  clientTime: number;
  /**
   * How long the server's event loop had been busy when it read this answer (ms, 0 or absent when it was
   * waiting for it): the answer may have lain in the socket for up to about this long before
   * `receivedMono`. Only the point estimate uses it; the bound never relies on it (see `estimateOffset`).
   */
  readLagMs?: number;
}

/**
 * How the page rounds its clock. `floor`: `Date.now()` truncates to whole ms; Firefox clamps down to its
 * grid when its timer jitter is off. `jittered`: Firefox resistFingerprinting's default, which reports
 * either end of the grain around the true time (each grain has a secret switch-over point).
 */
export type ClientRounding = 'floor' | 'jittered';

export interface OffsetEstimate {
  /** Client wall = server monotonic + this. */
  clientMinusMonoMs: number;
  /** |estimate - truth| <= this, whatever the path asymmetry (see `estimateOffset`). */
  errorBoundMs: number;
  /** The lowest round trip of the burst. */
  delayMs: number;
  samplesUsed: number;
  samplesTotal: number;
  clientResolutionMs: number;
  clientRounding: ClientRounding;
  /**
   * How far the answers' causal windows fail to overlap (0 when they agree). Above a few ms it means the
   * page's clock stepped during the burst or its stamps are coarser than they look: see `detectClockJump`.
   */
  inconsistencyMs: number;
}

export interface EstimateOptions {
  /** The page's clock step in ms, when known; otherwise detected from the stamps. */
  clientResolutionMs?: number;
  /** How the page rounds; otherwise the tightest model that the stamps agree with. */
  clientRounding?: ClientRounding;
}

/**
 * Fewer usable answers than this give no estimate (`estimateOffset` returns null): with one or two, a
 * coarse or jumping client clock cannot be told from a good one. A normal burst brings about 30.
 */
export const MIN_SAMPLES = 3;

/** Firefox resistFingerprinting's grain: 16 667 us (60 per second). */
export const FIREFOX_RFP_STEP_MS = 16.667;

/** Steps that browsers are known to report their clock in, above whole ms; the 1 s step catches pages that send seconds. */
export const KNOWN_COARSE_RESOLUTIONS_MS: readonly number[] = [FIREFOX_RFP_STEP_MS, 100, 1000];

/** Resolution assumed for fractional stamps that sit on no known grid (performance.timeOrigin + now()). */
export const SUB_MS_RESOLUTION_MS = 0.1;

interface Window {
  low: number;
  high: number;
}

/** A sample reduced to its raw offset and round trip. */
interface Reduced {
  /** clientTime minus the midpoint of the server's stamps. */
  offset: number;
  delay: number;
}

function isUsable(s: ProbeSample): boolean {
  return (
    s != null &&
    Number.isFinite(s.sentMono) &&
    Number.isFinite(s.receivedMono) &&
    Number.isFinite(s.clientTime) &&
    s.receivedMono >= s.sentMono
  );
}

/** Drops answers with non-finite stamps, a negative round trip, or a request id seen before. */
export function usableSamples(samples: readonly ProbeSample[]): ProbeSample[] {
  const seen = new Set<string>();
  return samples.filter((s) => {
    if (!isUsable(s) || seen.has(s.requestId)) return false;
    seen.add(s.requestId);
    return true;
  });
}

const reduce = (s: ProbeSample): Reduced => ({
  offset: s.clientTime - (s.sentMono + s.receivedMono) / 2,
  delay: s.receivedMono - s.sentMono,
});

/**
 * The page's timestamp resolution, from its stamps and the server's stamps around them.
 *
 * - Whole-ms stamps start at 1 ms, fractional ones at `SUB_MS_RESOLUTION_MS`.
 * - A known coarser grid (16.667, 100, 1000 ms: differences are multiples of it, within the 1 ms that
 *   truncating Firefox's 16.667 ms grid to whole ms adds) is adopted when three things hold: the stamps
 *   all sit on it; that is no coincidence (chance below 1 in 1000 given the current step, which takes
 *   about 6 distinct values for 16.667 ms, 5 for 100 ms, 4 for 1 s); and the current step cannot explain
 *   them (their causal windows at that step do not overlap). The last condition keeps a 1 ms clock at
 *   1 ms even when a regular probe spacing happens to land every stamp near the grid. Probes spread over
 *   the grid's phases (`planBurst`) make a coarse clock unmistakable.
 * - Two answers that carry the same stamp although the second request left after the first answer came
 *   back prove a step at least half that far apart (half: a jittered clock can report one grain boundary
 *   for nearly two grains). This catches coarse clocks with few distinct values (whole seconds).
 *
 * A clock on an unknown coarse grid keeps the finer value; its stamps then contradict each other, which
 * `detectClockJump` reports, so it is refused rather than trusted with too small a bound.
 */
/** Answers with a round trip under half a grid step needed before a finer clock is preferred to a grid its stamps sit on. */
export const MIN_NARROW_FOR_FINER = 6;

export function detectClientResolution(samples: readonly ProbeSample[]): number {
  const usable = usableSamples(samples);
  if (usable.length === 0) return 1;
  const integers = usable.every((s) => Number.isInteger(s.clientTime));
  let resolution = integers ? 1 : SUB_MS_RESOLUTION_MS;

  const distinct = [...new Set(usable.map((s) => s.clientTime))].sort((a, b) => a - b);
  const onGrid = (step: number) => {
    const tolerance = integers && !Number.isInteger(step) ? 1 : 1e-6 * step;
    return distinct.every((v) => {
      const d = v - distinct[0];
      return Math.abs(d - Math.round(d / step) * step) <= tolerance;
    });
  };
  const reduced = usable.map(reduce);
  const explains = (step: number) =>
    inconsistency(causalWindow(reduced, roundingRange(step, 'jittered', integers && !Number.isInteger(step) ? 1 : 0))) <= 1;
  for (const step of KNOWN_COARSE_RESOLUTIONS_MS) {
    if (!onGrid(step)) continue;
    // Chance that stamps of the current resolution all land on this grid anyway.
    const perValue = resolution <= 1 ? Math.min(1, (integers && !Number.isInteger(step) ? 3 : 1) / step) : resolution / step;
    // "The current step explains them" is evidence only where a coarse clock would have contradicted it: in
    // enough answers whose round trip is short against the grid. A stalled page (answers queued, then sent
    // together) leaves a few fast answers whose 1 ms windows agree by chance; trusting them would give a bound
    // the truth lies outside, so there the grid wins and the bound stays honest.
    const narrow = reduced.filter((r) => r.delay < step / 2).length;
    if (Math.pow(perValue, distinct.length - 1) > 1e-3 || (narrow >= MIN_NARROW_FOR_FINER && explains(resolution))) continue;
    resolution = step;
  }

  const provenStep = equalStampSpan(usable) / 2;
  if (provenStep > resolution) {
    const grid = KNOWN_COARSE_RESOLUTIONS_MS.find((step) => step >= provenStep && onGrid(step));
    resolution = grid ?? provenStep;
  }
  return resolution;
}

/** The longest certain time between two readings that gave the same stamp. */
function equalStampSpan(samples: readonly ProbeSample[]): number {
  const byStamp = new Map<number, { firstReceived: number; lastSent: number }>();
  for (const s of samples) {
    const group = byStamp.get(s.clientTime);
    if (!group) byStamp.set(s.clientTime, { firstReceived: s.receivedMono, lastSent: s.sentMono });
    else {
      group.firstReceived = Math.min(group.firstReceived, s.receivedMono);
      group.lastSent = Math.max(group.lastSent, s.sentMono);
    }
  }
  let span = 0;
  for (const group of byStamp.values()) span = Math.max(span, group.lastSent - group.firstReceived);
  return span;
}

/** Known grids in integer microseconds, as Firefox clamps (16 667 us, 100 000 us, 1 000 000 us). */
const gridMicros = (resolution: number) => Math.round(resolution * 1000);

/**
 * The stamps as the page's clock meant them. Firefox clamps to a grid counted from the epoch and then
 * truncates to whole ms (16.667 ms steps read 16, 33, 50, 66, ...): when every stamp is such a truncated
 * grid point, the grid point itself is known exactly and truncation costs nothing. Otherwise the stamps
 * are taken as they are and a fractional grid loses up to 1 ms to truncation (`truncationMs`).
 */
function onExactGrid(samples: readonly ProbeSample[], resolution: number): { stamps: number[]; truncationMs: number } {
  const stamps = samples.map((s) => s.clientTime);
  if (Number.isInteger(resolution) || resolution <= 1 || !stamps.every(Number.isInteger)) {
    return { stamps, truncationMs: 0 };
  }
  const stepUs = gridMicros(resolution);
  const exact: number[] = [];
  for (const stamp of stamps) {
    const gridUs = Math.ceil((stamp * 1000) / stepUs) * stepUs;
    if (gridUs - stamp * 1000 >= 1000) return { stamps, truncationMs: 1 };
    exact.push(gridUs / 1000);
  }
  return { stamps: exact, truncationMs: 0 };
}

/** What the page's stamp can differ from its true clock by: true = stamp + delta, delta in [lo, hi]. */
function roundingRange(resolution: number, rounding: ClientRounding, truncationMs: number): { lo: number; hi: number } {
  return { lo: rounding === 'floor' ? 0 : -resolution, hi: resolution + truncationMs };
}

/**
 * The share of a measured read lag taken as the answer's likely wait. The answer landed somewhere in the busy
 * stretch the loop measured; with no more known, halfway (the mean of a uniform landing).
 */
export const READ_LAG_SHARE = 0.5;

/**
 * The floor window for the point estimate, with each answer's receipt moved back by its likely wait in the
 * event loop. An answer read late looks like one that came back slowly, which only ever lowers the low
 * side: when the answers that decide that side were read late, the intersection is pulled down (the estimate
 * comes out early). Taking the likely wait off keeps the two sides alike.
 */
function lagCorrectedWindow(samples: readonly ProbeSample[], stamps: readonly number[], range: { lo: number; hi: number }): Window {
  let low = -Infinity;
  let high = Infinity;
  samples.forEach((s, i) => {
    const lag = Number.isFinite(s.readLagMs) && s.readLagMs! > 0 ? Math.min(s.readLagMs!, s.receivedMono - s.sentMono) : 0;
    low = Math.max(low, stamps[i] - s.receivedMono + READ_LAG_SHARE * lag + range.lo);
    high = Math.min(high, stamps[i] - s.sentMono + range.hi);
  });
  return { low, high };
}

/** Intersection of the answers' causal windows for clientMinusMono; low > high when they disagree. */
function causalWindow(reduced: readonly Reduced[], range: { lo: number; hi: number }): Window {
  let low = -Infinity;
  let high = Infinity;
  for (const r of reduced) {
    low = Math.max(low, r.offset - r.delay / 2 + range.lo);
    high = Math.min(high, r.offset + r.delay / 2 + range.hi);
  }
  return { low, high };
}

const inconsistency = (w: Window) => Math.max(0, w.low - w.high);

/**
 * How far an answer's path asymmetry can plausibly differ from the fastest answer's: by half its extra
 * round trip (whatever delayed it, delayed one direction or both). Not a guarantee (the fastest answer
 * may itself have been delayed), so it only chooses the rounding model and weighs answers; the
 * estimate is then kept inside the guaranteed window.
 */
const relativeSlack = (r: Reduced, lowestDelay: number) => (r.delay - lowestDelay) / 2;

/**
 * Whether the stamps need a clock that also rounds up. Floor-rounded stamps always fit a window of one
 * step (plus relative slack); jittered ones spread over two steps, so with 20-30 answers they overshoot
 * it by several ms. `JITTER_EVIDENCE_MS` of overshoot is required, so path noise is not mistaken for
 * jitter. Returns the overshoot (positive) or the room left (negative).
 */
function floorOvershoot(reduced: readonly Reduced[], resolution: number, truncationMs: number): number {
  const lowest = Math.min(...reduced.map((r) => r.delay));
  let low = -Infinity;
  let high = Infinity;
  for (const r of reduced) {
    const slack = relativeSlack(r, lowest);
    low = Math.max(low, r.offset - slack);
    high = Math.min(high, r.offset + slack + resolution + truncationMs);
  }
  return low - high;
}

/** Overshoot of the floor window (ms) above which a coarse clock is taken to be jittered. */
export const JITTER_EVIDENCE_MS = 0.5;

/**
 * Maximum-likelihood offset for jittered stamps. With Firefox's jitter the stamp is off from the true
 * time by a triangular amount over (-step, +step) (a uniform phase within the grain against a uniform
 * secret switch-over point); each answer's path asymmetry widens its peak by its relative slack. Near
 * and beyond the edge of the triangle the log-likelihood continues along its tangent, so the sum stays
 * concave and a ternary search over the window finds its maximum.
 */
function jitteredMaximumLikelihood(reduced: readonly Reduced[], resolution: number, truncationMs: number, window: Window): number {
  const lowest = Math.min(...reduced.map((r) => r.delay));
  // Truncation moves stamps down by half its range on average.
  const centre = reduced.map((r) => ({ offset: r.offset + truncationMs / 2, slack: relativeSlack(r, lowest) + truncationMs / 2 }));
  const edge = resolution / 20;
  const logTriangle = (distance: number) =>
    distance <= resolution - edge ? Math.log(resolution - distance) : Math.log(edge) - (distance - (resolution - edge)) / edge;
  const logLikelihood = (theta: number) => {
    let sum = 0;
    for (const c of centre) sum += logTriangle(Math.max(0, Math.abs(theta - c.offset) - c.slack));
    return sum;
  };
  let a = window.low;
  let b = window.high;
  for (let i = 0; i < 80 && b - a > 1e-6; i++) {
    const m1 = a + (b - a) / 3;
    const m2 = b - (b - a) / 3;
    if (logLikelihood(m1) < logLikelihood(m2)) a = m1;
    else b = m2;
  }
  return (a + b) / 2;
}

/**
 * Estimates the page's clock against the server's monotonic clock from one burst of answers.
 *
 * - Answers with non-finite stamps, a negative round trip or a repeated request id are dropped; with fewer
 *   than `MIN_SAMPLES` usable answers the result is null (the caller sends another burst).
 * - Clocks of 1 ms or finer truncate (`Date.now()`): the estimate is the middle of the intersection of
 *   the answers' causal windows (see the top of this file). The fastest answer in each direction decides.
 * - Coarse clocks (Firefox resistFingerprinting) are `floor` unless the stamps spread too far for that
 *   (`JITTER_EVIDENCE_MS`); `jittered` stamps are estimated by maximum likelihood (triangular rounding
 *   error). `opts.clientRounding` overrides the choice.
 * - `errorBoundMs` is the distance from the estimate to the far end of the intersection computed with the
 *   loosest rounding model (stamp up to one step off either way). It assumes nothing about path symmetry,
 *   so it holds on a fixed asymmetry too; it is about lowest delay / 2 + resolution, the bound the notes
 *   prescribe, and tighter when answers with different rounding pin both sides.
 * - If the stamps contradict each other (`inconsistencyMs` > 0) an estimate is still given; callers
 *   should run `detectClockJump` and discard the burst when it reports a jump.
 */
export function estimateOffset(samples: readonly ProbeSample[], opts: EstimateOptions = {}): OffsetEstimate | null {
  const usable = usableSamples(samples);
  if (usable.length < MIN_SAMPLES) return null;
  const resolution = opts.clientResolutionMs ?? detectClientResolution(usable);
  if (!(resolution > 0) || !Number.isFinite(resolution)) throw new RangeError(`clientResolutionMs must be a positive number, got ${resolution}`);
  const { stamps, truncationMs } = onExactGrid(usable, resolution);
  const reduced = usable.map((s, i) => reduce({ ...s, clientTime: stamps[i] }));

  let rounding: ClientRounding = opts.clientRounding ?? 'floor';
  if (!opts.clientRounding && resolution > 1 && floorOvershoot(reduced, resolution, truncationMs) > JITTER_EVIDENCE_MS) {
    rounding = 'jittered';
  }
  const loose = causalWindow(reduced, roundingRange(resolution, 'jittered', truncationMs));
  let estimate: number;
  if (rounding === 'floor') {
    const range = roundingRange(resolution, 'floor', truncationMs);
    let window = lagCorrectedWindow(usable, stamps, range);
    // The likely waits are guesses: when they make the windows disagree, fall back to the plain stamps.
    if (window.low > window.high) window = causalWindow(reduced, range);
    estimate = (window.low + window.high) / 2;
  } else {
    estimate = jitteredMaximumLikelihood(reduced, resolution, truncationMs, loose.low <= loose.high ? loose : { low: loose.high, high: loose.low });
  }
  if (loose.low <= loose.high) estimate = Math.min(loose.high, Math.max(loose.low, estimate));
  const errorBoundMs = Math.max(Math.abs(estimate - loose.low), Math.abs(loose.high - estimate));

  return {
    clientMinusMonoMs: estimate,
    errorBoundMs,
    delayMs: Math.min(...reduced.map((r) => r.delay)),
    samplesUsed: usable.length,
    samplesTotal: samples.length,
    clientResolutionMs: resolution,
    clientRounding: rounding,
    inconsistencyMs: inconsistency(loose),
  };
}

// ---- clock jumps --------------------------------------------------------------------------------

/** The server's wall minus monotonic (`Clock.epochOfMonotonic()`) around a burst. */
export interface ServerEpochs {
  /** Just before the first probe. */
  serverWallMinusMonoStart: number;
  /** Just after the last answer (the value the offset is then computed with). */
  serverWallMinusMonoEnd: number;
}

export interface ClockJump {
  side: 'server' | 'client' | 'both';
  /** How far the server's wall clock moved against its monotonic clock during the burst. */
  serverStepMs: number;
  /** How far the answers' causal windows fail to overlap (see `OffsetEstimate.inconsistencyMs`). */
  clientInconsistencyMs: number;
  /** One line for the activity log. */
  message: string;
}

/**
 * Server side: wall - monotonic only changes when the wall clock is stepped. Node's Date.now() is whole
 * ms, so two readings differ by up to 1 ms, and slewing adds at most 0.5 ms per second: 3 ms is a step.
 */
export const SERVER_JUMP_THRESHOLD_MS = 3;

/**
 * Client side: without a step, every answer's causal window contains the truth, so the windows overlap
 * (up to drift: a phone 100 ppm off moves 0.1 ms over a 1 s burst). The inconsistency is how far
 * clientTime - midpoint moved beyond what the round trips and one resolution step either way allow, so a
 * small threshold suffices; 5 ms leaves room for drift and for stamps taken a little outside the socket
 * callbacks. A step below it (plus the fastest round trips and two resolution steps) goes unseen, and
 * then moves the estimate by at most about that much.
 */
export const CLIENT_JUMP_THRESHOLD_MS = 5;

/**
 * Whether either clock was stepped during a burst; the burst should then be discarded. Null when neither
 * was. Invalid samples are ignored as `estimateOffset` ignores them.
 */
export function detectClockJump(samples: readonly ProbeSample[], server: ServerEpochs, opts: { clientResolutionMs?: number } = {}): ClockJump | null {
  const serverStepMs = server.serverWallMinusMonoEnd - server.serverWallMinusMonoStart;
  const serverJumped = !Number.isFinite(serverStepMs) || Math.abs(serverStepMs) > SERVER_JUMP_THRESHOLD_MS;
  const clientInconsistencyMs = clientInconsistency(samples, opts.clientResolutionMs);
  const clientJumped = clientInconsistencyMs > CLIENT_JUMP_THRESHOLD_MS;
  if (!serverJumped && !clientJumped) return null;

  const parts: string[] = [];
  if (serverJumped) parts.push(`the Pi's clock was stepped by ${serverStepMs.toFixed(1)} ms during the burst`);
  if (clientJumped) parts.push(`the phone's clock jumped by at least ${clientInconsistencyMs.toFixed(1)} ms during the burst`);
  return {
    side: serverJumped && clientJumped ? 'both' : serverJumped ? 'server' : 'client',
    serverStepMs,
    clientInconsistencyMs,
    message: parts.join('; '),
  };
}

/** How far the usable answers' causal windows (loosest rounding model) fail to overlap, in ms. */
export function clientInconsistency(samples: readonly ProbeSample[], clientResolutionMs?: number): number {
  const usable = usableSamples(samples);
  if (usable.length < 2) return 0;
  const resolution = clientResolutionMs ?? detectClientResolution(usable);
  const { stamps, truncationMs } = onExactGrid(usable, resolution);
  const reduced = usable.map((s, i) => reduce({ ...s, clientTime: stamps[i] }));
  return inconsistency(causalWindow(reduced, roundingRange(resolution, 'jittered', truncationMs)));
}

// ---- burst plan ---------------------------------------------------------------------------------

export interface BurstOptions {
  /** Probes in the burst, 2..64 (default 32). */
  probes?: number;
  /** Shortest gap (default 20 ms). */
  minGapMs?: number;
  /** Longest gap (default 40 ms); must exceed minGapMs by a rounding step. */
  maxGapMs?: number;
  /** Average gap the plan keeps to, so the burst ends on time (default 22 ms: 32 probes in ~690 ms). */
  meanGapMs?: number;
  /** The rounding step whose phases the probes should cover evenly (default Firefox's 16.667 ms). */
  roundingStepMs?: number;
}

/**
 * The default burst: 32 probes ~22 ms apart last ~690 ms (at most ~705 ms). Waiting `replyGraceMs`
 * after the last probe for the last answers keeps the whole sync under 1 s even when answers are lost;
 * an answer later than that is slow, and slow answers barely constrain the estimate anyway.
 * 32 rather than 24 probes: the extra answers matter for coarse (Firefox resistFingerprinting) clocks,
 * whose rounding has to be pinned from both sides and whose jitter has to be recognised.
 */
export const DEFAULT_BURST = {
  probes: 32,
  minGapMs: 20,
  maxGapMs: 40,
  meanGapMs: 22,
  roundingStepMs: FIREFOX_RFP_STEP_MS,
  replyGraceMs: 250,
} as const;

const GOLDEN = 0.6180339887498949;

/**
 * The gaps (ms) between the probes of one burst: send the first probe, then wait gaps[i] before probe
 * i + 1 (so `probes - 1` gaps). The burst lasts about (probes - 1) * meanGapMs (+ up to one rounding step).
 *
 * Probes 20-40 ms apart keep a power-saving phone awake (it dozes after ~100 ms idle) once the first one
 * has woken it. The send times are spread evenly over the phases of the 16.667 ms rounding step, from a
 * random start (a golden-ratio sequence, used in whatever order keeps the pace), never in step with it:
 * then some answers are rounded by almost nothing and some by almost a full step, which pins the offset
 * from both sides. `rng` returns uniform numbers in [0, 1), e.g. `mulberry32(seed)`.
 */
export function planBurst(rng: () => number, opts: BurstOptions = {}): number[] {
  const probes = opts.probes ?? DEFAULT_BURST.probes;
  const minGap = opts.minGapMs ?? DEFAULT_BURST.minGapMs;
  const maxGap = opts.maxGapMs ?? DEFAULT_BURST.maxGapMs;
  const step = opts.roundingStepMs ?? DEFAULT_BURST.roundingStepMs;
  const meanGap = opts.meanGapMs ?? Math.min(maxGap, Math.max(minGap, DEFAULT_BURST.meanGapMs));
  if (!Number.isInteger(probes) || probes < 2 || probes > 64) throw new RangeError(`probes must be an integer in 2..64, got ${probes}`);
  if (!(step > 0 && minGap > 0 && maxGap >= minGap + step)) throw new RangeError('need 0 < minGapMs and maxGapMs >= minGapMs + roundingStepMs');
  if (!(meanGap >= minGap && meanGap <= maxGap)) throw new RangeError('meanGapMs must lie within [minGapMs, maxGapMs]');

  // Phases (fractions of a step) still to be used; a little jitter keeps them spread but not predictable.
  const start = rng();
  const phases = Array.from({ length: probes - 1 }, (_, k) => (((start + (k + 1) * GOLDEN + (rng() - 0.5) / probes) % 1) + 1) % 1);
  const gaps: number[] = [];
  let sent = 0;
  for (let k = 1; k < probes; k++) {
    const pace = k * meanGap;
    let bestIndex = 0;
    let bestGap = Infinity;
    phases.forEach((phase, index) => {
      // The shortest gap of at least minGap that lands on this phase; one step more also fits.
      const shortest = minGap + ((((phase * step - (sent + minGap)) % step) + step) % step);
      for (let gap = shortest; gap <= maxGap; gap += step) {
        if (Math.abs(sent + gap - pace) < Math.abs(sent + bestGap - pace)) {
          bestGap = gap;
          bestIndex = index;
        }
      }
    });
    phases.splice(bestIndex, 1);
    gaps.push(bestGap);
    sent += bestGap;
  }
  return gaps;
}
