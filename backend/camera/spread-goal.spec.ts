import { MAX_REWRITES, rewriteDecision, WriteResidual } from './spread-goal';

const verified = (residualMs: number, residualBoundMs = 5): WriteResidual => ({ verified: true, residualMs, residualBoundMs });

describe(rewriteDecision.name, () => {
  it.each([
    ['45 ms late, ±5', verified(45), 'rewrite'],
    ['45 ms early, ±5', verified(-45), 'rewrite'],
    ['21 ms, ±0', verified(21, 0), 'rewrite'],
    ['20 ms exactly', verified(20), 'done'],
    ['-20 ms exactly', verified(-20), 'done'],
    ['3 ms', verified(3), 'done'],
    ['30 ms but ±15: maybe within', verified(30, 15), 'refine'],
    ['-30 ms but ±15: maybe within', verified(-30, 15), 'refine'],
  ])('goal 20, first write: %s -> %s', (_name, residual, expected) => {
    expect(rewriteDecision(residual, 20, 0, false)).toBe(expected);
  });

  it('goes by the centre once the measurement was refined', () => {
    expect(rewriteDecision(verified(30, 15), 20, 0, true)).toBe('rewrite');
    expect(rewriteDecision(verified(18, 15), 20, 0, true)).toBe('done');
  });

  it(`re-writes at most ${MAX_REWRITES} times`, () => {
    expect(rewriteDecision(verified(45), 20, 1, false)).toBe('rewrite');
    expect(rewriteDecision(verified(45), 20, MAX_REWRITES, false)).toBe('done');
    expect(rewriteDecision(verified(450), 20, MAX_REWRITES + 1, true)).toBe('done');
  });

  it('never re-writes a camera whose write was not verified', () => {
    expect(rewriteDecision({ verified: false, residualMs: null, residualBoundMs: null }, 20, 0, false)).toBe('done');
    expect(rewriteDecision({ verified: false, residualMs: 90, residualBoundMs: 5 }, 20, 0, true)).toBe('done');
  });

  it('goal 0 means no re-write', () => {
    expect(rewriteDecision(verified(400), 0, 0, false)).toBe('done');
  });
});
