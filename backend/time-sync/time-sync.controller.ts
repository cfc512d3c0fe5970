import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBadRequestResponse, ApiConflictResponse, ApiExtraModels, ApiForbiddenResponse, ApiInternalServerErrorResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { appVersion } from '../common/version';
import { Clock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { bootTimeMs, processUptimeMs, systemUptimeMs } from '../time/uptime';
import { normalizeAddress } from './access-point';
import { DurationStatsDto, ErrorBodyDto, ManualTimeDto, ManualTimeResultDto, PiClockDto, SystemInfoDto, TimeSyncStatusDto } from './dto/time-sync.dto';
import { TimeSyncService } from './time-sync.service';

@ApiTags('time')
@Controller('api')
export class TimeSyncController {
  constructor(
    private readonly service: TimeSyncService,
    private readonly clock: Clock,
    private readonly durations: DurationTracker,
  ) {}

  @Get('timesync/status')
  @ApiOperation({ summary: 'Synchronization state, reliability, activity log, the Pi clock and the camera' })
  @ApiOkResponse({ type: TimeSyncStatusDto })
  status(@Req() request: Request) {
    return this.service.status(addressOf(request));
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
  @ApiOperation({ summary: 'Set the Pi clock by hand (access-point clients only); source "manual"' })
  @ApiOkResponse({ type: ManualTimeResultDto })
  @ApiBadRequestResponse({ type: ErrorBodyDto, description: 'Malformed body, bad timestamp, implausible time or unknown zone' })
  @ApiForbiddenResponse({ type: ErrorBodyDto, description: 'The caller is not on the access point (NOT_ACCESS_POINT_CLIENT)' })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'NTP keeps the clock, a better source (NTP_SYNCHRONIZED)' })
  @ApiInternalServerErrorResponse({ type: ErrorBodyDto, description: 'The clock could not be written: CLOCK_PERMISSION_DENIED (install the polkit rule) or CLOCK_WRITE_FAILED' })
  setSystemTime(@Req() request: Request, @Body() body: ManualTimeDto) {
    const receivedMono = (request as Request & { receivedMono?: number }).receivedMono ?? this.clock.monotonic();
    return this.service.setManually(addressOf(request), body, receivedMono);
  }

  @Get('health')
  @ApiOperation({ summary: 'Liveness and the running version, for the kiosk launcher and the installer' })
  @ApiOkResponse({ schema: { example: { ok: true, version: '0.1.0+7f10643' } } })
  health() {
    return { ok: true, version: appVersion() };
  }
}

function addressOf(request: Request): string {
  return normalizeAddress(request.socket.remoteAddress ?? '');
}
