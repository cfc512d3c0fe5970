import { Logger } from '@nestjs/common';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { logText } from '../common/escape';
import { CameraInfo, CameraState, CameraStatus, CameraSyncKind, CameraSyncSummary } from '../protocol/messages';
import { Clock } from '../time/clock';
import { DriftEstimate } from '../time/drift';
import { CameraClockModel, clockCheckOf, clockForgotten, driftOf, expectedWindow, UNKNOWN_CLOCK, withMeasurement } from './camera-clock-model';
import { Connection, ConnectionEvent, connectionEventOf, initialConnection, nextConnection } from './camera-connection';
import { cameraIdFor } from './camera-id';
import { CameraMeasurement, CameraWrite, MeasurementKind } from './camera-measurement';
import { CameraReader, ccapiReader } from './camera-reader';
import { CameraClockReading, CameraSyncReport, iso, needsCredentialsMessage } from './camera-report';
import { CcapiClient, CcapiSession, normaliseCameraUrl } from './ccapi-client';
import { Shot, ShotIo, ShotSettings, takeShot } from './camera-shot';
import { ClockIo, measureClock, piNow, toMeasurement } from './clock-measure';
import { ErrorWindow } from './clock-phase';
import { ClockSync, SyncSink } from './clock-sync';
import { DiscoveredCamera } from './ssdp';
import { estimateClockError, handledAt, SharedSecondBoundary } from './sync-timing';
import { Waiter } from './waiter';

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
  /** A measurement of the camera's clock (every one: checks, on demand, before and after writes). Those of a sync come just before its outcome. */
  measured?(session: CameraSession, measurement: CameraMeasurement): void;
  /** The camera's clock was written; just before the sync's outcome. */
  wrote?(session: CameraSession, write: CameraWrite): void;
  /** A sync's outcome, once however many asked for it. */
  synced?(session: CameraSession, report: CameraSyncReport): void;
}

/** What a periodic check came to: a measurement, nothing (cancelled by a sync or a pause), or a failure and the wait before the next try. */
export type PeriodicCheck = { outcome: 'measured' } | { outcome: 'cancelled' } | { outcome: 'failed'; error: unknown; retryInMs: number };

/** First wait before checking again a camera that answered a check with 503 (doubling up to the check interval). */
const BUSY_BACKOFF_MS = 30_000;

/**
 * One camera, and everything this product knows of it: its CCAPI client (queue, keep-alive sockets, Digest state,
 * TLS agent), its connection (camera-connection.ts) and poll, its clock (camera-clock-model.ts) and periodic
 * check, and its clock sync (clock-sync.ts, over a CameraReader). Created by CameraSessionFactory, held by
 * CameraService; reports to it through `CameraSessionOwner`.
 */
