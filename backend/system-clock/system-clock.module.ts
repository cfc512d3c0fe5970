import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { AppConfig } from '../config/app.config';
import { Clock } from '../time/clock';
import { ClockStepService } from './clock-step.service';
import { SimulatedSystemClock } from './simulated-system-clock';
import { SystemClock } from './system-clock';
import { CommandRunner, TimedatectlClock } from './timedatectl-clock';
import { ChronySystemClock } from './chrony-system-clock';
import { TimeServer } from '../time-server/time-server';
import { TimeServerModule } from '../time-server/time-server.module';

/**
 * `SystemClock` by CLOCK_BACKEND: `simulated` (default; never touches the host) or `system` (timedated via
 * timedatectl, the real Pi). Only the chosen adapter is built: the simulated one refuses the host clock that
 * TimeModule provides in system mode. `ClockStepService` is the one way to step the clock (it journals). With
 * TIME_SERVER=chrony the adapter is wrapped: steps are handed to chrony (`ChronySystemClock`).
 */
@Module({
  imports: [ActivityLogModule, TimeServerModule],
  providers: [
    CommandRunner,
    {
      provide: SystemClock,
      inject: [AppConfig, Clock, CommandRunner, TimeServer],
      useFactory: (config: AppConfig, clock: Clock, runner: CommandRunner, server: TimeServer): SystemClock => {
        const adapter = config.CLOCK_BACKEND === 'system' ? new TimedatectlClock(runner, clock) : new SimulatedSystemClock(clock, config.SIMULATED_NTP_SYNCHRONIZED, config.SIMULATED_CLOCK_WRITE_DELAY_MS);
        // TIME_SERVER=chrony: steps go to chrony; the adapter keeps reading the clock and setting the zone.
        return config.TIME_SERVER === 'chrony' ? new ChronySystemClock(adapter, server, clock, config.TIME_SERVER_FALLBACK === 'settime') : adapter;
      },
    },
    ClockStepService,
  ],
  exports: [SystemClock, ClockStepService, TimeServerModule],
})
export class SystemClockModule {}
