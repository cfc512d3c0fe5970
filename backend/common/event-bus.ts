import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { ActivityEntry, CameraStatus, CameraSyncEvent, PiSyncEvent, ReliabilityLostEvent } from '../protocol/messages';

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
