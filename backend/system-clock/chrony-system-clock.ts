import { Logger } from '@nestjs/common';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { logText } from '../common/escape';
import type { TimeServer } from '../time-server/time-server';
import { Clock } from '../time/clock';
import { StepMeta, SystemClock, SystemClockState } from './system-clock';

/**
 * The Pi's clock when chrony keeps it (TIME_SERVER=chrony): a step the policy asks for is handed to chrony, which
 * corrects the clock (timedated's SetTime is never called: it refuses while chrony runs anyway). Reading the clock,
 * the zone and the hardware clock stay with the adapter underneath (timedated, or the simulated clock).
 *
 * TIME_SERVER_FALLBACK=settime: when chrony is absent or does not take the time, the adapter underneath sets it
 * (the operator chose that; timedated turns NTP, and so chrony, off for the write and on again).
 */
export class ChronySystemClock extends SystemClock {
  private readonly logger = new Logger('ChronySystemClock');

  constructor(
    private readonly inner: SystemClock,
    private readonly server: TimeServer,
    private readonly clock: Clock,
    private readonly fallback: boolean,
  ) {
    super();
  }

  get backend(): SystemClock['backend'] {
    return this.inner.backend;
  }

  read(): Promise<SystemClockState> {
    return this.inner.read();
  }

  setTimezone(zone: string): Promise<void> {
    return this.inner.setTimezone(zone);
  }

  override readRtcMs(): Promise<number | null> {
    return this.inner.readRtcMs();
  }

  async setTime(target: () => number, meta?: StepMeta): Promise<void> {
    const atMono = this.clock.monotonic();
    try {
      await this.server.take({ source: meta?.source ?? 'manual', who: meta?.client ?? '', targetMinusMonoMs: target() - atMono, errorBoundMs: meta?.errorBoundMs ?? null, atMono });
    } catch (error) {
      const unavailable = error instanceof DomainError && error.code === ErrorCode.TIME_SERVER_UNAVAILABLE;
      // Only when chrony surely did not act: a time it may still apply is not written a second time.
      if (!this.fallback || !unavailable || error.details?.clockSet === 'unknown') throw error;
      this.logger.warn(logText(`${messageOf(error)}; setting the clock through timedated instead (TIME_SERVER_FALLBACK=settime)`));
      await this.inner.setTime(target, meta);
    }
  }
}
