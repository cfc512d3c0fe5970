import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { AccessPointInfo, Nmcli } from './access-point-info';
import { ScreenController } from './screen.controller';

/**
 * The Pi's own screen: how a phone connects (the access point's name, password and address, as QR codes).
 * Which screen a page is on, and what it may see, is decided by AccessService.
 */
@Module({
  imports: [AccessModule],
  controllers: [ScreenController],
  providers: [AccessPointInfo, Nmcli],
  exports: [AccessPointInfo],
})
export class ScreenModule {}
