import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Subscription } from 'rxjs';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { AppConfig } from '../config/app.config';
import { CameraStatus, PiClockStatus, Reliability, ServerFrame, SyncSource, TimeSyncStatus } from '../protocol/messages';
import { ClockStepService } from '../system-clock/clock-step.service';
import { SystemClock, SystemClockState } from '../system-clock/system-clock';
import { Clock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { makeTimestamp } from '../time/timestamp';
import { formatDuration, parseClientTime } from '../time/format';
import { isDst, utcOffsetMinutes, assertValidTimezone } from '../time/timezone';
import { assertPlausibleTime } from '../time/validation';
import { AccessPointPolicy } from './access-point';
import { CameraClockPort } from './camera-port';
import { DEFAULT_BURST, detectClockJump, estimateOffset, OffsetEstimate, planBurst, ProbeSample } from './estimator';
import { mulberry32 } from './prng';
import { isDrop, SyncState } from './sync-state';

/** A page connected over the WebSocket. The gateway creates it; `send` stamps the monotonic send time. */
export interface SyncConnection {
  readonly id: string;
  readonly address: string;
  readonly trusted: boolean;
  /** Sends a frame and returns the monotonic time at which it was handed to the socket. */
  send(frame: ServerFrame): number;
}

interface Pending {
  connId: string;
  sentMono: number;
  serverTime: number;
  burst: Burst;
}

interface Burst {
  connId: string;
  samples: ProbeSample[];
  timezone?: string;
  wallMinusMonoAtStart: number;
  /** Stops the burst's duration measurement ('sync-burst'). */
  stopTimer: () => number;
  sent: number;
  planned: number;
  timers: NodeJS.Timeout[];
  finish?: NodeJS.Timeout;
  done: boolean;
}

/** Responses later than this are refused. */
export const RESPONSE_TIMEOUT_MS = 5000;
/** A burst needs this many answers to be trusted. */
const MIN_BURST_ANSWERS = 4;
/** How often reliability is re-evaluated (it changes only with age). */
const RELIABILITY_TICK_MS = 10_000;
/** Failed bursts are retried this many times, TIME_SYNC_RETRY_DELAY apart, then wait for the interval. */
const MAX_RETRIES = 3;

/**
 * The heart of the product: which connected page is the Pi's time source, bursts of probes to it, the
 * offset they measure, stepping the clock, reliability over time, and the camera triggers that follow a step.
 */
@Injectable()
export class TimeSyncService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TimeSyncService.name);
  private readonly state = new SyncState();
  private readonly connections = new Map<string, SyncConnection>();
  private readonly pending = new Map<string, Pending>();
  /** Answered request ids → monotonic time they may be forgotten, to tell duplicates from unknown ids. */
  private readonly answered = new Map<string, number>();
  /** Requests of a burst that closed before they were answered: a slow answer is dropped quietly, not called unknown. */
  private readonly closed = new Map<string, { connId: string; sentMono: number }>();
  private sourceId: string | null = null;
  private burst: Burst | null = null;
  private resyncTimer?: NodeJS.Timeout;
  private retries = 0;
  private reliabilityTimer?: NodeJS.Timeout;
  private lastReliability: Reliability = 'none';
  private ntpSynchronized = false;
  private applying: Promise<void> = Promise.resolve();
  private readonly rng = mulberry32(Math.floor(Math.random() * 2 ** 31));
  private readonly subscriptions = new Subscription();

  constructor(
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly systemClock: SystemClock,
    private readonly stepper: ClockStepService,
    private readonly activity: ActivityLogService,
    private readonly bus: EventBus,
    private readonly accessPoint: AccessPointPolicy,
    private readonly durations: DurationTracker,
    @Optional() private readonly camera?: CameraClockPort,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refreshNtp();
    this.lastReliability = this.reliability();
    this.reliabilityTimer = setInterval(() => void this.checkReliability(), RELIABILITY_TICK_MS);
    this.reliabilityTimer.unref?.();
    if (this.camera) this.subscriptions.add(this.camera.connection$.subscribe((status) => void this.onCameraConnection(status)));
    // Pages show the camera inside the status: send a fresh one after every camera event.
    this.subscriptions.add(this.bus.frames$.subscribe((frame) => frame.type === 'event' && frame.eventType.startsWith('camera-') && void this.broadcastStatus()));
  }

  onModuleDestroy(): void {
    clearInterval(this.reliabilityTimer);
    clearTimeout(this.resyncTimer);
    this.subscriptions.unsubscribe();
    if (this.burst) this.abortBurst(this.burst);
  }

  // ---- connections and the source policy --------------------------------------------------------

  /** A page connected. Called before any of its frames is handled, so its first answer is never lost. */
  connect(conn: SyncConnection): void {
    this.connections.set(conn.id, conn);
    if (conn.trusted && this.sourceId === null) this.becomeSource(conn);
  }

  disconnect(connId: string): void {
    const conn = this.connections.get(connId);
    if (!conn) return;
    this.connections.delete(connId);
    for (const [id, p] of this.pending) if (p.connId === connId) this.pending.delete(id);
    if (this.sourceId !== connId) return;
    if (this.burst?.connId === connId) this.abortBurst(this.burst);
    this.sourceId = null;
    clearTimeout(this.resyncTimer);
    const next = this.nextTrusted(connId);
    if (next) {
      this.activity.add('sync', `Time source ${conn.address} left; ${next.address} is the source now`, true, { source: 'client' });
      this.becomeSource(next);
    }
    void this.broadcastStatus();
  }

  /** The access-point connection after `connId` in connection order, wrapping around; never `connId` itself. */
  private nextTrusted(connId: string): SyncConnection | undefined {
    const all = [...this.connections.values()];
    const at = all.findIndex((c) => c.id === connId);
    return [...all.slice(at + 1), ...all.slice(0, Math.max(at, 0))].find((c) => c.trusted && c.id !== connId);
  }

  private becomeSource(conn: SyncConnection): void {
    this.sourceId = conn.id;
    this.retries = 0;
    if (this.config.AUTO_SYNC) this.startBurst(conn);
  }

  /** Starts a burst to the source now (also what the periodic re-sync does). */
  syncNow(): boolean {
    const conn = this.sourceId ? this.connections.get(this.sourceId) : undefined;
    if (!conn || this.burst) return false;
    this.startBurst(conn);
    return true;
  }

  private scheduleResync(delayMs: number): void {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = setTimeout(() => this.syncNow(), delayMs);
    this.resyncTimer.unref?.();
  }

  // ---- bursts ---------------------------------------------------------------------------------

  private startBurst(conn: SyncConnection): void {
    const gaps = planBurst(this.rng);
    const burst: Burst = {
      connId: conn.id,
      samples: [],
      wallMinusMonoAtStart: this.clock.epochOfMonotonic(),
      stopTimer: this.durations.start('sync-burst'),
      sent: 0,
      planned: gaps.length + 1,
      timers: [],
      done: false,
    };
    this.burst = burst;
    // The first probe goes out at once; the rest follow at the planned, jittered gaps.
    let at = 0;
    this.sendProbe(burst, conn);
    for (const gap of gaps) {
      at += gap;
      burst.timers.push(setTimeout(() => this.sendProbe(burst, conn), at));
    }
    burst.finish = setTimeout(() => void this.finishBurst(burst), at + DEFAULT_BURST.replyGraceMs);
  }

  private sendProbe(burst: Burst, conn: SyncConnection): void {
    if (burst.done) return;
    const requestId = `sync-${randomUUID()}`;
    const serverTime = this.clock.now();
    const pending: Pending = { connId: conn.id, sentMono: 0, serverTime, burst };
    this.pending.set(requestId, pending);
    pending.sentMono = conn.send({ type: 'time-sync-request', serverTime, requestId });
    burst.sent++;
  }

  private abortBurst(burst: Burst): void {
    burst.done = true;
    burst.timers.forEach(clearTimeout);
    clearTimeout(burst.finish);
    for (const [id, p] of this.pending) {
      if (p.burst !== burst) continue;
      this.pending.delete(id);
      this.closed.set(id, { connId: p.connId, sentMono: p.sentMono });
    }
    if (this.burst === burst) this.burst = null;
  }

  /**
   * A `time-sync-response`. `receivedMono` was stamped when the frame arrived at the socket. Anything wrong
   * throws a coded DomainError and changes nothing.
   */
  handleResponse(connId: string, data: { clientTime: unknown; serverTime: unknown; requestId: unknown; timezone?: unknown }, receivedMono: number): void {
    const conn = this.connections.get(connId);
    if (!conn?.trusted) {
      this.refuse(conn?.address ?? 'unknown', 'send its time');
    }
    const requestId = typeof data.requestId === 'string' ? data.requestId : '';
    this.forgetOldRequests(receivedMono);
    const closed = this.closed.get(requestId);
    if (closed?.connId === connId && receivedMono - closed.sentMono <= RESPONSE_TIMEOUT_MS) {
      this.closed.delete(requestId);
      return;
    }
    const pending = this.pending.get(requestId);
    if (!pending || pending.connId !== connId) {
      if (closed?.connId === connId) throw new DomainError(ErrorCode.LATE_RESPONSE, `requestId "${requestId}" answered after ${Math.round(receivedMono - closed.sentMono)} ms (limit ${RESPONSE_TIMEOUT_MS} ms)`);
      if (this.answered.has(requestId)) throw new DomainError(ErrorCode.DUPLICATE_RESPONSE, `requestId "${requestId}" was already answered`);
      throw new DomainError(ErrorCode.UNKNOWN_REQUEST_ID, `requestId ${JSON.stringify(data.requestId).slice(0, 80)} matches no time-sync-request sent to this connection`);
    }
    if (receivedMono - pending.sentMono > RESPONSE_TIMEOUT_MS) {
      this.pending.delete(requestId);
      throw new DomainError(ErrorCode.LATE_RESPONSE, `requestId "${requestId}" answered after ${Math.round(receivedMono - pending.sentMono)} ms (limit ${RESPONSE_TIMEOUT_MS} ms)`);
    }
    if (data.serverTime !== pending.serverTime) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `serverTime ${JSON.stringify(data.serverTime)} is not the serverTime ${pending.serverTime} of request "${requestId}"`);
    }
    const clientTime = parseClientTime(data.clientTime);
    assertPlausibleTime(clientTime, 'clientTime');
    const timezone = data.timezone === undefined ? undefined : assertValidTimezone(data.timezone);

    this.pending.delete(requestId);
    this.answered.set(requestId, receivedMono + RESPONSE_TIMEOUT_MS * 2);
    const burst = pending.burst;
    if (burst.done) return;
    burst.samples.push({ requestId, sentMono: pending.sentMono, receivedMono, clientTime });
    if (timezone) burst.timezone = timezone;
    if (burst.samples.length === burst.planned && burst.sent === burst.planned) {
      clearTimeout(burst.finish);
      void this.finishBurst(burst);
    }
  }

  /** Answered ids are kept 10 s to recognise replays, closed ones until their answer would be late anyway. */
  private forgetOldRequests(nowMono: number): void {
    for (const [id, until] of this.answered) {
      if (until > nowMono) break;
      this.answered.delete(id);
    }
    for (const [id, c] of this.closed) {
      if (nowMono - c.sentMono <= RESPONSE_TIMEOUT_MS * 2) break;
      this.closed.delete(id);
    }
  }


  private async finishBurst(burst: Burst): Promise<void> {
    if (burst.done) return;
    this.abortBurst(burst);
    burst.stopTimer();
    const conn = this.connections.get(burst.connId);
    if (!conn) return;
    const wallMinusMonoNow = this.clock.epochOfMonotonic();
    const jump = detectClockJump(burst.samples, { serverWallMinusMonoStart: burst.wallMinusMonoAtStart, serverWallMinusMonoEnd: wallMinusMonoNow });
    if (jump) {
      const why = jump.message;
      this.activity.add('error', `Sync with ${conn.address} discarded: ${why}`, false, { source: 'client', error: why });
      return this.afterFailedBurst();
    }
    const estimate = burst.samples.length >= MIN_BURST_ANSWERS ? estimateOffset(burst.samples) : null;
    if (!estimate) {
      const message = `Sync with ${conn.address} failed: ${burst.samples.length} of ${burst.sent} probes answered`;
      this.activity.add('error', message, false, { source: 'client', error: 'too few answers' });
      // A page that answers nothing is hidden or asleep (a phone in a pocket): another access-point page takes over.
      const other = burst.samples.length === 0 ? this.nextTrusted(conn.id) : undefined;
      if (other) {
        this.activity.add('sync', `${other.address} is the time source now (${conn.address} does not answer)`, true, { source: 'client' });
        return this.becomeSource(other);
      }
      return this.afterFailedBurst();
    }
    await this.serialize(() => this.applyEstimate(conn, estimate, burst.timezone));
  }

  private afterFailedBurst(): void {
    if (this.sourceId && this.retries < MAX_RETRIES) {
      this.retries++;
      this.scheduleResync(this.config.TIME_SYNC_RETRY_DELAY);
    } else if (this.sourceId) {
      this.scheduleResync(this.config.TIME_SYNC_INTERVAL);
    }
  }

  /** Clock writes happen one at a time. */
  private serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.applying.then(work);
    this.applying = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async applyEstimate(conn: SyncConnection, estimate: OffsetEstimate, timezone: string | undefined): Promise<void> {
    const offsetMs = round3(estimate.clientMinusMonoMs - this.clock.epochOfMonotonic());
    const bound = round3(estimate.errorBoundMs);
    const details = { source: 'client', offset: offsetMs, errorBoundMs: bound, client: conn.address, samples: estimate.samplesUsed };
    const read = await this.refreshNtp();
    if (this.ntpSynchronized) {
      this.state.recordMeasurement(offsetMs, bound);
      this.activity.add('sync', `NTP keeps the Pi's clock; ${conn.address} differs by ${fmt(offsetMs)} (±${formatDuration(bound)}), clock left alone`, true, details);
      this.publishPiSync(true, 'ntp', offsetMs, bound, false);
      this.scheduleResync(this.config.TIME_SYNC_INTERVAL);
      return this.broadcastStatus();
    }
    let stepped = false;
    try {
      if (Math.abs(offsetMs) > this.config.TIME_SYNC_THRESHOLD) {
        // The target is computed at the moment of the write, from the monotonic clock.
        await this.stepper.step(() => this.clock.monotonic() + estimate.clientMinusMonoMs, { source: 'client', errorBoundMs: bound, client: conn.address });
        stepped = true;
      }
      if (timezone) await this.applyTimezone(timezone, read?.timezone);
    } catch (error) {
      return this.failSync(`Setting the Pi's clock from ${conn.address} failed: ${messageOf(error)}`, 'client', offsetMs, error);
    }
    this.retries = 0;
    this.state.recordSuccess({ monotonicMs: this.clock.monotonic(), wallMs: this.clock.now(), source: 'client', offsetMs, errorBoundMs: bound, client: conn.address });
    const what = stepped ? 'Time synchronized from client' : 'Time confirmed by client, no step needed';
    this.activity.add('sync', `${what} (offset: ${fmt(offsetMs)} ±${formatDuration(bound)})`, true, details);
    this.publishPiSync(true, 'client', offsetMs, bound, stepped);
    this.scheduleResync(this.config.TIME_SYNC_INTERVAL);
    await this.broadcastStatus();
    this.afterPiSynced(stepped);
  }

  /** `current`: the zone already read, if it was; otherwise it is read here. */
  private async applyTimezone(zone: string, current?: string): Promise<void> {
    current ??= (await this.systemClock.read()).timezone;
    if (current === zone) return;
    await this.systemClock.setTimezone(zone);
    this.activity.add('sync', `Time zone set to ${zone} (was ${current})`, true, { source: 'client' });
  }

  private failSync(message: string, source: 'client' | 'manual' | 'camera', offsetMs: number | null, error: unknown): Promise<void> {
    this.state.recordFailure();
    this.activity.add('error', message, false, { source, offset: offsetMs ?? undefined, error: messageOf(error), code: codeOf(error) });
    this.publishPiSync(false, source, offsetMs ?? 0, null, false);
    return this.broadcastStatus();
  }

  // ---- manual time --------------------------------------------------------------------------

  /**
   * Sets the time by hand (REST or WebSocket), from an access-point client only. `receivedMono` is when the
   * request arrived: the time spent before the write is added to the operator's timestamp.
   */
  async setManually(address: string, input: { timestamp: unknown; timezone?: unknown }, receivedMono: number): Promise<{ offsetMs: number; newTime: string }> {
    if (!this.accessPoint.isAccessPointClient(address)) this.refuse(address, 'set the time');
    const target = parseClientTime(input.timestamp);
    assertPlausibleTime(target, 'timestamp');
    const zone = input.timezone === undefined || input.timezone === null ? undefined : assertValidTimezone(input.timezone);
    return this.serialize(async () => {
      const offsetMs = round3(target - (this.clock.now() - (this.clock.monotonic() - receivedMono)));
      try {
        await this.stepper.step(() => target + (this.clock.monotonic() - receivedMono), { source: 'manual', client: address });
        if (zone) await this.applyTimezone(zone);
      } catch (error) {
        await this.failSync(`Setting the time by hand failed: ${messageOf(error)}`, 'manual', offsetMs, error);
        throw error;
      }
      this.state.recordSuccess({ monotonicMs: this.clock.monotonic(), wallMs: this.clock.now(), source: 'manual', offsetMs, errorBoundMs: null, client: address });
      this.activity.add('manual', `Time set by hand from ${address} (offset: ${fmt(offsetMs)})${zone ? `, zone ${zone}` : ''}`, true, { source: 'manual', offset: offsetMs });
      this.publishPiSync(true, 'manual', offsetMs, null, true);
      await this.broadcastStatus();
      this.afterPiSynced(true);
      return { offsetMs, newTime: new Date(this.clock.now()).toISOString() };
    });
  }

  private refuse(address: string, what: string): never {
    const message = `Only devices on the Pi's Wi-Fi access point may ${what}; ${address} is not one`;
    this.activity.add('error', message, false, { error: ErrorCode.NOT_ACCESS_POINT_CLIENT, client: address });
    throw new DomainError(ErrorCode.NOT_ACCESS_POINT_CLIENT, message);
  }

  // ---- the camera ----------------------------------------------------------------------------

  /** After the Pi's time became right: the camera follows (otherwise a camera that connected first keeps the wrong time). */
  private afterPiSynced(stepped: boolean): void {
    if (!this.camera?.isConnected()) return;
    const last = this.camera.status().lastSync;
    if (stepped || !last?.success) void this.camera.syncClock('the Pi clock was set').catch(() => undefined);
  }

  private async onCameraConnection(status: CameraStatus): Promise<void> {
    if (!status.connected || !this.camera) return;
    const reliability = this.reliability();
    if (reliability === 'high' || reliability === 'medium') {
      if (this.config.CAMERA_SYNC_ON_CONNECT) await this.camera.syncClock('camera connected').catch(() => undefined);
      return;
    }
    if (reliability === 'none') await this.serialize(() => this.setFromCamera());
  }

  /** The Pi has no reliable time and a camera is connected: its battery-backed clock is the best there is. */
  private async setFromCamera(): Promise<void> {
    if (!this.camera || this.reliability() !== 'none' || this.ntpSynchronized) return;
    let offsetMs: number | null = null;
    try {
      const read = await this.camera.readClock();
      assertPlausibleTime(read.epochMs, 'camera time');
      // One-second resolution: at Pi time piTimeMs the camera was somewhere in [epochMs, epochMs + 1 s); take the middle.
      const cameraMinusPi = read.epochMs + 500 - read.piTimeMs;
      offsetMs = round3(cameraMinusPi);
      await this.stepper.step(() => this.clock.now() + cameraMinusPi, { source: 'camera', errorBoundMs: 500 });
    } catch (error) {
      return this.failSync(`Setting the Pi's clock from the camera failed: ${messageOf(error)}`, 'camera', offsetMs, error);
    }
    this.state.recordSuccess({ monotonicMs: this.clock.monotonic(), wallMs: this.clock.now(), source: 'camera', offsetMs: offsetMs ?? 0, errorBoundMs: 500, client: null, cap: 'medium' });
    this.activity.add('sync', `Pi clock set from the camera's clock (offset: ${fmt(offsetMs ?? 0)}, ±500 ms); a phone on the Wi-Fi gives better time`, true, { source: 'camera', offset: offsetMs ?? 0 });
    this.publishPiSync(true, 'camera', offsetMs ?? 0, 500, true);
    await this.broadcastStatus();
  }

  // ---- reliability and status ----------------------------------------------------------------

  reliability(): Reliability {
    return this.ntpSynchronized ? 'high' : this.state.reliability(this.clock.monotonic());
  }

  private async refreshNtp(): Promise<SystemClockState | null> {
    try {
      const read = await this.systemClock.read();
      this.ntpSynchronized = read.ntpSynchronized;
      return read;
    } catch (error) {
      this.logger.warn(`Reading the system clock failed: ${messageOf(error)}`);
      return null;
    }
  }

  /** The periodic check: reliability changes only with age; pages hear of it when it does. */
  async checkReliability(): Promise<void> {
    if (this.noteReliability()) await this.broadcastStatus();
  }

  /** Records the current reliability and publishes `reliability-lost` once on each drop to low or none. True if it changed. */
  private noteReliability(): boolean {
    const now = this.reliability();
    const before = this.lastReliability;
    this.lastReliability = now;
    if (now === before) return false;
    if (isDrop(before, now)) {
      const last = this.state.last;
      this.bus.publish({
        type: 'event',
        eventType: 'reliability-lost',
        timestamp: this.isoNow(),
        data: { lastSyncTime: last ? new Date(last.wallMs).toISOString() : null, reliability: now },
      });
    }
    return true;
  }

  private publishPiSync(synchronized: boolean, source: 'client' | 'manual' | 'camera' | 'ntp', offset: number, errorBoundMs: number | null, stepped: boolean): void {
    this.bus.publish({
      type: 'event',
      eventType: 'pi-sync',
      timestamp: this.isoNow(),
      data: { synchronized, source, offset, reliability: this.reliability(), errorBoundMs: errorBoundMs ?? undefined, stepped },
    });
    // The caller broadcasts the status that follows.
    this.noteReliability();
  }

  async status(forAddress?: string): Promise<TimeSyncStatus> {
    const read = await this.refreshNtp();
    const last = this.state.last;
    const mono = this.clock.monotonic();
    const source = this.source();
    const pi = this.piStatus(read, source);
    const sourceConn = this.sourceId ? this.connections.get(this.sourceId) : undefined;
    return {
      isSynchronized: this.ntpSynchronized || this.state.isSynchronized(mono),
      lastSyncTime: last ? new Date(last.wallMs).toISOString() : null,
      syncSource: source,
      reliability: this.reliability(),
      lastOffsetMs: last?.offsetMs ?? null,
      errorBoundMs: last?.errorBoundMs ?? null,
      lastSyncAgeMs: this.state.ageMs(mono),
      sourceClient: sourceConn?.address ?? null,
      canSetTime: forAddress === undefined ? undefined : this.accessPoint.isAccessPointClient(forAddress),
      activityLog: this.activity.entries(),
      pi,
      camera: this.camera?.status() ?? { connected: false, baseUrl: null, info: null, lastSync: null, lastError: null },
    };
  }

  /** The Pi's clock alone (GET /api/system/time). */
  async piClock(): Promise<PiClockStatus> {
    const read = await this.refreshNtp();
    return this.piStatus(read, this.source());
  }

  /** Where the Pi's time comes from now: NTP when it keeps the clock, else the last successful sync. */
  private source(): SyncSource {
    return this.ntpSynchronized ? 'ntp' : this.state.last?.source ?? 'none';
  }

  private piStatus(read: SystemClockState | null, source: TimeSyncStatus['syncSource']): PiClockStatus {
    const reliability = this.reliability();
    const now = makeTimestamp(this.clock, { source, reliability, estimatedErrorMs: source === 'ntp' ? null : this.state.last?.errorBoundMs ?? null });
    const timezone = read?.timezone ?? 'UTC';
    return {
      timestamp: now.iso,
      epochMs: now.epochMs,
      timezone,
      utcOffsetMinutes: utcOffsetMinutes(timezone, now.epochMs),
      isDst: isDst(timezone, now.epochMs),
      source,
      reliability,
      estimatedErrorMs: now.estimatedErrorMs,
      ntpSynchronized: read?.ntpSynchronized ?? false,
      backend: this.systemClock.backend,
    };
  }


  /** Each page gets the status with its own `canSetTime`. */
  async broadcastStatus(): Promise<void> {
    if (!this.connections.size) return;
    const base = await this.status();
    const timestamp = this.isoNow();
    for (const conn of this.connections.values()) {
      conn.send({ type: 'time-sync-status', timestamp, data: { ...base, canSetTime: conn.trusted } });
    }
  }

  private isoNow(): string {
    return new Date(this.clock.now()).toISOString();
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
/** "+3 h", "-850 ms", "+0.42 ms": a signed offset in words. */
function fmt(x: number): string {
  return (x < 0 ? '-' : '+') + formatDuration(Math.abs(x));
}
function codeOf(error: unknown): string {
  return error instanceof DomainError ? error.code : ErrorCode.INTERNAL;
}
