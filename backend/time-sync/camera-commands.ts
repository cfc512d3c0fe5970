import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '../common/domain-error';
import { CameraState } from '../protocol/messages';
import type { Caller } from '../screen/caller';
import { CameraClockPort, CameraSyncOutcome } from './camera-port';
import { TimeSyncService } from './time-sync.service';

/** A camera id as the Camera module makes them: a serial number, a UPnP id or a name made from an address. */
export const CAMERA_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Writing a camera's clock on request (REST and WebSocket alike): the same authority as setting the Pi's
 * clock, a checked camera id, then the Camera module. Refusals are coded and logged by TimeSyncService.
 */
@Injectable()
export class CameraCommands {
  constructor(
    private readonly timeSync: TimeSyncService,
    private readonly cameras: CameraClockPort,
  ) {}

  /** Every connected camera, or the one named by `id`. */
  async sync(caller: Caller, id: string | undefined, reason: string): Promise<CameraSyncOutcome[] | unknown> {
    this.timeSync.assertMaySetTime(caller, "set a camera's clock");
    if (id === undefined) {
      const cameras = this.cameras.statuses();
      if (!cameras.some((c) => c.state === CameraState.Connected)) {
        // A camera that answers but refuses our credentials is there: say what it needs, not "no camera".
        const locked = cameras.find((c) => c.state === CameraState.NeedsCredentials);
        if (locked) throw new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, locked.lastError ?? `the camera ${locked.id} refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD`);
        throw new DomainError(ErrorCode.NO_CAMERA, 'no camera connected');
      }
      return this.cameras.syncAll(reason);
    }
    assertCameraId(id);
    return this.cameras.syncOne(id, reason);
  }
}

export function assertCameraId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !CAMERA_ID.test(id)) {
    const shown = JSON.stringify(typeof id === 'string' ? id.slice(0, 40) : id);
    throw new DomainError(ErrorCode.INVALID_CAMERA_ID, `camera id ${shown} is not a camera id: letters, digits, ".", "_" and "-" only, at most 64`);
  }
}
