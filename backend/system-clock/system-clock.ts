import { ClockBackend, SyncSource } from '../protocol/messages';

export interface SystemClockState {
  /** Wall time of the clock when read, ms since the epoch. */
  epochMs: number;
  /** IANA zone of the system. */
  timezone: string;
  /** NTP service enabled (timedated's `NTP`). */
  ntpEnabled: boolean;
  /** The kernel clock is synchronized by NTP (timedated's `NTPSynchronized`). */
  ntpSynchronized: boolean;
  backend: ClockBackend;
}

/** Who asked for a step, and how good its time is (the journal's record; chrony weighs the reading by it). */
export type StepMeta = { source: SyncSource; errorBoundMs?: number | null; client?: string | null };

/**
 * The Pi's system clock and zone. Adapters: `SimulatedSystemClock` (default, never touches the host) and
 * `TimedatectlClock` (systemd's timedated, the real Pi path). Steps go through `ClockStepService`, which
 * journals them; nothing else calls `setTime`.
 */
export abstract class SystemClock {
  abstract readonly backend: ClockBackend;
  abstract read(): Promise<SystemClockState>;
  /**
   * Sets the wall clock. `target()` is called at the last moment before the write, so the time spent
   * getting there (D-Bus round trips, turning NTP off) does not make the clock late.
   * Throws DomainError NTP_SYNCHRONIZED, CLOCK_PERMISSION_DENIED or CLOCK_WRITE_FAILED; `details.clockSet`
   * is true when the clock moved although the operation failed, 'unknown' when it may have (the journal
   * records the step's outcome from it). `meta`: where the time came from (a time server weighs it by its bound).
   */
  abstract setTime(target: () => number, meta?: StepMeta): Promise<void>;
  /** Sets the system zone (validated IANA name) and makes the running process follow it. */
  abstract setTimezone(zone: string): Promise<void>;
  /**
   * The hardware clock (RTC) as the system service reads it: ms since the epoch, whole seconds; null when the Pi
   * has none, or when this backend has no hardware clock (the simulated one). Throws when it cannot be asked.
   */
  readRtcMs(): Promise<number | null> {
    return Promise.resolve(null);
  }
}
