import { Body, Controller, Get, HttpCode, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiExtraModels, ApiForbiddenResponse, ApiInternalServerErrorResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { callerOfRequest } from '../access/caller';
import { appVersion } from '../common/version';
import { Clock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { bootTimeMs, processUptimeMs, systemUptimeMs } from '../time/uptime';
import { CameraSyncFailureBodyDto, DurationStatsDto, ErrorBodyDto, ManualTimeDto, ManualTimeResultDto, PiClockDto, SystemInfoDto, TimeSyncStatusDto } from './dto/time-sync.dto';
import { TimeSyncService } from './time-sync.service';
import { CameraCommands, cameraSyncAnswer } from './camera-commands';
import type { CameraSyncOutcome } from '../camera/camera-port';
import { CameraSyncOutcomeDto } from '../camera/dto/camera.dto';

@ApiTags('time')
@Controller('api')
export class TimeSyncController {
  constructor(
    private readonly service: TimeSyncService,
    private readonly clock: Clock,
    private readonly durations: DurationTracker,
    private readonly cameras: CameraCommands,
  ) {}

  @Get('timesync/status')
  @ApiOperation({ summary: 'Synchronization state, reliability, activity log, the Pi clock and the camera' })
  @ApiOkResponse({ type: TimeSyncStatusDto })
  status(@Req() request: Request) {
    return this.service.status(callerOfRequest(request));
  }

  @Get('system/time')
  @ApiOperation({ summary: "The Pi's clock: time, zone, offset, DST, source, reliability, NTP state, backend" })
  @ApiOkResponse({ type: PiClockDto })
  systemTime() {
    return this.service.piClock();
  }

  @Get('system/info')
  @ApiOperation({ summary: 'Uptime of the server and the Pi, and how long syncs and clock writes take' })
  @ApiExtraModels(DurationStatsDto)
  @ApiOkResponse({ type: SystemInfoDto })
  systemInfo(): SystemInfoDto {
    const systemUptime = systemUptimeMs();
    return {
      processUptimeMs: processUptimeMs(this.clock),
      systemUptimeMs: systemUptime,
      bootTime: new Date(bootTimeMs(this.clock, systemUptime)).toISOString(),
      durations: this.durations.stats(),
    };
  }

  @Post('system/time')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the Pi clock by hand (the Pi\'s own screen, with its kiosk secret in the x-kiosk-token header, and access-point clients only); source "manual"' })
  @ApiOkResponse({ type: ManualTimeResultDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'Malformed body, bad timestamp, implausible time or unknown zone' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'The caller is not on the access point (NOT_ACCESS_POINT_CLIENT)' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'NTP keeps the clock, a better source (NTP_SYNCHRONIZED)' })
  @ApiInternalServerErrorResponse({ type: ErrorBodyDto, description: 'The clock could not be written: CLOCK_PERMISSION_DENIED (install the polkit rule) or CLOCK_WRITE_FAILED' })
  setSystemTime(@Req() request: Request, @Body() body: ManualTimeDto) {
    const receivedMono = (request as Request & { receivedMono?: number }).receivedMono ?? this.clock.monotonic();
    return this.service.setManually(callerOfRequest(request), body, receivedMono);
  }

  @Post('timesync/use-client-time')
  @HttpCode(200)
  @ApiOperation({
    summary: "The operator's answer to a pending decision: use the phone's time",
    description:
      'After a manual set (or a suspected time-zone mistake) automatic syncs measure but do not step the clock. This releases that hold and ' +
      'takes a fresh measurement of the client named in the pending decision (else the current source), then steps the clock to it. Access-point clients only.',
  })
  @ApiOkResponse({ schema: { example: { accepted: true } } })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'NOT_ACCESS_POINT_CLIENT' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'NO_TIME_SOURCE: no phone on the access point is connected' })
  async useClientTime(@Req() request: Request) {
    await this.service.useClientTime(callerOfRequest(request), null);
    return { accepted: true };
  }

  @Post('timesync/camera')
  @HttpCode(200)
  @ApiOperation({
    summary: "Set the cameras' clocks to the Pi's time now (access-point clients only)",
    description:
      "Without `id`: every connected camera, each write aligned to the same second boundary, each read back and its residual measured; one camera's failure " +
      'does not stop the others. The status says how it went: 200 every camera set (or kept, within CAMERA_SYNC_THRESHOLD); 207 some failed; when every camera ' +
      "failed, that failure's status (503 busy, 502 refused, 504 no answer, 409 gone; 502 when they failed in different ways). A 207 or a failure carries the " +
      'per-camera results in `results`. With `id`: that camera only, its failure is the answer. Logged, and published as camera-sync events.',
  })
  @ApiExtraModels(CameraSyncFailureBodyDto)
  @ApiQuery({ name: 'id', required: false, description: 'A camera id from GET /api/cameras (serial number)' })
  @ApiQuery({ name: 'confirm', required: false, description: "true: write even though the Pi's reliability is none (else 409 PI_TIME_UNRELIABLE)" })
  @ApiOkResponse({ type: [CameraSyncOutcomeDto], description: "Every camera set. Without id: one outcome per connected camera; with id: that camera's result" })
  @ApiResponse({ status: 207, type: CameraSyncFailureBodyDto, description: 'CAMERA_SYNC_PARTIAL: some cameras were set, some failed; each one\'s result in `results`' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'NOT_ACCESS_POINT_CLIENT' })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'INVALID_CAMERA_ID: not a camera id (letters, digits, . _ - only)' })
  @ApiNotFoundResponse({ type: ErrorBodyDto, description: 'UNKNOWN_CAMERA' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: "NO_CAMERA: no camera connected (with `results` when they all left during the sync); PI_TIME_UNRELIABLE: the Pi's reliability is none and confirm=true was not given" })
  @ApiResponse({ status: 503, type: CameraSyncFailureBodyDto, description: 'CAMERA_BUSY: every camera (or the one named) was busy; `results` without id' })
  @ApiResponse({ status: 502, type: CameraSyncFailureBodyDto, description: 'CAMERA_REJECTED (the camera refused the value), CAMERA_AUTH_REQUIRED, CAMERA_UNREACHABLE..., or CAMERA_SYNC_FAILED (every camera failed, in different ways); `results` without id' })
  @ApiResponse({ status: 504, type: CameraSyncFailureBodyDto, description: 'CAMERA_TIMEOUT: no camera (or not the one named) answered in time; `results` without id' })
  async syncCameras(@Req() request: Request, @Res() response: Response, @Query('id') id?: string, @Query('confirm') confirm?: string) {
    const outcome = await this.cameras.sync(callerOfRequest(request), id, 'requested by the operator', confirm === 'true');
    // A failure of the one camera named was thrown (and mapped by the filter); every camera's is judged here.
    const { status, body } = id === undefined ? cameraSyncAnswer(outcome as CameraSyncOutcome[]) : { status: 200, body: outcome };
    response.status(status).json(body);
  }

  @Get('health')
  @ApiOperation({ summary: 'Liveness and the running version, for the kiosk launcher and the installer' })
  @ApiOkResponse({ schema: { example: { ok: true, version: '0.1.0+7f10643' } } })
  health() {
    return { ok: true, version: appVersion() };
  }
}
