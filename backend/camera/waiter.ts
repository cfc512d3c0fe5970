import { Injectable } from '@nestjs/common';
import { Clock } from '../time/clock';

/**
 * Waits until a monotonic instant, to the millisecond: a timer for most of the way (timers may fire a
 * little early or late), then short yields to the event loop until the instant has come. Tests replace it
 * with one that moves a ManualClock.
 */
@Injectable()
export class Waiter {
  constructor(private readonly clock: Clock) {}

  async until(monotonicMs: number): Promise<void> {
    const coarse = monotonicMs - this.clock.monotonic() - 3;
    if (coarse > 0) await new Promise((resolve) => setTimeout(resolve, coarse));
    while (this.clock.monotonic() < monotonicMs) await new Promise((resolve) => setImmediate(resolve));
  }
}
