import {
  CLIENT_JUMP_THRESHOLD_MS,
  DEFAULT_BURST,
  FIREFOX_RFP_STEP_MS,
  MIN_SAMPLES,
  SERVER_JUMP_THRESHOLD_MS,
  detectClientResolution,
  detectClockJump,
  estimateOffset,
  planBurst,
  type ProbeSample,
} from './estimator';
import { mulberry32, seedFromString } from '../../common/prng';

/** Client wall minus server monotonic in these tests: a phone in late 2026, with a fractional part. */
const THETA = 1_795_000_000_000.375;

interface BurstSpec {
  count?: number;
  gapMs?: number;
  /** One-way delays of probe i, server to phone and back. */
  out?: (i: number) => number;
  back?: (i: number) => number;
  /** What the page reports for its true time. */
  stamp?: (trueMs: number, i: number) => number;
  theta?: number | ((i: number) => number);
}

/** A burst as the server would record it, with a known truth. */
function burst(spec: BurstSpec = {}): ProbeSample[] {
  const { count = 16, gapMs = 22.3, out = () => 2, back = () => 2, stamp = Math.floor, theta = THETA } = spec;
  return Array.from({ length: count }, (_, i) => {
    const sentMono = 5_000 + i * gapMs;
    const stampedAt = sentMono + out(i);
    const offset = typeof theta === 'function' ? theta(i) : theta;
    return { requestId: `r${i}`, sentMono, receivedMono: stampedAt + back(i), clientTime: stamp(stampedAt + offset, i) };
  });
}

/** Firefox resistFingerprinting: clamp down to a 16 667 us grid from the epoch, then whole ms. */
const rfp = (trueMs: number) => Math.trunc((Math.floor((trueMs * 1000) / 16_667) * 16_667) / 1000);

/** The same with Firefox's timer jitter: past a secret per-grain midpoint the next grid point is reported. */
function rfpJittered(seed: number) {
  return (trueMs: number) => {
    const us = Math.floor(trueMs * 1000);
    let grain = Math.floor(us / 16_667) * 16_667;
    if (us - grain >= mulberry32(seedFromString(`${seed}/${grain}`))() * 16_667) grain += 16_667;
    return Math.trunc(grain / 1000);
  };
}

const errorOf = (samples: ProbeSample[], theta = THETA) => {
  const estimate = estimateOffset(samples);
  if (!estimate) throw new Error('expected an estimate');
  return { estimate, error: estimate.clientMinusMonoMs - theta };
};

