import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Clock, SimulatedWallClock } from '../time/clock';
import { SystemClock, SystemClockState } from './system-clock';
import { hostTimezone } from '../time/timezone';

/**
 * In-process clock = host time + offset. Setting the time changes the offset; the host clock and zone are
 * never touched. Its zone starts as the host's.
 */
@Injectable()
export class SimulatedSystemClock extends SystemClock {
  readonly backend = 'simulated' as const;
  private zone = hostTimezone();

  private readonly clock: SimulatedWallClock;

  /** Takes the product `Clock`, which TimeModule makes a SimulatedWallClock when CLOCK_BACKEND=simulated. */
  constructor(
    clock: Clock,
    /** Pretend NTP keeps this clock (SIMULATED_NTP_SYNCHRONIZED): writes are refused as timedated would. */
    private readonly ntpSynchronized = false,
    /** A write that takes this long, as timedated under load may (SIMULATED_CLOCK_WRITE_DELAY_MS). */
    private readonly writeDelayMs = 0,
  ) {
    super();
    if (!(clock instanceof SimulatedWallClock)) {
      throw new Error(`SimulatedSystemClock needs the SimulatedWallClock that TimeModule provides with CLOCK_BACKEND=simulated; got ${clock?.constructor?.name ?? clock}`);
    }
    this.clock = clock;
  }

  async read(): Promise<SystemClockState> {
    return { epochMs: this.clock.now(), timezone: this.zone, ntpEnabled: this.ntpSynchronized, ntpSynchronized: this.ntpSynchronized, backend: this.backend };
  }

  async setTime(target: () => number): Promise<void> {
    if (this.ntpSynchronized) throw new DomainError(ErrorCode.NTP_SYNCHRONIZED, "The Pi's clock is synchronized by NTP, a better source than any phone; leaving it alone");
    if (this.writeDelayMs) await new Promise((resolve) => setTimeout(resolve, this.writeDelayMs));
    // The target is asked for at the moment of the write, as the real backend does.
    this.clock.stepTo(target());
  }

  async setTimezone(zone: string): Promise<void> {
    this.zone = zone;
    // Only what the product reports changes: neither the host's zone nor this process's TZ.
  }
}
