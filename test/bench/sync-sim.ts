/**
 * A seeded, deterministic simulation of a phone answering time-sync probes over the Pi's access point,
 * for comparing offset estimators side by side. The five network profiles A-E follow
 * /work/shared/reference/clock-sync-notes.md ("Simulated profiles"):
 *
 *   per-direction delay = base + lognormal jitter (+ extras); loss drops a probe.
 *   A clean Wi-Fi        base 1.5 ms each way, jitter median 0.5 ms (sigma 0.6), loss 0.5 %
 *   B phone power save   A + buffering to the next 204.8 ms DTIM beacon when the phone was idle > 100 ms, loss 2 %
 *   C congested downlink base 2 ms, 30 % of downlink frames + exponential 15 ms, 1 % spikes of 100-300 ms, loss 3 %
 *   D heavy tail, stalls B + Pareto(1.5) tail, 10 % of client stamps late by 0-50 ms, 2 % spikes, loss 5 %
 *   E fixed asymmetry    1 ms one way, 7 ms the other
 *
 * Choices the notes leave open, made here once for every estimator alike:
 * - The lognormal jitter of A applies to every profile (C and E included); E adds no other extra and
 *   keeps A's loss. E's slow side is the downlink (server to phone).
 * - The Pareto(1.5) tail is a Lomax (shifted Pareto) extra with scale 1 ms on every frame: median +0.6 ms,
 *   p99 +20 ms, infinite variance.
 * - Spikes hit each frame independently (either direction) with the given share.
 * - A late stamp means the page's handler ran late: the phone stamps its clock L ms after the frame arrived
 *   and answers right after stamping (the stall lengthens the round trip, as a busy main thread does).
 * - Loss is split evenly between the request and the answer; a lost request does not wake the phone.
 * - Frames are delivered independently (no head-of-line blocking), as the notes describe them.
 * - The phone starts each trial asleep (idle > 100 ms); after it receives or sends a frame it stays awake
 *   for 100 ms. A request reaching the access point while it sleeps waits for the next DTIM beacon.
 * - The client's true clock runs at the server's monotonic rate (no drift over a burst of under 1 s).
 * - Client stamps: 1 ms = `Date.now()` (truncated to whole ms). 16.67 ms = Firefox resistFingerprinting:
 *   time clamped down to a 16 667 us grid counted from the epoch, then truncated to whole ms. 100 ms = the
 *   older setting, clamped down to 100 ms. The "jittered" variant adds what Firefox does when
 *   `privacy.resistFingerprinting.reduceTimerPrecision.jitter` is on: each grain has a secret random
 *   midpoint after which the next grain boundary is reported.
 * - Each trial draws the true offset (client wall - server monotonic, up to a day off, fractional), the
 *   beacon phase and the jitter secret; every estimator sees the same trials with its own network draws.
 * - Waiting: single-probe and 1 s-spaced estimators wait up to 1 s for an answer; burst estimators wait
 *   `DEFAULT_BURST.replyGraceMs` after their last probe. An estimator left without answers has failed.
 */
import { mulberry32, seedFromString, type Rng } from '../../backend/common/prng';
import { DEFAULT_BURST, detectClockJump, estimateOffset, planBurst, type ProbeSample } from '../../backend/sources/phone/estimator';

// ---- profiles -----------------------------------------------------------------------------------

export type ProfileId = 'A' | 'B' | 'C' | 'D' | 'E';

export interface NetworkProfile {
  id: ProfileId;
  name: string;
  /** Server to phone. */
  baseDownMs: number;
  /** Phone to server. */
  baseUpMs: number;
  jitter: { medianMs: number; sigma: number };
  /** Share of probes lost (request or answer). */
  loss: number;
  dtim?: { beaconIntervalMs: number; idleBeforeSleepMs: number };
  congestion?: { downShare: number; meanMs: number };
  spikes?: { share: number; minMs: number; maxMs: number };
  paretoTail?: { alpha: number; scaleMs: number };
  lateStamps?: { share: number; maxMs: number };
}

const JITTER = { medianMs: 0.5, sigma: 0.6 };
const DTIM = { beaconIntervalMs: 204.8, idleBeforeSleepMs: 100 };

