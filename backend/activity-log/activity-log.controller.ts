import { Controller, Get } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ActivityLogService } from './activity-log.service';
import { ClockJournal, DamagedLine, JournalReport, JournalStep } from './clock-journal';
import { ActivityEntryDto, ClockStepDto, DamagedLineDto, JournalReportDto } from './dto/clock-step.dto';

@ApiTags('activity')
@Controller('api')
export class ActivityLogController {
  constructor(
    private readonly activity: ActivityLogService,
    private readonly journal: ClockJournal,
  ) {}

  @Get('timesync/journal')
  @ApiOperation({
    summary: 'Every step of the system clock, oldest first, kept across restarts',
    description:
      'Each step carries its `state`: `confirmed`, `unknown` (the write failed and the clock may have moved) or `pending` ' +
      '(the server stopped between journaling the step and confirming it: the clock may or may not have moved). ' +
      'A line that is not a complete record is listed where it is, as `{ state: "damaged", line, preview, reason }`. ' +
      'JOURNAL_UNREADABLE (503) when DATA_DIR or the journal is the wrong kind of file.',
  })
  @ApiExtraModels(ClockStepDto, DamagedLineDto)
  @ApiOkResponse({ schema: { type: 'array', items: { oneOf: [{ $ref: getSchemaPath(ClockStepDto) }, { $ref: getSchemaPath(DamagedLineDto) }] } } })
  @ApiServiceUnavailableResponse({ description: 'JOURNAL_UNREADABLE: the path names a file where a folder belongs, or a folder where the journal belongs' })
  async journalEntries(): Promise<Array<JournalStep | DamagedLine>> {
    const { steps, damaged } = await this.journal.report();
    return [...steps, ...damaged].sort((a, b) => a.line - b.line);
  }

  @Get('timesync/journal/report')
  @ApiOperation({ summary: 'The journal judged: steps, pending (unconfirmed) steps, failed attempts, damaged lines, and whether it can be written' })
  @ApiOkResponse({ type: JournalReportDto })
  @ApiServiceUnavailableResponse({ description: 'JOURNAL_UNREADABLE' })
  journalReport(): Promise<JournalReport> {
    return this.journal.report();
  }

  @Get('activity')
  @ApiOperation({ summary: 'The activity log: the last 100 entries since the server started, oldest first' })
  @ApiOkResponse({ type: ActivityEntryDto, isArray: true })
  entries() {
    return this.activity.entries();
  }
}
