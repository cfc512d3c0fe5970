import { clockLine } from './CameraStatusCard';

describe('clockLine', () => {
  it('says how far the camera can be from the Pi now, when it was checked and how it drifts', () => {
    const drift = { ppm: 1.5, boundPpm: 0.4, sPerDay: 0.1296, boundSPerDay: 0.035, samples: 6, spanMs: 3_000_000, known: true, knownInMs: 0 };
    expect(clockLine({ offsetMs: 12, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 720_000, drift, errorNowMs: 40, driftMeasured: true })).toBe(
      'within ±40 ms of the Pi, checked 12 min ago, drifts +0.13 s/day',
    );
    expect(clockLine({ offsetMs: -3, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 2000, drift: { ...drift, sPerDay: -0.5 }, errorNowMs: 12, driftMeasured: true })).toBe(
      'within ±12 ms of the Pi, checked just now, drifts −0.50 s/day',
    );
    expect(clockLine({ offsetMs: -3, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 2000, drift: null, errorNowMs: 12, driftMeasured: false })).toBe('within ±12 ms of the Pi, checked just now');
  });

  it('shows no drift figure while its bound is too wide to mean anything', () => {
    // Two samples 4 s apart at ±9 ms: -16 s/day ± 389 s/day, the figure a photographer once saw.
    const drift = { ppm: -189, boundPpm: 4500, sPerDay: -16.33, boundSPerDay: 388.8, samples: 2, spanMs: 4000, known: false, knownInMs: 1_551_000 };
    expect(clockLine({ offsetMs: -3, boundMs: 9, checkedAt: '2026-11-25T08:00:00.000Z', ageMs: 2000, drift, errorNowMs: 12, driftMeasured: false })).toBe(
      'within ±12 ms of the Pi, checked just now, drift not known yet (about 25 min more)',
    );
  });
});
