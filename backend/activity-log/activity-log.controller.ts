import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ActivityLogService } from './activity-log.service';
import { ClockJournal } from './clock-journal';
import { ActivityEntryDto, ClockStepDto } from './dto/clock-step.dto';

@ApiTags('activity')
@Controller('api')
export class ActivityLogController {
  constructor(
    private readonly activity: ActivityLogService,
    private readonly journal: ClockJournal,
  ) {}

  @Get('timesync/journal')
  @ApiOperation({ summary: 'Every step of the system clock, oldest first, kept across restarts' })
  @ApiOkResponse({ type: ClockStepDto, isArray: true })
  journalEntries() {
    return this.journal.read();
  }

  @Get('activity')
  @ApiOperation({ summary: 'The activity log: the last 100 entries since the server started, oldest first' })
  @ApiOkResponse({ type: ActivityEntryDto, isArray: true })
  entries() {
    return this.activity.entries();
  }
}