export class CameraSession {
  private readonly logger = new Logger(CameraSession.name);
  private connection: Connection;
  private currentId: string;
  private info: CameraInfo | null = null;
  private discoveredCamera: DiscoveredCamera | null;
  private lastSync: CameraSyncSummary | null = null;
  private clockModel: CameraClockModel = UNKNOWN_CLOCK;
  /** Since when it is connected (monotonic); null while it is not. */
  private connectedSinceMono: number | null = null;
  private closed = false;
  private readonly reader: CameraReader;
  /** The connection check, the sync and the periodic clock check in progress, each asked for once however many wait. */
  private checking: Promise<void> | null = null;
  private syncing: Promise<CameraSyncReport> | null = null;
  private periodic: Promise<PeriodicCheck> | null = null;
  /** A photo being taken (measure by photo): one at a time, and no periodic check meanwhile. */
  private shooting = false;
  /** The periodic check in progress, which a sync or a pause cancels. */
  private checkToken: { cancelled: boolean } | null = null;
  /** After a check the camera answered 503: no periodic check before `untilMono`. */
  private checkBackoff: { untilMono: number; delayMs: number } | null = null;
  /** While a sync runs, what it learnt of the clock waits here: it goes out with the outcome (one status per sync). */
  private held: Array<() => void> | null = null;
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
    this.connection = initialConnection(this.discoveredCamera !== null);
    this.reader = ccapiReader(client);
    this.currentId = this.identify();
  }

  // ---- what the registry asks -----------------------------------------------------------------

  /** Serial number, else GUID, else a name from the address. Chosen when the camera connects, kept while it is away. */
  get id(): string {
    return this.currentId;
  }

  get state(): CameraState {
    return this.connection.state;
  }

  /** The serial number the camera told, or null. */
  get serial(): string | null {
    return this.info?.serialNumber ?? null;
  }

  get discovered(): DiscoveredCamera | null {
    return this.discoveredCamera;
  }

  /** Whether the periodic check should try this camera (a discovered camera that left waits for SSDP). */
  get polled(): boolean {
    return !this.connection.dormant && !this.closed;
  }

  status(): CameraStatus {
    const root = this.client.baseUrl;
    const guid = this.info?.guid ?? this.discoveredCamera?.udn?.replace(/^uuid:/i, '');
    const clock = clockCheckOf(this.clockModel, piNow(this.clock));
    return {
      id: this.currentId,
      state: this.state,
      connected: this.state === CameraState.Connected,
      baseUrl: root ? `${root}/ccapi` : null,
      info: this.info ? { ...this.info, ...(guid ? { guid } : {}) } : null,
      lastSync: this.lastSync ? { ...this.lastSync } : null,
      lastError: this.connection.lastError,
      ...(clock ? { clock } : {}),
    };
  }

  /** The camera's drift against the Pi since its last write, or null. */
  driftEstimate(): DriftEstimate | null {
    return driftOf(this.clockModel);
  }

  /** One connection check now (also what the poll runs). Never throws. */
  check(): Promise<void> {
    this.checking ??= this.runConnectionCheck().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  /** SSDP saw the camera (alive, or an answer to a search) at its own address, perhaps on another port: poll it again, at once. */
  seen(camera: DiscoveredCamera): Promise<void> {
    this.discoveredCamera = camera;
    this.apply({ kind: 'seen' });
    if (this.client.baseUrl !== null && this.state !== CameraState.Disconnected && sameRoot(this.client.baseUrl, camera.accessUrl)) return Promise.resolve();
    this.client.use(camera.accessUrl);
    return this.check();
  }

  /** SSDP ssdp:byebye. */
  signedOff(): void {
    this.apply({ kind: 'signed-off' });
  }

  /** Reads the camera's clock. Throws NO_CAMERA / CAMERA_AUTH_REQUIRED unless connected, or the camera's error. */
  async readClock(): Promise<CameraClockReading> {
    this.requireConnected();
    const reading = await this.reader.readClock();
    return {
      cameraId: this.currentId,
      epochMs: reading.cameraMs,
      datetime: reading.datetime,
      dst: reading.dst,
      piTimeMs: handledAt(reading).atMs,
      roundTripMs: reading.receivedAtMs - reading.sentAtMs,
    };
  }

  /**
   * Sets the camera's clock to the Pi's time in `timezone`, its PUT arriving on the boundary agreed in
   * `boundary` (each camera of a "sync all" takes part in the same one); reads it back and measures the
   * residual. First it measures the camera read-only: within `thresholdMs` (default 0: always write) it is not
   * written (CameraSyncKept). Never throws: a failure is a CameraSyncFailure. The outcome goes to the owner
   * (`synced`) once; a sync asked for while one runs gets that one's report (and leaves `boundary`). A periodic
   * check in progress is cancelled.
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
        const phase = await measureClock(this.ioOn(session), { hint: this.expectedWindow(), stop: () => token.cancelled });
        if (!phase) return null;
        const measurement = toMeasurement(phase, kind, this.currentId);
        this.record(measurement, phase.epoch, true);
        return measurement;
      });
    } catch (error) {
      if (codeOf(error) === ErrorCode.CAMERA_AUTH_REQUIRED) this.apply({ kind: 'credentials-refused', reason: messageOf(error), connecting: false });
      throw error;
    } finally {
      if (this.checkToken === token) this.checkToken = null;
    }
  }

  /**
   * Whether the periodic read-only check is due: connected, no sync or check running on it, `intervalMs` after its
   * last measurement (or its connection), and past any wait after a 503.
   */
  checkDue(intervalMs: number): boolean {
    if (this.state !== CameraState.Connected || this.syncing || this.periodic || this.shooting) return false;
    const now = this.clock.monotonic();
    const since = this.clockModel.lastMeasuredMono ?? this.connectedSinceMono ?? now;
    return now >= Math.max(since + intervalMs, this.checkBackoff?.untilMono ?? -Infinity);
  }

  /**
   * The periodic read-only check. A camera that answers 503 is left alone for 30 s, doubling up to `intervalMs`;
   * any other failure waits the interval (the poll says if the camera left). Never throws.
   */
  periodicCheck(intervalMs: number): Promise<PeriodicCheck> {
    this.periodic ??= (async (): Promise<PeriodicCheck> => {
      try {
        const measurement = await this.measure(MeasurementKind.Check);
        if (!measurement) return { outcome: 'cancelled' };
        this.checkBackoff = null;
        return { outcome: 'measured' };
      } catch (error) {
        const previous = this.checkBackoff?.delayMs;
        const delayMs = codeOf(error) === ErrorCode.CAMERA_BUSY ? Math.min(previous ? previous * 2 : BUSY_BACKOFF_MS, intervalMs) : intervalMs;
        this.checkBackoff = { untilMono: this.clock.monotonic() + delayMs, delayMs };
        return { outcome: 'failed', error, retryInMs: delayMs };
      }
    })().finally(() => {
      this.periodic = null;
    });
    return this.periodic;
  }

  /**
   * Takes one photo and brings back its JPEG (camera-shot.ts): the shutter, the camera's events until it names the
   * new file, the file. The camera is this shot's until then (nothing else talks to it in between: it is busy
   * exposing and writing); a periodic check in progress ends. Throws NO_CAMERA / CAMERA_AUTH_REQUIRED unless
   * connected, CAMERA_BUSY while another photo is being taken with it, or the shot's coded error.
   */
  async takePhoto(settings: ShotSettings & { maxBytes: number }): Promise<Shot> {
    this.requireConnected();
    if (this.shooting) throw new DomainError(ErrorCode.CAMERA_BUSY, `Camera ${this.currentId} is already taking a photo: wait for it`, { cameraId: this.currentId });
    this.shooting = true;
    this.cancelCheck();
    try {
      return await this.client.exclusive((session) => takeShot(this.shotIo(session, settings), settings));
    } catch (error) {
      if (codeOf(error) === ErrorCode.CAMERA_AUTH_REQUIRED) this.apply({ kind: 'credentials-refused', reason: messageOf(error), connecting: false });
      throw error;
    } finally {
      this.shooting = false;
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

  private async runConnectionCheck(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.state === CameraState.Connected) await this.probe();
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
      info = await this.reader.info();
    } catch (error) {
      // Alive but busy counts as connected (the details come with a later check); anything else does not.
      if (codeOf(error) !== ErrorCode.CAMERA_BUSY) return this.apply(connectionEventOf(error, true));
    }
    const holder = this.owner.holderOf(this.identify(info), this);
    if (holder) return this.apply({ kind: 'lost', reason: `the same camera as the one at ${holder.client.baseUrl}` });
    this.info = info ?? this.info;
    this.apply({ kind: 'connected' });
  }

  private async probe(): Promise<void> {
    let info: CameraInfo;
    try {
      info = await this.reader.info();
    } catch (error) {
      return this.apply(connectionEventOf(error, false));
    }
    this.apply({ kind: 'answered' });
    const before = this.info;
    if (before?.serialNumber && info.serialNumber && info.serialNumber !== before.serialNumber) {
      this.apply({ kind: 'lost', reason: `another camera (${info.productName ?? 'unknown'} ${info.serialNumber}) answers at this address` });
      this.forgetClock();
      this.info = info;
      this.apply({ kind: 'connected' });
      return;
    }
    this.info = info;
    if (JSON.stringify(before) !== JSON.stringify(info)) this.owner.changed(this, this.state, null);
  }

  private identify(info: CameraInfo | null = this.info): string {
    const found = this.discoveredCamera;
    return cameraIdFor(
      { serialNumber: info?.serialNumber ?? found?.serialNumber, guid: info?.guid ?? found?.udn },
      found?.accessUrl ?? this.client.baseUrl ?? '',
    );
  }

  /** Moves the connection on (camera-connection.ts); a change of state gets the camera's id again (unless it left) and goes to the owner. */
  private apply(event: ConnectionEvent): void {
    const from = this.state;
    this.connection = nextConnection(this.connection, event);
    const to = this.state;
    if (from === to) return;
    if (to !== CameraState.Disconnected) this.currentId = this.identify();
    if (to === CameraState.Connected) {
      this.connectedSinceMono = this.clock.monotonic();
    } else {
      this.connectedSinceMono = null;
      this.cancelCheck();
    }
    this.owner.changed(this, from, to === CameraState.Connected ? null : this.connection.lastError);
  }

  private requireConnected(): void {
    if (this.state === CameraState.NeedsCredentials) {
      throw new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, needsCredentialsMessage(this.client.baseUrl), { cameraId: this.currentId });
    }
    if (this.state !== CameraState.Connected) {
      throw new DomainError(ErrorCode.NO_CAMERA, `camera ${this.currentId} is not connected`, { cameraId: this.currentId });
    }
  }

  // ---- the clock -------------------------------------------------------------------------------

  /** The sync, its outcome to the owner after what it learnt of the clock. */
  private async runSync(reason: string, timezone: string, boundary: SharedSecondBoundary, thresholdMs: number, spreadGoalMs: number): Promise<CameraSyncReport> {
    this.held = [];
    let report: CameraSyncReport;
    try {
      report = await this.syncClock(reason, timezone, boundary, thresholdMs, spreadGoalMs);
    } finally {
      const held = this.held ?? [];
      this.held = null;
      for (const tell of held) tell();
    }
    this.owner.synced?.(this, report);
    return report;
  }

  private async syncClock(reason: string, timezone: string, boundary: SharedSecondBoundary, thresholdMs: number, spreadGoalMs: number): Promise<CameraSyncReport> {
    const sync = new ClockSync(this.syncSink(), { reason, timezone, thresholdMs, spreadGoalMs }, boundary);
    try {
      this.requireConnected();
      const datetime = this.client.endpoint('functions/datetime');
      if (datetime && !datetime.put) throw new DomainError(ErrorCode.CAMERA_REJECTED, 'This camera does not let its clock be set over CCAPI');
      const result = await this.client.exclusive((session) => sync.run(this.ioOn(session), () => this.expectedWindow()));
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
      this.apply({ kind: 'synced' });
      return result;
    } catch (error) {
      if (!sync.joined) boundary.leave();
      const cause = error instanceof DomainError ? error : new DomainError(ErrorCode.INTERNAL, messageOf(error));
      if (cause.code === ErrorCode.CAMERA_AUTH_REQUIRED) this.apply({ kind: 'credentials-refused', reason: cause.message, connecting: false });
      const before = sync.first;
      const offset = before ? Math.round(-estimateClockError([before]).errorMs) : null;
      this.lastSync = { success: false, outcome: CameraSyncKind.Failed, at: iso(this.clock.now()), offsetMs: offset, residualMs: null, residualBoundMs: null, verified: false, error: cause.message };
      this.apply({ kind: 'sync-failed', reason: cause.message });
      return { cameraId: this.currentId, success: false, outcome: CameraSyncKind.Failed, reason, code: cause.code, error: cause.message, previousTime: before ? iso(before.cameraMs) : null, offset };
    }
  }

  /** What a sync tells the session as it goes: its measurements and writes (held until the outcome), a write's forgetting, its log lines. */
  private syncSink(): SyncSink {
    const currentId = () => this.currentId;
    return {
      get cameraId() {
        return currentId();
      },
      measured: (measurement, epoch, keep) => this.record(measurement, epoch, keep),
      clockSet: () => this.forgetClock(),
      wrote: (write) => this.tell(() => this.owner.wrote?.(this, write)),
      warn: (message) => this.logger.warn(message),
    };
  }

  /** Keeps a measurement (as the camera's clock now, and for its drift, if `keep` and not uncertain) and reports it. */
  private record(measurement: CameraMeasurement, epoch: number, keep: boolean): void {
    this.clockModel = withMeasurement(this.clockModel, measurement, epoch, keep);
    this.tell(() => this.owner.measured?.(this, measurement));
  }

  /** The camera's clock was set (or another camera answers here): what was known of it no longer holds. */
  private forgetClock(): void {
    this.clockModel = clockForgotten(this.clockModel);
  }

  /** A fact for the owner: now, or with the outcome of the sync in progress. */
  private tell(fact: () => void): void {
    if (this.held) this.held.push(fact);
    else fact();
  }

  /** A guess of where to look first for the camera's tick; null when nothing useful is known. */
  private expectedWindow(): ErrorWindow | null {
    return expectedWindow(this.clockModel, piNow(this.clock));
  }

  private shotIo(session: CcapiSession, settings: ShotSettings & { maxBytes: number }): ShotIo {
    return {
      pollEvents: async () => (await session.get('event/polling')).data,
      stopEvents: async () => void (await session.delete('event/polling')),
      // The camera focuses first: the slate's code must be sharp, and when it opens does not matter to a slate.
      pressShutter: async () => void (await session.post('shooting/control/shutterbutton', { body: () => ({ af: true }) })),
      download: async (path) => (await session.download(path, { maxBytes: settings.maxBytes, timeoutMs: settings.timeoutMs })).bytes,
      monotonic: () => this.clock.monotonic(),
      sleep: (ms) => this.waiter.until(this.clock.monotonic() + ms),
    };
  }

  private ioOn(session: CcapiSession): ClockIo {
    return { reader: ccapiReader(session), clock: this.clock, waiter: this.waiter };
  }
}

function codeOf(error: unknown): string | null {
  return error instanceof DomainError ? error.code : null;
}

function sameRoot(a: string, b: string): boolean {
  const strip = (url: string) => url.replace(/\/+$/, '').replace(/\/ccapi$/, '');
  return strip(a) === strip(b);
}
