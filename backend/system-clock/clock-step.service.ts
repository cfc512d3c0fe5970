import { Injectable } from '@nestjs/common';
import { ClockJournal, ClockStepRecord } from '../activity-log/clock-journal';
import { DomainError } from '../common/domain-error';
import { SyncSource } from '../protocol/messages';
import { Clock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
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
    private readonly durations: DurationTracker,
  ) {}

  async step(target: () => number, meta: { source: SyncSource; errorBoundMs?: number | null; client?: string | null }): Promise<ClockStepRecord> {
    const beforeMs = this.clock.now();
    const beforeMono = this.clock.monotonic();
    try {
      await this.durations.track('clock-write', () => this.systemClock.setTime(target));
    } catch (error) {
      // The clock may have been set although the whole operation failed (e.g. NTP could not be turned
      // back on): that step happened and belongs in the journal all the same.
      if (error instanceof DomainError && error.details?.clockSet) await this.journal.append(this.record(beforeMs, beforeMono, meta));
      throw error;
    }
    const record = this.record(beforeMs, beforeMono, meta);
    await this.journal.append(record);
    return record;
  }

  private record(beforeMs: number, beforeMono: number, meta: { source: SyncSource; errorBoundMs?: number | null; client?: string | null }): ClockStepRecord {
    const afterMs = this.clock.now();
    const afterMono = this.clock.monotonic();
    return {
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
  }
}
