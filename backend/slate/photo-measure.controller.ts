import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiGatewayTimeoutResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { callerOfRequest } from '../access/caller';
import { ErrorBodyDto } from '../time-sync/dto/time-sync.dto';
import { PhotoMeasureAnswerDto } from './dto/slate.dto';
import { PhotoMeasureAnswer, PhotoMeasureService } from './photo-measure.service';

/** Measure by photo: a CCAPI camera photographs the time slate, its JPEG is read like an uploaded slate photo. */
@ApiTags('camera')
@Controller('api/camera')
export class PhotoMeasureController {
  constructor(private readonly photos: PhotoMeasureService) {}

  @Post(':id/measure-by-photo')
  @HttpCode(200)
  @ApiOperation({
    summary: "Measure a connected camera by a photo of the time slate: the camera's shutter is pressed, its new JPEG downloaded and read (camera minus Pi, ± bound), journaled",
    description:
      "Point the camera at the slate first (the Pi's screen, or /slate open on a phone). The Pi's own screen (x-kiosk-token) and access-point clients only; a JSON body (or none). " +
      "The shutter (shooting/control/shutterbutton, with autofocus), the camera's events (event/polling) until it names the new file (RAW+JPEG: the JPEG), the file (?kind=original) within " +
      'CAMERA_PHOTO_TIMEOUT, then the same reading and journal as POST /api/slate/photos. Nothing changes on any clock.',
  })
  @ApiOkResponse({ type: PhotoMeasureAnswerDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'INVALID_CAMERA_ID' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'NOT_ACCESS_POINT_CLIENT (nothing touched); FOREIGN_ORIGIN' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'UNKNOWN_CAMERA' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "NO_CAMERA (not connected); PI_TIME_UNRELIABLE (the slate shows no code while the Pi's time is not trusted: nothing pressed); NO_JPEG_RECORDED (RAW only)" })
  @ApiPayloadTooLargeResponse({ type: ErrorBodyDto, description: "PHOTO_TOO_LARGE: the camera's JPEG is over SLATE_MAX_PHOTO_BYTES" })
  @ApiUnprocessableEntityResponse({ type: ErrorBodyDto, description: 'NO_SLATE_CODE: the camera was not pointed at the slate; FOREIGN_SLATE, NOT_A_SLATE_CODE, SEVERAL_CODES, SLATE_TOO_SLOW, NO_EXIF_TIME, SLATE_CLOCK_UNKNOWN, SLATE_IN_FUTURE' })
  @ApiBadGatewayResponse({ type: ErrorBodyDto, description: 'SHUTTER_REFUSED (e.g. "Out of focus", "Can not write to card"); CAMERA_REJECTED, CAMERA_AUTH_REQUIRED, CAMERA_BAD_ANSWER, CAMERA_CONNECTION_RESET, CAMERA_UNREACHABLE' })
  @ApiServiceUnavailableResponse({ type: ErrorBodyDto, description: 'CAMERA_BUSY (busy, or already taking a photo); JOURNAL_UNWRITABLE' })
  @ApiGatewayTimeoutResponse({ type: ErrorBodyDto, description: 'NO_NEW_PHOTO: no new photo named within CAMERA_PHOTO_TIMEOUT of the press; CAMERA_TIMEOUT' })
  measure(@Req() request: Request, @Param('id') id: string): Promise<PhotoMeasureAnswer> {
    return this.photos.measure(callerOfRequest(request), id);
  }
}
