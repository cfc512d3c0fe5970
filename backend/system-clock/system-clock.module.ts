import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { AppConfig } from '../config/app.config';
import { Clock } from '../time/clock';
import { ClockStepService } from './clock-step.service';
import { SimulatedSystemClock } from './simulated-system-clock';
import { SystemClock } from './system-clock';
import { CommandRunner, TimedatectlClock } from './timedatectl-clock';

/**
 * `SystemClock` by CLOCK_BACKEND: `simulated` (default; never touches the host) or `system` (timedated via
 * timedatectl, the real Pi). Only the chosen adapter is built: the simulated one refuses the host clock that
 * TimeModule provides in system mode. `ClockStepService` is the one way to step the clock (it journals).
 */
@Module({
  imports: [ActivityLogModule],
  providers: [
    CommandRunner,
    {
      provide: SystemClock,
      inject: [AppConfig, Clock, CommandRunner],
      useFactory: (config: AppConfig, clock: Clock, runner: CommandRunner): SystemClock =>
        config.CLOCK_BACKEND === 'system' ? new TimedatectlClock(runner, clock) : new SimulatedSystemClock(clock, config.SIMULATED_NTP_SYNCHRONIZED, config.SIMULATED_CLOCK_WRITE_DELAY_MS),
    },
    ClockStepService,
  ],
  exports: [SystemClock, ClockStepService],
})
export class SystemClockModule {}
