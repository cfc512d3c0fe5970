import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { Observable, Subject, Subscription } from 'rxjs';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { AppConfig, cameraUrls } from '../config/app.config';
import { CameraState, CameraStatus } from '../protocol/messages';
import { SystemClock } from '../system-clock/system-clock';
import { Clock } from '../time/clock';
import { CameraClockPort } from '../time-sync/camera-port';
import { assertCameraId, cameraIdFor } from './camera-id';
import { CameraClockReading, CameraSession, CameraSessionOwner, CameraSyncFailure, CameraSyncReport, CameraSyncResult, formatOffset, needsCredentialsMessage } from './camera-session';
import { CameraSessionFactory } from './camera-session.factory';
import { DiscoveredCamera, SsdpDiscovery, SsdpEvent } from './ssdp';
import { SharedSecondBoundary } from './sync-timing';

const STATE_ORDER: Record<CameraState, number> = { [CameraState.Connected]: 0, [CameraState.NeedsCredentials]: 1, [CameraState.Disconnected]: 2 };

/**
 * Every camera: a registry of camera sessions keyed by id, fed by CAMERA_URL (a list) or SSDP discovery
 * (every camera that answers a search, `ssdp:alive` adopted at once, `ssdp:byebye` followed), one periodic
 * check, the clock sync of all of them on one second boundary, and what the operator sees of them (status,
 * domain events, activity log). When to sync is decided elsewhere (TimeSync); this service does it well and
 * reports it. Nothing else holds a camera.
 */
@Injectable()
export class CameraService implements CameraClockPort, OnModuleInit, OnModuleDestroy, CameraSessionOwner {
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
  /** Each camera's sync in progress, reported once however many callers wait for it. */
  private readonly syncing = new Map<CameraSession, Promise<CameraSyncReport>>();
  private ssdpSubscription: Subscription | null = null;
  /** Cameras SSDP reported that are being checked. */
  private readonly adopting = new Set<Promise<void>>();

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

  /** The camera with this id. Throws INVALID_CAMERA_ID (checked before anything is looked up) or UNKNOWN_CAMERA. */
  get(cameraId: unknown): CameraSession {
    const id = assertCameraId(cameraId);
    const session = this.sessions.find((s) => s.id === id);
    if (!session) throw new DomainError(ErrorCode.UNKNOWN_CAMERA, `There is no camera ${JSON.stringify(id)}; known: ${this.knownIds()}`, { cameraId: id });
    return session;
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
  async syncOne(cameraId: string, reason: string): Promise<CameraSyncResult> {
    const session = this.get(cameraId);
    if (session.state === CameraState.Disconnected) {
      throw new DomainError(ErrorCode.NO_CAMERA, `camera ${session.id} is not connected${session.status().lastError ? ` (${session.status().lastError})` : ''}`, { cameraId: session.id });
    }
    const [report] = await this.syncSessions([session], reason);
    if (!report.success) throw new DomainError(report.code, report.error, { cameraId: report.cameraId });
    return report;
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
    if (to === CameraState.Connected) {
      const info = status.info;
      const name = [info?.productName, info?.serialNumber && `(serial ${info.serialNumber})`].filter(Boolean).join(' ') || `camera ${status.id}`;
      this.activity.add('camera', `Camera connected: ${name} at ${session.client.baseUrl}`, true, { cameraId: status.id, baseUrl: session.client.baseUrl, ...info });
      this.bus.emit('camera-connected', status);
    } else if (to === CameraState.NeedsCredentials) {
      const message = needsCredentialsMessage(session.client.baseUrl);
      this.activity.add('camera', message, false, { cameraId: status.id, baseUrl: session.client.baseUrl, error: reason ?? undefined, userSet: Boolean(this.config.CAMERA_USER) });
      this.bus.emit('camera-changed', status);
    } else {
      this.activity.add('camera', `Camera ${status.id} disconnected: ${reason ?? 'no answer'}`, false, { cameraId: status.id, error: reason ?? undefined, baseUrl: session.client.baseUrl });
      this.bus.emit('camera-disconnected', status);
    }
    this.connection.next(status);
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
      this.schedule(this.config.CAMERA_POLL_INTERVAL);
    }, delayMs);
    this.timer.unref?.();
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
      if (event.type === 'byebye') {
        this.sessions.find((s) => s.discovered?.usn === event.usn || (s.discovered?.udn && event.usn.startsWith(`${s.discovered.udn}::`)))?.signedOff();
      } else {
        await this.adopt(event.camera);
      }
    } catch (error) {
      this.logger.warn(`Camera discovery: ${messageOf(error)}`);
    }
  }

  /** A camera SSDP saw: the session of the same camera (by id, or address) follows it; else a new session. Checked at once. */
  private adopt(camera: DiscoveredCamera): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const id = cameraIdFor({ serialNumber: camera.serialNumber, guid: camera.udn }, camera.accessUrl);
    const known = this.sessions.find((s) => s.id === id || s.discovered?.usn === camera.usn);
    if (known) return known.seen(camera);
    const session = this.factory.create({ url: camera.accessUrl, discovered: camera }, this);
    this.sessions.push(session);
    return session.check();
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
      return sessions.map((s) => this.report({ cameraId: s.id, success: false, reason, code: ErrorCode.INTERNAL, error: message, previousTime: null, offset: null }));
    }
    const boundary = new SharedSecondBoundary(() => this.clock.now(), sessions.length);
    return Promise.all(
      sessions.map((session) => {
        const running = this.syncing.get(session);
        if (running) {
          boundary.leave();
          return running;
        }
        const run = session
          .sync(reason, timezone, boundary)
          .then((r) => this.report(r))
          .finally(() => this.syncing.delete(session));
        this.syncing.set(session, run);
        return run;
      }),
    );
  }

  /** The activity entry and the camera-sync event of one camera's sync. */
  private report(r: CameraSyncReport): CameraSyncReport {
    if (r.success) {
      const residual = r.verified ? `${r.residualMs} ms off (±${r.residualBoundMs} ms)` : `set, not verified (${r.unverifiedBecause})`;
      this.activity.add('camera', `Camera ${r.cameraId} clock set (${r.reason}): it was ${formatOffset(r.offset)} (±${r.offsetBoundMs} ms), now ${residual}`, true, {
        source: 'camera',
        cameraId: r.cameraId,
        offset: r.offset,
        offsetBoundMs: r.offsetBoundMs,
        residualMs: r.residualMs,
        residualBoundMs: r.residualBoundMs,
        verified: r.verified,
        previousTime: r.previousTime,
        newTime: r.newTime,
        reason: r.reason,
      });
      this.bus.emit('camera-sync', { cameraId: r.cameraId, success: true, previousTime: r.previousTime, newTime: r.newTime, offset: r.offset, residualMs: r.residualMs });
    } else {
      this.logFailure(r);
      this.bus.emit('camera-sync', { cameraId: r.cameraId, success: false, previousTime: r.previousTime, newTime: null, offset: r.offset, residualMs: null, error: r.error });
    }
    return r;
  }

  private logFailure(r: CameraSyncFailure): void {
    this.activity.add('error', `Camera ${r.cameraId} clock sync failed (${r.reason}): ${r.error}`, false, {
      source: 'camera',
      cameraId: r.cameraId,
      error: r.error,
      code: r.code,
      reason: r.reason,
      ...(r.offset !== null ? { offset: r.offset } : {}),
    });
  }
}
