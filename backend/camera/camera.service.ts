import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Observable, Subject, Subscription } from 'rxjs';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { AppConfig, cameraUrls } from '../config/app.config';
import { CameraState, CameraStatus, CameraSyncKind } from '../protocol/messages';
import { SystemClock } from '../system-clock/system-clock';
import { Clock } from '../time/clock';
import { assertCameraId, cameraIdFor } from './camera-id';
import { CameraClockPort } from './camera-port';
import { CameraMeasurement, CameraWrite, MeasurementKind } from './camera-measurement';
import { cameraSyncEvent, connectionActivity, syncActivity } from './camera-activity';
import { DEFAULT_SHOT_SETTINGS, Shot } from './camera-shot';
import { CameraClockReading, CameraSyncKept, CameraSyncReport, CameraSyncResult } from './camera-report';
import { CameraSession, CameraSessionOwner } from './camera-session';
import { CameraSessionFactory } from './camera-session.factory';
import { LogOnce } from './log-once';
import { DiscoveredCamera, SsdpDiscovery, SsdpEvent } from './ssdp';
import { SharedSecondBoundary } from './sync-timing';
import { logText } from '../common/escape';

/**
 * Room between planning the shared second boundary and the slowest camera's send: each camera still reads while
 * it waits, and a busy event loop must not make one of them miss it (it would take the next second alone).
 */
const BOUNDARY_LEAD_MS = 150;

const STATE_ORDER: Record<CameraState, number> = { [CameraState.Connected]: 0, [CameraState.NeedsCredentials]: 1, [CameraState.Disconnected]: 2 };

/**
 * Every camera: a registry of camera sessions (each owns all there is to know of its camera), fed by CAMERA_URL
 * (a list) or SSDP discovery (every camera that answers a search, `ssdp:alive` adopted at once, `ssdp:byebye`
 * followed), one poll, the clock sync of all of them on one second boundary, and what the operator sees of them
 * (status, domain events, activity log). When to sync is decided elsewhere (TimeSync, through its
 * CameraClockPort, which this service implements); this service does it well and reports it.
 * Nothing else holds a camera.
 */
@Injectable()
export class CameraService implements OnModuleInit, OnModuleDestroy, CameraSessionOwner, CameraClockPort {
  private readonly logger = new Logger(CameraService.name);
  private readonly connection = new Subject<CameraStatus>();
  /** Emits a camera's status on every connect, disconnect and change of state. */
  readonly connection$: Observable<CameraStatus> = this.connection.asObservable();

