import { Injectable, Logger } from '@nestjs/common';
import { EventBus } from '../common/event-bus';
import { ActivityEntry, ActivityType } from '../protocol/messages';
import { Clock } from '../time/clock';
import { logText } from '../common/escape';

export const MAX_ACTIVITY_ENTRIES = 100;

/** The last 100 things that happened, for the operator. In memory: cleared on restart, as designed. */
@Injectable()
export class ActivityLogService {
  private readonly logger = new Logger('Activity');
  private readonly log: ActivityEntry[] = [];
  private seq = 0;

  constructor(
    private readonly clock: Clock,
    private readonly bus: EventBus,
  ) {}

  /** `message` often carries a camera's or a client's words (a product name, an error it answered): shown escaped, one line. */
  add(type: ActivityType, message: string, success: boolean, details: ActivityEntry['details'] = {}): ActivityEntry {
    message = logText(message);
    // The monotonic stamp lets pages show every entry in the Pi's current time, whatever steps came since.
    const entry: ActivityEntry = { seq: ++this.seq, timestamp: new Date(this.clock.now()).toISOString(), monotonicMs: Math.round(this.clock.monotonic()), type, message, success, details };
    this.log.push(entry);
    if (this.log.length > MAX_ACTIVITY_ENTRIES) this.log.splice(0, this.log.length - MAX_ACTIVITY_ENTRIES);
    (success ? this.logger.log : this.logger.warn).call(this.logger, `[${type}] ${message}`);
    this.bus.emit('activity', entry);
    return entry;
  }

  /** In the order they happened (oldest first). */
  entries(): ActivityEntry[] {
    return [...this.log];
  }
}
