import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { SystemClockModule } from '../system-clock/system-clock.module';
import { CameraHttp } from './camera-http';
import { CameraSessionFactory } from './camera-session.factory';
import { CameraController } from './camera.controller';
import { CameraService } from './camera.service';
import { CameraAddressPolicy } from './camera-trust';
import { SsdpDiscovery } from './ssdp';
import { Waiter } from './waiter';

/**
 * The cameras over Canon's CCAPI. Needs the global AppConfig, Clock and EventBus. Exports CameraService, the
 * registry of camera sessions (each with its own CcapiClient, made by CameraSessionFactory): TimeSync decides
 * when to sync, this module does it.
 */
@Module({
  imports: [ActivityLogModule, SystemClockModule],
  controllers: [CameraController],
  providers: [
    CameraService,
    CameraSessionFactory,
    CameraHttp,
    Waiter,
    CameraAddressPolicy,
    { provide: SsdpDiscovery, useFactory: (trust: CameraAddressPolicy) => new SsdpDiscovery({ admit: (address) => trust.originOf(address) !== null }), inject: [CameraAddressPolicy] },
  ],
  exports: [CameraService],
})
export class CameraModule {}
