import { Module } from '@nestjs/common';
import { ActivityLogController } from './activity-log.controller';
import { ActivityLogService } from './activity-log.service';
import { ClockJournal } from './clock-journal';

@Module({
  controllers: [ActivityLogController],
  providers: [ActivityLogService, ClockJournal],
  exports: [ActivityLogService, ClockJournal],
})
export class ActivityLogModule {}