describe(estimateOffset.name, () => {
  it('recovers the exact offset when the delays are symmetric', () => {
    // The page's clock is read at phases spread over the millisecond, as a real burst would.
    const samples = burst({ count: 16, gapMs: 20 + 1 / 16 });
    const { estimate, error } = errorOf(samples);
    expect(Math.abs(error)).toBeLessThan(0.05);
    expect(estimate.delayMs).toBeCloseTo(4, 9);
    expect(estimate.clientResolutionMs).toBe(1);
    expect(estimate.clientRounding).toBe('floor');
    expect(estimate.samplesUsed).toBe(16);
    expect(estimate.samplesTotal).toBe(16);
    expect(estimate.inconsistencyMs).toBe(0);
  });

  it('ignores a slow probe, even one delayed on one side only', () => {
    const clean = burst({ gapMs: 20 + 1 / 16 });
    const withSlow = burst({ gapMs: 20 + 1 / 16, out: (i) => (i === 5 ? 180 : 2) });
    const slow = withSlow[5];
    // On its own the slow answer would be ~89 ms off.
    expect(slow.clientTime - (slow.sentMono + slow.receivedMono) / 2 - THETA).toBeGreaterThan(80);
    expect(Math.abs(errorOf(withSlow).error - errorOf(clean).error)).toBeLessThan(0.05);
    expect(Math.abs(errorOf(withSlow).error)).toBeLessThan(0.1);
  });

  it('ignores a burst of DTIM-buffered first probes and late JS stamps', () => {
    // The first five requests wait at the access point for the same beacon; every 7th answer is stamped
    // 30 ms late by a busy page.
    const samples = burst({
      count: 24,
      out: (i) => (i < 5 ? 190 - i * 22.3 : 1.8 + (i % 3) * 0.2) + (i % 7 === 3 ? 30 : 0),
      back: (i) => 1.9 + (i % 4) * 0.15,
    });
    expect(Math.abs(errorOf(samples).error)).toBeLessThan(0.3);
  });

  it('keeps the true error within the bound on a fixed asymmetric path', () => {
    // 7 ms out, 1 ms back: every probe is off by +3 ms and nothing can tell; only the bound can be right.
    const samples = burst({ count: 24, out: () => 7, back: () => 1 });
    const { estimate, error } = errorOf(samples);
    expect(Math.abs(error)).toBeGreaterThan(2.5);
    expect(Math.abs(error)).toBeLessThanOrEqual(estimate.errorBoundMs);
    // About lowest delay / 2 + resolution, never far beyond.
    expect(estimate.errorBoundMs).toBeLessThanOrEqual(estimate.delayMs / 2 + 2 * estimate.clientResolutionMs);
  });

  it('keeps the error within the bound for random asymmetric paths', () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const outs = Array.from({ length: 20 }, () => 0.5 + rng() * 30);
      const backs = Array.from({ length: 20 }, () => 0.5 + rng() * 30);
      const theta = THETA + rng() * 1000;
      const samples = burst({ count: 20, out: (i) => outs[i], back: (i) => backs[i], theta });
      const { estimate, error } = errorOf(samples, theta);
      expect(Math.abs(error)).toBeLessThanOrEqual(estimate.errorBoundMs);
    }
  });

  it('detects 16.67 ms stamps (Firefox resistFingerprinting), includes the step in the bound and still lands within 3 ms', () => {
    const samples = burst({ count: 32, gapMs: 22.1, stamp: rfp });
    const { estimate, error } = errorOf(samples);
    expect(estimate.clientResolutionMs).toBeCloseTo(FIREFOX_RFP_STEP_MS, 6);
    expect(estimate.clientRounding).toBe('floor');
    expect(Math.abs(error)).toBeLessThan(3);
    expect(Math.abs(error)).toBeLessThanOrEqual(estimate.errorBoundMs);
    expect(estimate.errorBoundMs).toBeGreaterThanOrEqual(FIREFOX_RFP_STEP_MS / 2);
  });

  it('recognises Firefox timer jitter on 16.67 ms stamps', () => {
    const samples = burst({ count: 32, gapMs: 22.1, stamp: rfpJittered(3) });
    const { estimate, error } = errorOf(samples);
    expect(estimate.clientRounding).toBe('jittered');
    expect(Math.abs(error)).toBeLessThan(FIREFOX_RFP_STEP_MS / 4);
    expect(Math.abs(error)).toBeLessThanOrEqual(estimate.errorBoundMs);
  });

  it('detects 100 ms stamps and covers the error with the bound', () => {
    const samples = burst({ count: 32, gapMs: 22.1, stamp: (t) => Math.floor(t / 100) * 100 });
    const { estimate, error } = errorOf(samples);
    expect(estimate.clientResolutionMs).toBe(100);
    expect(Math.abs(error)).toBeLessThanOrEqual(estimate.errorBoundMs);
    expect(estimate.errorBoundMs).toBeGreaterThanOrEqual(50);
    expect(Math.abs(error)).toBeLessThan(10);
  });

  it('uses the resolution it is given', () => {
    const samples = burst({ count: 8 });
    expect(estimateOffset(samples, { clientResolutionMs: 16.667 })?.clientResolutionMs).toBe(16.667);
    expect(() => estimateOffset(samples, { clientResolutionMs: 0 })).toThrow(RangeError);
    expect(() => estimateOffset(samples, { clientResolutionMs: NaN })).toThrow(RangeError);
  });

  it(`returns null with fewer than ${MIN_SAMPLES} usable answers`, () => {
    expect(estimateOffset([])).toBeNull();
    expect(estimateOffset(burst({ count: 1 }))).toBeNull();
    expect(estimateOffset(burst({ count: 2 }))).toBeNull();
    expect(estimateOffset(burst({ count: 3 }))).not.toBeNull();
  });

  it('rejects NaN, infinite and negative-round-trip stamps and repeated request ids', () => {
    const good = burst({ count: 8, gapMs: 20 + 1 / 8 });
    const bad: ProbeSample[] = [
      { ...good[0], requestId: 'nan-client', clientTime: NaN },
      { ...good[1], requestId: 'nan-sent', sentMono: NaN },
      { ...good[2], requestId: 'inf-received', receivedMono: Infinity },
      { ...good[3], requestId: 'backwards', receivedMono: good[3].sentMono - 1 },
      { ...good[4], clientTime: good[4].clientTime + 10_000 }, // same request id as good[4], answered twice
    ];
    const estimate = estimateOffset([...good, ...bad]);
    expect(estimate).not.toBeNull();
    expect(estimate!.clientMinusMonoMs).toBe(estimateOffset(good)!.clientMinusMonoMs);
    expect(estimate!.samplesUsed).toBe(8);
    expect(estimate!.samplesTotal).toBe(13);
    expect(Number.isFinite(estimate!.errorBoundMs)).toBe(true);

    expect(estimateOffset([...good.slice(0, 2), ...bad.slice(0, 4)])).toBeNull();
  });

  it('compensates the round trip and keeps fractions of a millisecond (prior-art pitfall 5)', () => {
    // 100 ms each way: "client time minus server time at receipt" would be 100 ms off.
    const samples = burst({ count: 8, gapMs: 30 + 1 / 8, out: () => 100, back: () => 100, stamp: (t) => t });
    const { estimate, error } = errorOf(samples);
    expect(Math.abs(error)).toBeLessThan(0.1);
    // The .375 of THETA survives: no truncation to whole ms anywhere.
    expect(Math.abs((estimate.clientMinusMonoMs % 1) - 0.375)).toBeLessThan(0.1);
  });
});

