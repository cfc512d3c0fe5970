import { Logger } from '@nestjs/common';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { CameraInfo, CameraState, CameraStatus, CameraSyncSummary } from '../protocol/messages';
import { formatCameraDateTime, parseCameraDateTime } from '../time/camera-datetime';
import { Clock } from '../time/clock';
import { formatDuration } from '../time/format';
import { cameraIdFor } from './camera-id';
import { CcapiClient, CcapiSession, isRenewedChallenge } from './ccapi-client';
import { DiscoveredCamera } from './ssdp';
import { ClockReading, estimateClockError, handledAt, LatencyEstimator, planSecondAlignedSend, secondToWrite, SharedSecondBoundary } from './sync-timing';
import { Waiter } from './waiter';

/** A successful clock sync of one camera. */
export interface CameraSyncResult {
  cameraId: string;
  success: true;
  reason: string;
  /** The camera's clock before the sync (UTC, whole seconds as the camera showed them). */
  previousTime: string;
  /** The second written to the camera (UTC): the boundary its PUT was timed to arrive at. */
  newTime: string;
  /** Pi minus camera before the sync, ms: the correction applied. */
  offset: number;
  /** How far off `offset` can be, ms (500 at worst: the camera shows whole seconds). */
  offsetBoundMs: number;
  /** Camera minus Pi after the sync, ms, measured at a tick of the camera's second; null unless measured with a meaningful bound. */
  residualMs: number | null;
  /** How far off residualMs can be, ms; null when residualMs is. */
  residualBoundMs: number | null;
  /** Read back and residual measured; false: set, not verified (`unverifiedBecause` says why). */
  verified: boolean;
  unverifiedBecause?: string;
  /** What was written, in the Pi's zone. */
  datetime: string;
  dst: boolean;
  timezone: string;
  /** One-way request latency the write was timed with, ms. */
  latencyMs: number;
}

/** A failed clock sync of one camera: why, and what was known of its clock before. */
export interface CameraSyncFailure {
  cameraId: string;
  success: false;
  reason: string;
  code: ErrorCode;
  error: string;
  /** The camera's clock before the attempt, if it was read. */
  previousTime: string | null;
  /** Pi minus camera before the attempt, ms, if it was read. */
  offset: number | null;
}

export type CameraSyncReport = CameraSyncResult | CameraSyncFailure;

/** The camera's clock as read. `epochMs` is the start of the second it shows (true UTC, DST taken off). */
export interface CameraClockReading {
  cameraId: string;
  epochMs: number;
  datetime: string;
  dst: boolean;
  /** The Pi's clock at the estimated moment the camera answered, ms. */
  piTimeMs: number;
  roundTripMs: number;
}

/** Where a session's camera is: a configured URL, or one SSDP found. */
export interface CameraSource {
  url: string;
  discovered?: DiscoveredCamera;
}

/** What the registry hears from its sessions. */
export interface CameraSessionOwner {
  /** The state changed (`reason`: why, in plain words), or something pages show (`from === state`). */
  changed(session: CameraSession, from: CameraState, reason: string | null): void;
  /** Another session already holds `id` (the same camera at two addresses): its URL, else null. */
  holderOf(id: string, asker: CameraSession): CameraSession | null;
}