export const PROFILES: readonly NetworkProfile[] = [
  { id: 'A', name: 'clean Wi-Fi', baseDownMs: 1.5, baseUpMs: 1.5, jitter: JITTER, loss: 0.005 },
  { id: 'B', name: 'phone power save', baseDownMs: 1.5, baseUpMs: 1.5, jitter: JITTER, loss: 0.02, dtim: DTIM },
  {
    id: 'C',
    name: 'congested downlink',
    baseDownMs: 2,
    baseUpMs: 2,
    jitter: JITTER,
    loss: 0.03,
    congestion: { downShare: 0.3, meanMs: 15 },
    spikes: { share: 0.01, minMs: 100, maxMs: 300 },
  },
  {
    id: 'D',
    name: 'heavy tail + JS stalls',
    baseDownMs: 1.5,
    baseUpMs: 1.5,
    jitter: JITTER,
    loss: 0.05,
    dtim: DTIM,
    paretoTail: { alpha: 1.5, scaleMs: 1 },
    lateStamps: { share: 0.1, maxMs: 50 },
    spikes: { share: 0.02, minMs: 100, maxMs: 300 },
  },
  { id: 'E', name: 'fixed asymmetry 7/1 ms', baseDownMs: 7, baseUpMs: 1, jitter: JITTER, loss: 0.005 },
];

// ---- client timestamp models --------------------------------------------------------------------

export interface StampModel {
  id: string;
  label: string;
  /** The step of the stamps, ms. */
  resolutionMs: number;
  jittered: boolean;
  /** What the page reports for a true client time `trueMs` (ms since the epoch). */
  stamp(trueMs: number, secret: number): number;
}

/** Firefox's clamp (nsRFPService::ReduceTimePrecisionImpl), on integer microseconds, then whole ms. */
function clampTo(resolutionUs: number, jitter: boolean) {
  return (trueMs: number, secret: number): number => {
    const us = Math.floor(trueMs * 1000);
    let clamped = Math.floor(us / resolutionUs) * resolutionUs;
    if (jitter && us - clamped >= grainMidpoint(clamped, secret) * resolutionUs) clamped += resolutionUs;
    return Math.trunc(clamped / 1000);
  };
}

