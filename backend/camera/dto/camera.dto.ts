import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CameraState, CameraSyncKind, ErrorCode } from '../../protocol/messages';
import type { CameraClockCheck, CameraInfo, CameraStatus, CameraSyncSummary, ClockDrift } from '../../protocol/messages';
import { CAMERA_ID_PATTERN } from '../camera-id';

export class CameraInfoDto implements CameraInfo {
  @ApiPropertyOptional({ example: 'Canon EOS R50' }) productName?: string;
  @ApiPropertyOptional({ example: '083021000123' }) serialNumber?: string;
  @ApiPropertyOptional({ example: '1.2.0' }) firmwareVersion?: string;
  @ApiPropertyOptional({ example: 'Canon Inc.' }) manufacturer?: string;
  @ApiPropertyOptional({ example: '00000000-0000-0000-0001-083021000123', description: 'GUID (deviceinformation) or UPnP UDN' }) guid?: string;
}

const OUTCOME_DOC = 'written-verified: written, read back, residual measured; written-unverified: written, not verified; measured-kept: within CAMERA_SYNC_THRESHOLD, not written; failed';

export class CameraLastSyncDto implements CameraSyncSummary {
  @ApiProperty({ example: true }) success: boolean;
  @ApiPropertyOptional({ enum: Object.values(CameraSyncKind), example: CameraSyncKind.WrittenVerified, description: OUTCOME_DOC }) outcome?: CameraSyncKind;
  @ApiProperty({ example: '2026-11-25T12:00:01.000Z', description: "Pi's time of the sync" }) at: string;
  @ApiProperty({ example: 2400, nullable: true, type: Number, description: 'Pi minus camera before the sync, ms' }) offsetMs: number | null;
  @ApiProperty({ example: 3, nullable: true, type: Number, description: 'Camera minus Pi after the sync, ms; null unless measured with a meaningful bound' }) residualMs: number | null;
  @ApiPropertyOptional({ example: 4, nullable: true, type: Number, description: 'How far off residualMs can be, ms' }) residualBoundMs?: number | null;
  @ApiPropertyOptional({ example: true, description: 'Read back and residual measured; false: set, not verified' }) verified?: boolean;
  @ApiPropertyOptional({ example: true, description: 'false: measured within CAMERA_SYNC_THRESHOLD, not written (residualMs is that measurement)' }) written?: boolean;
  @ApiPropertyOptional({ example: 100, description: 'Not written: the CAMERA_SYNC_THRESHOLD it was within, ms' }) thresholdMs?: number;
  @ApiPropertyOptional({ example: 'Camera is busy: Device busy' }) error?: string;
}

export class ClockDriftDto implements ClockDrift {
  @ApiProperty({ example: 1.52, description: 'Parts per million; positive: the clock gains' }) ppm: number;
  @ApiProperty({ example: 0.4, description: 'The true rate lies within ppm ± boundPpm' }) boundPpm: number;
  @ApiProperty({ example: 0.131, description: 'Seconds per day' }) sPerDay: number;
  @ApiProperty({ example: 0.035 }) boundSPerDay: number;
  @ApiProperty({ example: 6, description: 'Measurements it comes from' }) samples: number;
  @ApiProperty({ example: 3_000_000, description: 'From the first to the last, ms' }) spanMs: number;
  @ApiProperty({ example: true, description: 'boundSPerDay is at most 1 s/day, so the figure means something; until then show it as not known yet' }) known: boolean;
  @ApiProperty({ example: 0, description: 'While not known: about how much longer the measurements must span, ms' }) knownInMs: number;
}

export class CameraClockCheckDto implements CameraClockCheck {
  @ApiProperty({ example: 12, description: 'Camera minus Pi at the last read-only measurement, ms' }) offsetMs: number;
  @ApiProperty({ example: 9, description: 'How far off offsetMs can be, ms' }) boundMs: number;
  @ApiProperty({ example: '2026-11-25T08:00:00.000Z', description: "The Pi's time of that measurement" }) checkedAt: string;
  @ApiProperty({ example: 720_000, description: 'How long ago (monotonic), ms' }) ageMs: number;
  @ApiProperty({ type: ClockDriftDto, nullable: true, description: 'Drift against the Pi since the last write; null until two measurements' }) drift: ClockDriftDto | null;
  @ApiProperty({ example: 40, description: 'A bound on |camera - Pi| now, ms: the last measurement plus the drift times the time since (50 ppm assumed until measured)' }) errorNowMs: number;
  @ApiProperty({ example: true, description: 'errorNowMs uses a measured drift' }) driftMeasured: boolean;
}

