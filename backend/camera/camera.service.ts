import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Observable, Subject, Subscription } from 'rxjs';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { formatDuration } from '../time/format';
import { EventBus } from '../common/event-bus';
import { AppConfig } from '../config/app.config';
import { CameraInfo, CameraStatus } from '../protocol/messages';
import { SystemClock } from '../system-clock/system-clock';
import { formatCameraDateTime, parseCameraDateTime } from '../time/camera-datetime';
import { Clock } from '../time/clock';
import { CcapiClient, CcapiSession } from './ccapi-client';
import { DiscoveredCamera, SsdpDiscovery, SsdpEvent } from './ssdp';
import { ClockReading, estimateClockError, handledAt, planSecondAlignedSend, secondToWrite } from './sync-timing';
import { Waiter } from './waiter';

/** A successful camera clock sync. Failures throw a DomainError instead. */
export interface CameraSyncResult {
  success: true;
  reason: string;
  /** The camera's clock before the sync (UTC, whole seconds as the camera shows them). */
  previousTime: string;
  /** The second written to the camera (UTC). */
  newTime: string;
  /** Pi minus camera before the sync, ms: the correction applied. */
  offset: number;
  /** How far off `offset` can be, ms (500 at worst: the camera shows whole seconds). */
  offsetBoundMs: number;
  /** Camera minus Pi after the sync, ms, measured at a tick of the camera's second; null if not measured. */
  residualMs: number | null;
  /** How far off residualMs can be, ms. */
  residualBoundMs: number | null;
  /** What was written, in the Pi's zone. */
  datetime: string;
  dst: boolean;
  timezone: string;
  /** Estimated one-way request latency used to time the write, ms. */
  latencyMs: number;
}

/** The camera's clock as read. `epochMs` is the start of the second it shows (true UTC, DST taken off). */
export interface CameraClockReading {
  epochMs: number;
  datetime: string;
  dst: boolean;
  /** The Pi's clock at the estimated moment the camera answered, ms. */
  piTimeMs: number;
  roundTripMs: number;
}

/** Errors after which the camera is certainly still there (it answered, if only to say no). */
const ALIVE_CODES = new Set<string>([ErrorCode.CAMERA_BUSY, ErrorCode.CAMERA_REJECTED, ErrorCode.CAMERA_BAD_ANSWER, ErrorCode.CAMERA_AUTH_REQUIRED]);
/** Consecutive timeouts / resets before the camera counts as gone (a refused connection counts at once). */
const TRANSPORT_FAILURES_FOR_DISCONNECT = 2;
/** A timer that fires this far from the planned instant makes the sync wait for the next second. */
const LANDING_TOLERANCE_MS = 20;
/** Latency samples wanted before timing a write. */
const MIN_LATENCY_SAMPLES = 5;
/** Longest the residual measurement may poll after the read-back. */
const RESIDUAL_WINDOW_MS = 1200;
/** Room left between the last read while waiting and the PUT. */
const PUT_GUARD_MS = 15;
/** Pace of those reads, ms. */
const WAIT_READ_SPACING_MS = 25;
/** An old error known to this many ms is enough. */
const TIGHT_ENOUGH_MS = 10;
/** A change of wall minus monotonic beyond this means the Pi clock was stepped. */
const STEP_TOLERANCE_MS = 20;

/**
 * The camera: connection (periodic light check, SSDP), its clock (read, set on a second boundary, verify,
 * measure the residual), and what the operator sees of it (status, events, activity log).
 * When to sync is decided elsewhere (TimeSync); this service only does it well and reports it.
 */