/** A per-grain secret midpoint in [0, 1), as Firefox derives one from the grain and a session secret. */
function grainMidpoint(grainUs: number, secret: number): number {
  const lo = grainUs % 4294967296;
  const hi = Math.floor(grainUs / 4294967296);
  let h = Math.imul(lo ^ secret, 0x85ebca6b) ^ Math.imul(hi + 0x9e3779b9, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

export const STAMP_MODELS: readonly StampModel[] = [
  { id: '1', label: '1 ms (Date.now)', resolutionMs: 1, jittered: false, stamp: (t) => Math.floor(t) },
  { id: '16.67', label: '16.67 ms (Firefox resistFingerprinting)', resolutionMs: 16.667, jittered: false, stamp: clampTo(16_667, false) },
  { id: '100', label: '100 ms (older resistFingerprinting)', resolutionMs: 100, jittered: false, stamp: clampTo(100_000, false) },
  {
    id: '16.67j',
    label: '16.67 ms with Firefox timer jitter (reduceTimerPrecision.jitter)',
    resolutionMs: 16.667,
    jittered: true,
    stamp: clampTo(16_667, true),
  },
];

// ---- one trial ----------------------------------------------------------------------------------

/** Everything about one trial that every estimator shares: the true offset, the beacon phase, the stamps. */
export interface TrialWorld {
  profile: NetworkProfile;
  stamps: StampModel;
  /** Client wall clock = server monotonic + this (the truth the estimators look for). */
  clientMinusMonoMs: number;
  /** Server monotonic time when the trial starts. */
  startMono: number;
  beaconPhaseMs: number;
  stampSecret: number;
  seed: number;
}

export function makeWorld(profile: NetworkProfile, stamps: StampModel, seed: number): TrialWorld {
  const rng = mulberry32(seed);
  return {
    profile,
    stamps,
    // A phone set to some time around late 2026, up to a day off, with a fractional part.
    clientMinusMonoMs: 1_795_000_000_000 + (rng() - 0.5) * 172_800_000,
    startMono: 10_000 + rng() * 1e8,
    beaconPhaseMs: rng() * DTIM.beaconIntervalMs,
    stampSecret: (rng() * 4294967296) >>> 0,
    seed,
  };
}

export interface ExchangeResult {
  /** Answers that arrived before the deadline, in send order. */
  samples: ProbeSample[];
  probesSent: number;
  /** Server monotonic time at which the caller has everything it will get: last answer, or the deadline. */
  doneMono: number;
}

const lognormal = (rng: Rng, median: number, sigma: number) => median * Math.exp(sigma * gaussian(rng));
function gaussian(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
const exponential = (rng: Rng, mean: number) => -mean * Math.log(1 - rng());
const lomax = (rng: Rng, alpha: number, scale: number) => scale * (Math.pow(1 - rng(), -1 / alpha) - 1);

function oneWayExtras(p: NetworkProfile, rng: Rng, down: boolean): number {
  let extra = lognormal(rng, p.jitter.medianMs, p.jitter.sigma);
  if (down && p.congestion && rng() < p.congestion.downShare) extra += exponential(rng, p.congestion.meanMs);
  if (p.spikes && rng() < p.spikes.share) extra += p.spikes.minMs + rng() * (p.spikes.maxMs - p.spikes.minMs);
  if (p.paretoTail) extra += lomax(rng, p.paretoTail.alpha, p.paretoTail.scaleMs);
  return extra;
}

/**
 * Sends probes at the given monotonic times and returns what the server would see: for each answer, its
 * own send and receive stamps and the client's stamp. Answers later than `lastSend + replyTimeoutMs` are
 * dropped, as a server that stops waiting would drop them.
 */
export function runExchange(world: TrialWorld, sendMono: readonly number[], replyTimeoutMs: number, rng: Rng): ExchangeResult {
  const p = world.profile;
  const deadline = sendMono[sendMono.length - 1] + replyTimeoutMs;
  // Intervals during which the phone's radio was busy; it stays awake idleBeforeSleep after each.
  const busy: Array<[number, number]> = [];
  const awakeAt = (t: number) =>
    busy.some(([from, to]) => from <= t && t <= to + (p.dtim?.idleBeforeSleepMs ?? Infinity));
  const samples: ProbeSample[] = [];
  let lastArrival = -Infinity;
  let complete = true;
  sendMono.forEach((sent, i) => {
    const lost = rng() < p.loss;
    const lostOnTheWayOut = lost && rng() < 0.5;
    if (lostOnTheWayOut) {
      complete = false;
      return;
    }
    const atAccessPoint = sent + p.baseDownMs + oneWayExtras(p, rng, true);
    let delivered = atAccessPoint;
    if (p.dtim && !awakeAt(atAccessPoint)) {
      const { beaconIntervalMs } = p.dtim;
      delivered = world.beaconPhaseMs + Math.ceil((atAccessPoint - world.beaconPhaseMs) / beaconIntervalMs) * beaconIntervalMs;
    }
    const late = p.lateStamps && rng() < p.lateStamps.share ? rng() * p.lateStamps.maxMs : 0;
    const stampedAt = delivered + late;
    busy.push([delivered, stampedAt]);
    if (lost) {
      complete = false;
      return;
    }
    const arrived = stampedAt + p.baseUpMs + oneWayExtras(p, rng, false);
    if (arrived > deadline) {
      complete = false;
      return;
    }
    lastArrival = Math.max(lastArrival, arrived);
    samples.push({
      requestId: `${world.seed}-${i}`,
      sentMono: sent,
      receivedMono: arrived,
      clientTime: world.stamps.stamp(stampedAt + world.clientMinusMonoMs, world.stampSecret),
    });
  });
  return { samples, probesSent: sendMono.length, doneMono: complete ? lastArrival : deadline };
}

// ---- estimators ---------------------------------------------------------------------------------

export interface EstimatorResult {
  /** Estimated client wall minus server monotonic, or null when the estimator gave up. */
  clientMinusMonoMs: number | null;
  /** Its own error bound, or the implied one (delay / 2) for estimators that report none. */
  boundMs: number | null;
  probesSent: number;
  answersUsed: number;
  /** From the first probe sent to the estimate. */
  convergeMs: number;
}

export interface SyncEstimator {
  id: string;
  /** For table rows. */
  short: string;
  label: string;
  /** Whether the bound is the estimator's own (true) or the implied delay / 2 (false). */
  ownBound: boolean;
  run(world: TrialWorld, rng: Rng): EstimatorResult;
}

interface Sampled {
  offset: number;
  delay: number;
}
const sampled = (s: ProbeSample): Sampled => ({
  offset: s.clientTime - (s.sentMono + s.receivedMono) / 2,
  delay: s.receivedMono - s.sentMono,
});
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};

function evenly(world: TrialWorld, count: number, gapMs: number): number[] {
  return Array.from({ length: count }, (_, i) => world.startMono + i * gapMs);
}

function failed(exchange: ExchangeResult, first: number): EstimatorResult {
  return { clientMinusMonoMs: null, boundMs: null, probesSent: exchange.probesSent, answersUsed: 0, convergeMs: exchange.doneMono - first };
}

/** One probe; offset = client time minus the server's time when the answer arrives (the reference project). */
export const naive: SyncEstimator = {
  id: 'naive',
  short: 'naive, 1 probe',
  label: 'naive: clientTime - server time at receipt, 1 probe',
  ownBound: false,
  run(world, rng) {
    const send = evenly(world, 1, 0);
    const x = runExchange(world, send, 1000, rng);
    if (x.samples.length === 0) return failed(x, send[0]);
    const s = x.samples[0];
    return {
      clientMinusMonoMs: s.clientTime - s.receivedMono,
      boundMs: (s.receivedMono - s.sentMono) / 2,
      probesSent: 1,
      answersUsed: 1,
      convergeMs: x.doneMono - send[0],
    };
  },
};

/** One exchange, corrected by half the round trip. */
export const oneExchange: SyncEstimator = {
  id: 'rtt1',
  short: '1 exchange, RTT/2',
  label: 'one exchange, RTT/2 corrected',
  ownBound: false,
  run(world, rng) {
    const send = evenly(world, 1, 0);
    const x = runExchange(world, send, 1000, rng);
    if (x.samples.length === 0) return failed(x, send[0]);
    const s = sampled(x.samples[0]);
    return { clientMinusMonoMs: s.offset, boundMs: s.delay / 2, probesSent: 1, answersUsed: 1, convergeMs: x.doneMono - send[0] };
  },
};

/** npm `timesync`: 5 probes 1 s apart, mean offset of those whose delay is under median + 1 SD. */
export const npmTimesync: SyncEstimator = {
  id: 'timesync',
  short: 'npm timesync 5x1s',
  label: 'npm timesync style, 5 probes 1 s apart',
  ownBound: false,
  run(world, rng) {
    const send = evenly(world, 5, 1000);
    const x = runExchange(world, send, 1000, rng);
    if (x.samples.length === 0) return failed(x, send[0]);
    const all = x.samples.map(sampled);
    const limit = median(all.map((s) => s.delay)) + sd(all.map((s) => s.delay));
    const kept = all.filter((s) => s.delay < limit);
    const used = kept.length > 0 ? kept : all;
    return {
      clientMinusMonoMs: mean(used.map((s) => s.offset)),
      boundMs: Math.min(...used.map((s) => s.delay)) / 2,
      probesSent: 5,
      answersUsed: used.length,
      convergeMs: x.doneMono - send[0],
    };
  },
};

/** NTP's clock filter in its simplest form: the offset of the lowest-delay answer. */
function lowestDelayOf(count: number, gapMs: number, id: string, short: string, label: string): SyncEstimator {
  return {
    id,
    short,
    label,
    ownBound: false,
    run(world, rng) {
      const send = evenly(world, count, gapMs);
      const x = runExchange(world, send, Math.min(1000, Math.max(250, gapMs)), rng);
      if (x.samples.length === 0) return failed(x, send[0]);
      const best = x.samples.map(sampled).reduce((a, b) => (b.delay < a.delay ? b : a));
      return { clientMinusMonoMs: best.offset, boundMs: best.delay / 2, probesSent: count, answersUsed: 1, convergeMs: x.doneMono - send[0] };
    },
  };
}
export const lowestOf8Slow = lowestDelayOf(8, 1000, 'low8x1s', 'lowest of 8x1s', 'lowest delay of 8 probes 1 s apart');
export const lowestOf8Fast = lowestDelayOf(8, 30, 'low8x30', 'lowest of 8x30ms', 'lowest delay of 8 probes 30 ms apart');

/** How long the server waits for answers after its last probe. */
export const BURST_REPLY_TIMEOUT_MS = DEFAULT_BURST.replyGraceMs;

/** Sends the probes of one planned burst. */
function burstSchedule(world: TrialWorld, rng: Rng): number[] {
  const gaps = planBurst(rng);
  const send = [world.startMono];
  for (const gap of gaps) send.push(send[send.length - 1] + gap);
  return send;
}

/** The notes' best row, on the same burst as ours: median offset of the lowest-delay cluster (delay within lowest + 1 ms). */
export const clusterMedian: SyncEstimator = {
  id: 'cluster',
  short: 'cluster median',
  label: "our burst, median offset of the lowest-delay cluster (the notes' best row; no rounding correction)",
  ownBound: false,
  run(world, rng) {
    const send = burstSchedule(world, rng);
    const x = runExchange(world, send, BURST_REPLY_TIMEOUT_MS, rng);
    if (x.samples.length === 0) return failed(x, send[0]);
    const all = x.samples.map(sampled);
    const lowest = Math.min(...all.map((s) => s.delay));
    const cluster = all.filter((s) => s.delay <= lowest + 1);
    return {
      clientMinusMonoMs: median(cluster.map((s) => s.offset)),
      boundMs: lowest / 2,
      probesSent: send.length,
      answersUsed: cluster.length,
      convergeMs: x.doneMono - send[0],
    };
  },
};

/**
 * Ours, as the service runs it: the burst from planBurst, the jump check (a discarded burst counts as a
 * failure; nobody steps a clock here, so every discard is a false alarm), then estimateOffset.
 */
export const ours: SyncEstimator = {
  id: 'ours',
  short: 'OURS',
  label: 'OURS: planBurst + detectClockJump + estimateOffset',
  ownBound: true,
  run(world, rng) {
    const send = burstSchedule(world, rng);
    const x = runExchange(world, send, BURST_REPLY_TIMEOUT_MS, rng);
    const epoch = 1_795_000_000_000 - world.startMono;
    if (detectClockJump(x.samples, { serverWallMinusMonoStart: epoch, serverWallMinusMonoEnd: epoch })) return failed(x, send[0]);
    const estimate = estimateOffset(x.samples);
    if (!estimate) return failed(x, send[0]);
    return {
      clientMinusMonoMs: estimate.clientMinusMonoMs,
      boundMs: estimate.errorBoundMs,
      probesSent: send.length,
      answersUsed: estimate.samplesUsed,
      convergeMs: x.doneMono - send[0],
    };
  },
};

export const BASELINES: readonly SyncEstimator[] = [naive, oneExchange, npmTimesync, lowestOf8Slow, lowestOf8Fast, clusterMedian];
export const ESTIMATORS: readonly SyncEstimator[] = [...BASELINES, ours];

// ---- many trials --------------------------------------------------------------------------------

export interface EstimatorStats {
  estimator: string;
  profile: ProfileId;
  stamps: string;
  trials: number;
  failures: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** Share of trials with an estimate whose true error is within the bound. */
  coverage: number;
  probesSent: number;
  answersUsed: number;
  convergeP50: number;
  convergeMax: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export interface RunOptions {
  trials: number;
  seed?: number;
  estimators?: readonly SyncEstimator[];
}

/** Runs every estimator on `trials` worlds of one profile and stamp model; each estimator sees the same worlds. */
export function runProfile(profile: NetworkProfile, stamps: StampModel, options: RunOptions): EstimatorStats[] {
  const estimators = options.estimators ?? ESTIMATORS;
  const seed = options.seed ?? 1;
  const errors = estimators.map(() => [] as number[]);
  const covered = estimators.map(() => 0);
  const failures = estimators.map(() => 0);
  const sent = estimators.map(() => 0);
  const used = estimators.map(() => 0);
  const converge = estimators.map(() => [] as number[]);
  for (let t = 0; t < options.trials; t++) {
    const worldSeed = seedFromString(`${seed}/${profile.id}/${stamps.id}/${t}`);
    const world = makeWorld(profile, stamps, worldSeed);
    estimators.forEach((estimator, e) => {
      const result = estimator.run(world, mulberry32(seedFromString(`${worldSeed}/${estimator.id}`)));
      sent[e] += result.probesSent;
      converge[e].push(result.convergeMs);
      if (result.clientMinusMonoMs === null) {
        failures[e]++;
        return;
      }
      const error = Math.abs(result.clientMinusMonoMs - world.clientMinusMonoMs);
      errors[e].push(error);
      used[e] += result.answersUsed;
      if (result.boundMs !== null && error <= result.boundMs) covered[e]++;
    });
  }
  return estimators.map((estimator, e) => {
    const sorted = errors[e].sort((a, b) => a - b);
    const conv = converge[e].sort((a, b) => a - b);
    const ok = sorted.length;
    return {
      estimator: estimator.id,
      profile: profile.id,
      stamps: stamps.id,
      trials: options.trials,
      failures: failures[e],
      p50: quantile(sorted, 0.5),
      p95: quantile(sorted, 0.95),
      p99: quantile(sorted, 0.99),
      max: ok ? sorted[ok - 1] : NaN,
      coverage: ok ? covered[e] / ok : NaN,
      probesSent: sent[e] / options.trials,
      answersUsed: ok ? used[e] / ok : 0,
      convergeP50: quantile(conv, 0.5),
      convergeMax: conv[conv.length - 1],
    };
  });
}
