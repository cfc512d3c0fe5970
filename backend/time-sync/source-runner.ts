import { Reliability, SyncSource } from '../protocol/messages';
import { SourceContext, SourceLoss, SourceReading, SourceSink, SourceStatus, TimeSourceAdapter } from '../sources/source-port';
import { Clock } from '../time/clock';
import { PolicySettings } from './source-policy';

/** What the runner hands the policy shell. */
export interface SourceRunnerHooks {
  measured(reading: SourceReading): void;
  lost(loss: SourceLoss): void;
  info(source: SyncSource, message: string): void;
  keeping(source: SyncSource, keeps: boolean, who?: string): void;
  reliability(): Reliability;
}

/** When the policy last heard a source. */
export interface SentReading {
  atMono: number;
  fine: boolean;
  errorBoundMs: number;
}

/**
 * Whether a reading of a source that reports by itself goes to the policy now: the first one, one that
 * changed class (fine/coarse) or halved its bound, then once per retry delay while the Pi's time is poor and
 * once per sync interval while it is good. The policy hears a GPS as it hears a phone (once per interval), not
 * at every NMEA sentence; the latest reading is always in the status.
 */
export function readingDue(prev: SentReading | null, r: SourceReading, nowMono: number, reliability: Reliability, settings: Pick<PolicySettings, 'retryDelayMs' | 'resyncIntervalMs'>): boolean {
  if (!prev) return true;
  const since = nowMono - prev.atMono;
  if (!!r.fine !== prev.fine) return true;
  const poor = reliability === 'none' || reliability === 'low';
  if (since >= (poor ? settings.retryDelayMs : settings.resyncIntervalMs)) return true;
  return r.errorBoundMs * 2 <= prev.errorBoundMs && since >= settings.retryDelayMs;
}

/**
 * Starts the source adapters that report by themselves (GPS, the hardware clock, NTP) and passes on what they
 * report, paced by `readingDue`. Losses go on once per loss; a source that comes back is heard at once.
 */
export class SourceRunner implements SourceSink {
  private readonly latest = new Map<SyncSource, SourceReading>();
  private readonly sent = new Map<SyncSource, SentReading>();
  /** Sources that stopped giving time, with the code of the loss told. */
  private readonly down = new Map<SyncSource, string>();

  constructor(
    private readonly adapters: readonly TimeSourceAdapter[],
    private readonly clock: Clock,
    private readonly settings: Pick<PolicySettings, 'retryDelayMs' | 'resyncIntervalMs'>,
    private readonly hooks: SourceRunnerHooks,
  ) {}

  async start(context: SourceContext): Promise<void> {
    await Promise.all(this.adapters.map((a) => a.start(this, context)));
  }

  async stop(): Promise<void> {
    await Promise.all(this.adapters.map((a) => a.stop()));
  }

  statuses(): SourceStatus[] {
    return this.adapters.map((a) => a.status()).filter((s): s is SourceStatus => s !== null);
  }

  /** The operator chose this source's time: its latest reading goes to the policy now. False when it has none. */
  resample(source: SyncSource): boolean {
    const r = this.latest.get(source);
    if (!r || this.down.has(source)) return false;
    this.send(r);
    return true;
  }

  // ---- SourceSink -------------------------------------------------------------------------------

  reading(r: SourceReading): void {
    this.latest.set(r.source, r);
    const back = this.down.delete(r.source);
    if (back || readingDue(this.sent.get(r.source) ?? null, r, this.clock.monotonic(), this.hooks.reliability(), this.settings)) this.send(r);
  }

  lost(l: SourceLoss): void {
    this.latest.delete(l.source);
    if (this.down.get(l.source) === l.code) return;
    this.down.set(l.source, l.code);
    this.hooks.lost(l);
  }

  info(source: SyncSource, message: string): void {
    this.hooks.info(source, message);
  }

  keeping(source: SyncSource, keeps: boolean, who?: string): void {
    this.hooks.keeping(source, keeps, who);
  }

  private send(r: SourceReading): void {
    this.sent.set(r.source, { atMono: this.clock.monotonic(), fine: !!r.fine, errorBoundMs: r.errorBoundMs });
    this.hooks.measured(r);
  }
}
