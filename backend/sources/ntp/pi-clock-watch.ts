import { Injectable, Logger } from '@nestjs/common';
import { messageOf } from '../../common/domain-error';
import { SystemClock, SystemClockState } from '../../system-clock/system-clock';
import { logText } from '../../common/escape';
import { SourceSink, SourceStatus, TimeSourceAdapter } from '../source-port';

/** How often the Pi's clock (zone, NTP state) is read: a status is built from the last read, never by reading. */
export const PI_CLOCK_POLL_MS = 5000;

/**
 * NTP as a source, and the one reader of the Pi's clock state: polls the system clock (timedated's zone and
 * NTPSynchronized), keeps the last read for the status, and tells the policy when NTP starts or stops keeping
 * the clock. NTP never gives a reading to step to: while it keeps the clock, the clock is its.
 */
@Injectable()
export class PiClockWatch extends TimeSourceAdapter {
  readonly source = 'ntp' as const;
  private readonly logger = new Logger(PiClockWatch.name);
  private sink: SourceSink | null = null;
  private timer?: NodeJS.Timeout;
  private lastRead: SystemClockState | null = null;
  private reading: Promise<SystemClockState | null> | null = null;

  constructor(
    private readonly systemClock: SystemClock,
    /**
     * Whether timedated's NTPSynchronized means "NTP keeps the clock" for the policy. Not with TIME_SERVER=chrony:
     * chrony is synchronised to the product's own feed too, and says itself what it follows (`ChronySource`).
     */
    readonly reportsNtp = true,
  ) {
    super();
  }

  start(sink: SourceSink): void {
    this.sink = sink;
    this.timer = setInterval(() => void this.refresh(), PI_CLOCK_POLL_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sink = null;
  }

  /** The last read of the Pi's clock (null before the first, or when reading fails). */
  last(): SystemClockState | null {
    return this.lastRead;
  }

  /** Reads the Pi's clock now (one read at a time: callers meanwhile share it); a change of NTP state is reported. */
  refresh(): Promise<SystemClockState | null> {
    this.reading ??= this.read().finally(() => (this.reading = null));
    return this.reading;
  }

  status(): SourceStatus | null {
    const read = this.lastRead;
    if (!this.reportsNtp || !read?.ntpSynchronized) return null;
    return { source: 'ntp', who: 'timedated', state: 'network time keeps the clock', active: true, errorBoundMs: null };
  }

  private async read(): Promise<SystemClockState | null> {
    try {
      const read = await this.systemClock.read();
      const before = this.lastRead;
      this.lastRead = read;
      if (this.reportsNtp && read.ntpSynchronized !== (before?.ntpSynchronized ?? false)) this.sink?.keeping?.('ntp', read.ntpSynchronized);
      return read;
    } catch (error) {
      this.logger.warn(`Reading the system clock failed: ${logText(messageOf(error))}`);
      return null;
    }
  }
}
