import { Logger } from '@nestjs/common';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { CameraClockCheck, CameraInfo, CameraState, CameraStatus, CameraSyncKind, CameraSyncSummary } from '../protocol/messages';
import { formatCameraDateTime, parseCameraDateTime } from '../time/camera-datetime';
import { Clock } from '../time/clock';
import { ASSUMED_MAX_DRIFT_PPM, DriftEstimate, DriftSeries, offsetBoundAfter, roundedDrift } from '../time/drift';
import { formatDuration } from '../time/format';
import { cameraIdFor } from './camera-id';
import { CameraMeasurement, CameraWrite, MeasurementKind } from './camera-measurement';
import { CcapiClient, CcapiResponse, CcapiSession, isRenewedChallenge, normaliseCameraUrl } from './ccapi-client';
import { ErrorWindow, planningWindow, planRound, probeUseful, windowOf, writeDecision } from './clock-phase';
import { DiscoveredCamera } from './ssdp';
import { ClockReading, estimateClockError, handledAt, planSecondAlignedSend, recentRoundTripMs, secondToWrite, SharedSecondBoundary } from './sync-timing';
import { rewriteDecision } from './spread-goal';
import { Waiter } from './waiter';
import { logText } from '../common/escape';

/** A successful clock sync of one camera. */
export interface CameraSyncResult {
  cameraId: string;
  success: true;
  outcome: typeof CameraSyncKind.WrittenVerified | typeof CameraSyncKind.WrittenUnverified;
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
  /** The clock was written (CameraSyncKept: it was not, being within the threshold). */
  written: true;
  /** The Pi's clock was stepped during the sync: the offsets straddle two references. */
  piSteppedDuring?: boolean;
  /** Re-writes after the first (CAMERA_SPREAD_GOAL_MS), in order; absent when none. The fields above are the last write's. */
  rewrites?: CameraRewrite[];
}

/** A camera sync that measured the camera within CAMERA_SYNC_THRESHOLD of the Pi and so did not write it. */
export interface CameraSyncKept {
  cameraId: string;
  success: true;
  outcome: typeof CameraSyncKind.MeasuredKept;
  written: false;
  reason: string;
  /** The camera's clock when first read (UTC, whole seconds as the camera showed them). */
  previousTime: string;
  /** Pi minus camera, ms, within ±offsetBoundMs (as CameraSyncResult's `offset`). */
  offset: number;
  offsetBoundMs: number;
  /** Camera minus Pi, ms: nothing was written, so the same measurement, within ±residualBoundMs. */
  residualMs: number;
  residualBoundMs: number;
  verified: true;
  thresholdMs: number;
  measurement: CameraMeasurement;
}

/** A failed clock sync of one camera: why, and what was known of its clock before. */
export interface CameraSyncFailure {
  cameraId: string;
  success: false;
  outcome: typeof CameraSyncKind.Failed;
  reason: string;
  code: ErrorCode;
  error: string;
  /** The camera's clock before the attempt, if it was read. */
  previousTime: string | null;
  /** Pi minus camera before the attempt, ms, if it was read. */
  offset: number | null;
}

export type CameraSyncReport = CameraSyncResult | CameraSyncKept | CameraSyncFailure;

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
  /**
   * SSDP announced a serial number already adopted at another address: maybe the camera got a new lease, maybe
   * something pretending to be it. Kept apart, and never a time source for the Pi.
   */
  unverified?: boolean;
}

/** What the registry hears from its sessions. */
export interface CameraSessionOwner {
  /** The state changed (`reason`: why, in plain words), or something pages show (`from === state`). */
  changed(session: CameraSession, from: CameraState, reason: string | null): void;
  /** Another session already holds `id` (the same camera at two addresses): its URL, else null. */
  holderOf(id: string, asker: CameraSession): CameraSession | null;
  /** A measurement of the camera's clock was taken (every one: checks, on demand, before and after writes). */
  measured?(session: CameraSession, measurement: CameraMeasurement): void;
  /** The camera's clock was written. */
  wrote?(session: CameraSession, write: CameraWrite): void;
}

/** One re-write of a sync (CAMERA_SPREAD_GOAL_MS): the verified residual that asked for it and what it left, ms. */
export interface CameraRewrite {
  goalMs: number;
  residualBeforeMs: number;
  residualBeforeBoundMs: number;
  /** null when the re-write could not be verified. */
  residualAfterMs: number | null;
  residualAfterBoundMs: number | null;
  latencyMs: number;
  newTime: string;
}

/** A PUT sent to land on a boundary: the second written, the exchange, and the one-way time it was timed with. */
interface AlignedWrite {
  sent: { secondMs: number; datetime: string; dst: boolean };
  put: CcapiResponse;
  oneWayMs: number;
}

/** What reading a camera back after a write found; `unverifiedBecause` null: `after` is its verified residual. */
interface WriteCheck {
  after: CameraMeasurement | null;
  unverifiedBecause: string | null;
  piStepped?: boolean;
  readings?: Reading[];
}

function residualOf(check: WriteCheck): { verified: boolean; residualMs: number | null; residualBoundMs: number | null } {
  const verified = check.unverifiedBecause === null && check.after !== null && !check.after.uncertain;
  return { verified, residualMs: verified ? check.after!.offsetMs : null, residualBoundMs: verified ? check.after!.boundMs : null };
}

