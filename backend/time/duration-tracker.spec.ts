import { ManualClock } from './clock';
import { DurationTracker, MAX_TRACKED_OPERATIONS } from './duration-tracker';

describe(DurationTracker.name, () => {
  let clock: ManualClock;
  let sut: DurationTracker;

  beforeEach(() => {
    clock = new ManualClock();
    sut = new DurationTracker(clock);
  });

  it('times an operation on the monotonic clock', () => {
    const stop = sut.start('burst');
    clock.advance(120);
    expect(stop()).toBe(120);
    expect(sut.stats('burst')).toEqual({ count: 1, minMs: 120, avgMs: 120, maxMs: 120, lastMs: 120 });
  });

  it('ignores wall clock steps during the operation', () => {
    const stop = sut.start('set-time');
    clock.step(clock.now() - 3 * 86_400_000);
    clock.advance(40);
    expect(stop()).toBe(40);
  });

  it('records a stop only once', () => {
    const stop = sut.start('once');
    clock.advance(10);
    expect(stop()).toBe(10);
    clock.advance(10);
    expect(stop()).toBe(10);
    expect(sut.stats('once')?.count).toBe(1);
  });

  it('keeps count, min, mean, max and last', () => {
    sut.record('probe', 30);
    sut.record('probe', 10);
    sut.record('probe', 20);
    expect(sut.stats('probe')).toEqual({ count: 3, minMs: 10, avgMs: 20, maxMs: 30, lastMs: 20 });
  });

  it('tracks overlapping operations of the same name independently', () => {
    const a = sut.start('req');
    clock.advance(5);
    const b = sut.start('req');
    clock.advance(5);
    expect(b()).toBe(5);
    expect(a()).toBe(10);
    expect(sut.stats('req')).toMatchObject({ count: 2, minMs: 5, maxMs: 10, lastMs: 10 });
  });

  it('tracks an async operation that resolves', async () => {
    const result = await sut.track('camera', async () => {
      clock.advance(250);
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(sut.stats('camera')?.lastMs).toBe(250);
  });

  it('tracks an async operation that rejects, and passes the error on', async () => {
    await expect(
      sut.track('camera', async () => {
        clock.advance(75);
        throw new Error('timeout');
      }),
    ).rejects.toThrow('timeout');
    expect(sut.stats('camera')).toMatchObject({ count: 1, lastMs: 75 });
  });

  it('reports unknown names as undefined and all names together', () => {
    sut.record('a', 1);
    sut.record('b', 2);
    expect(sut.stats('missing')).toBeUndefined();
    expect(Object.keys(sut.stats())).toEqual(['a', 'b']);
    expect(sut.stats().b.lastMs).toBe(2);
  });

  it('refuses negative and non-finite durations', () => {
    expect(() => sut.record('x', -1)).toThrow(RangeError);
    expect(() => sut.record('x', Number.NaN)).toThrow(RangeError);
    expect(() => sut.record('x', Infinity)).toThrow(RangeError);
    expect(sut.stats('x')).toBeUndefined();
  });

  it('forgets the oldest name past the limit', () => {
    for (let i = 0; i <= MAX_TRACKED_OPERATIONS; i++) sut.record(`op${i}`, i);
    expect(Object.keys(sut.stats())).toHaveLength(MAX_TRACKED_OPERATIONS);
    expect(sut.stats('op0')).toBeUndefined();
    expect(sut.stats(`op${MAX_TRACKED_OPERATIONS}`)?.lastMs).toBe(MAX_TRACKED_OPERATIONS);
  });

  it('resets one name or all', () => {
    sut.record('a', 1);
    sut.record('b', 2);
    sut.reset('a');
    expect(sut.stats('a')).toBeUndefined();
    expect(sut.stats('b')).toBeDefined();
    sut.reset();
    expect(sut.stats()).toEqual({});
  });
});