/** Errors after which the camera is certainly still there (it answered, if only to say no). */
const ALIVE_CODES = new Set<string>([ErrorCode.CAMERA_BUSY, ErrorCode.CAMERA_REJECTED, ErrorCode.CAMERA_BAD_ANSWER]);
/** Consecutive timeouts / resets before the camera counts as gone (a refused connection counts at once). */
const TRANSPORT_FAILURES_FOR_DISCONNECT = 2;
/** A timer that fires this far from the planned instant makes the sync wait for the next second. */
const LANDING_TOLERANCE_MS = 20;
/** Reads taken at the start of every sync to measure the latency afresh (a median over minutes lags a changed round trip). */
const LATENCY_READS = 5;
/** The latest readings whose median round trip times the PUT. */
const LATENCY_WINDOW = 9;
/** Longest the residual measurement may poll after the read-back. */
const RESIDUAL_WINDOW_MS = 1200;
/** A residual known only this loosely is not reported (the camera shows whole seconds: ±500 is no measurement; ±200 still says which part of the second). */
const MEANINGFUL_RESIDUAL_BOUND_MS = 200;
/** Room left between the last read while waiting and the PUT. */
const PUT_GUARD_MS = 15;
/** Pace of those reads, ms. */
const WAIT_READ_SPACING_MS = 25;
/** An old error known to this many ms is enough. */
const TIGHT_ENOUGH_MS = 10;
/** A change of wall minus monotonic beyond this means the Pi clock was stepped. */
const STEP_TOLERANCE_MS = 20;

type Reading = ClockReading & { datetime: string; dst: boolean };

/**
 * One camera: its CCAPI client (queue, keep-alive sockets, Digest state, TLS agent), its connection state
 * and poll, and its clock sync (read, write on a second boundary, read back, measure the residual).
 * Created by CameraSessionFactory, held by CameraService; reports to it through `CameraSessionOwner`.
 */
export class CameraSession {
  private readonly logger = new Logger(CameraSession.name);
  private currentState: CameraState = CameraState.Disconnected;
  private currentId: string;
  private info: CameraInfo | null = null;
  private lastSync: CameraSyncSummary | null = null;
  private lastError: string | null = null;
  private transportFailures = 0;
  private checking: Promise<void> | null = null;
  private syncing: Promise<CameraSyncReport> | null = null;
  private discoveredCamera: DiscoveredCamera | null;
  /** A discovered camera that signed off or stopped answering: not polled until SSDP sees it again. */
  private dormant = false;
  private closed = false;

  constructor(
    source: CameraSource,
    readonly client: CcapiClient,
    private readonly clock: Clock,
    private readonly waiter: Waiter,
    private readonly owner: CameraSessionOwner,
  ) {
    client.use(source.url);
    this.discoveredCamera = source.discovered ?? null;
    this.currentId = this.identify();
  }

  // ---- what the registry asks -----------------------------------------------------------------

  /** Serial number, else GUID, else a name from the address. Chosen when the camera connects, kept while it is away. */
  get id(): string {
    return this.currentId;
  }

  get state(): CameraState {
    return this.currentState;
  }

  get discovered(): DiscoveredCamera | null {
    return this.discoveredCamera;
  }

  /** Whether the periodic check should try this camera (a discovered camera that left waits for SSDP). */
  get polled(): boolean {
    return !this.dormant && !this.closed;
  }

  status(): CameraStatus {
    const root = this.client.baseUrl;
    const guid = this.info?.guid ?? this.discoveredCamera?.udn?.replace(/^uuid:/i, '');
    return {
      id: this.currentId,
      state: this.currentState,
      connected: this.currentState === CameraState.Connected,
      baseUrl: root ? `${root}/ccapi` : null,
      info: this.info ? { ...this.info, ...(guid ? { guid } : {}) } : null,
      lastSync: this.lastSync ? { ...this.lastSync } : null,
      lastError: this.lastError,
    };
  }

  /** One connection check now (also what the poll runs). Never throws. */
  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  /** SSDP saw the camera (alive, or an answer to a search), perhaps at a new address: poll it again, at once. */
  seen(camera: DiscoveredCamera): Promise<void> {
    this.discoveredCamera = camera;
    this.dormant = false;
    if (this.client.baseUrl !== null && this.state !== CameraState.Disconnected && sameRoot(this.client.baseUrl, camera.accessUrl)) return Promise.resolve();
    this.client.use(camera.accessUrl);
    return this.check();
  }

  /** SSDP ssdp:byebye. */
  signedOff(): void {
    this.dormant = true;
    this.setState(CameraState.Disconnected, 'the camera signed off the network');
  }