describe(detectClientResolution.name, () => {
  it('reads whole-ms stamps as 1 ms and fractional ones as sub-ms', () => {
    expect(detectClientResolution(burst({ count: 8 }))).toBe(1);
    expect(detectClientResolution(burst({ count: 8, stamp: (t) => t }))).toBeLessThan(1);
  });

  it('finds 16.667 ms and 100 ms grids from 8 to 32 answers', () => {
    for (const count of [8, 16, 32]) {
      expect(detectClientResolution(burst({ count, stamp: rfp }))).toBeCloseTo(FIREFOX_RFP_STEP_MS, 6);
      expect(detectClientResolution(burst({ count, stamp: (t) => Math.floor(t / 100) * 100 }))).toBe(100);
    }
  });

  it('does not mistake whole-ms stamps for a coarse grid', () => {
    for (let seed = 0; seed < 200; seed++) {
      const rng = mulberry32(seed);
      const samples = burst({ count: 8, gapMs: 20 + rng() * 20, theta: THETA + rng() * 1e6 });
      expect(detectClientResolution(samples)).toBe(1);
    }
  });

  it('keeps 1 ms when a regular spacing lands every stamp near the 16.67 ms grid', () => {
    // 33.334 ms apart: every difference is a multiple of 16.667 within 1 ms, yet the stamps agree at 1 ms.
    expect(detectClientResolution(burst({ count: 12, gapMs: 33.334 }))).toBe(1);
  });

  it.each(['firefox-rfp-under-load-1', 'firefox-rfp-under-load-2'])('sees the 16.67 ms clock of a stalled Firefox with resistFingerprinting, and bounds the truth (%s, recorded)', (name) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const recorded = require(`./fixtures/${name}.json`) as { trueClientMinusMonoMs: number; samples: ProbeSample[] };
    expect(detectClientResolution(recorded.samples)).toBeCloseTo(16.667, 2);
    const estimate = estimateOffset(recorded.samples)!;
    expect(Math.abs(estimate.clientMinusMonoMs - recorded.trueClientMinusMonoMs)).toBeLessThanOrEqual(estimate.errorBoundMs);
  });

  it('sees a coarse clock from repeated stamps even with few distinct values', () => {
    // Whole seconds: a 700 ms burst shows one or two values.
    const seconds = burst({ count: 24, gapMs: 29, stamp: (t) => Math.floor(t / 1000) * 1000, theta: 1_795_000_000_200 });
    expect(detectClientResolution(seconds)).toBe(1000);
  });
});

