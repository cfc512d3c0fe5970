import { Controller, Get, HttpCode, Post, Req, Res, UseInterceptors } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConsumes, ApiForbiddenResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiPayloadTooLargeResponse, ApiServiceUnavailableResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { readFile } from 'node:fs/promises';
import { callerOfRequest } from '../access/caller';
import { HTTP_STATUS_OF } from '../common/domain-error';
import { ErrorCode, UPLOAD_HEADER } from '../protocol/vocabulary';
import { ErrorBodyDto } from '../time-sync/dto/time-sync.dto';
import { SlateAnswerDto, SlateInfoDto, SlateRefusedDto } from './dto/slate.dto';
import { SLATE_PHOTO_FIELD, SlateUploadInterceptor } from './slate-upload';
import { SlateAnswer, SlateService } from './slate.service';

@ApiTags('slate')
@Controller('api/slate')
export class SlateController {
  constructor(private readonly slate: SlateService) {}

  @Get()
  @ApiOperation({ summary: "What the time slate page draws from: the Pi's name, its clock now (to the microsecond), which setting of its clock that is, and how far to trust it" })
  @ApiOkResponse({ type: SlateInfoDto })
  info() {
    return this.slate.info();
  }

  @Post('photos')
  @HttpCode(200)
  @UseInterceptors(SlateUploadInterceptor)
  @ApiOperation({
    summary: "Photos of the time slate: each camera's offset (camera minus Pi) with its bound, journaled as a camera measurement for the photo fixes",
    description:
      `multipart/form-data, JPEG files in the field "${SLATE_PHOTO_FIELD}" (up to 20, each up to SLATE_MAX_PHOTO_BYTES), with the header ${UPLOAD_HEADER}: 1 ` +
      "(a form on another site cannot send it). The Pi's own screen (x-kiosk-token) and access-point clients only. Each photo: the slate's QR code (zxing-wasm) and " +
      'DateTimeOriginal, SubSecTimeOriginal, OffsetTimeOriginal, ExposureTime, Make, Model, SerialNumber (exifr). Photos of one camera are combined (the intersection of their intervals). ' +
      '200 when at least one photo was read (refused ones are listed with their reason); 422 with the reason when none was.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiHeader({ name: UPLOAD_HEADER, required: true, description: 'Any value, e.g. 1' })
  @ApiBody({ schema: { type: 'object', properties: { [SLATE_PHOTO_FIELD]: { type: 'array', items: { type: 'string', format: 'binary' } } } } })
  @ApiOkResponse({ type: SlateAnswerDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'NO_PHOTO, TOO_MANY_PHOTOS, BAD_REQUEST (another field, a broken upload)' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'NOT_ACCESS_POINT_CLIENT; FOREIGN_ORIGIN (a page of another site)' })
  @ApiPayloadTooLargeResponse({ type: ErrorBodyDto, description: 'PHOTO_TOO_LARGE' })
  @ApiUnprocessableEntityResponse({
    type: SlateRefusedDto,
    description: 'No photo could be read: EMPTY_PHOTO, NOT_A_JPEG, NO_SLATE_CODE (none, blurred, too small), NOT_A_SLATE_CODE, SEVERAL_CODES, FOREIGN_SLATE (another Pi), SLATE_TOO_SLOW, NO_EXIF_TIME, SLATE_CLOCK_UNKNOWN, SLATE_IN_FUTURE; SLATE_PHOTOS_REFUSED when several were refused for different reasons',
  })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'JOURNAL_UNWRITABLE: the measurement could not be journaled' })
  async photos(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<SlateAnswer | (Omit<SlateRefusedDto, 'results'> & Pick<SlateAnswer, 'results'>)> {
    const files = (req.files as Express.Multer.File[] | undefined) ?? [];
    const uploads = files.map((f) => ({ name: f.originalname, load: () => readFile(f.path) }));
    const answer = await this.slate.readPhotos(callerOfRequest(req), uploads);
    if (answer.cameras.length) return answer;
    // Nothing read: the refusal as an error, with each photo's reason.
    const codes = [...new Set(answer.results.map((r) => (r.ok ? null : r.code)).filter((c): c is ErrorCode => c !== null))];
    const code = codes.length === 1 ? codes[0] : ErrorCode.SLATE_PHOTOS_REFUSED;
    const first = answer.results[0];
    const message = codes.length === 1 && answer.results.length === 1 && !first.ok ? first.message : `none of the ${answer.results.length} photos could be read: ${answer.results.map((r) => (r.ok ? '' : `${r.file}: ${r.message}`)).join('; ')}`;
    const status = HTTP_STATUS_OF[code] ?? 422;
    res.status(status);
    return { statusCode: status, code, message, results: answer.results };
  }
}