@Injectable()
export class CameraService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(CameraService.name);
  private readonly connection = new Subject<CameraStatus>();
  /** Emits the status on every connect and disconnect. */
  readonly connection$: Observable<CameraStatus> = this.connection.asObservable();

  private connected = false;
  private info: CameraInfo | null = null;
  private lastSync: CameraStatus['lastSync'] = null;
  private lastError: string | null = null;
  private discovered: DiscoveredCamera | null = null;
  private transportFailures = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private checking: Promise<CameraStatus> | null = null;
  private syncing: Promise<CameraSyncResult> | null = null;
  private ssdpSubscription: Subscription | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly client: CcapiClient,
    private readonly clock: Clock,
    private readonly systemClock: SystemClock,
    private readonly activity: ActivityLogService,
    private readonly bus: EventBus,
    private readonly ssdp: SsdpDiscovery,
    private readonly waiter: Waiter,
  ) {
    if (config.CAMERA_URL) client.use(config.CAMERA_URL);
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  onModuleInit(): void {
    this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }

  /** Starts the periodic check (the first one at once) and, without CAMERA_URL, SSDP discovery. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.discovering()) {
      this.ssdpSubscription = this.ssdp.events$.subscribe((event) => void this.onSsdp(event));
      void this.ssdp.listen();
    }
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ssdpSubscription?.unsubscribe();
    this.ssdpSubscription = null;
    this.ssdp.close();
    this.client.close();
  }

  // ---- what others ask -------------------------------------------------------------------------

  // Interim port methods until the camera registry lands (one camera, id from its serial).
  statuses(): CameraStatus[] {
    return this.client.baseUrl ? [this.status()] : [];
  }
  syncAll(reason: string) {
    return this.syncClock(reason).then((r) => [{ cameraId: this.status().id, success: true as const, offset: r.offset, residualMs: r.residualMs, residualBoundMs: r.residualBoundMs, newTime: r.newTime }]);
  }
  syncOne(_id: string, reason: string) {
    return this.syncClock(reason);
  }

  status(): CameraStatus {
    const base = this.client.baseUrl;
    return {
      id: this.info?.serialNumber ?? 'camera',
      state: this.connected ? 'connected' : 'disconnected',
      connected: this.connected,
      baseUrl: base ? `${base}/ccapi` : null,
      info: this.info ? { ...this.info } : null,
      lastSync: this.lastSync ? { ...this.lastSync } : null,
      lastError: this.lastError,
    };
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Reads the camera's clock. Throws NO_CAMERA when none is connected, or the camera's error. */
  async readClock(): Promise<CameraClockReading> {
    this.requireCamera();
    const response = await this.client.get('functions/datetime');
    const parsed = parseCameraDateTime(response.data);
    return { ...parsed, piTimeMs: handledAt(response).atMs, roundTripMs: response.receivedAtMs - response.sentAtMs };
  }

  /**
   * Sets the camera's clock to the Pi's time in the Pi's zone, so that the write lands on a second
   * boundary; verifies it and measures the residual. Logged and published either way; failures are
   * re-thrown (no automatic retry). A sync asked for while one runs gets that one's result.
   */
  syncClock(reason: string): Promise<CameraSyncResult> {
    if (this.syncing) return this.syncing;
    const run = this.doSync(reason).finally(() => {
      this.syncing = null;
    });
    this.syncing = run;
    return run;
  }

  /** What starting a timelapse session calls. */
  syncBeforeSession(): Promise<CameraSyncResult> {
    return this.syncClock('before session');
  }

  /** One connection check now (also what the timer runs). Never throws. */
  check(): Promise<CameraStatus> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  // ---- connection ------------------------------------------------------------------------------

  private discovering(): boolean {
    return !this.config.CAMERA_URL && this.config.CAMERA_DISCOVERY;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      this.timer = null;
      await this.check();
      this.schedule(this.config.CAMERA_POLL_INTERVAL);
    }, delayMs);
    this.timer.unref?.();
  }

  private async runCheck(): Promise<CameraStatus> {
    try {
      if (this.connected) await this.probe();
      else await this.tryConnect();
    } catch (error) {
      this.logger.warn(`Camera check failed: ${messageOf(error)}`);
    }
    return this.status();
  }

  private async tryConnect(): Promise<void> {
    if (!this.client.baseUrl || (this.discovering() && !this.discovered)) {
      if (!this.discovering()) return;
      const found = await this.ssdp.searchFirst();
      if (!found) return;
      this.adopt(found);
    }
    try {
      await this.client.loadEndpoints().catch((error) => {
        // Some firmware may not list its endpoints: fall back to the standard ver100 paths.
        if (error instanceof DomainError && error.code === ErrorCode.CAMERA_REJECTED) return;
        throw error;
      });
      this.info = await this.readInfo();
    } catch (error) {
      if (isDomain(error) && error.code === ErrorCode.CAMERA_BUSY) {
        this.info = null; // alive but busy: connected; the details come with a later check
      } else {
        this.lastError = messageOf(error);
        if (this.discovering()) this.discovered = null;
        return;
      }
    }
    this.transportFailures = 0;
    this.setConnected(true);
  }

  private async probe(): Promise<void> {
    try {
      const info = await this.readInfo();
      this.transportFailures = 0;
      if (this.info?.serialNumber && info.serialNumber && info.serialNumber !== this.info.serialNumber) {
        this.setConnected(false, `another camera (${info.productName ?? 'unknown'} ${info.serialNumber}) answers at this address`);
        this.info = info;
        this.setConnected(true);
        return;
      }
      this.info = info;
    } catch (error) {
      const code = isDomain(error) ? error.code : null;
      if (code && ALIVE_CODES.has(code)) {
        // Busy, a refusal or a garbled answer: the camera is there. Nothing changes.
        this.transportFailures = 0;
        return;
      }
      this.transportFailures += 1;
      if (code === ErrorCode.CAMERA_UNREACHABLE || this.transportFailures >= TRANSPORT_FAILURES_FOR_DISCONNECT) {
        this.setConnected(false, messageOf(error));
      }
    }
  }

  private async readInfo(): Promise<CameraInfo> {
    const { data } = await this.client.get<Record<string, unknown>>('deviceinformation');
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera's device information is not understood: ${JSON.stringify(data).slice(0, 80)}`);
    }
    const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : undefined);
    return { productName: text('productname'), serialNumber: text('serialnumber'), firmwareVersion: text('firmwareversion'), manufacturer: text('manufacturer') };
  }

  private adopt(camera: DiscoveredCamera): void {
    this.discovered = camera;
    this.client.use(camera.accessUrl);
  }

  private async onSsdp(event: SsdpEvent): Promise<void> {
    if (event.type === 'alive' && !this.connected) {
      this.adopt(event.camera);
      await this.check();
    } else if (event.type === 'byebye' && this.connected && this.discovered && event.usn === this.discovered.usn) {
      this.setConnected(false, 'the camera signed off the network');
    }
  }

  private setConnected(connected: boolean, reason?: string): void {
    if (connected === this.connected) return;
    this.connected = connected;
    if (connected) {
      this.lastError = null;
      const name = [this.info?.productName, this.info?.serialNumber && `(serial ${this.info.serialNumber})`].filter(Boolean).join(' ') || 'a camera';
      this.activity.add('camera', `Camera connected: ${name} at ${this.client.baseUrl}`, true, { baseUrl: this.client.baseUrl, ...this.info });
    } else {
      this.lastError = reason ?? null;
      // Discovered cameras may come back at another address: search again.
      if (this.discovering()) this.discovered = null;
      this.activity.add('camera', `Camera disconnected: ${reason ?? 'no answer'}`, false, { error: reason, baseUrl: this.client.baseUrl });
    }
    const status = this.status();
    this.bus.emit(connected ? 'camera-connected' : 'camera-disconnected', status);
    this.connection.next(status);
  }

  private requireCamera(): void {
    if (!this.connected) throw new DomainError(ErrorCode.NO_CAMERA, 'no camera connected');
  }

  // ---- the clock sync ---------------------------------------------------------------------------

  private async doSync(reason: string): Promise<CameraSyncResult> {
    this.requireCamera();
    let previous: ClockReading | null = null;
    try {
      const datetime = this.client.endpoint('functions/datetime');
      if (datetime && !datetime.put) {
        throw new DomainError(ErrorCode.CAMERA_REJECTED, 'This camera does not let its clock be set over CCAPI');
      }
      const { timezone } = await this.systemClock.read();
      const result = await this.client.exclusive(async (session) => {
        previous = await this.readOn(session);
        return this.setAndVerify(session, previous, timezone, reason);
      });
      this.lastSync = { success: true, at: this.iso(this.clock.now()), offsetMs: result.offset, residualMs: result.residualMs };
      this.lastError = null;
      const residual = result.residualMs === null ? 'not measured' : `${result.residualMs} ms off (±${result.residualBoundMs} ms)`;
      this.activity.add('camera', `Camera clock set (${reason}): it was ${formatOffset(result.offset)} (±${result.offsetBoundMs} ms), now ${residual}`, true, {
        source: 'camera',
        offset: result.offset,
        offsetBoundMs: result.offsetBoundMs,
        residualMs: result.residualMs,
        residualBoundMs: result.residualBoundMs,
        previousTime: result.previousTime,
        newTime: result.newTime,
        reason,
      });
      this.publishSync({ success: true, previousTime: result.previousTime, newTime: result.newTime, offset: result.offset, residualMs: result.residualMs });
      return result;
    } catch (error) {
      const message = messageOf(error);
      const prev = previous as ClockReading | null;
      const offset = prev ? Math.round(-estimateClockError([prev]).errorMs) : null;
      this.lastSync = { success: false, at: this.iso(this.clock.now()), offsetMs: offset, residualMs: null, error: message };
      this.lastError = message;
      this.activity.add('error', `Camera clock sync failed (${reason}): ${message}`, false, {
        source: 'camera',
        error: message,
        code: isDomain(error) ? error.code : ErrorCode.INTERNAL,
        reason,
        ...(offset !== null ? { offset } : {}),
      });
      this.publishSync({ success: false, previousTime: prev ? this.iso(prev.cameraMs) : null, newTime: null, offset, residualMs: null, error: message });
      throw error;
    }
  }

  private async setAndVerify(session: CcapiSession, previous: ClockReading, timezone: string, reason: string): Promise<CameraSyncResult> {
    const epoch = this.clock.epochOfMonotonic();
    const before: ClockReading[] = [previous];
    // Enough fresh latency samples to time the write (cheap reads; the first one on a new socket is slow).
    for (let i = 0; i < MIN_LATENCY_SAMPLES && this.client.latency.count(this.clock.monotonic()) < MIN_LATENCY_SAMPLES; i++) {
      before.push(await this.readOn(session));
    }
    const oneWayMs = this.client.latency.oneWayMs(this.clock.monotonic()) ?? 0;
    const rttMs = 2 * oneWayMs;

    // Wait so that the PUT reaches the camera on a second boundary; if the timer was off, take the next one.
    // While waiting, keep reading the camera's clock: its old error comes out to the millisecond, not ±500 ms.
    for (let attempt = 0; ; attempt++) {
      const now = this.clock.now();
      const plan = planSecondAlignedSend(now, oneWayMs);
      if (attempt === 0) await this.readWhileWaiting(session, before, plan.sendAtMs - rttMs - PUT_GUARD_MS);
      const later = this.clock.now();
      await this.waiter.until(this.clock.monotonic() + (plan.sendAtMs - later));
      if (Math.abs(secondToWrite(this.clock.now(), oneWayMs).missMs) <= LANDING_TOLERANCE_MS || attempt >= 2) break;
    }
    let written: { secondMs: number; datetime: string; dst: boolean } | null = null;
    await session.put('functions/datetime', {
      body: () => {
        // Built at the last moment, for the second the request will arrive in.
        const { secondMs } = secondToWrite(this.clock.now(), oneWayMs);
        const body = formatCameraDateTime(secondMs, timezone);
        written = { secondMs, ...body };
        return body;
      },
    });
    const sent = written as unknown as { secondMs: number; datetime: string; dst: boolean };

    // Read back: the camera must now show the Pi's time, give or take its one-second resolution.
    const check = await this.readOn(session);
    const at = handledAt(check);
    const off = check.cameraMs + 500 - at.atMs;
    if (Math.abs(off) > 500 + at.boundMs + 250) {
      throw new DomainError(
        ErrorCode.CAMERA_REJECTED,
        `The camera accepted the new time but reads back ${this.iso(check.cameraMs)}, ${formatOffset(-off)} from the Pi's time`,
        { readBack: check.datetime, dst: check.dst },
      );
    }
    let residual = await this.measureResidual(session, check);
    const old = estimateClockError(before);
    if (Math.abs(this.clock.epochOfMonotonic() - epoch) > STEP_TOLERANCE_MS) {
      // The Pi's clock was stepped while this ran: the write used the time before or after, and the
      // readings mix both. The camera has a Pi time; how good it is cannot be told.
      this.logger.warn('The Pi clock was stepped during the camera sync; its residual error is unknown');
      residual = null;
    }
    return {
      success: true,
      reason,
      previousTime: this.iso(previous.cameraMs),
      newTime: this.iso(sent.secondMs),
      offset: Math.round(-old.errorMs),
      offsetBoundMs: Math.ceil(old.boundMs),
      residualMs: residual ? Math.round(residual.errorMs) : null,
      residualBoundMs: residual ? Math.ceil(residual.boundMs) : null,
      datetime: sent.datetime,
      dst: sent.dst,
      timezone,
      latencyMs: Math.round(oneWayMs * 10) / 10,
    };
  }

  /** Reads the camera's clock, paced, until `stopAtMs` (Pi time) or until its error is known well enough. */
  private async readWhileWaiting(session: CcapiSession, readings: ClockReading[], stopAtMs: number): Promise<void> {
    while (estimateClockError(readings).boundMs > TIGHT_ENOUGH_MS) {
      const rtt = this.client.latency.roundTripMs(this.clock.monotonic()) ?? 0;
      if (this.clock.now() + rtt >= stopAtMs) return;
      readings.push(await this.readOn(session));
      const pause = Math.min(WAIT_READ_SPACING_MS, stopAtMs - this.clock.now() - rtt);
      if (pause > 0) await this.waiter.until(this.clock.monotonic() + pause);
    }
  }

  /**
   * Polls the camera's clock across its next tick: the tick happened between the last reading of the old
   * second and the first of the new one, which places the camera's phase to about one round trip.
   * Bounded; null if the camera stopped answering (which does not undo the sync).
   */
  private async measureResidual(session: CcapiSession, last: ClockReading): Promise<{ errorMs: number; boundMs: number } | null> {
    const deadline = this.clock.monotonic() + RESIDUAL_WINDOW_MS;
    const rtt = this.client.latency.roundTripMs(this.clock.monotonic()) ?? 0;
    // Start a little early: a timer that fires late on a busy event loop must not miss the tick.
    const startAt = last.cameraMs + 1000 - Math.max(100, rtt * 2 + 40);
    const now = this.clock.now();
    if (startAt > now) await this.waiter.until(this.clock.monotonic() + Math.min(startAt - now, RESIDUAL_WINDOW_MS));
    const readings: ClockReading[] = [last];
    try {
      while (this.clock.monotonic() < deadline) {
        const reading = await this.readOn(session);
        readings.push(reading);
        if (reading.cameraMs !== last.cameraMs) break;
      }
    } catch (error) {
      this.logger.warn(`Measuring the camera's residual error failed: ${messageOf(error)}`);
      return null;
    }
    const estimate = estimateClockError(readings);
    // Readings that contradict each other (the camera or the Pi clock jumped) measure nothing.
    return estimate.consistent ? estimate : null;
  }

  private async readOn(session: CcapiSession): Promise<ClockReading & { datetime: string; dst: boolean }> {
    const response = await session.get('functions/datetime');
    const parsed = parseCameraDateTime(response.data);
    return { cameraMs: parsed.epochMs, datetime: parsed.datetime, dst: parsed.dst, sentAtMs: response.sentAtMs, receivedAtMs: response.receivedAtMs };
  }

  private publishSync(data: { success: boolean; previousTime: string | null; newTime: string | null; offset: number | null; residualMs: number | null; error?: string }): void {
    this.bus.emit('camera-sync', { cameraId: this.status().id, ...data });
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }
}

function isDomain(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

/** "1.2 s behind" style, from Pi minus camera. */
function formatOffset(piMinusCameraMs: number): string {
  const size = formatDuration(Math.abs(piMinusCameraMs));
  return piMinusCameraMs >= 0 ? `${size} behind` : `${size} ahead`;
}
