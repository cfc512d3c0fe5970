/** What a camera sync and a clock read report: the outcome types and the words shared by the log lines. */
import { ErrorCode } from '../common/domain-error';
import { CameraSyncKind } from '../protocol/messages';
import { formatDuration } from '../time/format';
import { CameraMeasurement } from './camera-measurement';

/** A successful clock sync of one camera. */
export interface CameraSyncResult {
  cameraId: string;
  success: true;
  outcome: typeof CameraSyncKind.WrittenVerified | typeof CameraSyncKind.WrittenUnverified;
  reason: string;
  /** The camera's clock before the sync (UTC, whole seconds as the camera showed them). */
  previousTime: string;
  /** The second written to the camera (UTC): the boundary its PUT was timed to arrive at. */
  newTime: string;
  /** Pi minus camera before the sync, ms: the correction applied. */
  offset: number;
  /** How far off `offset` can be, ms (500 at worst: the camera shows whole seconds). */
  offsetBoundMs: number;
  /** Camera minus Pi after the sync, ms, measured at a tick of the camera's second; null unless measured with a meaningful bound. */
  residualMs: number | null;
  /** How far off residualMs can be, ms; null when residualMs is. */
  residualBoundMs: number | null;
  /** Read back and residual measured; false: set, not verified (`unverifiedBecause` says why). */
  verified: boolean;
  unverifiedBecause?: string;
  /** What was written, in the Pi's zone. */
  datetime: string;
  dst: boolean;
  timezone: string;
  /** One-way request latency the write was timed with, ms. */
  latencyMs: number;
  /** The clock was written (CameraSyncKept: it was not, being within the threshold). */
  written: true;
  /** The Pi's clock was stepped during the sync: the offsets straddle two references. */
  piSteppedDuring?: boolean;
  /** Re-writes after the first (CAMERA_SPREAD_GOAL_MS), in order; absent when none. The fields above are the last write's. */
  rewrites?: CameraRewrite[];
}

/** A camera sync that measured the camera within CAMERA_SYNC_THRESHOLD of the Pi and so did not write it. */
export interface CameraSyncKept {
  cameraId: string;
  success: true;
  outcome: typeof CameraSyncKind.MeasuredKept;
  written: false;
  reason: string;
  /** The camera's clock when first read (UTC, whole seconds as the camera showed them). */
  previousTime: string;
  /** Pi minus camera, ms, within ±offsetBoundMs (as CameraSyncResult's `offset`). */
  offset: number;
  offsetBoundMs: number;
  /** Camera minus Pi, ms: nothing was written, so the same measurement, within ±residualBoundMs. */
  residualMs: number;
  residualBoundMs: number;
  verified: true;
  thresholdMs: number;
  measurement: CameraMeasurement;
}

/** A failed clock sync of one camera: why, and what was known of its clock before. */
export interface CameraSyncFailure {
  cameraId: string;
  success: false;
  outcome: typeof CameraSyncKind.Failed;
  reason: string;
  code: ErrorCode;
  error: string;
  /** The camera's clock before the attempt, if it was read. */
  previousTime: string | null;
  /** Pi minus camera before the attempt, ms, if it was read. */
  offset: number | null;
}

export type CameraSyncReport = CameraSyncResult | CameraSyncKept | CameraSyncFailure;

/** One re-write of a sync (CAMERA_SPREAD_GOAL_MS): the verified residual that asked for it and what it left, ms. */
export interface CameraRewrite {
  goalMs: number;
  residualBeforeMs: number;
  residualBeforeBoundMs: number;
  /** null when the re-write could not be verified. */
  residualAfterMs: number | null;
  residualAfterBoundMs: number | null;
  latencyMs: number;
  newTime: string;
}

/** The camera's clock as read. `epochMs` is the start of the second it shows (true UTC, DST taken off). */
export interface CameraClockReading {
  cameraId: string;
  epochMs: number;
  datetime: string;
  dst: boolean;
  /** The Pi's clock at the estimated moment the camera answered, ms. */
  piTimeMs: number;
  roundTripMs: number;
}

/** The activity line for a camera that answers 401. */
export function needsCredentialsMessage(baseUrl: string | null): string {
  return `Camera at ${baseUrl ?? 'an unknown address'} refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD`;
}

/** "1.2 s behind" style, from Pi minus camera. */
export function formatOffset(piMinusCameraMs: number): string {
  const size = formatDuration(Math.abs(piMinusCameraMs));
  return piMinusCameraMs >= 0 ? `${size} behind` : `${size} ahead`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
