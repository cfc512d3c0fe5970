/**
 * What a read-only measurement of a camera's clock, and a write of it, leave behind: for the status, the journal
 * and photo fixes. The shapes are the bus's (`camera-measured`, `camera-written`), less the serial number, which
 * the registry adds when it publishes them.
 */
import type { CameraMeasuredEvent, CameraMeasurementKind, CameraWrittenEvent } from '../common/event-bus';

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
} as const satisfies Record<string, CameraMeasurementKind>;
export type MeasurementKind = CameraMeasurementKind;

/** One read-only measurement of a camera's clock (see CameraMeasuredEvent). */
export interface CameraMeasurement extends Omit<CameraMeasuredEvent, 'serial'> {
  /** Set when the camera could not be measured at all (measureAll): the error's code, e.g. CAMERA_BUSY. */
  code?: string;
}

/** A measurement that is not uncertain: its offset and bound are numbers. */
export type CertainMeasurement = CameraMeasurement & { offsetMs: number; boundMs: number };

/** One write of a camera's clock, with the camera's error before and after (see CameraWrittenEvent). */
export type CameraWrite = Omit<CameraWrittenEvent, 'serial'>;
