import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CameraModule } from '../camera/camera.module';
import { CorrectionsModule } from '../corrections/corrections.module';
import { TimeSyncModule } from '../time-sync/time-sync.module';
import { PhotoMeasureController } from './photo-measure.controller';
import { PhotoMeasureService } from './photo-measure.service';
import { SlateController } from './slate.controller';
import { SlateUploadInterceptor } from './slate-upload';
import { SlateService } from './slate.service';

/**
 * The time slate: what its page draws from (`GET /api/slate`) and its photos read back into camera
 * measurements (`POST /api/slate/photos`), journaled through the Corrections module's recorder; and measure by
 * photo (`POST /api/camera/:id/measure-by-photo`): a CCAPI camera photographs the slate (the Camera module presses
 * its shutter and brings the JPEG back) and the photo is read the same way.
 */
@Module({
  imports: [AccessModule, ActivityLogModule, TimeSyncModule, CorrectionsModule, CameraModule],
  controllers: [SlateController, PhotoMeasureController],
  providers: [SlateService, SlateUploadInterceptor, PhotoMeasureService],
  exports: [SlateService],
})
export class SlateModule {}