  /** Reads the camera's clock. Throws NO_CAMERA / CAMERA_AUTH_REQUIRED unless connected, or the camera's error. */
  async readClock(): Promise<CameraClockReading> {
    this.requireConnected();
    const response = await this.client.get('functions/datetime');
    const parsed = parseCameraDateTime(response.data);
    return {
      cameraId: this.currentId,
      epochMs: parsed.epochMs,
      datetime: parsed.datetime,
      dst: parsed.dst,
      piTimeMs: handledAt(response).atMs,
      roundTripMs: response.receivedAtMs - response.sentAtMs,
    };
  }

  /**
   * Sets the camera's clock to the Pi's time in `timezone`, its PUT arriving on the boundary agreed in
   * `boundary` (each camera of a "sync all" takes part in the same one); reads it back and measures the
   * residual. Never throws: a failure is a CameraSyncFailure. A sync asked for while one runs gets that one's
   * report (and leaves `boundary`).
   */
  sync(reason: string, timezone: string, boundary: SharedSecondBoundary): Promise<CameraSyncReport> {
    if (this.syncing) {
      boundary.leave();
      return this.syncing;
    }
    const run = this.runSync(reason, timezone, boundary).finally(() => {
      this.syncing = null;
    });
    this.syncing = run;
    return run;
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }

  // ---- connection ------------------------------------------------------------------------------

