/** What a read-only measurement of a camera's clock, and a write of it, leave behind: for the status, the journal and photo fixes. */

/** Why a measurement was taken. */
export const MeasurementKind = {
  /** The periodic read-only check (CAMERA_CHECK_INTERVAL). */
  Check: 'check',
  /** Asked for (CameraService.measure / measureAll). */
  OnDemand: 'on-demand',
  /** A camera sync measured before deciding whether to write. */
  BeforeWrite: 'before-write',
  /** A camera sync verified its write. */
  AfterWrite: 'after-write',
} as const;
export type MeasurementKind = (typeof MeasurementKind)[keyof typeof MeasurementKind];

/**
 * One read-only measurement of a camera's clock. `offsetMs` is camera minus Pi: the true value lies within
 * ±`boundMs`, or the measurement is `uncertain` (both null, `reason` says why: the readings contradict each
 * other, the Pi clock was stepped, the link was too slow or the Pi too loaded to know better than ±200 ms).
 */
export interface CameraMeasurement {
  cameraId: string;
  /** The Pi's wall time when it was taken (ISO), and its monotonic time (ms). */
  at: string;
  atMono: number;
  offsetMs: number | null;
  boundMs: number | null;
  uncertain: boolean;
  reason?: string;
  /** Camera requests it took. */
  samples: number;
  /** The round trip to the camera then (recent median), ms. */
  roundTripMs: number | null;
  kind: MeasurementKind;
  /** Set when the camera could not be measured at all (measureAll): the error's code, e.g. CAMERA_BUSY. */
  code?: string;
}

/** One write of a camera's clock, with the camera's error before and after (camera minus Pi, ms). */
export interface CameraWrite {
  cameraId: string;
  serial?: string;
  /** When the camera took the new time: the second boundary its PUT was timed to (Pi wall time, ISO), and its monotonic time. */
  at: string;
  atMono: number;
  /** The second written (UTC, ISO) and what was sent. */
  newTime: string;
  datetime: string;
  dst: boolean;
  timezone: string;
  reason: string;
  /** Camera minus Pi before the write, within ±beforeBoundMs (null if the readings before contradicted each other). */
  beforeOffsetMs: number | null;
  beforeBoundMs: number | null;
  /** Camera minus Pi after the write, measured the same way; null when not verified. */
  afterOffsetMs: number | null;
  afterBoundMs: number | null;
  verified: boolean;
}
