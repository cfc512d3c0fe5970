import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { SystemClockModule } from '../system-clock/system-clock.module';
import { CameraHttp } from './camera-http';
import { CameraController } from './camera.controller';
import { CameraService } from './camera.service';
import { CcapiClient } from './ccapi-client';
import { SsdpDiscovery } from './ssdp';
import { Waiter } from './waiter';

/**
 * The camera over Canon's CCAPI. Needs the global AppConfig, Clock and EventBus. Exports CameraService:
 * TimeSync decides when to sync, this module does it.
 */
@Module({
  imports: [ActivityLogModule, SystemClockModule],
  controllers: [CameraController],
  providers: [CameraService, CcapiClient, CameraHttp, Waiter, { provide: SsdpDiscovery, useFactory: () => new SsdpDiscovery() }],
  exports: [CameraService],
})
export class CameraModule {}
