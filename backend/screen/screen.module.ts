import { Module } from '@nestjs/common';
import { TimeSyncModule } from '../time-sync/time-sync.module';
import { AccessPointInfo, Nmcli } from './access-point-info';
import { ScreenController } from './screen.controller';

/**
 * The Pi's own screen: how a phone connects (the access point's name, password and address, as QR codes).
 * Which screen a page is on is decided by TimeSyncService.screenOf, with the kiosk secret (KioskToken).
 */
@Module({
  imports: [TimeSyncModule],
  controllers: [ScreenController],
  providers: [AccessPointInfo, Nmcli],
  exports: [AccessPointInfo],
})
export class ScreenModule {}
