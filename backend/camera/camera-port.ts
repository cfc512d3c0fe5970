import { Observable } from 'rxjs';
import { CameraStatus, CameraSyncOutcome } from '../protocol/messages';

export type { CameraSyncOutcome };

/** A camera's clock as read: `epochMs` is the start of the second it showed at Pi wall time `piTimeMs`. */
export interface CameraClockRead {
  cameraId: string;
  epochMs: number;
  datetime: string;
  dst: boolean;
  piTimeMs: number;
}

/**
 * What TimeSync (and Corrections) need of the cameras: CameraService offers it, TimeSyncModule and
 * CorrectionsModule bind it, unit tests fake it. TimeSync decides when to touch the cameras; the Camera
 * module knows CCAPI. It lives here so that camera/ needs nothing of time-sync/.
 */
export abstract class CameraClockPort {
  /** Every camera known, connected first. */
  abstract statuses(): CameraStatus[];
  /** Emits a camera's status on every connect, disconnect and change of state. */
  abstract readonly connection$: Observable<CameraStatus>;
  /** Whether the camera is trusted to set the Pi's clock (adopted where a camera may be, not an unverified newcomer). */
  abstract mayBeTimeSource(cameraId: string): boolean;
  /** Reads one camera's clock (no write). Throws UNKNOWN_CAMERA / NO_CAMERA / the camera's error. */
  abstract readClock(cameraId: string): Promise<CameraClockRead>;
  /**
   * Measures one camera's clock without writing it (camera minus Pi, ms, with a bound it can back up), or says
   * `uncertain` with the reason. Throws UNKNOWN_CAMERA / NO_CAMERA / the camera's error.
   */
  abstract measure(cameraId: string): Promise<{ offsetMs: number | null; boundMs: number | null; uncertain: boolean; reason?: string; at: string; atMono?: number }>;
  /** Writes every connected camera on the same second boundary and verifies each; one camera's failure does not stop the others. */
  abstract syncAll(reason: string): Promise<CameraSyncOutcome[]>;
  /** One camera. Throws INVALID_CAMERA_ID, UNKNOWN_CAMERA, NO_CAMERA or the camera's error. */
  abstract syncOne(cameraId: string, reason: string): Promise<unknown>;
}
