import { Injectable } from '@nestjs/common';
import { filter, map, merge, Observable, Subject } from 'rxjs';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { CameraState, CameraStatus, SessionCameraResult } from '../protocol/messages';
import { Clock } from '../time/clock';
import { parseCameraDateTime } from '../time/camera-datetime';
import { CameraClockPort } from '../time-sync/camera-port';

/** A camera's clock measured or written, as the journal records it. Offsets: camera minus Pi, ms. */
export interface CameraObservation {
  kind: 'measure' | 'write';
  cameraId: string;
  serial: string | null;
  success: boolean;
  error?: string;
  /** The Pi's wall clock at the measurement, or at the instant the write took effect. */
  atMs: number;
  /** Before the write (or at the measurement); null if it was not read. */
  offsetMs: number | null;
  boundMs: number | null;
  residualMs?: number | null;
  residualBoundMs?: number | null;
  verified?: boolean;
  /** UTC offset of the wall time the camera showed, if read. */
  wallOffsetMinutes?: number | null;
  reason?: string;
  /** The Pi's clock moved while the camera was being written: its offsets straddle two references. */
  piSteppedDuring?: boolean;
}

/** One camera at the start or the end of a capture session (the protocol's shape). */
export type CameraCheck = SessionCameraResult;

/**
 * What sessions and the journal need of the cameras. Bound to `SyncBasedCameraTimekeeping` until the Camera
 * module measures without writing (then: `measure` / `measureAll`, and its `measurements$` / `writes$`).
 */
export abstract class CameraTimekeeping {
  /** Every measurement and write of a camera's clock, whoever asked for it. */
  abstract readonly observations$: Observable<CameraObservation>;
  /** Every connected camera measured and corrected if beyond the threshold: the start of a session. */
  abstract measureAndCorrect(reason: string): Promise<CameraCheck[]>;
  /** Every connected camera measured, nothing written: the end of a session. */
  abstract measureAll(reason: string): Promise<CameraCheck[]>;
}

/**
 * A correction is the Camera module's sync (it measures every camera first and writes only those beyond
 * CAMERA_SYNC_THRESHOLD, then measures the residual at the camera's next tick); a read-only measurement is the
 * Camera module's `measure` (around the camera's second tick), with one clock read for the camera's zone. Writes are seen through the `camera-sync` events, so every write is recorded
 * whoever asked for it.
 */
@Injectable()
export class SyncBasedCameraTimekeeping extends CameraTimekeeping {
  private readonly measured = new Subject<CameraObservation>();
  readonly observations$: Observable<CameraObservation>;

  constructor(
    private readonly cameras: CameraClockPort,
    private readonly clock: Clock,
    bus: EventBus,
  ) {
    super();
    // The camera-sync event lacks the bounds; the activity entry just before it has them (until the Camera module publishes its writes).
    const bounds = new Map<string, { offsetBoundMs: number | null; residualBoundMs: number | null; piStepped: boolean }>();
    const writes = bus.events$.pipe(
      filter((e) => {
        if (e.name === 'activity' && e.data.type === 'camera' && typeof e.data.details.cameraId === 'string' && 'offsetBoundMs' in e.data.details) {
          const d = e.data.details as { cameraId: string; offsetBoundMs?: unknown; residualBoundMs?: unknown };
          bounds.set(d.cameraId, { offsetBoundMs: finite(d.offsetBoundMs), residualBoundMs: finite(d.residualBoundMs), piStepped: /clock was stepped during the sync/.test(e.data.message) });
        }
        return e.name === 'camera-sync';
      }),
      map((e) => (e as Extract<typeof e, { name: 'camera-sync' }>).data),
      map((d): CameraObservation => {
        const known = bounds.get(d.cameraId);
        bounds.delete(d.cameraId);
        return {
          kind: 'write',
          cameraId: d.cameraId,
          serial: this.serialOf(d.cameraId),
          success: d.success,
          ...(d.error ? { error: d.error } : {}),
          atMs: d.newTime ? Date.parse(d.newTime) : this.clock.now(),
          offsetMs: d.offset === null ? null : -d.offset,
          boundMs: d.success ? known?.offsetBoundMs ?? null : null,
          residualMs: d.residualMs ?? null,
          residualBoundMs: d.success ? known?.residualBoundMs ?? null : null,
          verified: d.success && d.residualMs !== null && d.residualMs !== undefined,
          wallOffsetMinutes: null,
          ...(known?.piStepped ? { piSteppedDuring: true } : {}),
        };
      }),
    );
    this.observations$ = merge(writes, this.measured.asObservable());
  }

  async measureAndCorrect(reason: string): Promise<CameraCheck[]> {
    if (!this.connected().length) return [];
    const outcomes = await this.cameras.syncAll(reason);
    return outcomes.map((o): CameraCheck => {
      const serial = this.serialOf(o.cameraId);
      if (!o.success) return { cameraId: o.cameraId, serial, success: false, code: o.code, error: o.error, correctedFromMs: null, offsetMs: null, boundMs: null };
      // A camera measured within CAMERA_SYNC_THRESHOLD is not written: nothing was corrected.
      const written = (o as { written?: boolean }).written !== false;
      return {
        cameraId: o.cameraId,
        serial,
        success: true,
        correctedFromMs: !written || o.offset === null ? null : -o.offset,
        offsetMs: o.residualMs ?? null,
        boundMs: o.residualBoundMs ?? null,
        verified: o.verified ?? o.residualMs !== null,
      };
    });
  }

  async measureAll(reason: string): Promise<CameraCheck[]> {
    return Promise.all(
      this.connected().map(async (camera): Promise<CameraCheck> => {
        const serial = camera.info?.serialNumber ?? null;
        try {
          // Read-only, around the camera's second tick: tens of ms where the link allows, "uncertain" where not.
          const m = await this.cameras.measure(camera.id);
          const read = await this.cameras.readClock(camera.id);
          let wallOffsetMinutes: number | null = null;
          try {
            wallOffsetMinutes = parseCameraDateTime({ datetime: read.datetime, dst: read.dst }).wallOffsetMinutes;
          } catch {
            wallOffsetMinutes = null;
          }
          const offsetMs = m.uncertain ? null : m.offsetMs;
          const boundMs = m.uncertain ? null : m.boundMs;
          this.measured.next({ kind: 'measure', cameraId: camera.id, serial, success: true, atMs: Date.parse(m.at), offsetMs, boundMs, wallOffsetMinutes, reason: m.uncertain ? `${reason}; uncertain: ${m.reason ?? ''}` : reason });
          return { cameraId: camera.id, serial, success: true, correctedFromMs: null, offsetMs, boundMs };
        } catch (error) {
          const code = error instanceof DomainError ? error.code : ErrorCode.INTERNAL;
          this.measured.next({ kind: 'measure', cameraId: camera.id, serial, success: false, error: messageOf(error), atMs: this.clock.now(), offsetMs: null, boundMs: null, reason });
          return { cameraId: camera.id, serial, success: false, code, error: messageOf(error), correctedFromMs: null, offsetMs: null, boundMs: null };
        }
      }),
    );
  }

  private connected(): CameraStatus[] {
    return this.cameras.statuses().filter((c) => c.state === CameraState.Connected);
  }

  private serialOf(cameraId: string): string | null {
    return this.cameras.statuses().find((c) => c.id === cameraId)?.info?.serialNumber ?? null;
  }
}

function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
