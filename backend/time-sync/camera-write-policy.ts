/**
 * Whether a camera's clock may be written from the Pi's, and what to warn about when it is. Pure: the source
 * policy (cameras that connect, cameras held back by a capture session), the manual camera sync and the start of a
 * capture session all ask this one function, so they cannot disagree.
 */
import { ErrorCode, Reliability, SOURCE_LABELS, SyncSource } from '../protocol/messages';
import { formatDuration } from '../time/format';
import { looksLikeZoneMistake, PolicySettings, signed } from './source-policy';

export interface CameraWriteContext {
  /** The Pi's reliability now. */
  reliability: Reliability;
  /** Where the Pi's time came from. */
  source: SyncSource;
  /** The operator asked to write even though the Pi's time is not reliable. */
  confirmed: boolean;
  /** The write is of several cameras (a sync of all, a capture session): the words of a refusal say so. */
  several?: boolean;
}

export type CameraWriteVerdict =
  | { allowed: true; warning: string | null }
  | { allowed: false; code: typeof ErrorCode.PI_TIME_UNRELIABLE; reason: string };

/** A camera written by more than this from a Pi whose time is not fresh is worth a warning. */
export const LARGE_CAMERA_MOVE_MS = 60_000;

/** The source in words; "nowhere" says why. */
function sourceWords(source: SyncSource): string {
  return source === 'none' ? 'nowhere (never synchronized)' : SOURCE_LABELS[source];
}

/**
 * Reliability none (never synchronized, or its last syncs failed): refused unless the operator confirms, since a
 * camera written from a wrong Pi carries the error into every photo. Low: allowed, with a warning. Medium, high: allowed.
 */
export function mayWriteCamera(ctx: CameraWriteContext): CameraWriteVerdict {
  if (ctx.reliability === Reliability.None) {
    if (!ctx.confirmed) {
      return {
        allowed: false,
        code: ErrorCode.PI_TIME_UNRELIABLE,
        reason: `The Pi's own time is not reliable (never synchronized, or its last sync failed), so ${ctx.several ? 'the cameras were' : 'the camera was'} left alone: set the Pi's time first, or confirm to write it anyway`,
      };
    }
    return { allowed: true, warning: `The cameras are written on the operator's confirmation although the Pi's own time is not reliable (its time came from ${sourceWords(ctx.source)})` };
  }
  if (ctx.reliability === Reliability.Low) {
    return { allowed: true, warning: `The Pi's time is old (reliability low, from ${sourceWords(ctx.source)}): the cameras are set from it all the same; connect a phone to refresh it` };
  }
  return { allowed: true, warning: null };
}

/**
 * A write that moved a camera's clock by `movedByMs` (new minus old): a warning when the move looks like a wrong
 * Pi rather than a wrong camera: about a whole number of quarter hours (a zone or DST mistake, a Pi stepped an hour
 * the wrong way), or large while the Pi's time is not fresh. Null when it looks like an ordinary correction.
 */
export function cameraMoveWarning(cameraId: string, movedByMs: number, ctx: Pick<CameraWriteContext, 'reliability' | 'source'>, settings: PolicySettings): string | null {
  const pi = `the Pi's time came from ${sourceWords(ctx.source)}, reliability ${ctx.reliability}`;
  if (Math.abs(movedByMs) > settings.stepThresholdMs && looksLikeZoneMistake(movedByMs, settings)) {
    return `Camera ${cameraId} was moved by ${signed(movedByMs)}, about a whole number of quarter hours: that is what a wrong time zone or a wrong Pi clock looks like (${pi}). Check the Pi's time; if it was wrong, set it and sync the camera again`;
  }
  if (Math.abs(movedByMs) > LARGE_CAMERA_MOVE_MS && (ctx.reliability === Reliability.Low || ctx.reliability === Reliability.None)) {
    return `Camera ${cameraId} was moved by ${signed(movedByMs)} (more than ${formatDuration(LARGE_CAMERA_MOVE_MS)}) from a Pi whose time is not fresh (${pi}). Check the Pi's time`;
  }
  return null;
}
