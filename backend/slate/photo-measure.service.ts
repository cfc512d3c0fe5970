import { Injectable, Logger } from '@nestjs/common';
import { AccessAction } from '../access/access-rules';
import { AccessService } from '../access/access.service';
import { Caller } from '../access/caller';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { assertCameraId } from '../camera/camera-id';
import { CameraService } from '../camera/camera.service';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { logText } from '../common/escape';
import { AppConfig } from '../config/app.config';
import { CameraState } from '../protocol/vocabulary';
import { TimeSyncService } from '../time-sync/time-sync.service';
import { SlateCameraAnswer, SlatePhotoAnswer, SlateService } from './slate.service';

/** What a measure by photo answers: the photo the camera took, and the camera's offset read from it (journaled). */
export interface PhotoMeasureAnswer {
  /** The camera whose shutter was pressed (its id over CCAPI). */
  cameraId: string;
  /** The photo read, as the camera named it (IMG_0001.JPG), and every file of the shot (RAW+JPEG: two). */
  file: string;
  added: string[];
  /** From the shutter press to the camera naming the new file, ms. */
  namedAfterMs: number;
  /** The camera's offset from the photo (camera minus Pi, ms, ± boundMs), as journaled. */
  measurement: SlateCameraAnswer;
  /** The photo's own reading: the slate's time in it, its EXIF, the terms of its bound. */
  photo: Extract<SlatePhotoAnswer, { ok: true }>;
}

/**
 * Measure by photo: a connected CCAPI camera photographs the time slate (the operator points it at the Pi's
 * screen or a phone showing /slate), and its own JPEG is read like an uploaded one (`SlateService.readPhotos`:
 * the same reading, grouping and journal). The camera side is CameraService.takePhoto (shutter, events, file);
 * this joins the two, refuses what cannot work before the shutter is pressed, and says every refusal in words.
 */
@Injectable()
export class PhotoMeasureService {
  private readonly logger = new Logger('MeasureByPhoto');

  constructor(
    private readonly config: AppConfig,
    private readonly access: AccessService,
    private readonly cameras: CameraService,
    private readonly slate: SlateService,
    private readonly timeSync: TimeSyncService,
    private readonly activity: ActivityLogService,
  ) {}

  /**
   * Throws NOT_ACCESS_POINT_CLIENT, INVALID_CAMERA_ID, UNKNOWN_CAMERA, NO_CAMERA, CAMERA_AUTH_REQUIRED,
   * PI_TIME_UNRELIABLE (the slate shows no code), the shot's errors (CAMERA_BUSY, SHUTTER_REFUSED, NO_NEW_PHOTO,
   * NO_JPEG_RECORDED, PHOTO_TOO_LARGE, the camera's), the reader's refusal (NO_SLATE_CODE: the camera was not
   * pointed at the slate; FOREIGN_SLATE, ...) or JOURNAL_UNWRITABLE.
   */
  async measure(caller: Caller, cameraId: unknown): Promise<PhotoMeasureAnswer> {
    // Before anything is looked up or touched: a stranger learns nothing and presses nothing.
    this.access.authorize(caller, AccessAction.PressShutter);
    const id = assertCameraId(cameraId);
    const camera = this.cameras.get(id);
    if (camera.state === CameraState.Disconnected) {
      throw new DomainError(ErrorCode.NO_CAMERA, `camera ${camera.id} is not connected${camera.status().lastError ? ` (${camera.status().lastError})` : ''}`, { cameraId: camera.id });
    }
    const { reliability } = this.timeSync.piTrust();
    if (reliability === 'none' || reliability === 'low') {
      // The slate draws no code then (docs/slate.md): a photo would show none.
      const why = reliability === 'none' ? "the Pi's time is not set yet" : "the Pi's time was last confirmed over an hour ago";
      throw new DomainError(ErrorCode.PI_TIME_UNRELIABLE, `The slate shows no code while ${why}: connect a phone to the Pi's Wi-Fi first, then measure by photo`, { reliability });
    }
    try {
      const shot = await this.cameras.takePhoto(camera.id, this.config.SLATE_MAX_PHOTO_BYTES);
      const answer = await this.slate.readPhotos(caller, [{ name: shot.file, load: async () => shot.bytes }]);
      const [photo] = answer.results;
      const [measurement] = answer.cameras;
      if (!photo.ok || !measurement) throw refusalOf(photo.ok ? { code: ErrorCode.INTERNAL, message: 'the photo was read but not measured' } : photo, shot.file);
      return { cameraId: camera.id, file: shot.file, added: shot.added.map((p) => p.split('/').at(-1)!), namedAfterMs: shot.namedAfterMs, measurement, photo };
    } catch (error) {
      const message = messageOf(error);
      this.logger.warn(`Measure by photo with camera ${logText(camera.id)}: ${logText(message)}`);
      this.activity.add('camera', `Measure by photo with camera ${camera.id}: not measured. ${message}`, false, { source: 'camera', cameraId: camera.id, code: error instanceof DomainError ? error.code : ErrorCode.INTERNAL });
      throw error;
    }
  }
}

/** The reader's refusal of the camera's photo, in the words of someone holding the camera. */
function refusalOf(refusal: { code: ErrorCode; message: string }, file: string): DomainError {
  if (refusal.code === ErrorCode.NO_SLATE_CODE) {
    return new DomainError(
      ErrorCode.NO_SLATE_CODE,
      `The camera was not pointed at the slate: its photo ${file} shows no readable slate code. Point it at the slate on the Pi's screen (or /slate open on a phone), filling a good part of the picture, sharp, and try again (a slate that draws no code says why on its screen)`,
      { file },
    );
  }
  return new DomainError(refusal.code, `The camera's photo ${file} could not be read: ${refusal.message}`, { file });
}
