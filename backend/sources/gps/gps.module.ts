import { Module } from '@nestjs/common';
import { AppConfig, gpsdAddress } from '../../config/app.config';
import { Clock } from '../../time/clock';
import { GpsSource } from './gps-source';

/**
 * GPS through gpsd: provides and exports `GpsSource` (a `TimeSourceAdapter`, source `gps`), built from GPSD_ADDRESS
 * (empty: the adapter does nothing and its status is null) and GPS_OFFSET_MS, on the product's `Clock`. It is
 * started by whoever collects the time source adapters, with their sink and context; it stops itself at shutdown.
 */
@Module({
  providers: [
    {
      provide: GpsSource,
      inject: [AppConfig, Clock],
      useFactory: (config: AppConfig, clock: Clock) => new GpsSource({ address: gpsdAddress(config.GPSD_ADDRESS), offsetMs: config.GPS_OFFSET_MS }, clock),
    },
  ],
  exports: [GpsSource],
})
export class GpsModule {}
