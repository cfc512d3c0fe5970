import { planningWindow, planRound, probeUseful, windowOf, writeDecision } from './clock-phase';

describe('clock phase', () => {
  describe(windowOf.name, () => {
    it('is a second and a round trip wide from one reading', () => {
      expect(windowOf([{ cameraMs: 10_000, sentAtMs: 9_700, receivedAtMs: 9_720 }])).toEqual({ low: 280, high: 1300 });
    });

    it('narrows to about a round trip across a tick', () => {
      // Before the tick the camera showed 10 s, just after it 11 s: the tick fell between 10 190 and 10 230.
      const w = windowOf([
        { cameraMs: 10_000, sentAtMs: 10_190, receivedAtMs: 10_200 },
        { cameraMs: 11_000, sentAtMs: 10_220, receivedAtMs: 10_230 },
      ])!;
      expect(w).toEqual({ low: 770, high: 810 });
    });

    it('is null when the readings contradict each other, or there are none', () => {
      expect(windowOf([{ cameraMs: 10_000, sentAtMs: 10_000, receivedAtMs: 10_010 }, { cameraMs: 12_000, sentAtMs: 10_020, receivedAtMs: 10_030 }])).toBeNull();
      expect(windowOf([])).toBeNull();
    });
  });

  describe(planRound.name, () => {
    it('covers a whole second when the phase is unknown', () => {
      const plan = planRound({ low: -500, high: 520 }, 1_000, 12, 20);
      expect(plan[0]).toBe(1_000);
      expect(plan.at(-1)! - plan[0]).toBeGreaterThanOrEqual(1000);
      expect(plan[1] - plan[0]).toBe(50);
    });

    it('spaces probes a round trip apart at least on a slow link', () => {
      const plan = planRound({ low: -500, high: 520 }, 0, 300, 20);
      expect(plan).toEqual([0, 300, 600, 900, 1200]);
    });

    it('splits the interval where the tick must be, in the first second at least half reachable', () => {
      // Error in [200, 300): the camera ticks at Pi times k s - 300 .. k s - 200, e.g. 10 700 .. 10 800.
      expect(planRound({ low: 200, high: 300 }, 10_650, 25, 20)).toEqual([10_725, 10_750, 10_775]);
      // Too late for most of that one: the next second.
      expect(planRound({ low: 200, high: 300 }, 10_760, 25, 20)).toEqual([11_725, 11_750, 11_775]);
      // Narrow: one probe in the middle (bisection).
      expect(planRound({ low: 200, high: 240 }, 10_650, 30, 20)).toEqual([10_780]);
    });

    it('straddles a guessed window, so that one round bounds it on both sides', () => {
      expect(planRound({ low: -20, high: 20 }, 10_900, 30, 20, true)).toEqual([10_965, 11_000, 11_035]);
    });
  });

  it('planningWindow: the guess where it agrees with the readings, else the readings', () => {
    expect(planningWindow({ low: -400, high: 600 }, { low: 10, high: 50 })).toEqual({ low: 10, high: 50 });
    expect(planningWindow({ low: -400, high: 600 }, { low: 700, high: 750 })).toEqual({ low: -400, high: 600 });
    expect(planningWindow({ low: -400, high: 600 }, null)).toEqual({ low: -400, high: 600 });
  });

  it('probeUseful: only where a tick may still fall', () => {
    const w = { low: 200, high: 300 };
    expect(probeUseful(w, 10_750, 5)).toBe(true);
    expect(probeUseful(w, 10_500, 5)).toBe(false);
    expect(probeUseful(w, 10_805, 10)).toBe(true);
  });

  it.each([
    [{ low: 150, high: 170 }, 100, 'write'],
    [{ low: -170, high: -150 }, 100, 'write'],
    [{ low: 30, high: 60 }, 100, 'keep'],
    [{ low: 80, high: 120 }, 100, 'undecided'],
    [{ low: -5, high: 5 }, 0, 'undecided'],
    [{ low: 5, high: 9 }, 0, 'write'],
  ] as const)('writeDecision(%p, %p) = %p', (window, threshold, expected) => {
    expect(writeDecision(window, threshold)).toBe(expected);
  });
});
