import { estimateClockError, handledAt, planSecondAlignedSend, recentRoundTripMs, secondToWrite, SharedSecondBoundary } from './sync-timing';

describe('camera sync timing', () => {
  describe(recentRoundTripMs.name, () => {
    it.each([
      ['one slow handshake does not count', [90, 20, 22, 18, 21], 20.5],
      ['a steady link', [20, 25, 22, 30, 21, 24, 26], 24],
      ['15 ms becomes 120 ms: followed as soon as three agree', [15, 15, 15, 15, 15, 120, 120, 120], 120],
      ['40-250 ms jitter calms back to 15 ms', [40, 250, 90, 180, 60, 15, 16, 15], 15],
      ['only this many latest samples count', [500, 500, 500, 500, 10, 11, 10, 12, 10, 11, 10, 12, 10], 10],
      ['one sample', [33], 33],
      ['plain jitter: three close samples are no shift', [5, 80, 40, 12, 66, 30, 70, 72, 75], 68],
    ])('%s', (_what, rtts, expected) => {
      expect(recentRoundTripMs(rtts)).toBe(expected);
    });

    it('weights the latest more: a trend moves it', () => {
      expect(recentRoundTripMs([10, 10, 10, 30, 40, 50])).toBeGreaterThanOrEqual(30);
    });

    it('ignores nonsense, and has nothing to say without samples', () => {
      expect(recentRoundTripMs([-1, Number.NaN, 12])).toBe(12);
      expect(recentRoundTripMs([])).toBeNull();
    });
  });

  describe(planSecondAlignedSend.name, () => {
    it('sends one latency before the next boundary', () => {
      expect(planSecondAlignedSend(10_400, 20)).toEqual({ sendAtMs: 10_980, boundaryMs: 11_000 });
    });

    it('takes the following boundary when there is no time to get ready', () => {
      expect(planSecondAlignedSend(10_960, 20, 30)).toEqual({ sendAtMs: 11_980, boundaryMs: 12_000 });
    });

    it('handles a latency longer than a second', () => {
      const plan = planSecondAlignedSend(10_000, 1500);
      expect(plan.boundaryMs % 1000).toBe(0);
      expect(plan.sendAtMs - 10_000).toBeGreaterThanOrEqual(30);
      expect(plan.sendAtMs + 1500).toBe(plan.boundaryMs);
    });
  });

  describe(secondToWrite.name, () => {
    it('writes the second the request arrives at, even if the timer fired a little early or late', () => {
      expect(secondToWrite(10_980, 20)).toEqual({ secondMs: 11_000, missMs: 0 });
      expect(secondToWrite(10_975, 20)).toEqual({ secondMs: 11_000, missMs: -5 });
      expect(secondToWrite(11_300, 20)).toEqual({ secondMs: 11_000, missMs: 320 });
      expect(secondToWrite(11_700, 20)).toEqual({ secondMs: 12_000, missMs: -280 });
    });
  });

  describe(estimateClockError.name, () => {
    it('is ±500 ms around the middle of the second from one instantaneous reading', () => {
      expect(estimateClockError([{ cameraMs: 5000, sentAtMs: 5200, receivedAtMs: 5200 }])).toEqual({ errorMs: 300, boundMs: 500, consistent: true });
    });

    it('pins the error to about a round trip across a tick', () => {
      // The camera is 30 ms ahead: its second 6000 starts at Pi time 5970.
      const before = { cameraMs: 5000, sentAtMs: 5955, receivedAtMs: 5965 };
      const after = { cameraMs: 6000, sentAtMs: 5966, receivedAtMs: 5976 };
      const { errorMs, boundMs } = estimateClockError([before, after]);
      expect(boundMs).toBe(10.5);
      expect(Math.abs(errorMs - 30)).toBeLessThanOrEqual(boundMs);
    });

    it('falls back to the last reading when the readings contradict each other', () => {
      const result = estimateClockError([
        { cameraMs: 5000, sentAtMs: 5000, receivedAtMs: 5010 },
        { cameraMs: 9000, sentAtMs: 5020, receivedAtMs: 5030 },
      ]);
      expect(result).toMatchObject({ boundMs: 505, consistent: false });
    });

    it('needs a reading', () => {
      expect(() => estimateClockError([])).toThrow();
    });
  });

  it('places the handling of a request half way through it', () => {
    expect(handledAt({ sentAtMs: 100, receivedAtMs: 140 })).toEqual({ atMs: 120, boundMs: 20 });
  });

  describe(SharedSecondBoundary.name, () => {
    it('gives every camera the same boundary, planned for the slowest once all have arrived or left', async () => {
      let now = 10_400;
      const sut = new SharedSecondBoundary(() => now, 3);
      const boundaries: number[] = [];
      void sut.arrive(20).then((b) => boundaries.push(b));
      now = 10_930;
      void sut.arrive(60).then((b) => boundaries.push(b));
      await Promise.resolve();
      expect(boundaries).toEqual([]);
      sut.leave();
      await Promise.resolve();
      // 10 930 + 60 + 30 of lead passes 11 000: the next boundary, for both.
      expect(boundaries).toEqual([12_000, 12_000]);
    });

    it('plans for a lone camera as planSecondAlignedSend does', async () => {
      const sut = new SharedSecondBoundary(() => 10_400, 1);
      await expect(sut.arrive(20)).resolves.toBe(planSecondAlignedSend(10_400, 20).boundaryMs);
    });
  });
});
