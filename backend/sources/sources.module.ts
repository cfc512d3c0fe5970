import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app.config';
import { SystemClock } from '../system-clock/system-clock';
import { SystemClockModule } from '../system-clock/system-clock.module';
import { TimeServer } from '../time-server/time-server';
import { ChronySource } from './ntp/chrony-source';
import { GpsModule } from './gps/gps.module';
import { GpsSource } from './gps/gps-source';
import { PiClockWatch } from './ntp/pi-clock-watch';
import { RtcModule } from './rtc/rtc.module';
import { RtcSource } from './rtc/rtc-source';
import { TimeSourceAdapter } from './source-port';

/** Every source adapter that reports by itself, in one list the TimeSync module starts. */
export class TimeSources {
  constructor(readonly adapters: readonly TimeSourceAdapter[]) {}
}

/**
 * The time sources besides the phones and the operator. A new one: its adapter module imported here and its
 * adapter added to the list below (plus its ranking entry and its label).
 */
@Module({
  imports: [SystemClockModule, RtcModule, GpsModule],
  providers: [
    // With TIME_SERVER=chrony, NTP is what chrony follows (ChronySource), not timedated's NTPSynchronized.
    { provide: PiClockWatch, inject: [SystemClock, AppConfig], useFactory: (clock: SystemClock, config: AppConfig) => new PiClockWatch(clock, config.TIME_SERVER !== 'chrony') },
    { provide: ChronySource, inject: [TimeServer, AppConfig], useFactory: (server: TimeServer, config: AppConfig) => new ChronySource(server, (config.NTP_FOLLOW ?? '').trim()) },
    {
      provide: TimeSources,
      useFactory: (...adapters: TimeSourceAdapter[]) => new TimeSources(adapters),
      inject: [PiClockWatch, RtcSource, GpsSource, ChronySource],
    },
  ],
  exports: [TimeSources, PiClockWatch],
})
export class SourcesModule {}
