import { Observable } from 'rxjs';
import { CameraStatus } from '../protocol/messages';

/**
 * What TimeSync needs of the camera: bound to CameraService in TimeSyncModule, faked in unit tests.
 * Keeps the decision "when to touch the camera" here and the CCAPI details in the Camera module.
 */
export abstract class CameraClockPort {
  abstract status(): CameraStatus;
  abstract isConnected(): boolean;
  abstract readonly connection$: Observable<CameraStatus>;
  /** `epochMs`: the start of the second the camera showed at Pi wall time `piTimeMs`. */
  abstract readClock(): Promise<{ epochMs: number; datetime: string; dst: boolean; piTimeMs: number }>;
  abstract syncClock(reason: string): Promise<unknown>;
}
