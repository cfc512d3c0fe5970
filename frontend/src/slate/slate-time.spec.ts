import { parseSlateCode } from '../../../backend/protocol/slate-code';
import { DRIFT_PPM, FrameClock, MAX_PAGE_ERROR_MS, PiTimeEstimate, slateView, type SlateFacts } from './slate-time';

describe('PiTimeEstimate', () => {
  it("carries the Pi's time on performance.now() from the probe with the shortest round trip, aged by the drift", () => {
    const sut = new PiTimeEstimate();
    sut.add({ piMinusPerfMs: 1_000_000, rttMs: 8, atPerf: 100, clock: 'abcd.0' });
    sut.add({ piMinusPerfMs: 1_000_002, rttMs: 2, atPerf: 110, clock: 'abcd.0' });
    const at = sut.at(1110)!;
    expect(at.piMs).toBe(1110 + 1_000_002);
    expect(at.errMs).toBeCloseTo(1 + 0.001 + (1000 * DRIFT_PPM) / 1e6, 6);
    expect(at.clock).toBe('abcd.0');
  });

  it("forgets probes of an earlier setting of the Pi's clock, and probes older than 30 s", () => {
    const sut = new PiTimeEstimate();
    sut.add({ piMinusPerfMs: 5, rttMs: 1, atPerf: 0, clock: 'abcd.0' });
    sut.add({ piMinusPerfMs: 7505, rttMs: 6, atPerf: 1000, clock: 'abcd.1' });
    expect(sut.at(1000)).toMatchObject({ piMs: 8505, clock: 'abcd.1' });
    expect(sut.at(40_000)).toBeNull();
  });
});

describe('FrameClock', () => {
  it('measures the frame period and sees a skipped frame', () => {
    const sut = new FrameClock();
    let t = 0;
    for (let i = 0; i < 30; i++) sut.tick((t += 16.7));
    expect(sut.periodMs()).toBeCloseTo(16.7, 6);
    expect(sut.steady(t)).toBe(true);
    sut.tick((t += 50));
    expect(sut.steady(t)).toBe(false);
    for (let i = 0; i < 70; i++) sut.tick((t += 16.7));
    expect(sut.steady(t)).toBe(true);
  });
});

describe('slateView', () => {
  const good: SlateFacts = { piId: 'pi-a', reliability: 'high', frame: 7, periodMs: 16.7, steady: true, estimate: { piMs: 1_796_205_600_000.4, errMs: 1.2, clock: 'abcd.3' }, probeFailed: false };

  it("draws the Pi's time at which the frame reaches the screen at the earliest: the frame's start plus one period", () => {
    const view = slateView(good);
    expect(view.kind).toBe('code');
    if (view.kind !== 'code') return;
    expect(parseSlateCode(view.text)).toEqual({ piId: 'pi-a', unixMs: 1_796_205_600_017, frame: 7, frameMs: 16.7, errMs: 1.7, clock: 'abcd.3' });
  });

  it.each<[string, Partial<SlateFacts>, RegExp]>([
    ['the Pi has no time', { reliability: 'none' }, /The Pi's time is not set yet: no code/],
    ['the Pi was confirmed long ago', { reliability: 'low' }, /over an hour ago: no code/],
    ['the screen has not measured the Pi', { estimate: null }, /Measuring this screen against the Pi's clock/],
    ['the Pi does not answer', { estimate: null, probeFailed: true }, /The Pi does not answer: no code/],
    ['the phone knows the Pi poorly', { estimate: { piMs: 1, errMs: MAX_PAGE_ERROR_MS + 3, clock: 'abcd.0' } }, /to ±13 ms only .* no code until ±10 ms/],
    ['the screen is slow', { periodMs: 50 }, /every 50 ms, too slowly/],
    ['the screen skipped a frame', { steady: false }, /skipped a frame: no code/],
  ])('shows no code when %s, and says why', (_case, change, words) => {
    const view = slateView({ ...good, ...change });
    expect(view.kind).toBe('no-code');
    expect(view.kind === 'no-code' ? view.reason : '').toMatch(words);
  });
});
