import { isDrop, lowerOf, reliabilityForAge, SyncState } from './sync-state';

describe(SyncState.name, () => {
  const success = (monotonicMs: number) => ({ monotonicMs, wallMs: 1e12, source: 'client' as const, offsetMs: 1500, errorBoundMs: 1, client: '10.42.0.2' });

  it('is not synchronized before any success (pitfall 2)', () => {
    const sut = new SyncState();
    expect(sut.reliability(0)).toBe('none');
    expect(sut.isSynchronized(0)).toBe(false);
    expect(sut.ageMs(0)).toBeNull();
  });

  it('ages high → medium → low on the monotonic clock', () => {
    const sut = new SyncState();
    sut.recordSuccess(success(1000));
    expect(sut.reliability(1000 + 4 * 60_000)).toBe('high');
    expect(sut.reliability(1000 + 5 * 60_000)).toBe('medium');
    expect(sut.reliability(1000 + 59 * 60_000)).toBe('medium');
    expect(sut.reliability(1000 + 60 * 60_000)).toBe('low');
  });

  it('drops to none when the last sync failed, and recovers on the next success (pitfall 3)', () => {
    const sut = new SyncState();
    sut.recordSuccess(success(0));
    sut.recordFailure();
    expect(sut.reliability(10)).toBe('none');
    expect(sut.last?.offsetMs).toBe(1500);
    sut.recordSuccess(success(20));
    expect(sut.reliability(30)).toBe('high');
  });

  it('caps a camera-sourced time at medium', () => {
    const sut = new SyncState();
    sut.recordSuccess({ ...success(0), source: 'camera', cap: 'medium' });
    expect(sut.reliability(1)).toBe('medium');
    expect(sut.reliability(2 * 60 * 60_000)).toBe('low');
  });

  it('keeps the source when NTP measurements update the offset', () => {
    const sut = new SyncState();
    sut.recordMeasurement(3, 1);
    expect(sut.last).toBeNull();
    sut.recordSuccess(success(0));
    sut.recordMeasurement(3, 0.5);
    expect(sut.last).toMatchObject({ offsetMs: 3, errorBoundMs: 0.5, source: 'client' });
  });

  it('orders levels', () => {
    expect(reliabilityForAge(null)).toBe('none');
    expect(lowerOf('high', 'medium')).toBe('medium');
    expect(isDrop('medium', 'low')).toBe(true);
    expect(isDrop('high', 'medium')).toBe(false);
    expect(isDrop('low', 'none')).toBe(true);
    expect(isDrop('none', 'none')).toBe(false);
  });
});
