import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../../activity-log/activity-log.module';
import { ClockJournal, parseJournal } from '../../activity-log/clock-journal';
import { AppConfig } from '../../config/app.config';
import { SystemClock } from '../../system-clock/system-clock';
import { SystemClockModule } from '../../system-clock/system-clock.module';
import { Clock } from '../../time/clock';
import { RtcSettings, RtcSource } from './rtc-source';

/**
 * What RtcSource reads, from the settings: RTC_SYSFS (empty: nothing) and RTC_DRIFT_PPM. With the simulated
 * clock the default folder is not read: the host's own RTC says nothing about a clock that is the host's plus an
 * offset, and a demo or a test must not depend on the machine it runs on; another folder (a fake tree) is.
 */
export function rtcSettingsFor(config: Pick<AppConfig, 'RTC_SYSFS' | 'RTC_DRIFT_PPM' | 'CLOCK_BACKEND'>): RtcSettings {
  const sysfs = config.RTC_SYSFS.trim();
  const driftPpm = config.RTC_DRIFT_PPM;
  if (!sysfs) return { sysfs: null, off: 'RTC_SYSFS is empty: the hardware clock is not read', driftPpm };
  if (config.CLOCK_BACKEND === 'simulated' && sysfs === new AppConfig().RTC_SYSFS) {
    return { sysfs: null, off: `The simulated clock is not this machine's clock: its hardware clock (${sysfs}) is not read`, driftPpm };
  }
  return { sysfs, driftPpm };
}

/** Provides `RtcSource`, the hardware clock as a time source, built from the settings, the clock, timedated and the journal. */
@Module({
  imports: [ActivityLogModule, SystemClockModule],
  providers: [
    {
      provide: RtcSource,
      inject: [AppConfig, Clock, SystemClock, ClockJournal],
      useFactory: (config: AppConfig, clock: Clock, systemClock: SystemClock, journal: ClockJournal): RtcSource =>
        // The journal's text, parsed: no health probe (which creates the file) just to read it.
        new RtcSource(rtcSettingsFor(config), clock, systemClock, async () => parseJournal(await journal.text())),
    },
  ],
  exports: [RtcSource],
})
export class RtcModule {}
