import { Module } from '@nestjs/common';
import { ActivityLogController } from './activity-log.controller';
import { ActivityLogService } from './activity-log.service';
import { ClockJournal, JournalFiles } from './clock-journal';

@Module({
  controllers: [ActivityLogController],
  providers: [ActivityLogService, ClockJournal, JournalFiles],
  exports: [ActivityLogService, ClockJournal],
})
export class ActivityLogModule {}
