import * as os from 'node:os';
import { Clock, HostClock } from './clock';

const host = new HostClock();

/**
 * How long this process has run, in ms. The backend's monotonic clock (`performance.now()`) counts from the
 * process start, so this is simply the clock's monotonic reading; it does not jump when the wall clock is set.
 */
export function processUptimeMs(clock: Clock = host): number {
  return clock.monotonic();
}

/** How long the machine has run since boot, in ms (the kernel's uptime; whole seconds on some systems). */
export function systemUptimeMs(): number {
  return os.uptime() * 1000;
}

/**
 * When the machine booted on `clock`'s wall time, in ms since the epoch. It moves when the wall clock is
 * stepped: on a Pi without an RTC, the boot time before the first sync is as wrong as the clock was.
 */
export function bootTimeMs(clock: Clock, uptimeMs: number = systemUptimeMs()): number {
  return clock.now() - uptimeMs;
}
