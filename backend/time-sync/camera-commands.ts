import { Injectable } from '@nestjs/common';
import { assertCameraId } from '../camera/camera-id';
import { DomainError, ErrorCode, HTTP_STATUS_OF } from '../common/domain-error';
import { AccessService } from '../access/access.service';
import { RefusalLog } from '../access/refusal-log';
import { CameraState } from '../protocol/messages';
import type { Caller } from '../access/caller';
import { CameraClockPort, CameraSyncOutcome } from '../camera/camera-port';
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
    private readonly access: AccessService,
    private readonly refusals: RefusalLog,
  ) {}

  /**
   * Every connected camera, or the one named by `id`. `confirmed`: the operator chose to write the Pi's time
   * although its reliability is none (never synchronized, or its last sync failed).
   */
  async sync(caller: Caller, id: string | undefined, reason: string, confirmed = false): Promise<CameraSyncOutcome[] | unknown> {
    this.access.authorize(caller, 'write-cameras');
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
    const written = cameras.filter((c) => c.state === CameraState.Connected && (id === undefined || c.id === id)).length;
    if (written) {
      const verdict = this.timeSync.checkCameraWrite(confirmed, written > 1);
      if (!verdict.allowed) throw this.refusals.refuse(caller.address, verdict.code, verdict.reason, { source: 'camera' });
    }
    return id === undefined ? this.cameras.syncAll(reason) : this.cameras.syncOne(id, reason);
  }
}

/** The body of a "sync cameras" that did not wholly succeed: the error shape every route answers, plus each camera's result. */
export interface CameraSyncFailureBody {
  statusCode: number;
  code: ErrorCode;
  message: string;
  results: CameraSyncOutcome[];
}

/**
 * The HTTP answer of a "sync cameras" (every camera): 200 with the outcomes when each camera was set (or kept);
 * 207 when some failed; when all failed, the status of their failure (busy 503, refused 502, no answer 504,
 * gone 409), or 502 when they failed in different ways. A script that checks the status is never told "OK"
 * for a camera that was not set.
 */
export function cameraSyncAnswer(outcomes: CameraSyncOutcome[]): { status: number; body: CameraSyncOutcome[] | CameraSyncFailureBody } {
  const failed = outcomes.filter((o): o is Extract<CameraSyncOutcome, { success: false }> => !o.success);
  if (!outcomes.length) {
    // Every camera left between the check and the write.
    return failure(HTTP_STATUS_OF.NO_CAMERA!, ErrorCode.NO_CAMERA, 'no camera connected', outcomes);
  }
  if (!failed.length) return { status: 200, body: outcomes };
  const each = failed.map((o) => `${o.cameraId}: ${o.error}`).join('; ');
  if (failed.length < outcomes.length) {
    return failure(207, ErrorCode.CAMERA_SYNC_PARTIAL, `${outcomes.length - failed.length} of ${outcomes.length} cameras set; ${each}`, outcomes);
  }
  const codes = [...new Set(failed.map((o) => o.code))];
  const statuses = [...new Set(failed.map((o) => statusOf(o.code)))];
  const code = codes.length === 1 && isErrorCode(codes[0]) ? codes[0] : ErrorCode.CAMERA_SYNC_FAILED;
  const status = statuses.length === 1 ? statuses[0] : 502;
  return failure(status, code, `no camera was set; ${each}`, outcomes);
}

function failure(status: number, code: ErrorCode, message: string, results: CameraSyncOutcome[]) {
  return { status, body: { statusCode: status, code, message, results } };
}

/** A camera failure's status; a code the table does not know came from the camera side: 502. */
function statusOf(code: string): number {
  return isErrorCode(code) ? HTTP_STATUS_OF[code] ?? 502 : 502;
}

function isErrorCode(code: string): code is ErrorCode {
  return (Object.values(ErrorCode) as string[]).includes(code);
}
