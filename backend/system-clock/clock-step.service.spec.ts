import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClockJournal, ClockStepRecord, JournalFile, JournalFiles } from '../activity-log/clock-journal';
import { DomainError, ErrorCode } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { ManualClock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { rejection } from '../../test/support/domain-errors';
import { ClockStepService, outcomeOf } from './clock-step.service';
import { SystemClock } from './system-clock';

/** Records, in one list with the clock writes, each append as it completes (that is, once it is on disk). */
class FakeJournal {
  readonly bootId = 'boot-1';
  readonly records: ClockStepRecord[] = [];
  readonly options: Array<{ reserveFor?: number } | undefined> = [];
  fail: (record: ClockStepRecord) => Error | null = () => null;
  constructor(private readonly events: string[]) {}
  async append(record: ClockStepRecord, options?: { reserveFor?: number }): Promise<void> {
    const error = this.fail(record);
    if (error) throw error;
    this.records.push(record);
    this.options.push(options);
    this.events.push(`journal ${record.state}`);
  }
}

/** A SystemClock that allows setTime only; read/setTimezone fail the test. */
class FakeSystemClock extends SystemClock {
  readonly backend = 'simulated' as const;
  write: (target: () => number) => void;
  constructor(
    private readonly clock: ManualClock,
    private readonly events: string[],
  ) {
    super();
    this.write = (target) => this.clock.step(target());
  }
  async setTime(target: () => number): Promise<void> {
    this.events.push('setTime');
    this.write(target);
  }
  read(): never {
    throw new Error('unexpected read()');
  }
  setTimezone(): never {
    throw new Error('unexpected setTimezone()');
  }
}

const START = Date.UTC(2026, 10, 22);
const TARGET = Date.UTC(2026, 10, 25, 8);

describe(ClockStepService.name, () => {
  let clock: ManualClock;
  let events: string[];
  let journal: FakeJournal;
  let system: FakeSystemClock;
  let durations: DurationTracker;
  let sut: ClockStepService;

  beforeEach(() => {
    clock = new ManualClock(START, 5000);
    events = [];
    journal = new FakeJournal(events);
    system = new FakeSystemClock(clock, events);
    durations = new DurationTracker(clock);
    sut = new ClockStepService(clock, system, journal as unknown as ClockJournal, durations);
  });

  it('journals the intended step before the clock is written, and confirms it after', async () => {
    const record = await sut.step(() => TARGET, { source: 'client', errorBoundMs: 0.8, client: '10.42.0.2' });
    expect(events).toEqual(['journal pending', 'setTime', 'journal confirmed']);
    const [pending, confirmed] = journal.records;
    expect(pending).toMatchObject({ state: 'pending', beforeMs: START, afterMs: TARGET, stepMs: TARGET - START, source: 'client', bootId: 'boot-1', errorBoundMs: 0.8, client: '10.42.0.2' });
    expect(confirmed).toEqual(record);
    expect(record).toMatchObject({ id: pending.id, state: 'confirmed', beforeMs: START, afterMs: TARGET, stepMs: TARGET - START, monotonicMs: 5000 });
    expect(record.before).toBe('2026-11-22T00:00:00.000Z');
    // The pending record reserves room for its confirmation.
    expect(journal.options[0]).toEqual({ reserveFor: 1 });
    expect(durations.stats('clock-write')).toMatchObject({ count: 1 });
  });

  it('a journal that cannot be written means no step: setTime is never called', async () => {
    journal.fail = () => new DomainError(ErrorCode.JOURNAL_UNWRITABLE, 'The clock-change journal /data/clock-journal.jsonl cannot be written: the file system is read-only (EROFS)');
    const error = await rejection(sut.step(() => TARGET, { source: 'manual' }));
    expect(error.code).toBe(ErrorCode.JOURNAL_UNWRITABLE);
    expect(error.message).toMatch(/\/data\/clock-journal\.jsonl.*read-only \(EROFS\); the clock was left alone$/);
    expect(events).toEqual([]);
    expect(clock.now()).toBe(START);
  });

  it('journals a refused write as failed (the clock did not move) and rethrows the refusal', async () => {
    system.write = () => {
      throw new DomainError(ErrorCode.CLOCK_PERMISSION_DENIED, 'no');
    };
    await expect(sut.step(() => TARGET, { source: 'manual' })).rejects.toThrow('no');
    expect(events).toEqual(['journal pending', 'setTime', 'journal failed']);
    expect(journal.records[1]).toMatchObject({ id: journal.records[0].id, state: 'failed', afterMs: START, error: 'no' });
  });

  it('journals a step that happened even though the operation failed afterwards as confirmed, with the error', async () => {
    system.write = (target) => {
      clock.step(target());
      throw new DomainError(ErrorCode.CLOCK_WRITE_FAILED, 'NTP could not be turned back on', { clockSet: true, ntpRestored: false });
    };
    await expect(sut.step(() => TARGET, { source: 'client' })).rejects.toThrow(/NTP/);
    expect(journal.records[1]).toMatchObject({ state: 'confirmed', afterMs: TARGET, error: 'NTP could not be turned back on' });
  });

  it('a write whose outcome is unknown is journaled as unknown', async () => {
    system.write = () => {
      throw new DomainError(ErrorCode.CLOCK_WRITE_FAILED, 'timedatectl did not answer in time', { clockSet: 'unknown' });
    };
    await expect(sut.step(() => TARGET, { source: 'client' })).rejects.toThrow(/in time/);
    expect(journal.records.map((r) => r.state)).toEqual(['pending', 'unknown']);
  });

  it('if the outcome cannot be journaled, the pending record stays and the write error is what the caller gets', async () => {
    system.write = () => {
      throw new DomainError(ErrorCode.CLOCK_PERMISSION_DENIED, 'no');
    };
    journal.fail = (r) => (r.state === 'failed' ? new DomainError(ErrorCode.JOURNAL_UNWRITABLE, 'disk full') : null);
    await expect(sut.step(() => TARGET, { source: 'manual' })).rejects.toMatchObject({ code: ErrorCode.CLOCK_PERMISSION_DENIED });
    expect(journal.records.map((r) => r.state)).toEqual(['pending']);
  });

  it('a confirmation that cannot be written is not a success: JOURNAL_UNWRITABLE saying the clock was set', async () => {
    journal.fail = (r) => (r.state === 'confirmed' ? new DomainError(ErrorCode.JOURNAL_UNWRITABLE, 'The clock-change journal /d/clock-journal.jsonl cannot be written: the disk is full (ENOSPC)', { path: '/d/clock-journal.jsonl' }) : null);
    const error = await rejection(sut.step(() => TARGET, { source: 'client' }));
    expect(error.code).toBe(ErrorCode.JOURNAL_UNWRITABLE);
    expect(error.message).toMatch(/^The clock was set to 2026-11-25T08:00:00.000Z, but The clock-change journal \/d\/clock-journal.jsonl .*; the journal keeps this step as pending$/);
    expect(error.details).toMatchObject({ clockSet: true, path: '/d/clock-journal.jsonl' });
    expect(clock.now()).toBe(TARGET);
  });

  it('does not report the step until the confirmation is on disk', async () => {
    let flushed!: () => void;
    const append = journal.append.bind(journal);
    journal.append = async (record, options) => {
      if (record.state === 'confirmed') await new Promise<void>((r) => (flushed = r));
      return append(record, options);
    };
    let done = false;
    const step = sut.step(() => TARGET, { source: 'client' }).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(events).toEqual(['journal pending', 'setTime']);
    expect(done).toBe(false);
    flushed();
    await step;
    expect(done).toBe(true);
  });

  it('with the real ClockJournal: the pending record is synced to disk before setTime, the confirmation after', async () => {
    class RecordingFiles extends JournalFiles {
      override async openAppend(path: string): Promise<JournalFile> {
        const file = await super.openAppend(path);
        return { ...file, sync: async () => (await file.sync(), void events.push('fsync')) };
      }
    }
    const dir = mkdtempSync(join(tmpdir(), 'step-spec-'));
    try {
      const real = new ClockJournal(Object.assign(new AppConfig(), { DATA_DIR: dir }), new RecordingFiles());
      sut = new ClockStepService(clock, system, real, durations);
      await sut.step(() => TARGET, { source: 'client' });
      expect(events).toEqual(['fsync', 'setTime', 'fsync']);
      expect((await real.report()).steps).toEqual([expect.objectContaining({ state: 'confirmed', afterMs: TARGET })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [new DomainError(ErrorCode.NTP_SYNCHRONIZED, 'x'), 'failed'],
    [new DomainError(ErrorCode.CLOCK_WRITE_FAILED, 'x', { clockSet: true }), 'confirmed'],
    [new DomainError(ErrorCode.CLOCK_WRITE_FAILED, 'x', { clockSet: 'unknown' }), 'unknown'],
    [new Error('a bug'), 'unknown'],
  ])('outcomeOf(%p) is %p', (error, state) => {
    expect(outcomeOf(error)).toBe(state);
  });
});
