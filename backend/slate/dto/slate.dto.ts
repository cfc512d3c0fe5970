import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode, Reliability, SyncSource } from '../../protocol/vocabulary';
import { ErrorBodyDto } from '../../time-sync/dto/time-sync.dto';

export class SlateInfoDto {
  @ApiProperty({ example: 'pi-3f9a2c1b', description: "The Pi's name in the slate's code (PI_NAME, else a hash of the machine id)" }) piId: string;
  @ApiProperty({ example: 1796205600123.456, description: "The Pi's clock when the answer was made, Unix ms with a fraction" }) epochMs: number;
  @ApiProperty({ example: '7f3a.0', description: "Which setting of the Pi's clock that is: the server run and how many times the clock moved since" }) clock: string;
  @ApiProperty({ enum: Object.values(Reliability) }) reliability: Reliability;
  @ApiProperty({ enum: Object.values(SyncSource) }) source: SyncSource;
  @ApiProperty({ nullable: true, type: Number, example: 3 }) errorBoundMs: number | null;
  @ApiProperty({ example: 'Europe/Berlin' }) timezone: string;
  @ApiProperty({ example: 1, description: 'SLATE_LATENCY_FRAMES' }) latencyFrames: number;
}

export class SlatePhotoResultDto {
  @ApiProperty({ example: 'IMG_0042.JPG' }) file: string;
  @ApiProperty() ok: boolean;
  @ApiPropertyOptional({ enum: Object.values(ErrorCode), description: 'Refused photos' }) code?: ErrorCode;
  @ApiPropertyOptional({ example: 'no QR code could be read in the photo: ...' }) message?: string;
  @ApiPropertyOptional({ example: '083021000123' }) cameraId?: string;
  @ApiPropertyOptional({ example: { make: 'Canon', model: 'Canon EOS R5', serial: '083021000123' } }) camera?: Record<string, unknown>;
  @ApiPropertyOptional({ description: "The slate's time in the photo, on the Pi's clock of now (Unix ms)" }) slateMs?: number;
  @ApiPropertyOptional({ example: 1234.5, description: 'Camera minus Pi, ms' }) offsetMs?: number;
  @ApiPropertyOptional({ example: 24.7, description: 'The offset is within ± this, ms' }) boundMs?: number;
  @ApiPropertyOptional({ description: 'The terms of the bound: frameMs, latencyMs, exifResolutionMs, exposureMs, exposureAssumed, pageErrMs' }) terms?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'What the photo says: dateTimeOriginal, subSecTimeOriginal, offsetTimeOriginal, exposureTime, zoneOffsetMinutes, zoneFrom (exif | pi-zone), cameraMs' }) exif?: Record<string, unknown>;
}

export class SlateCameraDto {
  @ApiProperty({ example: '083021000123' }) cameraId: string;
  @ApiProperty({ nullable: true, type: String, example: '083021000123' }) serial: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Canon' }) make: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'Canon EOS R5' }) model: string | null;
  @ApiProperty({ description: 'The serial number can pick this camera\'s photos in a photo fix' }) scopable: boolean;
  @ApiProperty({ example: 1234.5, description: 'Camera minus Pi, ms: the middle of the intersection of the photos\' intervals' }) offsetMs: number;
  @ApiProperty({ example: 12.3 }) boundMs: number;
  @ApiProperty() lowMs: number;
  @ApiProperty() highMs: number;
  @ApiProperty({ description: "The median of the photos' offsets" }) medianMs: number;
  @ApiProperty({ description: "The photos' intervals meet; false: they contradict each other and the offset is their median" }) consistent: boolean;
  @ApiProperty({ example: 5 }) photos: number;
  @ApiProperty({ example: '2026-12-02T09:00:00.123Z' }) at: string;
  @ApiProperty({ enum: ['exif', 'pi-zone'] }) zoneFrom: string;
  @ApiProperty({ type: [String] }) files: string[];
}

export class SlateAnswerDto {
  @ApiProperty({ type: [SlatePhotoResultDto] }) results: SlatePhotoResultDto[];
  @ApiProperty({ type: [SlateCameraDto], description: 'One measurement per camera (and per 10 minutes of its photos), each journaled' }) cameras: SlateCameraDto[];
}

export class SlateRefusedDto extends ErrorBodyDto {
  @ApiProperty({ type: [SlatePhotoResultDto] }) results: SlatePhotoResultDto[];
}

/** POST /api/camera/:id/measure-by-photo. */
export class PhotoMeasureAnswerDto {
  @ApiProperty({ example: '083021000123', description: 'The camera whose shutter was pressed' }) cameraId: string;
  @ApiProperty({ example: 'IMG_0001.JPG', description: 'The photo read (RAW+JPEG: the JPEG)' }) file: string;
  @ApiProperty({ type: [String], example: ['IMG_0001.CR3', 'IMG_0001.JPG'], description: 'Every file the camera named for the shot' }) added: string[];
  @ApiProperty({ example: 620, description: 'From the shutter press to the camera naming the new file, ms' }) namedAfterMs: number;
  @ApiProperty({ type: SlateCameraDto, description: 'The camera measured from the photo (camera minus Pi, ms, ± boundMs), journaled as a camera-measure record with method "slate"' }) measurement: SlateCameraDto;
  @ApiProperty({ type: SlatePhotoResultDto, description: "The photo's reading: the slate's time in it, its EXIF, the terms of its bound" }) photo: SlatePhotoResultDto;
}
