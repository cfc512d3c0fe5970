import { Injectable } from '@nestjs/common';
import { ClockJournal, ClockStepRecord } from '../activity-log/clock-journal';
import { SyncSource } from '../protocol/messages';
import { Clock } from '../time/clock';
import { SystemClock } from './system-clock';

/**
 * The one way the product steps the Pi's clock: write it, then journal the step (flushed to disk) before
 * anyone is told about it.
 */
@Injectable()
export class ClockStepService {
  constructor(
    private readonly clock: Clock,
    private readonly systemClock: SystemClock,
    private readonly journal: ClockJournal,
  ) {}

  async step(target: () => number, meta: { source: SyncSource; errorBoundMs?: number | null; client?: string | null }): Promise<ClockStepRecord> {
    const beforeMs = this.clock.now();
    const beforeMono = this.clock.monotonic();
    await this.systemClock.setTime(target);
    const afterMs = this.clock.now();
    const afterMono = this.clock.monotonic();
    const record: ClockStepRecord = {
      beforeMs,
      before: new Date(beforeMs).toISOString(),
      afterMs,
      after: new Date(afterMs).toISOString(),
      stepMs: Math.round((afterMs - beforeMs - (afterMono - beforeMono)) * 1000) / 1000,
      source: meta.source,
      monotonicMs: afterMono,
      errorBoundMs: meta.errorBoundMs ?? null,
      client: meta.client ?? null,
    };
    await this.journal.append(record);
    return record;
  }
}
