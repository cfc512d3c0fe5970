import { Logger } from '@nestjs/common';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { Clock } from '../time/clock';
import { DomainError } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { REFUSAL_LOG_INTERVAL_MS, RefusalLog } from './refusal-log';

class FakeTimersClock extends Clock {
  now(): number {
    return Date.now();
  }
  monotonic(): number {
    return Date.now() - 1_700_000_000_000;
  }
}

describe(RefusalLog.name, () => {
  let activity: ActivityLogService;
  let sut: RefusalLog;
  let warnings: string[];

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 25, 12) });
    const clock = new FakeTimersClock();
    activity = new ActivityLogService(clock, new EventBus());
    sut = new RefusalLog(clock, activity);
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });
  afterEach(() => {
    sut.onModuleDestroy();
    jest.restoreAllMocks();
    jest.useRealTimers();
  });

  it('returns the coded error and logs a client once per interval, the rest as one counted line', () => {
    const error = sut.refuse('10.0.0.9', 'NOT_ACCESS_POINT_CLIENT', 'not on the access point');
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT', message: 'not on the access point' });
    for (let i = 0; i < 500; i++) sut.note('10.0.0.9', 'NOT_ACCESS_POINT_CLIENT', 'again');
    sut.note('10.0.0.9', 'RATE_LIMITED', 'flood');
    expect(activity.entries()).toHaveLength(1);
    expect(activity.entries()[0]).toMatchObject({ type: 'error', success: false, details: { error: 'NOT_ACCESS_POINT_CLIENT', client: '10.0.0.9' } });
    expect(warnings.filter((w) => /more refusal/.test(w))).toEqual([]);

    jest.advanceTimersByTime(REFUSAL_LOG_INTERVAL_MS);
    expect(warnings.filter((w) => /more refusal/.test(w))).toEqual(['501 more refusal(s) of 10.0.0.9 in 10 s after the one logged: NOT_ACCESS_POINT_CLIENT x500, RATE_LIMITED x1']);
    // A new interval: one new activity line.
    sut.note('10.0.0.9', 'NOT_ACCESS_POINT_CLIENT', 'later');
    expect(activity.entries().map((e) => e.message)).toEqual(['not on the access point', 'later']);
  });

  it('keeps clients apart', () => {
    sut.note('10.0.0.1', 'NOT_ACCESS_POINT_CLIENT', 'one');
    sut.note('10.0.0.2', 'NOT_ACCESS_POINT_CLIENT', 'two');
    expect(activity.entries()).toHaveLength(2);
  });

  it('logs nothing more for a client that stopped after its first refusal', () => {
    sut.note('10.0.0.1', 'PI_TIME_UNRELIABLE', 'once');
    jest.advanceTimersByTime(REFUSAL_LOG_INTERVAL_MS * 3);
    expect(warnings.filter((w) => /more refusal/.test(w))).toEqual([]);
  });
});