/** GET /api/camera and each of GET /api/cameras. Named apart from TimeSync's CameraStatusDto so the two Swagger schemas do not collide. */
export class CameraStatusResponseDto implements CameraStatus {
  @ApiProperty({ example: '083021000123', pattern: CAMERA_ID_PATTERN.source, description: 'Serial number, else UPnP id, else a name from the address' }) id: string;
  @ApiProperty({ enum: Object.values(CameraState), example: CameraState.Connected, description: 'needs-credentials: it answers but refuses CAMERA_USER / CAMERA_PASSWORD' }) state: CameraState;
  @ApiProperty({ example: true, description: "state === 'connected', for older clients" }) connected: boolean;
  @ApiProperty({ example: 'http://192.168.4.2:8080/ccapi', nullable: true, type: String }) baseUrl: string | null;
  @ApiProperty({ type: CameraInfoDto, nullable: true }) info: CameraInfoDto | null;
  @ApiProperty({ type: CameraLastSyncDto, nullable: true }) lastSync: CameraLastSyncDto | null;
  @ApiProperty({ example: null, nullable: true, type: String }) lastError: string | null;
  @ApiPropertyOptional({ type: CameraClockCheckDto, nullable: true, description: 'The last read-only measurement of its clock (CAMERA_CHECK_INTERVAL), absent before one' }) clock?: CameraClockCheckDto | null;
}

/** One camera's part of POST /api/timesync/camera (CameraService.syncAll / syncOne). */
export class CameraSyncOutcomeDto {
  @ApiProperty({ example: '083021000123' }) cameraId: string;
  @ApiProperty({ example: true }) success: boolean;
  @ApiProperty({ enum: Object.values(CameraSyncKind), example: CameraSyncKind.WrittenVerified, description: OUTCOME_DOC }) outcome: CameraSyncKind;
  @ApiProperty({ example: 'requested by the operator' }) reason: string;
  @ApiPropertyOptional({ enum: Object.values(ErrorCode), example: ErrorCode.CAMERA_BUSY, description: 'Failures only' }) code?: ErrorCode;
  @ApiPropertyOptional({ example: 'Camera is busy: Device busy', description: 'Failures only' }) error?: string;
  @ApiProperty({ example: '2026-11-25T08:11:57.000Z', nullable: true, type: String, description: "The camera's clock before (UTC, whole seconds); null if it was not read" }) previousTime: string | null;
  @ApiPropertyOptional({ example: '2026-11-25T08:12:00.000Z', description: 'The second written (UTC): the boundary every camera of one sync was written at' }) newTime?: string;
  @ApiProperty({ example: 2400, nullable: true, type: Number, description: 'Pi minus camera before the sync, ms: the correction applied' }) offset: number | null;
  @ApiPropertyOptional({ example: 12, description: 'How far off offset can be, ms (at most 500: the camera shows whole seconds)' }) offsetBoundMs?: number;
  @ApiPropertyOptional({ example: 3, nullable: true, type: Number, description: 'Camera minus Pi after the sync, ms, measured at a tick of its second; null unless measured with a meaningful bound' }) residualMs?: number | null;
  @ApiPropertyOptional({ example: 4, nullable: true, type: Number, description: 'How far off residualMs can be, ms' }) residualBoundMs?: number | null;
  @ApiPropertyOptional({ example: true, description: 'Read back and residual measured; false: set, not verified (see unverifiedBecause)' }) verified?: boolean;
  @ApiPropertyOptional({ example: "the camera's next second tick was not seen" }) unverifiedBecause?: string;
  @ApiPropertyOptional({ example: 'Wed, 25 Nov 2026 19:12:00 +1000', description: "Written: the Pi zone's wall time with the camera's zone setting" }) datetime?: string;
  @ApiPropertyOptional({ example: true, description: 'Written: daylight saving time in effect' }) dst?: boolean;
  @ApiPropertyOptional({ example: 'Australia/Sydney' }) timezone?: string;
  @ApiPropertyOptional({ example: 2.5, description: 'One-way request latency the write was timed with, ms' }) latencyMs?: number;
  @ApiPropertyOptional({ example: true, description: 'false: measured within thresholdMs (CAMERA_SYNC_THRESHOLD) of the Pi, not written; residualMs is that measurement' }) written?: boolean;
  @ApiPropertyOptional({ example: 100, description: 'Not written: the threshold it was within, ms' }) thresholdMs?: number;
}

export class CameraErrorDto {
  @ApiProperty({ example: 503 }) statusCode: number;
  @ApiProperty({ enum: Object.values(ErrorCode), example: ErrorCode.CAMERA_BUSY }) code: ErrorCode;
  @ApiProperty({ example: 'Camera is busy: Device busy' }) message: string;
}