function resultOf(write: AlignedWrite): { newTime: string; datetime: string; dst: boolean; latencyMs: number } {
  return { newTime: iso(write.sent.secondMs), datetime: write.sent.datetime, dst: write.sent.dst, latencyMs: Math.round(write.oneWayMs * 10) / 10 };
}

/** Errors after which the camera is certainly still there (it answered, if only to say no). */
const ALIVE_CODES = new Set<string>([ErrorCode.CAMERA_BUSY, ErrorCode.CAMERA_REJECTED, ErrorCode.CAMERA_BAD_ANSWER]);
/** Consecutive timeouts / resets before the camera counts as gone (a refused connection counts at once). */
const TRANSPORT_FAILURES_FOR_DISCONNECT = 2;
/** A timer that fires this far from the planned instant makes the sync wait for the next second. */
const LANDING_TOLERANCE_MS = 20;
/**
 * Reads taken right before the write to measure the latency afresh (a median over minutes lags a changed round
 * trip): at least this many, more until the latest three agree with the estimate, at most LATENCY_MAX_READS.
 */
const LATENCY_READS = 3;
const LATENCY_MAX_READS = 9;
/** A clock known only this loosely is "uncertain" (the camera shows whole seconds: ±500 is no measurement; ±200 still says which part of the second). */
const MEANINGFUL_BOUND_MS = 200;
/** Room left between the last read while waiting and the PUT. */
const PUT_GUARD_MS = 15;
/** Pace of those reads, ms. */
const WAIT_READ_SPACING_MS = 25;
/** An old error known to this many ms is enough. */
const TIGHT_ENOUGH_MS = 10;
/** A change of wall minus monotonic beyond this means the Pi clock was stepped. */
const STEP_TOLERANCE_MS = 20;
/** Room between planning a re-write's boundary and its send (reads go on meanwhile). */
const REWRITE_LEAD_MS = 100;
/** Longest wait for a planned send time: boundaries are planned a few seconds ahead at most. */
const MAX_PLANNED_WAIT_MS = 5000;

function piStepped(what: string): DomainError {
  return new DomainError(ErrorCode.PI_CLOCK_STEPPED, `The Pi's clock was changed while the camera was being set (${what}); the cameras are set again after every change of the Pi's clock`);
}
/** Reads a measurement starts with (a coarse window and the round trip). */
const FIRST_READS = 3;
/** Rounds of probes around the camera's ticks (each about one second), and the time they may take. */
const MEASURE_MAX_ROUNDS = 5;
const MEASURE_BUDGET_MS = 6000;
/** Probes in one round, at most (one second unknown: one every 50 ms). */
const MAX_PROBES_PER_ROUND = 20;
/** Between a probe's answer and the next send, and from planning to the first send, ms. */
const PROBE_GAP_MS = 2;
const PROBE_LEAD_MS = 5;
/** Below this the measurement stops refining (and a round trip's worth is the best a link allows). */
const MEASURE_TIGHT_MS = 8;
/** Before a write decided early (the camera is far off), reads this far apart, for at most REFINE_MAX_MS, pin its old error for the journal. */
const REFINE_MAX_MS = 1200;
/** Pi timestamps are whole milliseconds. */
const TIMESTAMP_RESOLUTION_MS = 1;
/** Room around a guess of where the camera's error is (its last measurement, the write just made). */
const HINT_MARGIN_MS = 20;
/** Longest single wait of a measurement between looks at whether it was cancelled. */
const CANCEL_CHECK_MS = 100;

type Reading = ClockReading & { datetime: string; dst: boolean };

