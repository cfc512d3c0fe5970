import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CameraState } from '../../protocol/messages';
import type { CameraInfo, CameraStatus } from '../../protocol/messages';
import type { CameraSyncResult } from '../camera.service';

export class CameraInfoDto implements CameraInfo {
  @ApiPropertyOptional({ example: 'Canon EOS R50' }) productName?: string;
  @ApiPropertyOptional({ example: '083021000123' }) serialNumber?: string;
  @ApiPropertyOptional({ example: '1.2.0' }) firmwareVersion?: string;
  @ApiPropertyOptional({ example: 'Canon Inc.' }) manufacturer?: string;
}

export class CameraLastSyncDto {
  @ApiProperty({ example: true }) success: boolean;
  @ApiProperty({ example: '2026-11-25T12:00:01.000Z', description: "Pi's time of the sync" }) at: string;
  @ApiProperty({ example: 2400, nullable: true, type: Number, description: 'Pi minus camera before the sync, ms (±500)' }) offsetMs: number | null;
  @ApiProperty({ example: 3, nullable: true, type: Number, description: 'Camera minus Pi after the sync, ms' }) residualMs: number | null;
  @ApiPropertyOptional({ example: 'Camera is busy: Device busy' }) error?: string;
}

/** GET /api/camera. Named apart from TimeSync's CameraStatusDto so the two Swagger schemas do not collide. */
export class CameraStatusResponseDto implements CameraStatus {
  @ApiProperty({ example: '012345678901', description: 'Serial number, else UPnP id, else a name from the address' }) id: string;
  @ApiProperty({ enum: Object.values(CameraState), example: CameraState.Connected }) state: CameraState;
  @ApiProperty({ example: true }) connected: boolean;
  @ApiProperty({ example: 'http://192.168.4.2:8080/ccapi', nullable: true, type: String }) baseUrl: string | null;
  @ApiProperty({ type: CameraInfoDto, nullable: true }) info: CameraInfoDto | null;
  @ApiProperty({ type: CameraLastSyncDto, nullable: true }) lastSync: CameraLastSyncDto | null;
  @ApiProperty({ example: null, nullable: true, type: String }) lastError: string | null;
}

/** POST /api/timesync/camera. */
export class CameraSyncResultDto implements CameraSyncResult {
  @ApiProperty({ example: true, enum: [true] }) success: true;
  @ApiProperty({ example: 'requested by the operator' }) reason: string;
  @ApiProperty({ example: '2026-11-25T08:11:57.000Z', description: "The camera's clock before the sync (UTC, whole seconds)" }) previousTime: string;
  @ApiProperty({ example: '2026-11-25T08:12:00.000Z', description: 'The second written to the camera (UTC)' }) newTime: string;
  @ApiProperty({ example: 2400, description: 'Pi minus camera before the sync, ms: the correction applied' }) offset: number;
  @ApiProperty({ example: 12, description: 'How far off offset can be, ms (at most 500: the camera shows whole seconds)' }) offsetBoundMs: number;
  @ApiProperty({ example: 3, nullable: true, type: Number, description: 'Camera minus Pi after the sync, ms, measured at a tick of its second' }) residualMs: number | null;
  @ApiProperty({ example: 4, nullable: true, type: Number, description: 'How far off residualMs can be, ms' }) residualBoundMs: number | null;
  @ApiProperty({ example: 'Wed, 25 Nov 2026 19:12:00 +1000', description: "Written: the Pi zone's wall time with its standard offset" }) datetime: string;
  @ApiProperty({ example: true, description: 'Written: daylight saving time in effect' }) dst: boolean;
  @ApiProperty({ example: 'Australia/Sydney' }) timezone: string;
  @ApiProperty({ example: 2.5, description: 'One-way request latency the write was timed with, ms' }) latencyMs: number;
}

export class CameraErrorDto {
  @ApiProperty({ example: 503 }) statusCode: number;
  @ApiProperty({ example: 'CAMERA_BUSY' }) code: string;
  @ApiProperty({ example: 'Camera is busy: Device busy' }) message: string;
}