  private async runCheck(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.currentState === CameraState.Connected) await this.probe();
      else await this.tryConnect();
    } catch (error) {
      this.logger.warn(`Camera check failed at ${this.client.baseUrl}: ${messageOf(error)}`);
    }
  }

  private async tryConnect(): Promise<void> {
    let info: CameraInfo | null = null;
    try {
      await this.client.loadEndpoints().catch((error) => {
        // Some firmware may not list its endpoints: fall back to the standard ver100 paths.
        if (codeOf(error) === ErrorCode.CAMERA_REJECTED) return;
        throw error;
      });
      info = await this.readInfo();
    } catch (error) {
      const code = codeOf(error);
      if (code === ErrorCode.CAMERA_AUTH_REQUIRED) {
        this.transportFailures = 0;
        this.setState(CameraState.NeedsCredentials, messageOf(error));
        return;
      }
      if (code !== ErrorCode.CAMERA_BUSY) {
        // Alive but busy counts as connected (the details come with a later check); anything else does not.
        if (!(code && ALIVE_CODES.has(code))) this.failedTransport(error, code);
        if (this.currentState === CameraState.Disconnected) this.lastError = messageOf(error);
        return;
      }
    }
    const id = this.identify(info);
    const holder = this.owner.holderOf(id, this);
    if (holder) {
      this.lastError = `the same camera as the one at ${holder.client.baseUrl}`;
      this.setState(CameraState.Disconnected, this.lastError);
      return;
    }
    this.transportFailures = 0;
    this.info = info ?? this.info;
    this.setState(CameraState.Connected, null);
  }

  private async probe(): Promise<void> {
    let info: CameraInfo;
    try {
      info = await this.readInfo();
    } catch (error) {
      const code = codeOf(error);
      if (code === ErrorCode.CAMERA_AUTH_REQUIRED) {
        this.setState(CameraState.NeedsCredentials, messageOf(error));
      } else if (code && ALIVE_CODES.has(code)) {
        this.transportFailures = 0; // busy, a refusal or a garbled answer: the camera is there
      } else {
        this.failedTransport(error, code);
      }
      return;
    }
    this.transportFailures = 0;
    const before = this.info;
    if (before?.serialNumber && info.serialNumber && info.serialNumber !== before.serialNumber) {
      this.setState(CameraState.Disconnected, `another camera (${info.productName ?? 'unknown'} ${info.serialNumber}) answers at this address`);
      this.info = info;
      this.setState(CameraState.Connected, null);
      return;
    }
    this.info = info;
    if (JSON.stringify(before) !== JSON.stringify(info)) this.owner.changed(this, this.currentState, null);
  }

  private failedTransport(error: unknown, code: string | null): void {
    if (this.currentState === CameraState.Disconnected) return;
    this.transportFailures += 1;
    if (code === ErrorCode.CAMERA_UNREACHABLE || this.transportFailures >= TRANSPORT_FAILURES_FOR_DISCONNECT) {
      this.setState(CameraState.Disconnected, messageOf(error));
    }
  }

  private async readInfo(): Promise<CameraInfo> {
    const { data } = await this.client.get<Record<string, unknown>>('deviceinformation');
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera's device information is not understood: ${JSON.stringify(data).slice(0, 80)}`);
    }
    const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : undefined);
    const info: CameraInfo = {
      productName: text('productname'),
      serialNumber: text('serialnumber'),
      firmwareVersion: text('firmwareversion'),
      manufacturer: text('manufacturer'),
      guid: text('guid'),
    };
    for (const key of Object.keys(info) as Array<keyof CameraInfo>) if (info[key] === undefined) delete info[key];
    return info;
  }

  private identify(info: CameraInfo | null = this.info): string {
    const found = this.discoveredCamera;
    return cameraIdFor(
      { serialNumber: info?.serialNumber ?? found?.serialNumber, guid: info?.guid ?? found?.udn },
      found?.accessUrl ?? this.client.baseUrl ?? '',
    );
  }

  private setState(to: CameraState, reason: string | null): void {
    const from = this.currentState;
    if (from === to) return;
    this.currentState = to;
    if (to === CameraState.Disconnected) {
      this.transportFailures = 0;
      if (this.discoveredCamera) this.dormant = true; // it may come back elsewhere: SSDP will say
    } else {
      this.currentId = this.identify();
    }
    this.lastError = to === CameraState.Connected ? null : reason;
    this.owner.changed(this, from, reason);
  }

  private requireConnected(): void {
    if (this.currentState === CameraState.NeedsCredentials) {
      throw new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, needsCredentialsMessage(this.client.baseUrl), { cameraId: this.currentId });
    }
    if (this.currentState !== CameraState.Connected) {
      throw new DomainError(ErrorCode.NO_CAMERA, `camera ${this.currentId} is not connected`, { cameraId: this.currentId });
    }
  }

  // ---- the clock sync ---------------------------------------------------------------------------

  private async runSync(reason: string, timezone: string, boundary: SharedSecondBoundary): Promise<CameraSyncReport> {
    let joined = false;
    const join = (oneWayMs: number) => {
      joined = true;
      return boundary.arrive(oneWayMs);
    };
    let previous: Reading | null = null;
    try {
      this.requireConnected();
      const datetime = this.client.endpoint('functions/datetime');
      if (datetime && !datetime.put) throw new DomainError(ErrorCode.CAMERA_REJECTED, 'This camera does not let its clock be set over CCAPI');
      const result = await this.client.exclusive(async (session) => {
        previous = await this.readOn(session);
        return this.setAndVerify(session, previous, timezone, reason, join);
      });
      this.lastSync = {
        success: true,
        at: iso(this.clock.now()),
        offsetMs: result.offset,
        residualMs: result.residualMs,
        residualBoundMs: result.residualBoundMs,
        verified: result.verified,
      };
      this.lastError = null;
      return result;
    } catch (error) {
      if (!joined) boundary.leave();
      const cause = error instanceof DomainError ? error : new DomainError(ErrorCode.INTERNAL, messageOf(error));
      if (cause.code === ErrorCode.CAMERA_AUTH_REQUIRED) this.setState(CameraState.NeedsCredentials, cause.message);
      const before = previous as Reading | null;
      const offset = before ? Math.round(-estimateClockError([before]).errorMs) : null;
      this.lastSync = { success: false, at: iso(this.clock.now()), offsetMs: offset, residualMs: null, residualBoundMs: null, verified: false, error: cause.message };
      this.lastError = cause.message;
      return { cameraId: this.currentId, success: false, reason, code: cause.code, error: cause.message, previousTime: before ? iso(before.cameraMs) : null, offset };
    }
  }

  private async setAndVerify(
    session: CcapiSession,
    previous: Reading,
    timezone: string,
    reason: string,
    join: (oneWayMs: number) => Promise<number>,
  ): Promise<CameraSyncResult> {
    const epoch = this.clock.epochOfMonotonic();
    const readings: Reading[] = [previous];
    // Fresh latency samples right before the write (the first read on a new socket is slow; the median skips it).
    while (readings.length < LATENCY_READS) readings.push(await this.readOn(session));
    let oneWayMs = oneWayOf(readings);
    const boundaryMs = await join(oneWayMs);

    // Wait so that the PUT reaches the camera on the agreed boundary; if the timer was off, take the next one.
    // While waiting, keep reading the camera's clock: its old error comes out to the millisecond, not ±500 ms,
    // and the round trips keep the latency fresh.
    for (let attempt = 0; ; attempt++) {
      const target = attempt === 0 ? boundaryMs : planSecondAlignedSend(this.clock.now(), oneWayMs).boundaryMs;
      if (attempt === 0) {
        await this.readWhileWaiting(session, readings, target - oneWayMs - 2 * oneWayMs - PUT_GUARD_MS);
        oneWayMs = oneWayOf(readings);
      }
      await this.waiter.until(this.clock.monotonic() + (target - oneWayMs - this.clock.now()));
      if (Math.abs(secondToWrite(this.clock.now(), oneWayMs).missMs) <= LANDING_TOLERANCE_MS || attempt >= 2) break;
    }
    let written: { secondMs: number; datetime: string; dst: boolean } | null = null;
    const body = () => {
      // Built at the last moment, for the second the request will arrive in.
      const { secondMs } = secondToWrite(this.clock.now(), oneWayMs);
      const value = formatCameraDateTime(secondMs, timezone);
      written = { secondMs, ...value };
      return value;
    };
    try {
      await session.put('functions/datetime', { body, resendAfterChallenge: false });
    } catch (error) {
      if (!isRenewedChallenge(error)) throw error;
      // The camera wanted a fresh Digest nonce: resending now would land a round trip late. Take the next boundary.
      const target = planSecondAlignedSend(this.clock.now(), oneWayMs).boundaryMs;
      await this.waiter.until(this.clock.monotonic() + (target - oneWayMs - this.clock.now()));
      await session.put('functions/datetime', { body });
    }
    const sent = written as unknown as { secondMs: number; datetime: string; dst: boolean };
    const old = estimateClockError(readings);
    const base = {
      cameraId: this.currentId,
      success: true as const,
      reason,
      previousTime: iso(previous.cameraMs),
      newTime: iso(sent.secondMs),
      offset: Math.round(-old.errorMs),
      offsetBoundMs: Math.ceil(old.boundMs),
      datetime: sent.datetime,
      dst: sent.dst,
      timezone,
      latencyMs: Math.round(oneWayMs * 10) / 10,
    };
    const unverified = (why: string): CameraSyncResult => ({ ...base, residualMs: null, residualBoundMs: null, verified: false, unverifiedBecause: why });

    // Read back: the camera must now show the Pi's time, give or take its one-second resolution.
    let check: Reading;
    try {
      check = await this.readOn(session);
    } catch (error) {
      // The camera took the time; it just cannot be checked now.
      return unverified(`the read-back failed: ${messageOf(error)}`);
    }
    const at = handledAt(check);
    const off = check.cameraMs + 500 - at.atMs;
    if (Math.abs(off) > 500 + at.boundMs + 250) {
      throw new DomainError(
        ErrorCode.CAMERA_REJECTED,
        `The camera accepted the new time but reads back ${iso(check.cameraMs)}, ${formatOffset(-off)} from the Pi's time`,
        { readBack: check.datetime, dst: check.dst },
      );
    }
    const residual = await this.measureResidual(session, check, oneWayMs);
    if (Math.abs(this.clock.epochOfMonotonic() - epoch) > STEP_TOLERANCE_MS) {
      // The write used the Pi's time before or after a step, and the readings mix both: how good it is cannot be told.
      return unverified('the Pi clock was stepped during the sync');
    }
    if (!residual) return unverified("the camera's next second tick was not seen");
    if (residual.boundMs > MEANINGFUL_RESIDUAL_BOUND_MS) return unverified(`the residual is known only to ±${Math.ceil(residual.boundMs)} ms`);
    return { ...base, residualMs: Math.round(residual.errorMs), residualBoundMs: Math.ceil(residual.boundMs), verified: true };
  }

  /** Reads the camera's clock, paced, until `stopAtMs` (Pi time) or until its error is known well enough. */
  private async readWhileWaiting(session: CcapiSession, readings: Reading[], stopAtMs: number): Promise<void> {
    while (estimateClockError(readings).boundMs > TIGHT_ENOUGH_MS) {
      const rtt = 2 * oneWayOf(readings);
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
  private async measureResidual(session: CcapiSession, last: Reading, oneWayMs: number): Promise<{ errorMs: number; boundMs: number } | null> {
    const deadline = this.clock.monotonic() + RESIDUAL_WINDOW_MS;
    // Start a little early: a timer that fires late on a busy event loop must not miss the tick.
    const startAt = last.cameraMs + 1000 - Math.max(100, 4 * oneWayMs + 40);
    const now = this.clock.now();
    if (startAt > now) await this.waiter.until(this.clock.monotonic() + Math.min(startAt - now, RESIDUAL_WINDOW_MS));
    const readings: Reading[] = [last];
    try {
      while (this.clock.monotonic() < deadline) {
        const reading = await this.readOn(session);
        readings.push(reading);
        if (reading.cameraMs !== last.cameraMs) break;
      }
    } catch (error) {
      this.logger.warn(`Measuring the residual error of camera ${this.currentId} failed: ${messageOf(error)}`);
      return null;
    }
    const estimate = estimateClockError(readings);
    // Readings that contradict each other (the camera or the Pi clock jumped) measure nothing.
    return estimate.consistent ? estimate : null;
  }

  private async readOn(session: CcapiSession): Promise<Reading> {
    const response = await session.get('functions/datetime');
    const parsed = parseCameraDateTime(response.data);
    return { cameraMs: parsed.epochMs, datetime: parsed.datetime, dst: parsed.dst, sentAtMs: response.sentAtMs, receivedAtMs: response.receivedAtMs };
  }
}

/** The activity line for a camera that answers 401. */
export function needsCredentialsMessage(baseUrl: string | null): string {
  return `Camera at ${baseUrl ?? 'an unknown address'} refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD`;
}

/** Half the median round trip of the latest readings of this sync. */
function oneWayOf(readings: readonly ClockReading[]): number {
  const latency = new LatencyEstimator(LATENCY_WINDOW, Infinity);
  for (const r of readings.slice(-LATENCY_WINDOW)) latency.add(r.receivedAtMs - r.sentAtMs, 0);
  return latency.oneWayMs(0) ?? 0;
}

function codeOf(error: unknown): string | null {
  return error instanceof DomainError ? error.code : null;
}

function sameRoot(a: string, b: string): boolean {
  const strip = (url: string) => url.replace(/\/+$/, '').replace(/\/ccapi$/, '');
  return strip(a) === strip(b);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** "1.2 s behind" style, from Pi minus camera. */
export function formatOffset(piMinusCameraMs: number): string {
  const size = formatDuration(Math.abs(piMinusCameraMs));
  return piMinusCameraMs >= 0 ? `${size} behind` : `${size} ahead`;
}
