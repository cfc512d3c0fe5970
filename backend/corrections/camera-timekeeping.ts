import { Injectable } from '@nestjs/common';
import { filter, map, merge, Observable, Subject } from 'rxjs';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { DomainEvent, EventBus } from '../common/event-bus';
import { CameraState, CameraStatus, CameraSyncEvent, CameraSyncKind, JOURNAL_KIND_OF_CAMERA_SYNC, SessionCameraResult } from '../protocol/messages';
import { Clock } from '../time/clock';
import { parseCameraDateTime } from '../time/camera-datetime';
import { CameraClockPort } from '../camera/camera-port';

/** A camera's clock measured or written, as the journal records it. Offsets: camera minus Pi, ms. */
export interface CameraObservation {
  /** The journal record kind (JOURNAL_KIND_OF_CAMERA_SYNC for a sync's outcome). */
  kind: 'measure' | 'write';
  /** A camera sync's outcome; absent for a session's read-only measurement. */
  outcome?: CameraSyncKind;
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
 * What sessions and the journal need of the cameras. Bound to `SyncBasedCameraTimekeeping`.
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
 * Camera module's `measure` (around the camera's second tick), with one clock read for the camera's zone. Every
 * sync, whoever asked for it, is seen through the typed `camera-sync` event and recorded as what its `outcome`
 * says it was (never from the activity log's words).
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
    // Every camera sync, whoever asked for it, as the typed camera-sync fact: what it did decides the record.
    const syncs = bus.events$.pipe(
      filter((e): e is Extract<DomainEvent, { name: 'camera-sync' }> => e.name === 'camera-sync'),
      map((e) => this.observationOf(e.data)),
    );
    this.observations$ = merge(syncs, this.measured.asObservable());
  }

  async measureAndCorrect(reason: string): Promise<CameraCheck[]> {
    if (!this.connected().length) return [];
    const outcomes = await this.cameras.syncAll(reason);
    return outcomes.map((o): CameraCheck => {
      const serial = this.serialOf(o.cameraId);
      if (!o.success) return { cameraId: o.cameraId, serial, success: false, outcome: CameraSyncKind.Failed, code: o.code, error: o.error, correctedFromMs: null, offsetMs: null, boundMs: null };
      // A camera measured within CAMERA_SYNC_THRESHOLD is not written: nothing was corrected.
      const outcome = o.outcome ?? (o.written === false ? CameraSyncKind.MeasuredKept : o.verified ? CameraSyncKind.WrittenVerified : CameraSyncKind.WrittenUnverified);
      const written = outcome !== CameraSyncKind.MeasuredKept;
      return {
        cameraId: o.cameraId,
        serial,
        success: true,
        outcome,
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

  /**
   * A sync as the journal records it: a write (verified or not) with the camera's error before and after; a
   * camera kept within the threshold as the measurement it was; a failure as an unsuccessful write attempt.
   */
  private observationOf(d: CameraSyncEvent['data']): CameraObservation {
    const base = { cameraId: d.cameraId, serial: this.serialOf(d.cameraId), outcome: d.outcome, atMs: d.at ? Date.parse(d.at) : this.clock.now(), wallOffsetMinutes: null };
    const kind = JOURNAL_KIND_OF_CAMERA_SYNC[d.outcome] === 'camera-measure' ? ('measure' as const) : ('write' as const);
    if (d.outcome === CameraSyncKind.MeasuredKept) {
      return { ...base, kind, success: true, offsetMs: d.residualMs ?? null, boundMs: d.residualBoundMs ?? null };
    }
    if (d.outcome === CameraSyncKind.Failed) {
      return { ...base, kind, success: false, ...(d.error ? { error: d.error } : {}), offsetMs: d.offset === null ? null : -d.offset, boundMs: null, residualMs: null, residualBoundMs: null, verified: false };
    }
    const verified = d.outcome === CameraSyncKind.WrittenVerified;
    return {
      ...base,
      kind,
      success: true,
      offsetMs: d.offset === null ? null : -d.offset,
      boundMs: d.offsetBoundMs ?? null,
      residualMs: verified ? d.residualMs ?? null : null,
      residualBoundMs: verified ? d.residualBoundMs ?? null : null,
      verified,
      ...(d.piSteppedDuring ? { piSteppedDuring: true } : {}),
    };
  }

  private connected(): CameraStatus[] {
    return this.cameras.statuses().filter((c) => c.state === CameraState.Connected);
  }

  private serialOf(cameraId: string): string | null {
    return this.cameras.statuses().find((c) => c.id === cameraId)?.info?.serialNumber ?? null;
  }
}
