import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CameraModule } from '../camera/camera.module';
import { CameraClockPort } from '../camera/camera-port';
import { CameraService } from '../camera/camera.service';
import { SourcesModule } from '../sources/sources.module';
import { SystemClockModule } from '../system-clock/system-clock.module';
import { CameraCommands } from './camera-commands';
import { TimeSyncController } from './time-sync.controller';
import { TimeSyncService } from './time-sync.service';

/** The source policy and its shell, REST, and the camera writes on request; pages reach it through GatewayModule. */
@Module({
  imports: [AccessModule, ActivityLogModule, SystemClockModule, CameraModule, SourcesModule],
  controllers: [TimeSyncController],
  providers: [TimeSyncService, CameraCommands, { provide: CameraClockPort, useExisting: CameraService }],
  exports: [TimeSyncService, CameraCommands],
})
export class TimeSyncModule {}