  private readonly sessions: CameraSession[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private searching: Promise<DiscoveredCamera[]> | null = null;
  private stopped = false;
  private syncingAll: Promise<CameraSyncReport[]> | null = null;
  private ssdpSubscription: Subscription | null = null;
  /** Cameras SSDP reported that are being checked. */
  private readonly adopting = new Set<Promise<void>>();
  /** One log line per refused announcement kind and sender, not one per datagram. */
  private readonly refusals = new LogOnce();

  /** The periodic read-only checks paused: for all, or by camera id (an id may name a camera not connected yet). */
  private checksPausedForAll = false;
  private readonly checksPaused = new Set<string>();

  constructor(
    private readonly config: AppConfig,
    private readonly factory: CameraSessionFactory,
    private readonly clock: Clock,
    private readonly systemClock: SystemClock,
    private readonly activity: ActivityLogService,
    private readonly bus: EventBus,
    private readonly ssdp: SsdpDiscovery,
  ) {
    for (const url of cameraUrls(config.CAMERA_URL)) this.sessions.push(factory.create({ url }, this));
    // Followed from the start: what a search finds is adopted as it answers, whether the poll or a caller searched.
    if (this.discovering()) this.ssdpSubscription = this.ssdp.events$.subscribe((event) => this.track(this.onSsdp(event)));
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
    if (this.discovering()) void this.ssdp.listen();
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ssdpSubscription?.unsubscribe();
    this.ssdpSubscription = null;
    this.ssdp.close();
    for (const session of this.sessions) session.close();
  }

  // ---- what others ask -------------------------------------------------------------------------

  /** Every camera known: connected first, then those that need credentials, then the absent; each group in the order they became known. */
  statuses(): CameraStatus[] {
    return this.ordered().map((session) => session.status());
  }

  /** The first of `statuses()`, or a disconnected placeholder (id `none`): for clients of one camera. */
  status(): CameraStatus {
    const first = this.ordered()[0];
    return first?.status() ?? { id: 'none', state: CameraState.Disconnected, connected: false, baseUrl: null, info: null, lastSync: null, lastError: null };
  }

  /**
   * The camera with this id (the connected one, if an unverified camera shares the id of one that left). Throws
   * INVALID_CAMERA_ID (checked before anything is looked up) or UNKNOWN_CAMERA.
   */
  get(cameraId: unknown): CameraSession {
    const id = assertCameraId(cameraId);
    const session = this.ordered().find((s) => s.id === id);
    if (!session) throw new DomainError(ErrorCode.UNKNOWN_CAMERA, `There is no camera ${JSON.stringify(id)}; known: ${this.knownIds()}`, { cameraId: id });
    return session;
  }

  /**
   * Whether this camera's clock may set the Pi's: it is connected and adopted where a camera may be (CAMERA_URL,
   * or SSDP from the access point / CAMERA_SUBNETS at its own address), and not an unverified newcomer carrying
   * the serial number of a camera adopted elsewhere.
   */
  mayBeTimeSource(cameraId: string): boolean {
    const session = this.ordered().find((s) => s.id === cameraId);
    return session !== undefined && session.state === CameraState.Connected && !session.unverified;
  }

  /** Reads one camera's clock (no write). Throws INVALID_CAMERA_ID, UNKNOWN_CAMERA, NO_CAMERA, CAMERA_AUTH_REQUIRED or the camera's error. */
  readClock(cameraId: string): Promise<CameraClockReading> {
    return this.get(cameraId).readClock();
  }

  /**
   * Writes every connected camera on the same second boundary, reads each back and measures its residual;
   * one camera's failure (busy, gone) does not stop the others. A camera that needs credentials is part of
   * it and fails with CAMERA_AUTH_REQUIRED. Each camera gets an activity entry and a `camera-sync` event.
   * Never throws; no camera connected gives []. A call while one runs gets that one's outcomes.
   */
  syncAll(reason: string): Promise<CameraSyncReport[]> {
    this.syncingAll ??= this.runSyncAll(reason).finally(() => {
      this.syncingAll = null;
    });
    return this.syncingAll;
  }

  /**
   * One camera. Throws INVALID_CAMERA_ID or UNKNOWN_CAMERA (nothing touched), NO_CAMERA if it is not
   * connected, or, logged and published first, CAMERA_AUTH_REQUIRED or the camera's error.
   */
  async syncOne(cameraId: string, reason: string): Promise<CameraSyncResult | CameraSyncKept> {
    const session = this.get(cameraId);
    if (session.state === CameraState.Disconnected) {
      throw new DomainError(ErrorCode.NO_CAMERA, `camera ${session.id} is not connected${session.status().lastError ? ` (${session.status().lastError})` : ''}`, { cameraId: session.id });
    }
    const [report] = await this.syncSessions([session], reason);
    if (!report.success) throw new DomainError(report.code, report.error, { cameraId: report.cameraId });
    return report;
  }

  /**
   * Measures one camera's clock without writing it (camera minus Pi, with a bound, or `uncertain` and why), keeps
   * it for the status and the drift, and publishes `camera-changed`. Throws INVALID_CAMERA_ID, UNKNOWN_CAMERA,
   * NO_CAMERA, CAMERA_AUTH_REQUIRED or the camera's error (CAMERA_BUSY while it answers 503).
   */
  async measure(cameraId: string): Promise<CameraMeasurement> {
    const session = this.get(cameraId);
    const measurement = await session.measure(MeasurementKind.OnDemand);
    this.bus.emit('camera-changed', session.status());
    return measurement!;
  }

  /**
   * Takes one photo with the camera and brings back its JPEG (CameraSession.takePhoto), within
   * CAMERA_PHOTO_TIMEOUT; the largest file taken is `maxBytes`. Throws INVALID_CAMERA_ID, UNKNOWN_CAMERA,
   * NO_CAMERA, CAMERA_AUTH_REQUIRED, or the shot's error (CAMERA_BUSY, SHUTTER_REFUSED, NO_NEW_PHOTO,
   * NO_JPEG_RECORDED, PHOTO_TOO_LARGE, the camera's).
   */
  takePhoto(cameraId: string, maxBytes: number): Promise<Shot> {
    const session = this.get(cameraId);
    return session.takePhoto({ ...DEFAULT_SHOT_SETTINGS, timeoutMs: this.config.CAMERA_PHOTO_TIMEOUT, maxBytes });
  }

  /** Every connected camera, measured at once; a camera that cannot be measured is `uncertain` with the error's `code`. Never throws. */
  measureAll(): Promise<CameraMeasurement[]> {
    const sessions = this.ordered().filter((s) => s.state === CameraState.Connected);
    return Promise.all(
      sessions.map((session) =>
        this.measure(session.id).catch((error): CameraMeasurement => ({
          cameraId: session.id,
          at: new Date(this.clock.now()).toISOString(),
          atMono: this.clock.monotonic(),
          offsetMs: null,
          boundMs: null,
          uncertain: true,
          reason: messageOf(error),
          samples: 0,
          roundTripMs: null,
          kind: MeasurementKind.OnDemand,
          code: error instanceof DomainError ? error.code : ErrorCode.INTERNAL,
        })),
      ),
    );
  }

  /**
   * Keeps the periodic checks off one camera (by id) or all of them (no id), e.g. during a session's exposures;
   * a check in progress stops at once. Syncs and measurements asked for still run.
   */
  pauseChecks(cameraId?: string): void {
    if (cameraId === undefined) this.checksPausedForAll = true;
    else this.checksPaused.add(assertCameraId(cameraId));
    for (const session of this.sessions) if (this.checksPausedFor(session)) session.cancelCheck();
  }

  /** Lets the periodic checks run again: for every camera (no id), or for one paused by id. */
  resumeChecks(cameraId?: string): void {
    if (cameraId === undefined) {
      this.checksPausedForAll = false;
      this.checksPaused.clear();
    } else {
      this.checksPaused.delete(assertCameraId(cameraId));
    }
  }

  /**
   * @internal The periodic read-only checks due now (what the poll starts): every connected camera whose last
   * measurement is CAMERA_CHECK_INTERVAL old, unless its checks are paused, a sync runs on it, or it answered
   * 503 lately (then it waits 30 s, doubling up to the interval: CameraSession.checkDue). Each check publishes
   * `camera-changed`. Resolves when they are done; never throws.
   */
  async runDueChecks(): Promise<void> {
    const interval = this.config.CAMERA_CHECK_INTERVAL;
    if (!interval || this.stopped) return;
    const due = this.sessions.filter((s) => !this.checksPausedFor(s) && s.checkDue(interval));
    await Promise.all(due.map((session) => this.runCheck(session, interval)));
  }

  /**
   * One connection check of every camera now and, when discovering, a search whose answers are adopted as
   * they come (what the poll runs); resolves when those are checked too. Never throws.
   */
  async check(): Promise<CameraStatus[]> {
    await Promise.all([this.discovering() ? this.search() : null, ...this.sessions.filter((s) => s.polled).map((s) => s.check())]);
    await Promise.all(this.adopting);
    return this.statuses();
  }

  // ---- CameraSessionOwner: what the sessions report ---------------------------------------------

  /** @internal */
  changed(session: CameraSession, from: CameraState, reason: string | null): void {
    const status = session.status();
    const to = status.state;
    if (from === to) {
      this.bus.emit('camera-changed', status);
      return;
    }
    const line = connectionActivity(status, session.client.baseUrl, reason, Boolean(this.config.CAMERA_USER));
    this.activity.add(line.type, line.message, line.success, line.details);
    this.bus.emit(to === CameraState.Connected ? 'camera-connected' : to === CameraState.NeedsCredentials ? 'camera-changed' : 'camera-disconnected', status);
    this.connection.next(status);
  }

  /** @internal */
  measured(session: CameraSession, measurement: CameraMeasurement): void {
    this.bus.emit('camera-measured', { ...measurement, serial: session.serial });
  }

  /** @internal */
  wrote(session: CameraSession, write: CameraWrite): void {
    this.bus.emit('camera-written', { ...write, serial: session.serial });
  }

  /** @internal */
  synced(_session: CameraSession, report: CameraSyncReport): void {
    this.report(report);
  }

  /** @internal */
  holderOf(id: string, asker: CameraSession): CameraSession | null {
    return this.sessions.find((s) => s !== asker && s.id === id && s.state !== CameraState.Disconnected) ?? null;
  }

  // ---- connection ------------------------------------------------------------------------------

  private discovering(): boolean {
    return cameraUrls(this.config.CAMERA_URL).length === 0 && this.config.CAMERA_DISCOVERY;
  }

  private ordered(): CameraSession[] {
    return this.sessions.map((session, index) => ({ session, index })).sort((a, b) => STATE_ORDER[a.session.state] - STATE_ORDER[b.session.state] || a.index - b.index).map((x) => x.session);
  }

  private knownIds(): string {
    return this.sessions.length ? this.sessions.map((s) => s.id).join(', ') : 'none';
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      this.timer = null;
      await this.check();
      void this.runDueChecks();
      this.schedule(this.config.CAMERA_POLL_INTERVAL);
    }, delayMs);
    this.timer.unref?.();
  }

  private checksPausedFor(session: CameraSession): boolean {
    return this.checksPausedForAll || this.checksPaused.has(session.id);
  }

  /** One camera's periodic check; cancelled (a sync, a pause), nothing was learnt and it is due again. */
  private async runCheck(session: CameraSession, interval: number): Promise<void> {
    const check = await session.periodicCheck(interval);
    if (check.outcome === 'measured') this.bus.emit('camera-changed', session.status());
    if (check.outcome === 'failed') this.logger.debug(`Checking camera ${session.id}'s clock: ${logText(messageOf(check.error))}; next try in ${Math.round(check.retryInMs / 1000)} s`);
  }

  /** One M-SEARCH at a time; the cameras that answer are adopted as they answer (see onSsdp), not when it ends. */
  private search(): Promise<DiscoveredCamera[]> {
    this.searching ??= this.ssdp.search().finally(() => {
      this.searching = null;
    });
    return this.searching;
  }

  private track(work: Promise<void>): void {
    this.adopting.add(work);
    void work.finally(() => this.adopting.delete(work));
  }

  private async onSsdp(event: SsdpEvent): Promise<void> {
    try {
      if (event.type === 'byebye') this.byebye(event.usn, event.from);
      else await this.adopt(event.camera);
    } catch (error) {
      this.logger.warn(`Camera discovery: ${logText(messageOf(error))}`);
    }
  }

  /** ssdp:byebye counts only from the camera's own address: anyone can send one naming any USN. */
  private byebye(usn: string, from: string): void {
    const named = (s: CameraSession) => s.discovered && (s.discovered.usn === usn || (s.discovered.udn && usn.startsWith(`${s.discovered.udn}::`)));
    const own = this.sessions.find((s) => named(s) && s.host === from);
    if (own) return own.signedOff();
    const other = this.sessions.find(named);
    if (other && this.refusals.first(`byebye ${from} ${other.id}`)) {
      this.logger.warn(`ssdp:byebye for camera ${other.id} from ${from} ignored (SSDP_FOREIGN_BYEBYE): it was adopted at ${other.host}`);
    }
  }

  /**
   * A camera SSDP saw (at an address where a camera may be; SsdpDiscovery checked that, and that LOCATION and
   * X_accessURL name the sender). A camera keeps the address it was adopted at: the session there follows it.
   * A known serial number (or USN) at a new address is a new, unverified session, never a move: it may be the
   * camera on a new lease, or something pretending to be it. At most CAMERA_MAX sessions (one that signed off
   * or vanished makes room). Checked at once.
   */
  private adopt(camera: DiscoveredCamera): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const id = cameraIdFor({ serialNumber: camera.serialNumber, guid: camera.udn }, camera.accessUrl);
    const isIt = (s: CameraSession) => s.id === id || s.discovered?.usn === camera.usn;
    const here = this.sessions.find((s) => s.discovered && s.host === camera.address && isIt(s));
    if (here) return here.seen(camera);
    if (this.sessions.length >= this.config.CAMERA_MAX && !this.makeRoom()) {
      if (this.refusals.first(`max ${camera.address}`)) {
        this.logger.warn(`Camera announcement from ${camera.address} ignored (CAMERA_MAX): ${this.config.CAMERA_MAX} cameras are known already`);
      }
      return Promise.resolve();
    }
    const same = this.sessions.find(isIt);
    if (same) {
      this.logger.warn(`Camera ${same.id}, adopted at ${same.host}, announced itself from ${camera.address} (SSDP_KNOWN_SERIAL_NEW_ADDRESS): kept apart as an unverified camera; its clock never sets the Pi's`);
    }
    const session = this.factory.create({ url: camera.accessUrl, discovered: camera, unverified: Boolean(same) }, this);
    this.sessions.push(session);
    return session.check();
  }

  /** Forgets the oldest discovered camera that is gone (signed off or not answering); false if there is none. */
  private makeRoom(): boolean {
    const index = this.sessions.findIndex((s) => s.discovered && s.state === CameraState.Disconnected && !s.polled);
    if (index < 0) return false;
    const [gone] = this.sessions.splice(index, 1);
    gone.close();
    return true;
  }

  // ---- the clock sync ---------------------------------------------------------------------------

  private runSyncAll(reason: string): Promise<CameraSyncReport[]> {
    const sessions = this.ordered().filter((s) => s.state !== CameraState.Disconnected);
    return sessions.length ? this.syncSessions(sessions, reason) : Promise.resolve([]);
  }

  private async syncSessions(sessions: CameraSession[], reason: string): Promise<CameraSyncReport[]> {
    let timezone: string;
    try {
      ({ timezone } = await this.systemClock.read());
    } catch (error) {
      const message = `the Pi's time zone cannot be read: ${messageOf(error)}`;
      return sessions.map((s) => this.report({ cameraId: s.id, success: false, outcome: CameraSyncKind.Failed, reason, code: ErrorCode.INTERNAL, error: message, previousTime: null, offset: null }));
    }
    const boundary = new SharedSecondBoundary(() => this.clock.now(), sessions.length, BOUNDARY_LEAD_MS);
    const options = { thresholdMs: this.config.CAMERA_SYNC_THRESHOLD, spreadGoalMs: this.config.CAMERA_SPREAD_GOAL_MS };
    // A camera whose sync runs already leaves the boundary and gives that sync's outcome (reported once: `synced`).
    return Promise.all(sessions.map((session) => session.sync(reason, timezone, boundary, options)));
  }

  /**
   * The activity entries and the camera-sync event of one camera's sync (camera-activity.ts). The sync's
   * `camera-measured` and `camera-written` facts went out just before (one status frame per sync).
   */
  private report(r: CameraSyncReport): CameraSyncReport {
    for (const line of syncActivity(r)) this.activity.add(line.type, line.message, line.success, line.details);
    this.bus.emit('camera-sync', cameraSyncEvent(r, new Date(this.clock.now()).toISOString()));
    return r;
  }
}
