import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { ActivityEntry, CameraStatus, CameraSyncEvent, PiSyncEvent, ReliabilityLostEvent } from '../protocol/messages';

/** Why a camera's clock was measured: the periodic check (CAMERA_CHECK_INTERVAL), asked for, or a sync before and after its write. */
export type CameraMeasurementKind = 'check' | 'on-demand' | 'before-write' | 'after-write';

/**
 * One read-only measurement of a camera's clock. `offsetMs` is camera minus Pi: the true value lies within
 * ±`boundMs`, or the measurement is `uncertain` (both null, `reason` says why: the readings contradict each
 * other, the Pi clock was stepped, the link was too slow or the Pi too loaded to know better than ±200 ms).
 */
export interface CameraMeasuredEvent {
  cameraId: string;
  /** The camera's serial number, null until it told it. */
  serial: string | null;
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
  kind: CameraMeasurementKind;
}

/** One write of a camera's clock, with the camera's error before and after (camera minus Pi, ms). */
export interface CameraWrittenEvent {
  cameraId: string;
  /** The camera's serial number, null until it told it. */
  serial: string | null;
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

/**
 * What services say happened. Only the gateway turns these into frames (one way out): events become event
 * frames, activity entries become `activity_log` updates, and every change leads to one status frame per page.
 */
export interface DomainEventMap {
  'pi-sync': PiSyncEvent['data'];
  'camera-sync': CameraSyncEvent['data'];
  'reliability-lost': ReliabilityLostEvent['data'];
  'camera-connected': CameraStatus;
  'camera-disconnected': CameraStatus;
  /** A camera changed in a way pages show (state, last reading) without a connect or sync event. */
  'camera-changed': CameraStatus;
  activity: ActivityEntry;
  /** Something in the status changed that has no event of its own (source, decision, hold). */
  'status-changed': { reason: string };
  /**
   * A camera's clock was measured (every measurement: periodic checks, on demand, before and after each write).
   * Those a sync takes arrive together with its outcome, just before its `camera-sync`.
   */
  'camera-measured': CameraMeasuredEvent;
  /** A camera's clock was written (each PUT of a sync, re-writes included), with its error before and after; just before the sync's `camera-sync`. */
  'camera-written': CameraWrittenEvent;
}
export type DomainEventName = keyof DomainEventMap;
export type DomainEvent = { [K in DomainEventName]: { name: K; data: DomainEventMap[K] } }[DomainEventName];

@Injectable()
export class EventBus {
  private readonly subject = new Subject<DomainEvent>();
  readonly events$: Observable<DomainEvent> = this.subject.asObservable();

  emit<K extends DomainEventName>(name: K, data: DomainEventMap[K]): void {
    this.subject.next({ name, data } as DomainEvent);
  }
}
