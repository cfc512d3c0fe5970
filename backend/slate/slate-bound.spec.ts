import { groupOffset, photoOffset, UNKNOWN_EXPOSURE_MS } from './slate-bound';

describe(photoOffset.name, () => {
  const base = { cameraMs: 1_000_000 + 1234, slateMs: 1_000_000, subSecDigits: 2, exposureMs: 4, frameMs: 16.7, pageErrMs: 1 };

  it('is [E - s - Λ - F - e, E - s + r + X + e]: 60 Hz, 1/250 s, two sub-second digits, ±1 ms page, one frame of latency', () => {
    const r = photoOffset(base, { latencyFrames: 1 });
    expect(r.lowMs).toBeCloseTo(1234 - 16.7 - 16.7 - 1, 6);
    expect(r.highMs).toBeCloseTo(1234 + 10 + 4 + 1, 6);
    expect(r.boundMs).toBeCloseTo(24.7, 6);
    expect(r.terms).toEqual({ frameMs: 16.7, latencyMs: 16.7, exifResolutionMs: 10, exposureMs: 4, exposureAssumed: false, pageErrMs: 1 });
  });

  it.each([
    ['whole seconds only', { subSecDigits: 0 }, 1000],
    ['three sub-second digits', { subSecDigits: 3 }, 1],
  ])('the EXIF resolution: %s', (_name, change, resolution) => {
    expect(photoOffset({ ...base, ...change }, { latencyFrames: 1 }).terms.exifResolutionMs).toBe(resolution);
  });

  it('assumes a long exposure when the photo does not say, and scales the latency with the frame', () => {
    const r = photoOffset({ ...base, exposureMs: null, frameMs: 8.3 }, { latencyFrames: 2 });
    expect(r.terms).toMatchObject({ exposureMs: UNKNOWN_EXPOSURE_MS, exposureAssumed: true, latencyMs: 16.6 });
  });

  // The argument, checked: wherever in the window the shutter opened, and wherever in its 10 ms the camera's
  // clock was, the true offset is inside the interval; just outside the window it may not be.
  it('holds the truth for every shutter instant the code could be read at, and every truncation phase', () => {
    const F = 16.7;
    const X = 4;
    const e = 1;
    const truth = 1234.567;
    for (let latency = 0; latency <= F; latency += F / 4) {
      for (let t = -X; t <= F; t += 0.5) {
        for (const pageError of [-e, 0, e]) {
          const s = 1_000_000 + pageError; // the code's time, off by the page's error
          const shutter = 1_000_000 + latency + t; // the Pi's time when the shutter opened (frame on screen from 1_000_000 + latency)
          const stamp = Math.floor((shutter + truth) / 10) * 10; // the camera's clock, truncated to 10 ms
          const r = photoOffset({ cameraMs: stamp, slateMs: s, subSecDigits: 2, exposureMs: X, frameMs: F, pageErrMs: e }, { latencyFrames: 1 });
          expect([latency, t, pageError, truth >= r.lowMs - 1e-6 && truth <= r.highMs + 1e-6]).toEqual([latency, t, pageError, true]);
        }
      }
    }
  });
});

describe(groupOffset.name, () => {
  const photo = (offsetMs: number, boundMs: number, slateMs = 0) => ({ offsetMs, boundMs, lowMs: offsetMs - boundMs, highMs: offsetMs + boundMs, slateMs });

  it('one photo: itself', () => {
    expect(groupOffset([photo(100, 20)])).toMatchObject({ offsetMs: 100, boundMs: 20, photos: 1, consistent: true, medianMs: 100 });
  });

  it('several: the intersection, tighter than any of them', () => {
    const r = groupOffset([photo(100, 20), photo(110, 20), photo(95, 20)]);
    expect(r).toMatchObject({ lowMs: 90, highMs: 115, offsetMs: 102.5, boundMs: 12.5, consistent: true, medianMs: 100 });
  });

  it('widens each photo by the drift between it and the middle one', () => {
    const r = groupOffset([photo(100, 20, 0), photo(100, 20, 600_000), photo(100, 20, 300_000)]);
    // 50 ppm of 5 minutes: 15 ms either side for the two outer photos; the middle one is the tightest.
    expect(r).toMatchObject({ lowMs: 80, highMs: 120, consistent: true });
  });

  it('photos that contradict each other: their median, with a bound that holds every one of them', () => {
    const r = groupOffset([photo(100, 10), photo(105, 10), photo(400, 10)]);
    expect(r.consistent).toBe(false);
    expect(r.offsetMs).toBe(105);
    expect(r.lowMs).toBeLessThanOrEqual(90);
    expect(r.highMs).toBeGreaterThanOrEqual(410);
  });
});
