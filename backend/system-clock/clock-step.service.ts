import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { ClockJournal, ClockStepRecord, StepState } from '../activity-log/clock-journal';
import { recordBase, ZoneRecord } from '../activity-log/journal-records';
import { logText } from '../common/escape';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { SyncSource } from '../protocol/messages';
import { Clock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { StepMeta, SystemClock } from './system-clock';

/**
 * The one way the product steps the Pi's clock (and changes its zone), write-ahead: a `pending` record of the intended step is on
 * disk before the clock is written, and its outcome is journaled after. A journal that cannot be written
 * means no step (JOURNAL_UNWRITABLE); a step is reported only once its confirmation is on disk.
 */
@Injectable()
export class ClockStepService {
  private readonly logger = new Logger(ClockStepService.name);

  constructor(
    private readonly clock: Clock,
    private readonly systemClock: SystemClock,
    private readonly journal: ClockJournal,
    private readonly durations: DurationTracker,
  ) {}

  async step(target: () => number, meta: StepMeta): Promise<ClockStepRecord> {
    const beforeMs = this.clock.now();
    const beforeMono = this.clock.monotonic();
    const id = randomUUID();
    // The intended time as of now; setTime reads target() again at the last moment.
    const pending = this.record(id, 'pending', beforeMs, beforeMono, target(), beforeMono, meta);
    // Room for the confirmation too, so that a nearly full disk stops the step before the clock moves.
    // Timed apart (GET /api/system/info `durations`): the journal's fsyncs are most of a step's cost.
    await this.durations.track('journal-pending', () => this.journal.append(pending, { reserveFor: 1 })).catch((error: unknown) => {
      if (error instanceof DomainError) throw new DomainError(error.code, `${error.message}; the clock was left alone`, error.details);
      throw error;
    });

    try {
      await this.durations.track('clock-write', () => this.systemClock.setTime(target, meta));
    } catch (error) {
      const closing = { ...this.record(id, outcomeOf(error), beforeMs, beforeMono, this.clock.now(), this.clock.monotonic(), meta), error: messageOf(error) };
      // If this fails too, the pending record stays: the journal reports the step as pending (unconfirmed).
      await this.journal.append(closing).catch((journalError: unknown) => this.logger.error(`Step ${id} (${closing.state}) left pending in the journal: ${messageOf(journalError)}`));
      throw error;
    }

    const confirmed = this.record(id, 'confirmed', beforeMs, beforeMono, this.clock.now(), this.clock.monotonic(), meta);
    try {
      await this.durations.track('journal-confirm', () => this.journal.append(confirmed));
    } catch (error) {
      const details = error instanceof DomainError ? error.details : undefined;
      throw new DomainError(ErrorCode.JOURNAL_UNWRITABLE, `The clock was set to ${confirmed.after}, but ${messageOf(error)}; the journal keeps this step as pending`, { ...details, clockSet: true });
    }
    return confirmed;
  }

  private record(id: string, state: StepState, beforeMs: number, beforeMono: number, afterMs: number, afterMono: number, meta: StepMeta): ClockStepRecord {
    return {
      id,
      state,
      // Times as whole ms, as everywhere on the wire; the step itself keeps its fraction.
      beforeMs: Math.round(beforeMs),
      before: new Date(beforeMs).toISOString(),
      afterMs: Math.round(afterMs),
      after: new Date(afterMs).toISOString(),
      stepMs: Math.round((afterMs - beforeMs - (afterMono - beforeMono)) * 1000) / 1000,
      source: meta.source,
      monotonicMs: afterMono,
      bootId: this.journal.bootId ?? null,
      boot: this.journal.boot,
      errorBoundMs: meta.errorBoundMs ?? null,
      client: meta.client ?? null,
    };
  }

  /**
   * Write-ahead, like a step: a `pending` zone record is on disk before the zone is changed (a journal that
   * cannot be written leaves it alone: JOURNAL_UNWRITABLE), its outcome after. Photos are fixed from these.
   */
  async changeZone(from: string, to: string, source: SyncSource): Promise<void> {
    const record: ZoneRecord = { kind: 'zone', ...recordBase(this.clock, this.journal.bootInfo()), id: randomUUID(), state: 'pending', from, to, source };
    await this.journal.append(record, { reserveFor: 1 }).catch((error: unknown) => {
      if (error instanceof DomainError) throw new DomainError(error.code, `${error.message}; the time zone was left alone`, error.details);
      throw error;
    });
    try {
      await this.systemClock.setTimezone(to);
    } catch (error) {
      await this.journal.append({ ...record, ...recordBase(this.clock, this.journal.bootInfo()), state: 'failed', error: messageOf(error) }).catch(() => undefined);
      throw error;
    }
    await this.journal
      .append({ ...record, ...recordBase(this.clock, this.journal.bootInfo()), state: 'confirmed' })
      .catch((error: unknown) => this.logger.error(`Zone change to ${logText(to)} left pending in the journal: ${logText(messageOf(error))}`));
  }
}

/**
 * What a failed write did to the clock. `details.clockSet` (from the SystemClock adapters): true, it moved
 * although the operation failed afterwards; 'unknown', it may have (e.g. timedatectl killed mid-call).
 * A DomainError without it is a refusal: the clock did not move. Anything else is unexpected: unknown.
 */
export function outcomeOf(error: unknown): Exclude<StepState, 'pending'> {
  if (!(error instanceof DomainError)) return 'unknown';
  const set = error.details?.clockSet;
  return set === true ? 'confirmed' : set === 'unknown' ? 'unknown' : 'failed';
}
