import { Injectable } from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { ServerFrame } from '../protocol/messages';

/** Frames for every connected page. Services publish; the gateway broadcasts. */
@Injectable()
export class EventBus {
  private readonly subject = new Subject<ServerFrame>();
  readonly frames$: Observable<ServerFrame> = this.subject.asObservable();

  publish(frame: ServerFrame): void {
    this.subject.next(frame);
  }
}