describe(detectClockJump.name, () => {
  const steady = { serverWallMinusMonoStart: 1_795_000_000_000, serverWallMinusMonoEnd: 1_795_000_000_000.6 };

  it('reports nothing for a steady burst, however slow some answers are', () => {
    const samples = burst({ count: 24, out: (i) => (i < 4 ? 200 : 2), back: (i) => (i % 5 === 0 ? 40 : 2) });
    expect(detectClockJump(samples, steady)).toBeNull();
  });

  it('reports a step of the phone clock in the middle of the burst', () => {
    const samples = burst({ count: 24, theta: (i) => (i < 12 ? THETA : THETA + 500) });
    const jump = detectClockJump(samples, steady);
    expect(jump?.side).toBe('client');
    expect(jump!.clientInconsistencyMs).toBeGreaterThan(400);
    expect(jump!.message).toMatch(/phone/);
    // The estimate itself shows the contradiction too.
    expect(estimateOffset(samples)!.inconsistencyMs).toBeGreaterThan(CLIENT_JUMP_THRESHOLD_MS);
  });

  it('reports a backwards phone step of a few tens of ms', () => {
    const samples = burst({ count: 24, theta: (i) => (i < 20 ? THETA : THETA - 30) });
    expect(detectClockJump(samples, steady)?.side).toBe('client');
  });

  it('reports a step of the server clock during the burst', () => {
    const jump = detectClockJump(burst(), { serverWallMinusMonoStart: 1_795_000_000_000, serverWallMinusMonoEnd: 1_795_000_003_600 });
    expect(jump?.side).toBe('server');
    expect(jump!.serverStepMs).toBeCloseTo(3600, 6);
    expect(jump!.message).toMatch(/Pi/);
    expect(detectClockJump(burst(), { ...steady, serverWallMinusMonoEnd: steady.serverWallMinusMonoStart + SERVER_JUMP_THRESHOLD_MS - 0.5 })).toBeNull();
    expect(detectClockJump(burst(), { ...steady, serverWallMinusMonoEnd: NaN })?.side).toBe('server');
  });

  it('reports both sides at once', () => {
    const samples = burst({ count: 24, theta: (i) => (i < 12 ? THETA : THETA + 500) });
    expect(detectClockJump(samples, { serverWallMinusMonoStart: 0, serverWallMinusMonoEnd: 1000 })?.side).toBe('both');
  });
});

describe(planBurst.name, () => {
  it('plans 32 probes 20-40 ms apart that finish in well under a second', () => {
    for (let seed = 0; seed < 100; seed++) {
      const gaps = planBurst(mulberry32(seed));
      expect(gaps).toHaveLength(DEFAULT_BURST.probes - 1);
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(20);
        expect(gap).toBeLessThanOrEqual(40);
      }
      const span = gaps.reduce((a, b) => a + b, 0);
      expect(span + DEFAULT_BURST.replyGraceMs).toBeLessThan(1000);
    }
  });

  it('spreads the send times over the phases of the 16.67 ms rounding step', () => {
    const gaps = planBurst(mulberry32(42));
    let at = 0;
    const bins = new Array(8).fill(0);
    for (const gap of gaps) {
      at += gap;
      bins[Math.floor(((at % FIREFOX_RFP_STEP_MS) / FIREFOX_RFP_STEP_MS) * 8)]++;
    }
    // 31 probes over 8 phase bins: a schedule in step with the rounding would fill one or two.
    expect(Math.min(...bins)).toBeGreaterThanOrEqual(2);
  });

  it('is jittered: the plan depends on the random source, and repeats with the same seed', () => {
    expect(planBurst(mulberry32(1))).toEqual(planBurst(mulberry32(1)));
    expect(planBurst(mulberry32(1))).not.toEqual(planBurst(mulberry32(2)));
  });

  it('honours its options and refuses impossible ones', () => {
    const gaps = planBurst(mulberry32(5), { probes: 8, minGapMs: 25, maxGapMs: 45, meanGapMs: 35 });
    expect(gaps).toHaveLength(7);
    gaps.forEach((g) => expect(g).toBeGreaterThanOrEqual(25));
    gaps.forEach((g) => expect(g).toBeLessThanOrEqual(45));
    expect(() => planBurst(mulberry32(5), { probes: 1 })).toThrow(RangeError);
    expect(() => planBurst(mulberry32(5), { probes: 2.5 })).toThrow(RangeError);
    expect(() => planBurst(mulberry32(5), { minGapMs: 30, maxGapMs: 35 })).toThrow(RangeError);
    expect(() => planBurst(mulberry32(5), { meanGapMs: 50 })).toThrow(RangeError);
  });
});