/** What a measurement's readings claim (see `conclude`). */
interface Phase {
  readings: Reading[];
  /** The error window, widened by the slack of `conclude`; null if the readings contradict each other or the Pi stepped. */
  window: ErrorWindow | null;
  /** Camera minus Pi and its bound; null when uncertain (`uncertain` says why). */
  errorMs: number | null;
  boundMs: number | null;
  uncertain: string | null;
  roundTripMs: number | null;
  /** The Pi's wall minus monotonic, monotonic and wall time at the end. */
  epoch: number;
  atMono: number;
  atMs: number;
}

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
  /** The last measurement that was not uncertain, and the Pi's wall minus monotonic then (to follow a Pi step since). */
  private clockCheck: { measurement: CameraMeasurement & { offsetMs: number; boundMs: number }; epoch: number } | null = null;
  /** Camera minus the Pi's monotonic clock since the last write (so a step of the Pi's wall clock does not break it). */
  private readonly drift = new DriftSeries();
  private driftEpoch: number | null = null;
  private lastMeasurementMono: number | null = null;
  /** The periodic check in progress, which a sync or a pause cancels. */
  private checkToken: { cancelled: boolean } | null = null;
  /** See CameraSource.unverified. */
  readonly unverified: boolean;
  /** The host the session was made for, e.g. `10.42.0.5` (IPv6 without brackets); its client is pinned to it. */
  readonly host: string;

  constructor(
    source: CameraSource,
    readonly client: CcapiClient,
    private readonly clock: Clock,
    private readonly waiter: Waiter,
    private readonly owner: CameraSessionOwner,
  ) {
    client.use(source.url);
    this.host = new URL(normaliseCameraUrl(source.url)).hostname.replace(/^\[(.*)\]$/, '$1');
    this.unverified = source.unverified === true;
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
      ...(this.clockCheck ? { clock: this.clockStatus() } : {}),
    };
  }

  /** Monotonic time of the last measurement (uncertain ones too), or null. */
  get lastMeasuredMono(): number | null {
    return this.lastMeasurementMono;
  }

  /** The camera's drift against the Pi since its last write, or null. */
  driftEstimate(): DriftEstimate | null {
    return this.drift.estimate();
  }

  /** One connection check now (also what the poll runs). Never throws. */
  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  /** SSDP saw the camera (alive, or an answer to a search) at its own address, perhaps on another port: poll it again, at once. */
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
   * residual. First it measures the camera read-only: within `thresholdMs` (default 0: always write) it is not
   * written (CameraSyncKept). Never throws: a failure is a CameraSyncFailure. A sync asked for while one runs
   * gets that one's report (and leaves `boundary`). A periodic check in progress is cancelled.
   */
  sync(reason: string, timezone: string, boundary: SharedSecondBoundary, options: { thresholdMs?: number; spreadGoalMs?: number } = {}): Promise<CameraSyncReport> {
    if (this.syncing) {
      boundary.leave();
      return this.syncing;
    }
    this.cancelCheck();
    const run = this.runSync(reason, timezone, boundary, options.thresholdMs ?? 0, options.spreadGoalMs ?? 0).finally(() => {
      this.syncing = null;
    });
    this.syncing = run;
    return run;
  }

  /**
   * Measures the camera's clock without writing it: polls GET datetime around its second ticks. `check`: the
   * periodic check, which `cancelCheck()` (a sync, a pause) ends early with null. Throws NO_CAMERA /
   * CAMERA_AUTH_REQUIRED unless connected, or the camera's error (CAMERA_BUSY while it answers 503).
   */
  async measure(kind: typeof MeasurementKind.Check | typeof MeasurementKind.OnDemand = MeasurementKind.OnDemand): Promise<CameraMeasurement | null> {
    this.requireConnected();
    const token = { cancelled: false };
    if (kind === MeasurementKind.Check) {
      this.cancelCheck();
      this.checkToken = token;
    }
    try {
      return await this.client.exclusive(async (session) => {
        if (token.cancelled) return null;
        const phase = await this.measureOn(session, { hint: this.expectedWindow(), stop: () => token.cancelled });
        if (!phase) return null;
        const measurement = this.toMeasurement(phase, kind);
        this.record(measurement, phase.epoch, true);
        return measurement;
      });
    } catch (error) {
      if (codeOf(error) === ErrorCode.CAMERA_AUTH_REQUIRED) this.setState(CameraState.NeedsCredentials, messageOf(error));
      throw error;
    } finally {
      if (this.checkToken === token) this.checkToken = null;
    }
  }

  /** Ends a periodic check in progress (it resolves null, having recorded nothing). */
  cancelCheck(): void {
    if (this.checkToken) this.checkToken.cancelled = true;
    this.checkToken = null;
  }

  close(): void {
    this.closed = true;
    this.cancelCheck();
    this.client.close();
  }

  // ---- connection ------------------------------------------------------------------------------

  private async runCheck(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.currentState === CameraState.Connected) await this.probe();
      else await this.tryConnect();
    } catch (error) {
      this.logger.warn(`Camera check failed at ${logText(this.client.baseUrl)}: ${logText(messageOf(error))}`);
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
      this.forgetClock();
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
      throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, "The camera's device information is not understood (not a JSON object)");
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

  private async runSync(reason: string, timezone: string, boundary: SharedSecondBoundary, thresholdMs: number, spreadGoalMs: number): Promise<CameraSyncReport> {
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
      const result = await this.client.exclusive(async (session): Promise<CameraSyncResult | CameraSyncKept> => {
        // Measure first: a camera already within the threshold is left alone (a write is never better than its latency jitter).
        const started = { epoch: this.clock.epochOfMonotonic(), mono: this.clock.monotonic() };
        previous = await this.readOn(session);
        // A camera on another zone setting or DST flag is written whatever its clock says (the instant may be right, the wall time is not).
        const want = formatCameraDateTime(this.clock.now(), timezone);
        const zoneDiffers = want.dst !== previous.dst || want.datetime.slice(-5) !== previous.datetime.slice(-5);
        const before = (await this.measureOn(session, { hint: this.expectedWindow(), thresholdMs: zoneDiffers ? 0 : thresholdMs, seed: [previous] }))!;
        if (!zoneDiffers && before.window && before.errorMs !== null && writeDecision(before.window, thresholdMs) === 'keep') {
          joined = true;
          boundary.leave();
          return this.kept(before, reason, thresholdMs);
        }
        return this.setAndVerify(session, before.readings, timezone, reason, join, started, spreadGoalMs);
      });
      this.lastSync = {
        success: true,
        outcome: result.outcome,
        at: iso(this.clock.now()),
        offsetMs: result.offset,
        residualMs: result.residualMs,
        residualBoundMs: result.residualBoundMs,
        verified: result.verified,
        written: result.written,
        ...(result.written ? {} : { thresholdMs: result.thresholdMs }),
      };
      this.lastError = null;
      return result;
    } catch (error) {
      if (!joined) boundary.leave();
      const cause = error instanceof DomainError ? error : new DomainError(ErrorCode.INTERNAL, messageOf(error));
      if (cause.code === ErrorCode.CAMERA_AUTH_REQUIRED) this.setState(CameraState.NeedsCredentials, cause.message);
      const before = previous as Reading | null;
      const offset = before ? Math.round(-estimateClockError([before]).errorMs) : null;
      this.lastSync = { success: false, outcome: CameraSyncKind.Failed, at: iso(this.clock.now()), offsetMs: offset, residualMs: null, residualBoundMs: null, verified: false, error: cause.message };
      this.lastError = cause.message;
      return { cameraId: this.currentId, success: false, outcome: CameraSyncKind.Failed, reason, code: cause.code, error: cause.message, previousTime: before ? iso(before.cameraMs) : null, offset };
    }
  }

  /** The camera is within the threshold: its measurement is the outcome. */
  private kept(phase: Phase, reason: string, thresholdMs: number): CameraSyncKept {
    const measurement = this.toMeasurement(phase, MeasurementKind.BeforeWrite) as CameraMeasurement & { offsetMs: number; boundMs: number };
    this.record(measurement, phase.epoch, true);
    return {
      cameraId: this.currentId,
      success: true,
      outcome: CameraSyncKind.MeasuredKept,
      written: false,
      reason,
      previousTime: iso(phase.readings[0].cameraMs),
      offset: -measurement.offsetMs + 0,
      offsetBoundMs: measurement.boundMs,
      residualMs: measurement.offsetMs,
      residualBoundMs: measurement.boundMs,
      verified: true,
      thresholdMs,
      measurement,
    };
  }

  private async setAndVerify(
    session: CcapiSession,
    readings: Reading[],
    timezone: string,
    reason: string,
    join: (oneWayMs: number) => Promise<number>,
    started: { epoch: number; mono: number },
    spreadGoalMs: number,
  ): Promise<CameraSyncResult> {
    const { epoch, mono: startMono } = started;
    const previous = readings[0];
    // A camera decided to be beyond the threshold after a few reads: pin its old error to tens of ms first (dense
    // reads across one of its ticks), so the journal can put the photos taken before the write on true time.
    const refineUntil = this.clock.monotonic() + REFINE_MAX_MS;
    while (estimateClockError(readings).boundMs > targetBound(2 * oneWayOf(readings), true) && this.clock.monotonic() < refineUntil) {
      readings.push(await this.readOn(session));
      await this.waiter.until(this.clock.monotonic() + WAIT_READ_SPACING_MS);
    }
    // Fresh round trips right before the write: the PUT is timed with the link of now, not of a minute ago.
    await this.freshLatency(session, readings);
    const boundaryMs = await join(oneWayOf(readings));
    // While waiting, keep reading the camera's clock: its old error comes out to the millisecond, not ±500 ms,
    // and the round trips keep the latency fresh.
    await this.readWhileWaiting(session, readings, boundaryMs - oneWayOf(readings), epoch);
    // The error before the write, from every reading before it, as a measurement for the journal (taken now: it holds until the PUT).
    const beforePhase = this.conclude(readings, epoch, startMono);
    const before = this.toMeasurement(beforePhase, MeasurementKind.BeforeWrite);
    let write = await this.putAligned(session, readings, timezone, boundaryMs, epoch);
    this.record(before, beforePhase.epoch, false);
    const old = beforePhase.errorMs !== null ? { errorMs: beforePhase.errorMs, boundMs: beforePhase.boundMs! } : estimateClockError(readings);
    const base = {
      cameraId: this.currentId,
      success: true as const,
      written: true as const,
      reason,
      previousTime: iso(previous.cameraMs),
      offset: Math.round(-old.errorMs) + 0,
      offsetBoundMs: Math.ceil(old.boundMs + 0.5),
      timezone,
    };
    const journal = (w: AlignedWrite, beforeWrite: { offsetMs: number | null; boundMs: number | null }, check: WriteCheck) => {
      const verified = check.unverifiedBecause === null;
      this.owner.wrote?.(this, {
        cameraId: this.currentId,
        ...(this.info?.serialNumber ? { serial: this.info.serialNumber } : {}),
        at: iso(w.sent.secondMs),
        atMono: w.sent.secondMs - epoch,
        newTime: iso(w.sent.secondMs),
        datetime: w.sent.datetime,
        dst: w.sent.dst,
        timezone,
        reason,
        beforeOffsetMs: beforeWrite.offsetMs,
        beforeBoundMs: beforeWrite.boundMs,
        afterOffsetMs: verified ? check.after?.offsetMs ?? null : null,
        afterBoundMs: verified ? check.after?.boundMs ?? null : null,
        verified,
      });
    };
    let check = await this.verifyWrite(session, write, epoch);
    journal(write, before, check);

    // One slow PUT lands the camera far from the boundary: write it again at the next one (spread-goal.ts).
    const rewrites: CameraRewrite[] = [];
    let refined = false;
    for (;;) {
      const decision = rewriteDecision(residualOf(check), spreadGoalMs, rewrites.length, refined);
      if (decision === 'done') break;
      if (decision === 'refine') {
        refined = true;
        const tighter = await this.refineAfter(session, check.after!, check.readings ?? [], epoch);
        if (tighter) check = { ...check, after: tighter };
        continue;
      }
      refined = false;
      const was = check.after!;
      const fresh: Reading[] = [];
      await this.freshLatency(session, fresh);
      const target = planSecondAlignedSend(this.clock.now(), oneWayOf(fresh), REWRITE_LEAD_MS).boundaryMs;
      await this.readWhileWaiting(session, fresh, target - oneWayOf(fresh), epoch);
      let again: AlignedWrite;
      try {
        again = await this.putAligned(session, fresh, timezone, target, epoch);
      } catch (error) {
        // The first write stands, but whether this PUT reached the camera is not known: its clock is not claimed.
        return { ...base, ...resultOf(write), outcome: CameraSyncKind.WrittenUnverified, residualMs: null, residualBoundMs: null, verified: false, unverifiedBecause: `the re-write failed: ${messageOf(error)}`, rewrites };
      }
      write = again;
      check = await this.verifyWrite(session, write, epoch);
      journal(write, was, check);
      const now = residualOf(check);
      rewrites.push({ goalMs: spreadGoalMs, residualBeforeMs: was.offsetMs!, residualBeforeBoundMs: was.boundMs!, residualAfterMs: now.residualMs, residualAfterBoundMs: now.residualBoundMs, latencyMs: resultOf(write).latencyMs, newTime: iso(write.sent.secondMs) });
    }
    const extra = rewrites.length ? { rewrites } : {};
    if (check.unverifiedBecause !== null) {
      return { ...base, ...resultOf(write), outcome: CameraSyncKind.WrittenUnverified, residualMs: null, residualBoundMs: null, verified: false, unverifiedBecause: check.unverifiedBecause, ...(check.piStepped ? { piSteppedDuring: true } : {}), ...extra };
    }
    const after = check.after!;
    return { ...base, ...resultOf(write), outcome: CameraSyncKind.WrittenVerified, residualMs: after.offsetMs, residualBoundMs: after.boundMs, verified: true, ...extra };
  }

  /** Reads until the latest round trips agree (LATENCY_READS to LATENCY_MAX_READS more). */
  private async freshLatency(session: CcapiSession, readings: Reading[]): Promise<void> {
    for (let i = 0; i < LATENCY_MAX_READS && (i < LATENCY_READS || !latencySettled(readings)); i++) readings.push(await this.readOn(session));
  }

  /**
   * Sends the PUT so that it reaches the camera on `boundaryMs` (if the timer was off, on the next one), the body
   * built at the last moment for the second it will arrive in.
   */
  private async putAligned(session: CcapiSession, readings: Reading[], timezone: string, boundaryMs: number, epoch: number): Promise<AlignedWrite> {
    let oneWayMs = oneWayOf(readings);
    for (let attempt = 0; ; attempt++) {
      const target = attempt === 0 ? boundaryMs : planSecondAlignedSend(this.clock.now(), oneWayMs).boundaryMs;
      await this.waitForWall(target - oneWayMs, epoch);
      if (Math.abs(secondToWrite(this.clock.now(), oneWayMs).missMs) <= LANDING_TOLERANCE_MS || attempt >= 2) break;
    }
    let written: { secondMs: number; datetime: string; dst: boolean } | null = null;
    const body = () => {
      const { secondMs } = secondToWrite(this.clock.now(), oneWayMs);
      const value = formatCameraDateTime(secondMs, timezone);
      written = { secondMs, ...value };
      return value;
    };
    let put: CcapiResponse;
    try {
      put = await session.put('functions/datetime', { body, resendAfterChallenge: false });
    } catch (error) {
      if (!isRenewedChallenge(error)) throw error;
      // The camera wanted a fresh Digest nonce: resending now would land a round trip late. Plan the send
      // time again, for the next boundary, with the latency of now.
      oneWayMs = oneWayOf(readings);
      const target = planSecondAlignedSend(this.clock.now(), oneWayMs).boundaryMs;
      await this.waitForWall(target - oneWayMs, epoch);
      put = await session.put('functions/datetime', { body });
    }
    return { sent: written as unknown as { secondMs: number; datetime: string; dst: boolean }, put, oneWayMs };
  }

  /**
   * Reads the camera back and measures its residual. Throws CAMERA_REJECTED when it reads back far from what was
   * written; `unverifiedBecause` says why the residual is not claimed (null: verified).
   */
  private async verifyWrite(session: CcapiSession, write: AlignedWrite, epoch: number): Promise<WriteCheck> {
    // From the write on the camera's clock is a new one: its drift is measured afresh, from the read-back below.
    this.forgetClock();
    const { sent, put } = write;
    // Read back: the camera must now show the Pi's time, give or take its one-second resolution.
    let check: Reading;
    try {
      check = await this.readOn(session);
    } catch (error) {
      // The camera took the time; it just cannot be checked now.
      return { after: null, unverifiedBecause: `the read-back failed: ${messageOf(error)}` };
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
    // Verify the same way as any measurement; where to look first is where the PUT should have put the phase
    // (only a guess: the readings alone decide what is claimed).
    let after: CameraMeasurement;
    let readings: Reading[];
    try {
      // No confirmation pair: nothing but this sync writes the camera's clock now (the exclusive session holds it).
      const hint = { low: sent.secondMs - put.receivedAtMs - HINT_MARGIN_MS, high: sent.secondMs - put.sentAtMs + HINT_MARGIN_MS };
      const phase = (await this.measureOn(session, { seed: [check], hint, confirm: false, loose: true }))!;
      after = this.toMeasurement(phase, MeasurementKind.AfterWrite);
      readings = phase.readings;
      this.record(after, phase.epoch, true);
    } catch (error) {
      this.logger.warn(`Measuring camera ${this.currentId} after its write failed: ${logText(messageOf(error))}`);
      return { after: null, unverifiedBecause: "the camera's next second tick was not seen" };
    }
    if (Math.abs(this.clock.epochOfMonotonic() - epoch) > STEP_TOLERANCE_MS) {
      // The write used the Pi's time before or after a step, and the readings mix both: how good it is cannot be told.
      return { after, unverifiedBecause: 'the Pi clock was stepped during the sync', piStepped: true };
    }
    if (after.uncertain) return { after, unverifiedBecause: after.reason ?? 'the residual could not be measured' };
    return { after, unverifiedBecause: null, readings };
  }

  /**
   * A residual whose centre is beyond the spread goal but whose bound allows it within: more probes (not loose)
   * on the same readings. null if that failed or taught nothing certain (the first measurement stands).
   */
  private async refineAfter(session: CcapiSession, after: CameraMeasurement, readings: Reading[], epoch: number): Promise<CameraMeasurement | null> {
    try {
      // The clock has not been written since those readings: they still hold, and the new probes narrow them.
      const phase = (await this.measureOn(session, { seed: [...readings], confirm: false }))!;
      if (Math.abs(this.clock.epochOfMonotonic() - epoch) > STEP_TOLERANCE_MS || phase.errorMs === null) return null;
      const tighter = this.toMeasurement(phase, MeasurementKind.AfterWrite);
      if (tighter.boundMs! >= after.boundMs!) return null;
      this.record(tighter, phase.epoch, true);
      return tighter;
    } catch (error) {
      this.logger.warn(`Measuring camera ${this.currentId} again after its write failed: ${logText(messageOf(error))}`);
      return null;
    }
  }

  /**
   * Waits until the Pi's wall clock reads `wallMs`. The plan was made on the wall clock: if the Pi's clock was
   * stepped since `epoch` (a phone's sync, someone's `date`), the plan means nothing any more (a step back by
   * days would wait days, holding every camera write): the sync stops with PI_CLOCK_STEPPED, and the cameras
   * are set again after the step, as after every step. No wait is longer than MAX_PLANNED_WAIT_MS either.
   */
  private async waitForWall(wallMs: number, epoch: number): Promise<void> {
    this.assertPiNotStepped(epoch);
    const wait = wallMs - this.clock.now();
    if (wait > MAX_PLANNED_WAIT_MS) throw piStepped(`a send time ${Math.round(wait)} ms ahead`);
    await this.waiter.until(this.clock.monotonic() + wait);
    this.assertPiNotStepped(epoch);
  }

  private assertPiNotStepped(epoch: number): void {
    const shift = this.clock.epochOfMonotonic() - epoch;
    if (Math.abs(shift) > STEP_TOLERANCE_MS) throw piStepped(`stepped by ${Math.round(shift)} ms`);
  }

  /**
   * Reads the camera's clock, paced, until its old error is known to TIGHT_ENOUGH_MS, while a read twice as
   * slow as the slowest of the latest still ends before `sendAtMs` (Pi time): the old error comes out to about a
   * round trip, the round trips stay fresh, and no read can hold up the PUT.
   */
  private async readWhileWaiting(session: CcapiSession, readings: Reading[], sendAtMs: number, epoch: number): Promise<void> {
    while (estimateClockError(readings).boundMs > TIGHT_ENOUGH_MS) {
      this.assertPiNotStepped(epoch);
      const room = 2 * Math.max(...readings.slice(-5).map(roundTripOf)) + PUT_GUARD_MS;
      if (this.clock.now() + room >= sendAtMs) return;
      readings.push(await this.readOn(session));
      const pause = Math.min(WAIT_READ_SPACING_MS, sendAtMs - this.clock.now() - room);
      if (pause > 0) await this.waiter.until(this.clock.monotonic() + pause);
    }
  }

  // ---- the read-only measurement ------------------------------------------------------------------

  /**
   * Polls the camera's clock around its second ticks until its error is known to about a round trip: three
   * reads for a coarse window and the latency, then rounds of probes timed to be handled where a tick may be,
   * each round splitting what is left (clock-phase.ts). Stops when tight, when `thresholdMs` is decided to be
   * exceeded (a write follows and refines it), when a round teaches nothing (the link is too slow or jittery
   * for more) or after MEASURE_BUDGET_MS. `hint` only says where to look first. null if `stop()` said so.
   */
  private async measureOn(
    session: CcapiSession,
    options: { hint?: ErrorWindow | null; thresholdMs?: number; seed?: Reading[]; stop?: () => boolean; confirm?: boolean; loose?: boolean },
  ): Promise<Phase | null> {
    const stop = options.stop ?? (() => false);
    const epoch = this.clock.epochOfMonotonic();
    const startMono = this.clock.monotonic();
    const readings: Reading[] = [...(options.seed ?? [])];
    while (readings.length < FIRST_READS) {
      if (stop()) return null;
      readings.push(await this.readOn(session));
    }
    let previousWidth = Infinity;
    for (let round = 0; round < MEASURE_MAX_ROUNDS + (options.hint ? 1 : 0); round++) {
      const window = windowOf(readings);
      if (!window) break;
      const rtt = recentRoundTripMs(readings.map(roundTripOf)) ?? 0;
      const width = window.high - window.low;
      if (width / 2 <= targetBound(rtt, options.loose)) break;
      if (options.thresholdMs !== undefined && (options.thresholdMs === 0 || writeDecision(window, options.thresholdMs) === 'write')) break;
      if (this.clock.monotonic() - startMono > MEASURE_BUDGET_MS) break;
      // The guess of where to look serves the first round only: if the clock is not where it should be, the next
      // rounds search the whole window (and a round spent on a wrong guess does not count as one that taught nothing).
      const hint = round === 0 ? options.hint : null;
      if (!hint) {
        if (previousWidth - width < 1) break;
        previousWidth = width;
      }
      const oneWay = rtt / 2;
      const planned = planningWindow(window, hint);
      const guessed = planned.low !== window.low || planned.high !== window.high;
      const plan = planRound(planned, this.clock.now() + oneWay + PROBE_LEAD_MS, rtt + PROBE_GAP_MS, MAX_PROBES_PER_ROUND, guessed);
      for (const atMs of plan) {
        const known = windowOf(readings);
        if (!known) break;
        const wait = atMs - oneWay - this.clock.now();
        // A probe made pointless by what came back (the tick is already placed elsewhere) is not sent.
        if (!probeUseful(known, Math.max(atMs, this.clock.now() + oneWay), oneWay)) continue;
        if (this.clock.monotonic() + wait - startMono > MEASURE_BUDGET_MS + 1000) break;
        if (wait > 0 && (await this.pauseFor(wait, stop))) return null;
        if (stop()) return null;
        readings.push(await this.readOn(session));
      }
    }
    const decided = options.thresholdMs !== undefined && readings.length && (() => {
      const w = windowOf(readings);
      return w !== null && (options.thresholdMs === 0 || writeDecision(w, options.thresholdMs!) === 'write');
    })();
    if (!decided && options.confirm !== false && (await this.confirm(session, readings, stop))) return null;
    return this.conclude(readings, epoch, startMono);
  }

  /**
   * One more pair of probes, handled just before and just after the tick the readings predict (a second later):
   * if the camera's clock moved during the measurement (someone set it), they contradict the rest and the
   * measurement is uncertain rather than wrong. Readings of an unmoved clock never contradict. true if stopped.
   */
  private async confirm(session: CcapiSession, readings: Reading[], stop: () => boolean): Promise<boolean> {
    const window = windowOf(readings);
    if (!window || (window.high - window.low) / 2 > MEANINGFUL_BOUND_MS) return false;
    const oneWay = (recentRoundTripMs(readings.map(roundTripOf)) ?? 0) / 2;
    const middle = (window.low + window.high) / 2;
    const margin = (window.high - window.low) / 2 + oneWay + PROBE_GAP_MS;
    const earliest = this.clock.now() + oneWay + PROBE_LEAD_MS + margin;
    const tick = Math.ceil((earliest + middle) / 1000) * 1000 - middle;
    for (const atMs of [tick - margin, tick + margin]) {
      const wait = atMs - oneWay - this.clock.now();
      if (wait > 0 && (await this.pauseFor(wait, stop))) return true;
      if (stop()) return true;
      readings.push(await this.readOn(session));
    }
    return false;
  }

  /**
   * What the readings claim. The bound is the window's half width plus what could move it unseen: whole-ms
   * stamps, a Pi step under STEP_TOLERANCE_MS, drift during the measurement. Contradicting readings, a Pi step
   * or a bound beyond MEANINGFUL_BOUND_MS make it uncertain: nothing is claimed rather than a bound not backed up.
   */
  private conclude(readings: Reading[], epoch: number, startMono: number): Phase {
    const endMono = this.clock.monotonic();
    const endEpoch = this.clock.epochOfMonotonic();
    const shift = Math.abs(endEpoch - epoch);
    const base = { readings, epoch: endEpoch, atMono: endMono, atMs: endMono + endEpoch, roundTripMs: recentRoundTripMs(readings.map(roundTripOf)) };
    const window = windowOf(readings);
    if (!window) return { ...base, window: null, errorMs: null, boundMs: null, uncertain: "the camera's answers contradict each other (its clock or the Pi's moved during the measurement)" };
    if (shift > STEP_TOLERANCE_MS) return { ...base, window: null, errorMs: null, boundMs: null, uncertain: 'the Pi clock was stepped during the measurement' };
    const slack = TIMESTAMP_RESOLUTION_MS + shift + (ASSUMED_MAX_DRIFT_PPM / 1e6) * (endMono - startMono);
    const widened = { low: window.low - slack, high: window.high + slack };
    const errorMs = (widened.low + widened.high) / 2;
    const boundMs = (widened.high - widened.low) / 2;
    if (boundMs > MEANINGFUL_BOUND_MS) {
      const rtt = base.roundTripMs === null ? '' : `, round trips of about ${Math.round(base.roundTripMs)} ms`;
      return { ...base, window: widened, errorMs: null, boundMs: null, uncertain: `the camera's clock is known only to ±${Math.ceil(boundMs)} ms${rtt}` };
    }
    return { ...base, window: widened, errorMs, boundMs, uncertain: null };
  }

  private toMeasurement(phase: Phase, kind: MeasurementKind): CameraMeasurement {
    const certain = phase.errorMs !== null && phase.boundMs !== null;
    return {
      cameraId: this.currentId,
      at: iso(phase.atMs),
      atMono: phase.atMono,
      // Whole ms, the rounding inside the bound.
      offsetMs: certain ? Math.round(phase.errorMs!) + 0 : null,
      boundMs: certain ? Math.ceil(phase.boundMs! + 0.5) : null,
      uncertain: !certain,
      ...(phase.uncertain ? { reason: phase.uncertain } : {}),
      samples: phase.readings.length,
      roundTripMs: phase.roundTripMs === null ? null : Math.round(phase.roundTripMs * 10) / 10,
      kind,
    };
  }

  /** Keeps a measurement (as the camera's clock now, and for its drift, if `keep` and not uncertain) and reports it. */
  private record(measurement: CameraMeasurement, epoch: number, keep: boolean): void {
    this.lastMeasurementMono = measurement.atMono;
    if (keep && !measurement.uncertain && measurement.offsetMs !== null && measurement.boundMs !== null) {
      this.clockCheck = { measurement: measurement as CameraMeasurement & { offsetMs: number; boundMs: number }, epoch };
      this.driftEpoch ??= epoch;
      this.drift.add({ atMono: measurement.atMono, offsetMs: measurement.offsetMs + (epoch - this.driftEpoch), boundMs: measurement.boundMs });
    }
    this.owner.measured?.(this, measurement);
  }

  /** The camera's clock was set (or another camera answers here): what was known of it no longer holds. */
  private forgetClock(): void {
    this.clockCheck = null;
    this.drift.clear();
    this.driftEpoch = null;
  }

  private clockStatus(): CameraClockCheck | null {
    if (!this.clockCheck) return null;
    const { measurement: m } = this.clockCheck;
    const ageMs = this.clock.monotonic() - m.atMono;
    const drift = this.drift.estimate();
    const now = this.expectedNow();
    return {
      offsetMs: m.offsetMs,
      boundMs: m.boundMs,
      checkedAt: m.at,
      ageMs: Math.round(ageMs),
      drift: drift ? roundedDrift(drift) : null,
      errorNowMs: Math.ceil(now!.boundMs + Math.abs(now!.offsetMs)),
      driftMeasured: drift !== null && Math.abs(drift.ppm) + drift.boundPpm <= ASSUMED_MAX_DRIFT_PPM,
    };
  }

  /** Where the camera's error should be now (camera minus Pi), from its last measurement, its drift and any Pi step since. */
  private expectedNow(): { offsetMs: number; boundMs: number } | null {
    if (!this.clockCheck) return null;
    const { measurement: m, epoch } = this.clockCheck;
    const ageMs = this.clock.monotonic() - m.atMono;
    const drift = this.drift.estimate();
    // A step of the Pi's wall clock by +d since makes camera minus Pi smaller by d.
    const offsetMs = m.offsetMs - (this.clock.epochOfMonotonic() - epoch);
    const total = offsetBoundAfter({ offsetMs, boundMs: m.boundMs }, drift, ageMs);
    const known = drift !== null && Math.abs(drift.ppm) + drift.boundPpm <= ASSUMED_MAX_DRIFT_PPM;
    const center = offsetMs + (known ? (drift!.ppm / 1e6) * ageMs : 0);
    return { offsetMs: center, boundMs: total - Math.abs(center) };
  }

  /** A guess of where to look first for the camera's tick; null when nothing useful is known. */
  private expectedWindow(): ErrorWindow | null {
    const now = this.expectedNow();
    if (!now || now.boundMs + HINT_MARGIN_MS >= 500) return null;
    return { low: now.offsetMs - now.boundMs - HINT_MARGIN_MS, high: now.offsetMs + now.boundMs + HINT_MARGIN_MS };
  }

  /** Waits `ms`, looking every CANCEL_CHECK_MS whether to stop; true if it stopped. */
  private async pauseFor(ms: number, stop: () => boolean): Promise<boolean> {
    const until = this.clock.monotonic() + ms;
    for (;;) {
      if (stop()) return true;
      const left = until - this.clock.monotonic();
      if (left <= 0) return false;
      await this.waiter.until(this.clock.monotonic() + Math.min(left, CANCEL_CHECK_MS));
    }
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

/** Half the round trip to expect of the next request, from this sync's own latest readings (a level shift followed at once). */
function oneWayOf(readings: readonly ClockReading[]): number {
  return (recentRoundTripMs(readings.map(roundTripOf)) ?? 0) / 2;
}

/**
 * Where a measurement stops refining, from the round trip: about three quarters of it (what a few rounds of
 * probes reach), or a whole one when `loose` (a write's own before and after: one round fewer, tens of ms still).
 */
function targetBound(roundTripMs: number, loose = false): number {
  return Math.max(MEASURE_TIGHT_MS, (loose ? 1 : 0.75) * roundTripMs + 2);
}

/** Whether the latest three round trips agree with the estimate from all of them (the link is not changing right now). */
function latencySettled(readings: readonly ClockReading[]): boolean {
  const rtts = readings.map(roundTripOf);
  const estimate = recentRoundTripMs(rtts);
  if (estimate === null || rtts.length < 3) return false;
  return rtts.slice(-3).every((r) => Math.abs(r - estimate) <= Math.max(4, 0.3 * estimate));
}

function roundTripOf(r: ClockReading): number {
  return r.receivedAtMs - r.sentAtMs;
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
