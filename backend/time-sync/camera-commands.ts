import { Injectable } from '@nestjs/common';
import { assertCameraId } from '../camera/camera-id';
import { DomainError, ErrorCode } from '../common/domain-error';
import { RefusalLog } from '../common/refusal-log';
import { CameraState, Reliability } from '../protocol/messages';
import type { Caller } from '../screen/caller';
import { CameraClockPort, CameraSyncOutcome } from './camera-port';
import { TimeSyncService } from './time-sync.service';

/**
 * Writing a camera's clock on request (REST and WebSocket alike): the same authority as setting the Pi's
 * clock, a checked camera id, a Pi whose time is worth copying (or the operator's confirmation), then the
 * Camera module. Each refusal is a coded error and one log line (RefusalLog).
 */
@Injectable()
export class CameraCommands {
  constructor(
    private readonly timeSync: TimeSyncService,
    private readonly cameras: CameraClockPort,
    private readonly refusals: RefusalLog,
  ) {}

  /**
   * Every connected camera, or the one named by `id`. `confirmed`: the operator chose to write the Pi's time
   * although its reliability is none (never synchronized, or its last sync failed).
   */
  async sync(caller: Caller, id: string | undefined, reason: string, confirmed = false): Promise<CameraSyncOutcome[] | unknown> {
    this.timeSync.assertMaySetTime(caller, "set a camera's clock");
    // Not while the Pi's own clock is being stepped (a camera just connected to a Pi without time is read, and may set it).
    await this.timeSync.steady();
    const cameras = this.cameras.statuses();
    if (id !== undefined) assertCameraId(id);
    else {
      if (!cameras.some((c) => c.state === CameraState.Connected)) {
        // A camera that answers but refuses our credentials is there: say what it needs, not "no camera".
        const locked = cameras.find((c) => c.state === CameraState.NeedsCredentials);
        if (locked) throw new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, locked.lastError ?? `the camera ${locked.id} refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD`);
        throw new DomainError(ErrorCode.NO_CAMERA, 'no camera connected');
      }
    }
    // Judged only when a camera would really be written: one that is missing or locked gets the Camera
    // module's own answer (UNKNOWN_CAMERA, CAMERA_AUTH_REQUIRED...), which says what would help.
    const writes = cameras.some((c) => c.state === CameraState.Connected && (id === undefined || c.id === id));
    if (writes && !confirmed && this.timeSync.reliability() === Reliability.None) {
      throw this.refusals.refuse(
        caller.address,
        ErrorCode.PI_TIME_UNRELIABLE,
        "The Pi's own time is not reliable (never synchronized, or its last sync failed), so the camera was left alone: set the Pi's time first, or confirm to write it anyway",
        { source: 'camera' },
      );
    }
    return id === undefined ? this.cameras.syncAll(reason) : this.cameras.syncOne(id, reason);
  }
}
