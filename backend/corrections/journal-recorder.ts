import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { ClockJournal } from '../activity-log/clock-journal';
import { CameraRecord, JournalEventRecord, PiSyncRecord, recordBase } from '../activity-log/journal-records';
import { messageOf } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { SystemClock } from '../system-clock/system-clock';
import { Clock } from '../time/clock';
import { utcOffsetMinutes } from '../time/timezone';
import { TimeSyncService } from '../time-sync/time-sync.service';
import { CameraObservation, CameraTimekeeping } from './camera-timekeeping';
import { logText } from '../common/escape';

/** Sources whose measurement of the Pi tells its error (a camera's battery clock does not). */
const MEASURING_SOURCES = new Set(['client', 'manual', 'ntp']);

/**
 * Appends to the clock-change journal what photo fixes need beside the steps: every camera measurement and
 * write (with the camera's serial number, the Pi's zone written and what the Pi thought of its own time),
 * and every accepted sync that did not step (the Pi's error then). One queue, so the lines are in the order
 * things happened; a record that cannot be written is logged, never thrown at the camera or the sync.
 */
@Injectable()
export class JournalRecorder implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JournalRecorder.name);
  private readonly subscriptions = new Subscription();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly journal: ClockJournal,
    private readonly clock: Clock,
    private readonly systemClock: SystemClock,
    private readonly timeSync: TimeSyncService,
    private readonly cameras: CameraTimekeeping,
    bus: EventBus,
  ) {
    this.subscriptions.add(this.cameras.observations$.subscribe((o) => void this.run(() => this.camera(o)).catch(() => undefined)));
    this.subscriptions.add(
      bus.events$.subscribe((event) => {
        if (event.name !== 'pi-sync') return;
        const d = event.data;
        if (!d.synchronized || d.stepped || d.offset === null || !MEASURING_SOURCES.has(d.source)) return;
        const record: PiSyncRecord = { kind: 'pi-sync', ...recordBase(this.clock, this.journal.bootInfo()), source: d.source, offsetMs: d.offset, errorBoundMs: d.errorBoundMs ?? null, reliability: d.reliability };
        void this.run(() => this.append(record)).catch(() => undefined);
      }),
    );
  }

  onModuleInit(): void {
    // Subscribed in the constructor: nothing that happens during start-up is missed.
  }

  onModuleDestroy(): void {
    this.subscriptions.unsubscribe();
  }

  /** Runs `work` after every record queued so far (a session's own records keep their place in the order). */
  run<T>(work: () => Promise<T>): Promise<T> {
    const next = this.chain.then(work);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /** Resolves when everything queued so far is on disk (or failed). */
  flush(): Promise<void> {
    return this.run(async () => undefined);
  }

  /** Appends a record now (in the queue); throws JOURNAL_UNWRITABLE if it cannot. */
  append(record: JournalEventRecord): Promise<void> {
    return this.journal.append(record);
  }

  private async camera(o: CameraObservation): Promise<void> {
    let timezone: string | null = null;
    if (o.kind === 'write' && o.success) {
      try {
        timezone = (await this.systemClock.read()).timezone;
      } catch {
        timezone = null;
      }
    }
    const trust = this.timeSync.piTrust();
    const record: CameraRecord = {
      kind: o.kind === 'write' ? 'camera-write' : 'camera-measure',
      ...recordBase(this.clock, this.journal.bootInfo()),
      atMs: o.atMs,
      at: new Date(o.atMs).toISOString(),
      ...(o.outcome ? { outcome: o.outcome } : {}),
      cameraId: o.cameraId,
      serial: o.serial,
      success: o.success,
      ...(o.error ? { error: o.error } : {}),
      offsetMs: o.offsetMs,
      boundMs: o.boundMs,
      ...(o.kind === 'write' ? { residualMs: o.residualMs ?? null, residualBoundMs: o.residualBoundMs ?? null, verified: o.verified ?? false } : {}),
      wallOffsetMinutes: o.wallOffsetMinutes ?? null,
      ...(timezone ? { timezone, writtenWallOffsetMinutes: utcOffsetMinutes(timezone, o.atMs) } : {}),
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.piSteppedDuring ? { piSteppedDuring: true } : {}),
      piSource: trust.source,
      piReliability: trust.reliability,
    };
    await this.append(record).catch((error: unknown) => {
      this.logger.error(`Camera ${logText(o.cameraId)}'s ${o.kind === 'write' ? 'write' : 'measurement'} could not be journaled: ${logText(messageOf(error))}`);
      throw error;
    });
  }
}
