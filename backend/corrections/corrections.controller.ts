import { Controller, Get, Header, Query, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { contentDisposition } from '../common/escape';
import { ErrorBodyDto } from '../time-sync/dto/time-sync.dto';
import { CorrectionsService } from './corrections.service';
import { CorrectionsQueryDto } from './dto/corrections.dto';
import { JOURNAL_CSV_COLUMNS, JOURNAL_CSV_COLUMNS_PATH, journalCsvColumnsText } from './journal-csv';

@ApiTags('photo fixes')
@Controller('api/timesync')
export class CorrectionsController {
  constructor(private readonly corrections: CorrectionsService) {}

  @Get('journal.csv')
  @Header('content-type', 'text/csv; charset=utf-8')
  @Header('content-disposition', contentDisposition('attachment', 'clock-journal.csv'))
  // The columns are described at a link, not in a comment line that a spreadsheet would take for a row.
  @Header('link', `<${JOURNAL_CSV_COLUMNS_PATH}>; rel="describedby"; type="application/json"`)
  @ApiOperation({
    summary: 'The clock-change journal as CSV, one row per record (steps, camera measurements and writes, zone changes, steps the product did not make, sessions, damaged lines)',
    description: `RFC 4180, a header row, then one row per journal line; every row of a capture session carries its id in \`session\`. Columns (also at ${JOURNAL_CSV_COLUMNS_PATH} and in docs/journal-csv.md): ${journalCsvColumnsText()}`,
  })
  @ApiProduces('text/csv')
  @ApiOkResponse({ description: `${JOURNAL_CSV_COLUMNS.map((c) => c.name).join(',')}` })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'JOURNAL_UNREADABLE' })
  csv(): Promise<string> {
    return this.corrections.csv();
  }

  @Get('journal.csv/columns')
  @ApiOperation({ summary: 'What each column of journal.csv holds, in order (the CSV links here)' })
  @ApiOkResponse({ description: '{ columns: [{ name, meaning }] }' })
  columns(): { columns: ReadonlyArray<{ name: string; meaning: string }> } {
    return { columns: JOURNAL_CSV_COLUMNS };
  }

  @Get('corrections')
  @ApiOperation({
    summary: "What puts every photo on true time: per camera serial and period between two settings of its clock, the shift for photos whose DateTimeOriginal lies in it",
    description:
      'format=exiftool: an argument file; `exiftool -@ corrections.args -overwrite_original DIR` applies it (one -if finds each photo\'s range by SerialNumber and ' +
      'DateTimeOriginal + SubSecTimeOriginal; DateTimeOriginal and CreateDate are shifted with their sub-seconds; the zone too where the camera\'s was wrong). ' +
      'Between two measurements a camera drifted (the shift interpolated on each photo\'s own time, one range however long) or, faster than CAMERA_MAX_DRIFT_PPM, jumped ' +
      '(the later measurement\'s shift, with a bound that covers the jump, said in words). ' +
      'format=geosync: the `-geosync=TRUE@CAMERA` points of one camera and period, for ExifTool\'s drift-corrected geotagging. session=<id>: only that session\'s photos. ' +
      'Journal lines that cannot be used (damaged, or measured when the Pi\'s own time was unknown) are named in the answer.',
  })
  @ApiProduces('application/json', 'text/plain')
  @ApiOkResponse({ description: 'json: { cameras: [{ serial, periods: [{ index, intervals: [{ kind: drift|jump, changeMs, ratePpm, leastRatePpm }], segments: [{ kind: constant|drift|jump, from, to, shiftMs, shiftToMs, ratePpm, boundMs, offsetTime, note }] }], ambiguous }], skipped, damaged }; exiftool / geosync: the file' })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'BAD_REQUEST (format, period), INVALID_SESSION_ID, INVALID_CAMERA_ID, SELECTION_REQUIRED (geosync: one camera, one period), UNSAFE_CAMERA_SERIAL (the camera asked for reported a serial number no camera body carries: letters, digits, "_" and "-", up to 32)' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'EMPTY_JOURNAL, UNKNOWN_SESSION, UNKNOWN_CAMERA, NO_CORRECTION' })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'JOURNAL_UNREADABLE' })
  async get(@Query() query: CorrectionsQueryDto, @Res({ passthrough: true }) res: Response): Promise<unknown> {
    const answer = await this.corrections.corrections(query);
    res.setHeader('content-type', answer.contentType);
    if (answer.filename) res.setHeader('content-disposition', contentDisposition('inline', answer.filename));
    return answer.body;
  }
}
