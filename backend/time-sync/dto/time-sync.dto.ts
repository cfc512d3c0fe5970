import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsDefined, IsNumber, IsOptional, IsString, MaxLength } from 'class-validator';
import { ActivityEntryDto, JournalHealthDto } from '../../activity-log/dto/clock-step.dto';
import { CameraStatusResponseDto, CameraSyncOutcomeDto } from '../../camera/dto/camera.dto';
import { ClockBackend, DecisionKind, ErrorCode, Reliability, Screen, SyncSource } from '../../protocol/messages';

const SOURCES = Object.values(SyncSource);
const LEVELS = Object.values(Reliability);

/** POST /api/system/time and the WebSocket `manual-time-sync`. */
export class ManualTimeDto {
  @ApiProperty({ example: '2026-11-25T12:00:00.000Z', description: 'ISO 8601 / RFC 3339 with Z or an offset (ms since the epoch accepted too)' })
  @IsDefined()
  timestamp: string;

  @ApiPropertyOptional({ example: 'America/Los_Angeles', description: 'IANA time zone to set on the Pi' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;
}

/** WebSocket `sync-camera` data: no id, every connected camera. The id itself is checked by CameraCommands. */
export class SyncCameraDto {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  id?: string;

  /** The operator chose to write the Pi's time although its reliability is none. */
  @IsOptional()
  @IsBoolean()
  confirm?: boolean;
}

/** `time-sync-response` data (validated field by field; clientTime is checked by the service). */
export class TimeSyncResponseDto {
  @IsDefined()
  clientTime: number | string;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  serverTime: number;

  @IsString()
  @MaxLength(100)
  requestId: string;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;
}

export class PiClockDto {
  @ApiProperty({ example: '2026-11-25T12:00:00.000Z' }) timestamp: string;
  @ApiProperty({ example: 1795608000000 }) epochMs: number;
  @ApiProperty({ example: 'Europe/Berlin' }) timezone: string;
  @ApiProperty({ example: 60 }) utcOffsetMinutes: number;
  @ApiProperty({ example: false }) isDst: boolean;
  @ApiProperty({ enum: SOURCES, example: SyncSource.Client }) source: string;
  @ApiProperty({ enum: LEVELS, example: Reliability.High }) reliability: string;
  @ApiProperty({ example: 0.9, nullable: true, description: 'Error bound of the last sync, ms; null if unknown' }) estimatedErrorMs: number | null;
  @ApiProperty({ example: false }) ntpSynchronized: boolean;
  @ApiProperty({ enum: Object.values(ClockBackend), example: ClockBackend.Simulated }) backend: string;
}

export class DurationStatsDto {
  @ApiProperty({ example: 3 }) count: number;
  @ApiProperty({ example: 702.1 }) minMs: number;
  @ApiProperty({ example: 705.4 }) avgMs: number;
  @ApiProperty({ example: 711.9 }) maxMs: number;
  @ApiProperty({ example: 703.0 }) lastMs: number;
}

export class SystemInfoDto {
  @ApiProperty({ example: 3_600_000, description: 'How long the server has run, ms (monotonic)' }) processUptimeMs: number;
  @ApiProperty({ example: 7_200_000, description: 'How long the Pi has run since boot, ms' }) systemUptimeMs: number;
  @ApiProperty({ example: '2026-11-25T06:00:00.000Z', description: "Boot time on the Pi's clock (as wrong as the clock was, before the first sync)" }) bootTime: string;
  @ApiProperty({
    description: 'Durations of named operations: sync-burst (first probe to estimate), clock-write (the SystemClock write)',
    additionalProperties: { $ref: '#/components/schemas/DurationStatsDto' },
    example: { 'sync-burst': { count: 3, minMs: 702.1, avgMs: 705.4, maxMs: 711.9, lastMs: 703 } },
  })
  durations: Record<string, DurationStatsDto>;
}

export class DemoStatusDto {
  @ApiProperty({ example: 'http://127.0.0.1:40123/ccapi', nullable: true, description: 'The simulated camera the demo started (CAMERA_URL empty), or null' }) cameraUrl: string | null;
  @ApiProperty({ example: true, description: 'Loopback counts as a phone on the access point (simulated clock, AP_SUBNETS not set)' }) loopbackTrusted: boolean;
  @ApiPropertyOptional({ example: true, description: 'The caller is loopback and so trusted by the demo' }) thisBrowserTrusted?: boolean;
}

export class SourceStatusDto {
  @ApiProperty({ enum: SOURCES, example: SyncSource.Gps }) source: string;
  @ApiProperty({ example: '/dev/ttyACM0', description: 'Which one: a GPS device, an RTC ("rtc0")' }) who: string;
  @ApiProperty({ example: '3D fix, calibrated against a phone', description: 'Its state in plain words' }) state: string;
  @ApiProperty({ example: true, description: 'Whether it gives time now' }) active: boolean;
  @ApiPropertyOptional({ example: false, description: 'The Pi has no such source at all (no gpsd running, no hardware clock)' }) absent?: boolean;
  @ApiProperty({ example: 38, nullable: true, description: 'Its error bound now, ms' }) errorBoundMs: number | null;
  @ApiPropertyOptional({ example: { mode: 3, pps: false, calibrated: true }, description: 'Plain facts (fix mode, PPS, calibration, last set)' }) facts?: Record<string, string | number | boolean | null>;
}

export class TimeSyncStatusDto {
  @ApiProperty({ example: true }) isSynchronized: boolean;
  @ApiProperty({ example: '2026-11-25T12:00:00.000Z', nullable: true }) lastSyncTime: string | null;
  @ApiProperty({ enum: SOURCES, example: SyncSource.Client }) syncSource: string;
  @ApiProperty({ example: 'a phone', description: 'syncSource in plain words' }) sourceLabel: string;
  @ApiPropertyOptional({ type: SourceStatusDto, isArray: true, description: 'The sources that report by themselves (GPS, the hardware clock) and their state' }) sources?: SourceStatusDto[];
  @ApiProperty({ enum: LEVELS, example: Reliability.High }) reliability: string;
  @ApiProperty({ example: 259200012.4, nullable: true, description: 'Last measured offset: source clock minus Pi clock, ms' }) lastOffsetMs: number | null;
  @ApiProperty({ example: 0.9, nullable: true, description: 'Bound on the error of that measurement, ms' }) errorBoundMs: number | null;
  @ApiProperty({ example: 42000, nullable: true, description: 'Age of the last successful sync (monotonic), ms' }) lastSyncAgeMs: number | null;
  @ApiProperty({ example: '10.42.0.23', nullable: true }) sourceClient: string | null;
  @ApiPropertyOptional({ example: true, description: 'Whether the caller may set the time' }) canSetTime?: boolean;
  @ApiPropertyOptional({ enum: Object.values(Screen), example: Screen.Phone, description: "Which screen the caller is on: the Pi's own (kiosk secret), a phone on its Wi-Fi, other" }) screen?: string;
  @ApiProperty({ example: 1, description: "Pages connected from the Pi's Wi-Fi access point right now" }) accessPointClients: number;
  @ApiProperty({ example: 1795607918766, description: "The Pi's wall clock minus the server's monotonic clock, ms: maps activity entries' monotonicMs to the Pi's current time" }) piWallMinusMonotonicMs: number;
  @ApiProperty({ example: false, description: 'The operator set the time by hand: automatic syncs measure but do not step until a client\'s time is chosen (use-client-time)' }) operatorHold: boolean;
  @ApiProperty({ type: () => PendingDecisionDto, nullable: true, description: 'A disagreement waiting for the operator' }) decision: PendingDecisionDto | null;
  @ApiPropertyOptional({ nullable: true, example: { id: 's-20261202-100000-3f9a2c', startedAt: '2026-12-02T10:00:00.000Z' }, description: 'The capture session running (nothing is stepped automatically until it stops), or null' })
  session?: { id: string; startedAt: string } | null;
  @ApiPropertyOptional({ type: ActivityEntryDto, isArray: true, description: 'REST only; over the WebSocket the log comes in activity_log frames' }) activityLog?: ActivityEntryDto[];
  @ApiProperty({ type: JournalHealthDto, description: 'When the journal cannot be written, clock changes are refused (JOURNAL_UNWRITABLE)' }) journal: JournalHealthDto;
  @ApiProperty({ type: PiClockDto }) pi: PiClockDto;
  @ApiProperty({ type: CameraStatusResponseDto, isArray: true, description: 'Every camera known, connected first' }) cameras: CameraStatusResponseDto[];
  @ApiProperty({ type: CameraStatusResponseDto, description: 'The first camera, for protocol-1 clients' }) camera: CameraStatusResponseDto;
  @ApiPropertyOptional({ type: DemoStatusDto, nullable: true, description: 'The first-run demo (DEMO, simulated clock only); null outside it' }) demo?: DemoStatusDto | null;
}

export class PendingDecisionDto {
  @ApiProperty({ enum: Object.values(DecisionKind), example: DecisionKind.ManualDisagrees }) kind: string;
  @ApiProperty({ example: '10.42.0.23', description: 'The client whose time disagrees' }) client: string;
  @ApiProperty({ example: 3600000.4, description: 'Client minus Pi, ms' }) offsetMs: number;
  @ApiProperty({ example: 1.2 }) errorBoundMs: number;
  @ApiProperty({ example: '2026-11-25T13:03:12.000Z' }) clientTime: string;
  @ApiProperty({ example: '2026-11-25T12:03:11.000Z' }) piTime: string;
  @ApiProperty({ example: 'Europe/Berlin', nullable: true }) clientZone: string | null;
  @ApiProperty({ example: 'Europe/Berlin' }) piZone: string;
  @ApiProperty({ enum: SOURCES, example: SyncSource.Manual }) piSource: string;
  @ApiProperty({ enum: SOURCES, example: SyncSource.Client, description: 'The source whose time disagrees (client: a phone; gps...)' }) source: string;
  @ApiProperty({ example: '2026-11-25T12:03:11.000Z' }) at: string;
  @ApiProperty({ example: "The phone at 10.42.0.23 says ..., the Pi was set by hand to .... Use the phone's time?" }) message: string;
}

export class ManualTimeResultDto {
  @ApiProperty({ example: 259200000.5, description: 'How far the clock moved: new minus old, ms' }) offsetMs: number;
  @ApiProperty({ example: '2026-11-25T12:00:00.004Z' }) newTime: string;
}

export class ErrorBodyDto {
  @ApiProperty({ example: 403 }) statusCode: number;
  @ApiProperty({ enum: Object.values(ErrorCode), example: ErrorCode.NOT_ACCESS_POINT_CLIENT }) code: string;
  @ApiProperty({ example: "Refused: 192.168.1.20 may not set the time. Only the Pi's own screen and phones on the Pi's Wi-Fi may" }) message: string;
}

/** A "sync cameras" that did not wholly succeed (207, or every camera failed): the error body plus each camera's result. */
export class CameraSyncFailureBodyDto extends ErrorBodyDto {
  @ApiProperty({ type: [CameraSyncOutcomeDto], description: 'One result per camera, as in the 200 answer' }) results: CameraSyncOutcomeDto[];
}
