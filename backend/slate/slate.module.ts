import { Module } from '@nestjs/common';
import { AccessModule } from '../access/access.module';
import { ActivityLogModule } from '../activity-log/activity-log.module';
import { CorrectionsModule } from '../corrections/corrections.module';
import { TimeSyncModule } from '../time-sync/time-sync.module';
import { SlateController } from './slate.controller';
import { SlateUploadInterceptor } from './slate-upload';
import { SlateService } from './slate.service';

/**
 * The time slate: what its page draws from (`GET /api/slate`) and its photos read back into camera
 * measurements (`POST /api/slate/photos`), journaled through the Corrections module's recorder. `SlateService`
 * and `readSlatePhoto` are what a shutter trigger reuses.
 */
@Module({
  imports: [AccessModule, ActivityLogModule, TimeSyncModule, CorrectionsModule],
  controllers: [SlateController],
  providers: [SlateService, SlateUploadInterceptor],
  exports: [SlateService],
})
export class SlateModule {}
