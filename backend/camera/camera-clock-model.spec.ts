import fc from 'fast-check';
import { DriftSeries, OffsetSample } from '../time/drift';
import { CameraClockModel, clockCheckOf, clockForgotten, driftOf, expectedNow, expectedWindow, UNKNOWN_CLOCK, withDriftSample, withMeasurement } from './camera-clock-model';
import { CameraMeasurement } from './camera-measurement';

const MIN = 60_000;
const measurement = (atMono: number, offsetMs: number | null, boundMs: number | null = 5, more: Partial<CameraMeasurement> = {}): CameraMeasurement => ({
  cameraId: 'AAA1',
  at: new Date(Date.UTC(2026, 11, 2, 10) + atMono).toISOString(),
  atMono,
  offsetMs,
  boundMs,
  uncertain: offsetMs === null,
  samples: 12,
  roundTripMs: 10,
  kind: 'check',
  ...more,
});
const fold = (epoch: number, ...ms: CameraMeasurement[]): CameraClockModel => ms.reduce((model, m) => withMeasurement(model, m, epoch, true), UNKNOWN_CLOCK);

describe('camera clock model', () => {
  it('knows nothing at first: no clock in the status, nothing to expect', () => {
    const now = { mono: 0, epoch: 0 };
    expect([clockCheckOf(UNKNOWN_CLOCK, now), expectedNow(UNKNOWN_CLOCK, now), expectedWindow(UNKNOWN_CLOCK, now), driftOf(UNKNOWN_CLOCK)]).toEqual([null, null, null, null]);
  });

  it('keeps a certain measurement as the clock now; the error now grows at the assumed 50 ppm while the drift is unknown', () => {
    const model = fold(0, measurement(0, 30, 5));
    expect(clockCheckOf(model, { mono: 10 * MIN, epoch: 0 })).toEqual({
      offsetMs: 30,
      boundMs: 5,
      checkedAt: model.last!.measurement.at,
      ageMs: 10 * MIN,
      drift: null,
      errorNowMs: 30 + 5 + 30, // 50 ppm of 10 minutes
      driftMeasured: false,
    });
  });

  it('an uncertain measurement, or one not kept (before a write), only says when the camera was last measured', () => {
    const kept = fold(0, measurement(0, 30));
    const uncertain = withMeasurement(kept, measurement(MIN, null, null), 0, true);
    const notKept = withMeasurement(kept, measurement(2 * MIN, 900), 0, false);
    expect([uncertain.last, uncertain.lastMeasuredMono]).toEqual([kept.last, MIN]);
    expect([notKept.last, notKept.lastMeasuredMono]).toEqual([kept.last, 2 * MIN]);
  });

  it('measures the drift from successive checks and moves the expected error with it', () => {
    // +20 ppm: 12 ms more every 10 minutes.
    const model = fold(0, ...Array.from({ length: 6 }, (_, i) => measurement(i * 10 * MIN, 100 + i * 12, 2)));
    const drift = driftOf(model)!;
    expect(drift.ppm).toBeCloseTo(20, 0);
    const now = expectedNow(model, { mono: 60 * MIN, epoch: 0 })!;
    expect(now.offsetMs).toBeCloseTo(100 + 6 * 12, 0);
    expect(clockCheckOf(model, { mono: 60 * MIN, epoch: 0 })!.driftMeasured).toBe(true);
  });

  it('follows a step of the Pi wall clock since the measurement (camera minus Pi moves by minus the step), and keeps the drift series whole', () => {
    const before = fold(0, measurement(0, 30, 2));
    expect(expectedNow(before, { mono: 0, epoch: 2000 })!.offsetMs).toBe(30 - 2000);
    // Measured again after the step: the same camera, so the same series (offsets taken back to the first epoch).
    const after = withMeasurement(before, measurement(10 * MIN, 30 - 2000, 2), 2000, true);
    expect(after.drift!.samples.map((s) => s.offsetMs)).toEqual([30, 30]);
    expect(driftOf(after)!.ppm).toBeCloseTo(0, 3);
  });

  it('forgets the clock and its drift when it is written, not when it was last measured', () => {
    const model = clockForgotten(fold(0, measurement(0, 30), measurement(MIN, 31)));
    expect(model).toEqual({ last: null, drift: null, lastMeasuredMono: MIN });
  });

  it('gives a window to look in first only while the guess is tighter than the whole second', () => {
    const model = fold(0, measurement(0, 30, 5));
    expect(expectedWindow(model, { mono: 0, epoch: 0 })).toEqual({ low: 30 - 5 - 20, high: 30 + 5 + 20 });
    // A day later at 50 ppm the guess spans more than a second: nothing to say.
    expect(expectedWindow(model, { mono: 24 * 60 * MIN, epoch: 0 })).toBeNull();
  });

  it('adds drift samples exactly as DriftSeries does (a contradicting sample drops the oldest)', () => {
    const sample = fc.record({ dt: fc.integer({ min: 0, max: 3_600_000 }), offsetMs: fc.double({ min: -5000, max: 5000, noNaN: true }), boundMs: fc.double({ min: 0, max: 50, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 60 }), (steps) => {
        const series = new DriftSeries();
        let samples: OffsetSample[] = [];
        let atMono = 0;
        for (const step of steps) {
          atMono += step.dt;
          const s = { atMono, offsetMs: step.offsetMs, boundMs: step.boundMs };
          series.add(s);
          samples = withDriftSample(samples, s);
        }
        expect(samples).toHaveLength(series.count);
        expect(samples.at(-1) ?? null).toEqual(series.last);
        expect(driftOf({ ...UNKNOWN_CLOCK, drift: { epoch: 0, samples } })).toEqual(series.estimate());
      }),
    );
  });
});