describe(mulberry32.name, () => {
  it('is deterministic and uniform in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const values = Array.from({ length: 10_000 }, () => a());
    expect(values.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    expect(mean).toBeGreaterThan(0.48);
    expect(mean).toBeLessThan(0.52);
  });
});

/**
 * A jittery 5 ms link and a server whose event loop reads some answers late: an answer that lands while the
 * loop is busy waits until the busy stretch ends. The server measures, per read, how long its loop had been
 * busy before it (`readLagMs`, see ws-frames.ts), which is at least the wait (the stretch may have begun
 * before the answer landed). Floored `Date.now()` stamps. Seeded, so a failure repeats.
 */
function laggedBursts(bursts: number, lag: { share: number; maxWaitMs: number; maxBusyBeforeMs: number }, seed = 19) {
  const rng = mulberry32(seed);
  const oneWay = () => 5 + (rng() - 0.5) * 2 + 0.5 * Math.exp(0.6 * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
  const errors: number[] = [];
  let outside = 0;
  for (let b = 0; b < bursts; b++) {
    const theta = THETA + rng() * 1000;
    const gaps = planBurst(rng);
    let sentMono = 10_000 + rng() * 1e6;
    const samples: ProbeSample[] = [];
    for (let i = 0; i <= gaps.length; i++) {
      if (i > 0) sentMono += gaps[i - 1];
      const stampedAt = sentMono + oneWay();
      const arrived = stampedAt + oneWay();
      let readLagMs = 0;
      let waited = 0;
      if (rng() < lag.share) {
        waited = rng() * lag.maxWaitMs;
        readLagMs = waited + rng() * lag.maxBusyBeforeMs;
      }
      samples.push({ requestId: `b${b}-${i}`, sentMono, receivedMono: arrived + waited, clientTime: Math.floor(stampedAt + theta), readLagMs });
    }
    const estimate = estimateOffset(samples);
    if (!estimate) throw new Error('expected an estimate');
    const error = estimate.clientMinusMonoMs - theta;
    errors.push(error);
    if (Math.abs(error) > estimate.errorBoundMs) outside++;
  }
  const sorted = errors.map(Math.abs).sort((a, b) => a - b);
  return { meanSigned: errors.reduce((a, e) => a + e, 0) / errors.length, p95: sorted[Math.floor(0.95 * sorted.length)], outside };
}

describe('estimateOffset against answers read late (jittery 5 ms link)', () => {
  it('has no bias when every answer is read on time', () => {
    const r = laggedBursts(1000, { share: 0, maxWaitMs: 0, maxBusyBeforeMs: 0 });
    expect(Math.abs(r.meanSigned)).toBeLessThanOrEqual(0.1);
    expect(r.outside).toBe(0);
  });

  // Without the read lag taken into account the mean signed error here is -0.38 ms (p95 0.79 ms).
  it('keeps the mean signed error within ±0.3 ms when every answer waits in a busy loop for up to 4 ms', () => {
    const r = laggedBursts(2000, { share: 1, maxWaitMs: 4, maxBusyBeforeMs: 2 });
    expect(Math.abs(r.meanSigned)).toBeLessThanOrEqual(0.3);
    expect(r.p95).toBeLessThanOrEqual(1);
    expect(r.outside).toBe(0);
  });

  it('keeps the mean signed error within ±0.3 ms when most answers wait and the measure is exact', () => {
    const r = laggedBursts(2000, { share: 0.9, maxWaitMs: 4, maxBusyBeforeMs: 0 });
    expect(Math.abs(r.meanSigned)).toBeLessThanOrEqual(0.3);
    expect(r.outside).toBe(0);
  });
});
