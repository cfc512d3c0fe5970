import { DomainError, ErrorCode } from '../common/domain-error';
import { TimeServer, TimeServerSample } from '../time-server/time-server';
import { ManualClock } from '../time/clock';
import { ChronySystemClock } from './chrony-system-clock';
import { SystemClock, SystemClockState } from './system-clock';

/** The adapter underneath (timedated, or the simulated clock): records what it is asked. */
class Underneath extends SystemClock {
  readonly backend = 'system' as const;
  readonly calls: string[] = [];
  async read(): Promise<SystemClockState> {
    this.calls.push('read');
    return { epochMs: 0, timezone: 'UTC', ntpEnabled: true, ntpSynchronized: true, backend: 'system' };
  }
  async setTime(target: () => number): Promise<void> {
    this.calls.push(`setTime ${target()}`);
  }
  async setTimezone(zone: string): Promise<void> {
    this.calls.push(`setTimezone ${zone}`);
  }
}

/** A time server that answers `take` with `outcome`. */
function server(outcome: 'ok' | DomainError, taken: TimeServerSample[] = []): TimeServer {
  return {
    engine: 'chrony',
    status: () => null,
    view: () => null,
    onView: () => () => undefined,
    offer: () => {
      throw new Error('unexpected offer()');
    },
    take: async (s: TimeServerSample) => {
      taken.push(s);
      if (outcome !== 'ok') throw outcome;
    },
  } as TimeServer;
}

describe(ChronySystemClock.name, () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12), 5000);
  const T = Date.UTC(2026, 10, 25, 15);

  it('hands a step to chrony, as the source time minus the monotonic clock with its bound; never SetTime', async () => {
    const inner = new Underneath();
    const taken: TimeServerSample[] = [];
    const sut = new ChronySystemClock(inner, server('ok', taken), clock, false);
    await sut.setTime(() => T, { source: 'client', errorBoundMs: 1.5, client: '10.42.0.23' });
    expect(taken).toEqual([{ source: 'client', who: '10.42.0.23', targetMinusMonoMs: T - 5000, errorBoundMs: 1.5, atMono: 5000 }]);
    expect(inner.calls).toEqual([]);
  });

  it('reads the clock and sets the zone through the adapter underneath', async () => {
    const inner = new Underneath();
    const sut = new ChronySystemClock(inner, server('ok'), clock, false);
    await sut.read();
    await sut.setTimezone('Europe/Berlin');
    expect(inner.calls).toEqual(['read', 'setTimezone Europe/Berlin']);
    expect(sut.backend).toBe('system');
  });

  it('chrony absent: the step fails with its words, unless the operator chose the fallback (TIME_SERVER_FALLBACK=settime)', async () => {
    const absent = new DomainError(ErrorCode.TIME_SERVER_UNAVAILABLE, 'chrony cannot be given the time: chronyd does not answer', { clockSet: false });
    const strict = new Underneath();
    await expect(new ChronySystemClock(strict, server(absent), clock, false).setTime(() => T, { source: 'manual' })).rejects.toBe(absent);
    expect(strict.calls).toEqual([]);
    const lenient = new Underneath();
    await new ChronySystemClock(lenient, server(absent), clock, true).setTime(() => T, { source: 'manual' });
    expect(lenient.calls).toEqual([`setTime ${T}`]);
  });

  it('never falls back once chrony may already have the time, nor on another error', async () => {
    const maybe = new DomainError(ErrorCode.TIME_SERVER_UNAVAILABLE, 'chrony was given the time but did not use it', { clockSet: 'unknown' });
    const other = new DomainError(ErrorCode.JOURNAL_UNWRITABLE, 'disk full');
    for (const error of [maybe, other]) {
      const inner = new Underneath();
      await expect(new ChronySystemClock(inner, server(error), clock, true).setTime(() => T)).rejects.toBe(error);
      expect(inner.calls).toEqual([]);
    }
  });
});
