import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app.config';
import { Clock } from '../time/clock';
import { ChronyTimeServer, chronySettingsOf, NoTimeServer, TimeServer } from './time-server';

/**
 * `TimeServer` by TIME_SERVER: `off` (default: nobody serves the Pi's time; the product steps the clock through
 * timedated) or `chrony` (chronyd keeps and serves the clock; the product feeds it on loopback and reads its view).
 */
@Module({
  providers: [
    {
      provide: TimeServer,
      inject: [AppConfig, Clock],
      useFactory: (config: AppConfig, clock: Clock): TimeServer => (config.TIME_SERVER === 'chrony' ? new ChronyTimeServer(chronySettingsOf(config), clock) : new NoTimeServer()),
    },
  ],
  exports: [TimeServer],
})
export class TimeServerModule {}
