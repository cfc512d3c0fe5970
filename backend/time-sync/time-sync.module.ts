import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CameraModule } from '../camera/camera.module';
import { CameraService } from '../camera/camera.service';
import { SourcesModule } from '../sources/sources.module';
import { SystemClockModule } from '../system-clock/system-clock.module';
import { CommandRunner } from '../system-clock/timedatectl-clock';
import { AccessPointPolicy, InterfaceModeDetector, IwModeDetector, NetworkInterfaces } from './access-point';
import { CameraClockPort } from './camera-port';
import { TimeSyncController } from './time-sync.controller';
import { TimeSyncGateway } from './time-sync.gateway';
import { TimeSyncService } from './time-sync.service';
import { CameraCommands } from './camera-commands';
import { RefusalLog } from '../common/refusal-log';
import { KioskToken } from '../screen/kiosk-token';

@Module({
  imports: [ActivityLogModule, SystemClockModule, CameraModule, SourcesModule],
  controllers: [TimeSyncController],
  providers: [
    TimeSyncService,
    TimeSyncGateway,
    CameraCommands,
    RefusalLog,
    AccessPointPolicy,
    NetworkInterfaces,
    KioskToken,
    CommandRunner,
    { provide: InterfaceModeDetector, useClass: IwModeDetector },
    { provide: CameraClockPort, useExisting: CameraService },
  ],
  exports: [TimeSyncService, KioskToken, AccessPointPolicy, NetworkInterfaces, RefusalLog],
})
export class TimeSyncModule {}
