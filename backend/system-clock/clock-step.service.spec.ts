import { ClockJournal } from '../activity-log/clock-journal';
import { DomainError } from '../common/domain-error';
import { ManualClock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { ClockStepService } from './clock-step.service';
import { SystemClock } from './system-clock';

describe(ClockStepService.name, () => {
  let clock: ManualClock;
  let journal: { append: jest.Mock };
  let setTime: jest.Mock;
  let sut: ClockStepService;
  let durations: DurationTracker;

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 10, 22), 5000);
    journal = { append: jest.fn().mockResolvedValue(undefined) };
    setTime = jest.fn(async (target: () => number) => clock.step(target()));
    durations = new DurationTracker(clock);
    sut = new ClockStepService(clock, { setTime } as unknown as SystemClock, journal as unknown as ClockJournal, durations);
  });

  it('writes the clock, then journals before, after and the size of the step', async () => {
    const target = Date.UTC(2026, 10, 25, 8);
    const record = await sut.step(() => target, { source: 'client', errorBoundMs: 0.8, client: '10.42.0.2' });
    expect(record).toMatchObject({ beforeMs: Date.UTC(2026, 10, 22), afterMs: target, stepMs: target - Date.UTC(2026, 10, 22), source: 'client', monotonicMs: 5000, errorBoundMs: 0.8, client: '10.42.0.2' });
    expect(record.before).toBe('2026-11-22T00:00:00.000Z');
    expect(journal.append).toHaveBeenCalledWith(record);
    expect(durations.stats('clock-write')).toMatchObject({ count: 1 });
  });

  it('journals nothing when the write fails', async () => {
    setTime.mockRejectedValue(new DomainError('CLOCK_PERMISSION_DENIED', 'no'));
    await expect(sut.step(() => 1, { source: 'manual' })).rejects.toThrow('no');
    expect(journal.append).not.toHaveBeenCalled();
  });

  it('journals a step that happened even though the operation failed afterwards', async () => {
    setTime.mockImplementation(async (target: () => number) => {
      clock.step(target());
      throw new DomainError('CLOCK_WRITE_FAILED', 'NTP could not be turned back on', { clockSet: true, ntpRestored: false });
    });
    await expect(sut.step(() => Date.UTC(2026, 10, 25), { source: 'client' })).rejects.toThrow(/NTP/);
    expect(journal.append).toHaveBeenCalledWith(expect.objectContaining({ afterMs: Date.UTC(2026, 10, 25) }));
  });

  it('does not report the step until the journal is on disk', async () => {
    let flushed!: () => void;
    journal.append.mockReturnValue(new Promise<void>((r) => (flushed = r)));
    let done = false;
    const step = sut.step(() => Date.UTC(2026, 10, 25), { source: 'client' }).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    flushed();
    await step;
    expect(done).toBe(true);
  });
});
