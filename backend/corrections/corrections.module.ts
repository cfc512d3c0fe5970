import { Module } from '@nestjs/common';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CameraModule } from '../camera/camera.module';
import { CameraService } from '../camera/camera.service';
import { SystemClockModule } from '../system-clock/system-clock.module';
import { CameraClockPort } from '../time-sync/camera-port';
import { TimeSyncModule } from '../time-sync/time-sync.module';
import { CameraTimekeeping, SyncBasedCameraTimekeeping } from './camera-timekeeping';
import { CorrectionsController } from './corrections.controller';
import { CorrectionsService } from './corrections.service';
import { JournalRecorder } from './journal-recorder';

/**
 * Photo fixes: records what they need in the clock-change journal (camera measurements and writes, the Pi's
 * accepted syncs) and turns the journal into corrections, an ExifTool argument file, -geosync points and CSV.
 */
@Module({
  imports: [ActivityLogModule, SystemClockModule, CameraModule, TimeSyncModule],
  controllers: [CorrectionsController],
  providers: [
    CorrectionsService,
    JournalRecorder,
    // The same instance; typed, so that CameraService is checked against the port here (camera/ does not import time-sync/).
    { provide: CameraClockPort, useFactory: (cameras: CameraService): CameraClockPort => cameras, inject: [CameraService] },
    { provide: CameraTimekeeping, useClass: SyncBasedCameraTimekeeping },
  ],
  exports: [CorrectionsService, JournalRecorder, CameraTimekeeping],
})
export class CorrectionsModule {}
