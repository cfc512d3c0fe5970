import { ASSUMED_MAX_DRIFT_PPM, DRIFT_KNOWN_BOUND_S_PER_DAY, DriftSeries, estimateDrift, feasibleRates, offsetBoundAfter, OffsetSample, roundedDrift } from './drift';

const MIN = 60_000;

/** Samples of a clock drifting at `ppm`, measured every `everyMs` with errors `errors[i]` inside ±bound. */
function series(ppm: number, errors: number[], bound: number, everyMs = 10 * MIN, start = 1234): OffsetSample[] {
  return errors.map((e, i) => ({ atMono: i * everyMs, offsetMs: start + (ppm / 1e6) * i * everyMs + e, boundMs: bound }));
}

describe('drift', () => {
  describe(estimateDrift.name, () => {
    it('needs two samples at different instants', () => {
      expect(estimateDrift([])).toBeNull();
      expect(estimateDrift([{ atMono: 0, offsetMs: 5, boundMs: 1 }])).toBeNull();
      expect(estimateDrift([{ atMono: 0, offsetMs: 5, boundMs: 1 }, { atMono: 0, offsetMs: 5, boundMs: 1 }])).toBeNull();
    });

    it.each([
      ['+20 ppm, exact', 20, [0, 0, 0, 0]],
      ['-13 ppm, noisy', -13, [4, -6, 7, -3, 2, -8]],
      ['+1.5 ppm, noisy', 1.5, [-9, 9, -9, 9, 0, 3, -2, 5, -5, 8, -7, 1]],
    ])('%s: the bound contains the truth', (_name, ppm, errors) => {
      const estimate = estimateDrift(series(ppm, errors, 10))!;
      expect(Math.abs(estimate.ppm - ppm)).toBeLessThanOrEqual(estimate.boundPpm);
      expect(estimate.sPerDay).toBeCloseTo(estimate.ppm * 0.0864, 9);
      expect(estimate.boundSPerDay).toBeCloseTo(estimate.boundPpm * 0.0864, 9);
      expect(estimate.samples).toBe(errors.length);
      expect(estimate.spanMs).toBe((errors.length - 1) * 10 * MIN);
    });

    it('gives the rate itself from exact samples', () => {
      const estimate = estimateDrift(series(20, [0, 0, 0], 0.001))!;
      expect(estimate.ppm).toBeCloseTo(20, 3);
      expect(estimate.boundPpm).toBeLessThan(0.01);
    });

    it('narrows as the span grows', () => {
      const errors = [3, -4, 5, -2, 1, -5, 4, 0, -3, 2, 5, -1];
      const after = (n: number) => estimateDrift(series(20, errors.slice(0, n), 10))!;
      expect(after(12).boundPpm).toBeLessThan(after(6).boundPpm);
      expect(after(6).boundPpm).toBeLessThan(after(3).boundPpm);
      expect(Math.abs(after(12).ppm - 20)).toBeLessThan(6); // within 30 %
    });

    it('weights tight samples more than loose ones', () => {
      const samples = [
        { atMono: 0, offsetMs: 0, boundMs: 1 },
        { atMono: 10 * MIN, offsetMs: 12, boundMs: 1 },
        { atMono: 5 * MIN, offsetMs: 400, boundMs: 500 },
      ];
      expect(estimateDrift(samples)!.ppm).toBeCloseTo(20, 0);
    });

    it('returns null for samples no constant rate fits', () => {
      expect(estimateDrift([{ atMono: 0, offsetMs: 0, boundMs: 1 }, { atMono: MIN, offsetMs: 0, boundMs: 1 }, { atMono: 2 * MIN, offsetMs: 500, boundMs: 1 }])).toBeNull();
      expect(feasibleRates([{ atMono: 0, offsetMs: 0, boundMs: 1 }, { atMono: 0, offsetMs: 5, boundMs: 1 }])).toBeNull();
    });
  });

  describe(offsetBoundAfter.name, () => {
    it('adds the rate and its bound times the time since', () => {
      const drift = estimateDrift(series(10, [0, 0], 0.001))!;
      const bound = offsetBoundAfter({ offsetMs: 40, boundMs: 5 }, drift, 86_400_000);
      expect(bound).toBeCloseTo(40 + 864 + 5 + drift.boundPpm * 86.4, 3);
    });

    it('assumes the worst plausible crystal when the rate is unknown', () => {
      expect(offsetBoundAfter({ offsetMs: -40, boundMs: 5 }, null, 1_000_000)).toBeCloseTo(40 + 5 + ASSUMED_MAX_DRIFT_PPM, 6);
      expect(offsetBoundAfter({ offsetMs: -40, boundMs: 5 }, null, -5)).toBe(45);
    });
  });

  describe(DriftSeries.name, () => {
    it('estimates from what it was given', () => {
      const sut = new DriftSeries();
      for (const s of series(-6, [1, -1, 2, 0], 3)) sut.add(s);
      expect(sut.count).toBe(4);
      expect(sut.last).toEqual(expect.objectContaining({ atMono: 30 * MIN }));
      expect(Math.abs(sut.estimate()!.ppm + 6)).toBeLessThanOrEqual(sut.estimate()!.boundPpm);
    });

    it('drops the oldest samples a new one contradicts (the clock was set), and keeps at most its size', () => {
      const sut = new DriftSeries(5);
      for (const s of series(5, [0, 0, 0], 2)) sut.add(s);
      sut.add({ atMono: 40 * MIN, offsetMs: 9000, boundMs: 2 });
      expect(sut.count).toBe(1);
      for (let i = 1; i <= 8; i++) sut.add({ atMono: (40 + 10 * i) * MIN, offsetMs: 9000, boundMs: 2 });
      expect(sut.count).toBe(5);
      sut.clear();
      expect(sut.count).toBe(0);
      expect(sut.estimate()).toBeNull();
    });

    it('ignores nonsense', () => {
      const sut = new DriftSeries();
      sut.add({ atMono: 0, offsetMs: Number.NaN, boundMs: 1 });
      sut.add({ atMono: 0, offsetMs: 1, boundMs: -1 });
      expect(sut.count).toBe(0);
    });
  });

  describe('known', () => {
    it('is a figure only once its bound is within 1 s/day, and says how much longer that takes', () => {
      // Two ±9 ms measurements 4 s apart: the bound is 18 ms / 4 s = 389 s/day, not known for another ~25 min.
      const early = estimateDrift([{ atMono: 0, offsetMs: 0, boundMs: 9 }, { atMono: 4000, offsetMs: -1, boundMs: 9 }])!;
      expect(early.known).toBe(false);
      expect(early.knownInMs).toBeGreaterThan(25 * 60_000);
      expect(early.knownInMs).toBeLessThan(27 * 60_000);
      // The same clock measured again after that span is known.
      const later = estimateDrift([{ atMono: 0, offsetMs: 0, boundMs: 9 }, { atMono: 4000 + early.knownInMs, offsetMs: -1, boundMs: 9 }])!;
      expect(later.boundSPerDay).toBeLessThanOrEqual(DRIFT_KNOWN_BOUND_S_PER_DAY);
      expect(later).toMatchObject({ known: true, knownInMs: 0 });
    });

    it('keeps the flag through rounding for the wire', () => {
      const d = estimateDrift([{ atMono: 0, offsetMs: 0, boundMs: 9 }, { atMono: 4000, offsetMs: -1, boundMs: 9 }])!;
      expect(roundedDrift(d)).toMatchObject({ known: false, knownInMs: Math.round(d.knownInMs) });
    });
  });
});
