/**
 * What the operator reads of a camera: the activity lines of its connection changes and of its syncs, and the
 * camera-sync event of each sync. Pure: CameraService adds the lines to the activity log and emits the event.
 * A sync's lines use its outcome's words (CAMERA_SYNC_WORDS), so the log never says "set" of a camera that was
 * not written; code reads the typed events, never these words.
 */
import { ActivityEntry, ActivityType, CAMERA_SYNC_WORDS, CameraState, CameraStatus, CameraSyncEvent, CameraSyncKind } from '../protocol/messages';
import { CameraSyncFailure, CameraSyncReport, CameraSyncResult, formatOffset, needsCredentialsMessage } from './camera-report';
import { MAX_REWRITES } from './spread-goal';

/** One activity entry, as ActivityLogService.add takes it. */
export interface ActivityLine {
  type: ActivityType;
  message: string;
  success: boolean;
  details: ActivityEntry['details'];
}

/** The line of a camera's change of state: connected (what it is), needs credentials, or disconnected (why). */
export function connectionActivity(status: CameraStatus, baseUrl: string | null, reason: string | null, userSet: boolean): ActivityLine {
  if (status.state === CameraState.Connected) {
    const info = status.info;
    const name = [info?.productName, info?.serialNumber && `(serial ${info.serialNumber})`].filter(Boolean).join(' ') || `camera ${status.id}`;
    return { type: 'camera', message: `Camera connected: ${name} at ${baseUrl}`, success: true, details: { cameraId: status.id, baseUrl, ...info } };
  }
  if (status.state === CameraState.NeedsCredentials) {
    return { type: 'camera', message: needsCredentialsMessage(baseUrl), success: false, details: { cameraId: status.id, baseUrl, error: reason ?? undefined, userSet } };
  }
  return { type: 'camera', message: `Camera ${status.id} disconnected: ${reason ?? 'no answer'}`, success: false, details: { cameraId: status.id, error: reason ?? undefined, baseUrl } };
}

/** The lines of one camera's sync: one per re-write, then its outcome's. */
export function syncActivity(r: CameraSyncReport): ActivityLine[] {
  const words = CAMERA_SYNC_WORDS[r.outcome];
  if (r.outcome === CameraSyncKind.MeasuredKept) {
    return [
      {
        type: 'camera',
        message: `Camera ${r.cameraId} clock ${words} (${r.reason}): within ${r.thresholdMs} ms of the Pi's (${formatOffset(r.offset)}, ±${r.offsetBoundMs} ms)`,
        success: true,
        details: {
          source: 'camera',
          cameraId: r.cameraId,
          outcome: r.outcome,
          offset: r.offset,
          offsetBoundMs: r.offsetBoundMs,
          residualMs: r.residualMs,
          residualBoundMs: r.residualBoundMs,
          verified: true,
          written: false,
          thresholdMs: r.thresholdMs,
          previousTime: r.previousTime,
          reason: r.reason,
        },
      },
    ];
  }
  if (!r.success) return [failureLine(r)];
  const now = r.verified ? `now ${r.residualMs} ms off (±${r.residualBoundMs} ms)` : `not verified because ${r.unverifiedBecause}`;
  return [
    ...rewriteLines(r),
    {
      type: 'camera',
      message: `Camera ${r.cameraId} clock ${words} (${r.reason}): it was ${formatOffset(r.offset)} (±${r.offsetBoundMs} ms), ${now}`,
      success: true,
      details: {
        source: 'camera',
        cameraId: r.cameraId,
        outcome: r.outcome,
        offset: r.offset,
        offsetBoundMs: r.offsetBoundMs,
        residualMs: r.residualMs,
        residualBoundMs: r.residualBoundMs,
        verified: r.verified,
        written: true,
        previousTime: r.previousTime,
        newTime: r.newTime,
        reason: r.reason,
        ...(r.piSteppedDuring ? { piSteppedDuring: true } : {}),
        ...(r.rewrites ? { rewrites: r.rewrites.length } : {}),
      },
    },
  ];
}

/** The camera-sync event of one camera's sync; `nowIso`: the Pi's time, the `at` of a failure. */
export function cameraSyncEvent(r: CameraSyncReport, nowIso: string): CameraSyncEvent['data'] {
  if (r.outcome === CameraSyncKind.MeasuredKept) {
    return {
      cameraId: r.cameraId,
      success: true,
      outcome: r.outcome,
      previousTime: r.previousTime,
      newTime: null,
      offset: r.offset,
      offsetBoundMs: r.offsetBoundMs,
      residualMs: r.residualMs,
      written: false,
      residualBoundMs: r.residualBoundMs,
      verified: true,
      thresholdMs: r.thresholdMs,
      at: r.measurement.at,
    };
  }
  if (!r.success) {
    return { cameraId: r.cameraId, success: false, outcome: r.outcome, previousTime: r.previousTime, newTime: null, offset: r.offset, residualMs: null, error: r.error, at: nowIso };
  }
  return {
    cameraId: r.cameraId,
    success: true,
    outcome: r.outcome,
    previousTime: r.previousTime,
    newTime: r.newTime,
    offset: r.offset,
    offsetBoundMs: r.offsetBoundMs,
    residualMs: r.residualMs,
    written: true,
    residualBoundMs: r.residualBoundMs,
    verified: r.verified,
    at: r.newTime,
    ...(r.piSteppedDuring ? { piSteppedDuring: true } : {}),
  };
}

/** One line per re-write (CAMERA_SPREAD_GOAL_MS), with the residual that asked for it and the one it left. */
function rewriteLines(r: CameraSyncResult): ActivityLine[] {
  const signed = (ms: number) => `${ms > 0 ? '+' : ''}${ms} ms`;
  return (r.rewrites ?? []).map((w, i) => {
    const now = w.residualAfterMs === null ? 'not verified' : `now ${signed(w.residualAfterMs)} (±${w.residualAfterBoundMs} ms)`;
    return {
      type: 'camera',
      message: `Camera ${r.cameraId} clock written again (${i + 1} of at most ${MAX_REWRITES}, spread goal ${w.goalMs} ms): it was ${signed(w.residualBeforeMs)} (±${w.residualBeforeBoundMs} ms) off the Pi's, ${now}`,
      success: w.residualAfterMs !== null && Math.abs(w.residualAfterMs) <= w.goalMs,
      details: {
        source: 'camera',
        cameraId: r.cameraId,
        rewrite: i + 1,
        goalMs: w.goalMs,
        residualBeforeMs: w.residualBeforeMs,
        residualBeforeBoundMs: w.residualBeforeBoundMs,
        residualAfterMs: w.residualAfterMs,
        residualAfterBoundMs: w.residualAfterBoundMs,
        latencyMs: w.latencyMs,
        newTime: w.newTime,
        reason: r.reason,
      },
    };
  });
}

function failureLine(r: CameraSyncFailure): ActivityLine {
  return {
    type: 'error',
    message: `Camera ${r.cameraId} clock ${CAMERA_SYNC_WORDS[r.outcome]} (${r.reason}): ${r.error}`,
    success: false,
    details: {
      source: 'camera',
      cameraId: r.cameraId,
      outcome: r.outcome,
      error: r.error,
      code: r.code,
      reason: r.reason,
      ...(r.offset !== null ? { offset: r.offset } : {}),
    },
  };
}
