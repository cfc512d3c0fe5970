import { Controller, Get, HttpCode, Post, Query, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { DomainError, ErrorCode } from '../common/domain-error';
import { CAMERA_ID_PATTERN } from './camera-id';
import { CameraSyncReport } from './camera-session';
import { CameraService } from './camera.service';
import { CameraErrorDto, CameraStatusResponseDto, CameraSyncOutcomeDto, CameraSyncResponseDto } from './dto/camera.dto';

@ApiTags('camera')
@Controller('api')
export class CameraController {
  constructor(private readonly cameras: CameraService) {}

  /** `request` is there for the access-point check of this write path. */
  @Post('timesync/camera')
  @HttpCode(200)
  @ApiOperation({
    summary: "Set the cameras' clocks to the Pi's time now",
    description:
      "Without id: every connected camera, all written on the same second boundary (each PUT sent its own latency ahead), each read back and its remaining error measured; " +
      'one camera failing (busy, gone) does not stop the others: 200 with one outcome per camera. With id: that camera; its error is the answer. ' +
      'Logged in the activity log and published as camera-sync events. No automatic retry.',
  })
  @ApiQuery({ name: 'id', required: false, description: 'Only this camera (its id from GET /api/cameras)', schema: { type: 'string', pattern: CAMERA_ID_PATTERN.source } })
  @ApiOkResponse({ type: CameraSyncResponseDto })
  @ApiResponse({ status: 400, type: CameraErrorDto, description: 'INVALID_CAMERA_ID: the id is not one (a path, markup...)' })
  @ApiResponse({ status: 404, type: CameraErrorDto, description: 'UNKNOWN_CAMERA: no camera has this id' })
  @ApiResponse({ status: 409, type: CameraErrorDto, description: 'NO_CAMERA: no camera connected (or that one is not)' })
  @ApiResponse({ status: 503, type: CameraErrorDto, description: 'With id: CAMERA_BUSY, the camera is busy (shooting, writing to the card...)' })
  @ApiResponse({ status: 502, type: CameraErrorDto, description: 'With id: CAMERA_AUTH_REQUIRED, CAMERA_REJECTED, CAMERA_BAD_ANSWER, CAMERA_CONNECTION_RESET, CAMERA_UNREACHABLE' })
  @ApiResponse({ status: 504, type: CameraErrorDto, description: 'With id: CAMERA_TIMEOUT, the camera did not answer in time' })
  async sync(@Req() request: Request, @Query('id') id?: unknown): Promise<CameraSyncResponseDto> {
    const reason = 'requested by the operator';
    if (id !== undefined) return respond([await this.cameras.syncOne(id as string, reason)]);
    const outcomes = await this.cameras.syncAll(reason);
    if (!outcomes.length) throw new DomainError(ErrorCode.NO_CAMERA, 'no camera connected');
    return respond(outcomes);
  }

  @Get('cameras')
  @ApiOperation({ summary: 'Every camera known: connected first, then those that need credentials, then the absent' })
  @ApiOkResponse({ type: [CameraStatusResponseDto] })
  list(): CameraStatusResponseDto[] {
    return this.cameras.statuses();
  }

  @Get('camera')
  @ApiOperation({ summary: 'The first camera of GET /api/cameras (or a disconnected placeholder): for clients of one camera' })
  @ApiOkResponse({ type: CameraStatusResponseDto })
  status(): CameraStatusResponseDto {
    return this.cameras.status();
  }
}

function respond(reports: CameraSyncReport[]): CameraSyncResponseDto {
  return { success: reports.every((r) => r.success), outcomes: reports.map((r): CameraSyncOutcomeDto => ({ ...r })) };
}
