import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app.config';
import { Clock, HostClock, SimulatedWallClock } from './clock';
import { DurationTracker } from './duration-tracker';

/**
 * Makes `Clock` (the product's "now") and `DurationTracker` available everywhere.
 *
 * CLOCK_BACKEND=simulated: the Clock is a SimulatedWallClock (host time + SIMULATED_CLOCK_OFFSET_MS) that
 * SimulatedSystemClock steps; it injects `Clock` and checks that it got one. CLOCK_BACKEND=system: the host's
 * clock, which timedated steps. There is deliberately no separate SimulatedWallClock token: Nest resolves
 * providers eagerly, so a token that only makes sense in one mode would have to fail or be null in the other.
 */
@Global()
@Module({
  providers: [
    {
      provide: Clock,
      inject: [AppConfig],
      useFactory: (config: AppConfig): Clock =>
        config.CLOCK_BACKEND === 'simulated' ? new SimulatedWallClock(config.SIMULATED_CLOCK_OFFSET_MS) : new HostClock(),
    },
    DurationTracker,
  ],
  exports: [Clock, DurationTracker],
})
export class TimeModule {}
