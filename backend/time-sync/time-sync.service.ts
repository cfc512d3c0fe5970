import { Injectable, Logger, OnModuleDestroy, OnModuleInit, Optional } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { ClockJournal, parseJournal } from '../activity-log/clock-journal';
import { lastKnownWallMs } from '../activity-log/journal-times';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { AppConfig } from '../config/app.config';
import { demoCameraUrl } from '../dev/demo-camera';
import { CameraState, CameraStatus, DemoStatus, PiClockStatus, Reliability, SOURCE_LABELS, SyncSource, TimeSyncStatus } from '../protocol/messages';
import { AccessService } from '../access/access.service';
import { Caller, isLoopback } from '../access/caller';
import { ClockStepService } from '../system-clock/clock-step.service';
import { SystemClock, SystemClockState } from '../system-clock/system-clock';
import { Clock } from '../time/clock';
import { roundedDrift, SyncedClockTracker } from '../time/drift';
import { DurationTracker } from '../time/duration-tracker';
import { parseClientTime } from '../time/format';
import { makeTimestamp } from '../time/timestamp';
import { assertValidTimezone, isDst, utcOffsetMinutes } from '../time/timezone';
import { assertPlausibleTime } from '../time/validation';
import { AccessPointPolicy } from '../access/access-point';
import { PhoneSource, SyncConnection } from '../sources/phone/phone-source';
import { CameraClockPort } from '../camera/camera-port';
import { cameraMoveWarning, CameraWriteVerdict, mayWriteCamera } from './camera-write-policy';
import { mulberry32 } from '../common/prng';
import { Action, DEFAULT_POLICY, decide, INITIAL_STATE, PolicyEvent, PolicySettings, PolicyState, Reading, reliabilityOf, signed, sourceOf } from './source-policy';
import { OutsideStepWatch } from './wall-jump';
import { logText } from '../common/escape';
import { CameraClockSource } from '../sources/camera/camera-clock-source';
import { PiClockWatch } from '../sources/ntp/pi-clock-watch';
import { SourceContext, SourceLoss, SourceReading } from '../sources/source-port';
import { TimeSources } from '../sources/sources.module';
import { BUILD_DATE_MS } from '../time/validation';
import { SourceRunner } from './source-runner';
import { rankOf } from '../sources/ranking';
import { TimeServer, TimeServerSample } from '../time-server/time-server';

export type { SyncConnection } from '../sources/phone/phone-source';

/** How often reliability is re-evaluated (it changes only with age). */
const RELIABILITY_TICK_MS = 10_000;

/** The capture session the policy knows of (the Session module owns it). */
export interface RunningSession {
  id: string;
  startedAt: string;
}

/** What a step action came to, for the caller that asked for it (the manual set). */
type StepOutcome = { ok: true } | { ok: false; error: unknown };

/** Settings of the source policy, from the configuration. */
export function policySettingsOf(config: AppConfig): PolicySettings {
  return {
    ...DEFAULT_POLICY,
    stepThresholdMs: config.TIME_SYNC_THRESHOLD,
    resyncIntervalMs: config.TIME_SYNC_INTERVAL,
    retryDelayMs: config.TIME_SYNC_RETRY_DELAY,
    autoSync: config.AUTO_SYNC,
    syncCameraOnConnect: config.CAMERA_SYNC_ON_CONNECT,
  };
}

/**
 * The shell of the source policy: it feeds the policy what happens (connections, burst results, manual sets,
 * cameras, NTP, time passing) and carries out what it decides with the real clock, timers, bursts and cameras.
 * The decisions are all in `source-policy.ts`; the probe bookkeeping in `burst-tracker.ts`.
 */
@Injectable()
export class TimeSyncService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TimeSyncService.name);
  private readonly settings: PolicySettings;
  /** The demo camera's CCAPI URL (DEMO with the simulated clock and no CAMERA_URL), else null. */
  private readonly demoCamera: string | null;
  private state: PolicyState = INITIAL_STATE;
  /** The phones: pages connected over the WebSocket, measured by bursts when the policy asks. */
  private readonly phones: PhoneSource;
  private resyncTimer?: NodeJS.Timeout;
  private tickTimer?: NodeJS.Timeout;
  private applying: Promise<unknown> = Promise.resolve();
  /** Camera reads for the Pi's time, one after another (see the read-camera action). */
  private cameraReads: Promise<unknown> = Promise.resolve();
  private readonly subscriptions = new Subscription();
  /** Steps of the clock the product did not make: journaled and shown. */
  private readonly outside: OutsideStepWatch;
  private session: RunningSession | null = null;
  /** Steps of the Pi's clock and camera reads that lead to one, under way: a camera write waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The Pi against the phones and GPS that synced it: its drift, and its error now (see notePiSync). */
  private readonly piClockError = new SyncedClockTracker();
  /** The Pi's clock state (zone, NTP), polled: a status is built from it without reading the clock. */
  private readonly clockWatch: PiClockWatch;
  /** The cameras' clocks as a source, read when the policy asks. */
  private readonly cameraClocks: CameraClockSource | null;
  /** The sources that report by themselves (GPS, the hardware clock, NTP). */
  private readonly runner: SourceRunner;
  /** No source may say a time before this: the build date, or the last time the journal knew, if later. */
  private plausibleFloorMs = BUILD_DATE_MS;

  constructor(
    private readonly clock: Clock,
    config: AppConfig,
    private readonly systemClock: SystemClock,
    private readonly stepper: ClockStepService,
    private readonly activity: ActivityLogService,
    private readonly bus: EventBus,
    private readonly accessPoint: AccessPointPolicy,
    durations: DurationTracker,
    private readonly journal: ClockJournal,
    private readonly access: AccessService,
    @Optional() private readonly cameras?: CameraClockPort,
    @Optional() sources?: TimeSources,
    @Optional() piClock?: PiClockWatch,
    /** TIME_SERVER=chrony: chrony keeps the clock; the readings the policy accepts are handed to it. */
    @Optional() private readonly timeServer?: TimeServer,
  ) {
    this.settings = policySettingsOf(config);
    this.clockWatch = piClock ?? new PiClockWatch(systemClock);
    this.cameraClocks = cameras ? new CameraClockSource(cameras, clock) : null;
    const adapters = sources?.adapters ?? [this.clockWatch];
    this.runner = new SourceRunner(adapters.includes(this.clockWatch) ? adapters : [this.clockWatch, ...adapters], clock, this.settings, {
      measured: (r) => void this.track(this.onSourceReading(r)),
      lost: (l) => this.onSourceLost(l),
      info: (source, message) => {
        this.logger.log(logText(message));
        this.activity.add('sync', message, true, { source });
      },
      keeping: (_source, keeps, who) => void this.dispatch({ kind: 'ntp', synchronized: keeps, ...(who !== undefined ? { who } : {}) }),
      reliability: () => this.reliability(),
    });
    this.demoCamera = demoCameraUrl(config);
    const rng = mulberry32(Math.floor(Math.random() * 2 ** 31));
    this.phones = new PhoneSource(
      clock,
      rng,
      this.settings.minBurstAnswers,
      {
        measured: (connId, reading) => void this.onSourceReading(reading, connId),
        failed: (f) => void this.dispatch({ kind: 'burst-failed', ...f }),
      },
      () => durations.start('sync-burst'),
    );
    // With TIME_SERVER=chrony, chrony keeps the clock: a step the product did not make is chrony's.
    this.outside = new OutsideStepWatch(
      clock,
      activity,
      journal,
      () => (this.chrony() ? { by: 'chrony', following: this.state.ntp ? (this.chrony()!.status()?.reference ?? 'its NTP server') : null } : null),
      (jump) => this.dispatch({ kind: 'clock-stepped', by: 'chrony', stepMs: jump.jumpMs }),
    );
  }

  async onModuleInit(): Promise<void> {
    // Cameras are listened to first: one that connects while the sources start is held, not missed, and handed to the
    // policy once it knows the Pi's clock (NTP, the sources' first readings).
    const early: CameraStatus[] = [];
    let ready = false;
    if (this.cameras) {
      this.subscriptions.add(
        this.cameras.connection$.subscribe((camera) => {
          if (camera.state !== CameraState.Connected) return;
          if (ready) this.cameraConnected(camera);
          else early.push(camera);
        }),
      );
    }
    this.plausibleFloorMs = await this.knownFloor();
    await this.runner.start(this.sourceContext());
    await this.readPi();
    this.tickTimer = setInterval(() => void this.dispatch({ kind: 'tick' }), RELIABILITY_TICK_MS);
    this.tickTimer.unref?.();
    this.outside.start();
    // Every camera write, whoever asked for it: one that moved a camera like a wrong Pi would is warned about.
    this.subscriptions.add(
      this.bus.events$.subscribe((event) => {
        if (event.name !== 'camera-sync') return;
        const d = event.data;
        // offset: Pi minus camera before the write, so the camera moved by it.
        if (!d.success || d.written === false || d.offset === null) return;
        const warning = cameraMoveWarning(d.cameraId, d.offset, this.piTrust(), this.settings);
        if (!warning) return;
        this.logger.warn(warning);
        this.activity.add('camera', warning, false, { source: 'camera', cameraId: d.cameraId, movedByMs: d.offset, code: 'SUSPICIOUS_CAMERA_MOVE', piSource: this.source(), reliability: this.reliability() });
      }),
    );
    ready = true;
    // Those that connected while starting, and any that was connected before this service listened.
    const held = new Set(early.map((c) => c.id));
    for (const camera of early) this.cameraConnected(camera);
    for (const camera of this.cameras?.statuses() ?? []) if (camera.state === CameraState.Connected && !held.has(camera.id)) this.cameraConnected(camera);
  }

  private cameraConnected(camera: CameraStatus): void {
    void this.dispatch({ kind: 'camera-connected', cameraId: camera.id, name: cameraName(camera), trusted: this.cameras!.mayBeTimeSource(camera.id) });
  }

  onModuleDestroy(): void {
    clearInterval(this.tickTimer);
    this.outside.stop();
    clearTimeout(this.resyncTimer);
    this.subscriptions.unsubscribe();
    this.phones.abort();
    void this.runner.stop();
  }

  // ---- what the gateway and controllers call ----------------------------------------------------

  /** A page connected. Called before any of its frames is handled, so its first answer is never lost. */
  connect(conn: SyncConnection): void {
    this.phones.connect(conn);
    void this.dispatch({ kind: 'connected', conn: { id: conn.id, address: conn.address, trusted: conn.trusted } });
  }

  disconnect(connId: string): void {
    if (!this.phones.get(connId)) return;
    void this.dispatch({ kind: 'disconnected', connId });
    this.phones.disconnect(connId);
  }

  /** A `time-sync-response`, stamped `receivedMono` at the socket. Anything wrong throws a coded DomainError and changes nothing. */
  handleResponse(connId: string, data: { clientTime: unknown; serverTime: unknown; requestId: unknown; timezone?: unknown }, receivedMono: number, readLagMs = 0): void {
    const conn = this.phones.get(connId);
    if (!conn?.trusted) {
      throw this.access.deny(conn?.address ?? 'an unknown page', 'be-time-source');
    }
    this.phones.answer(connId, data, receivedMono, readLagMs);
  }

  /**
   * Sets the time by hand (REST or WebSocket), from the Pi's own screen or an access-point client only.
   * `receivedMono` is when the request arrived: the time spent before the write is added to the operator's timestamp.
   */
  async setManually(caller: Caller, input: { timestamp: unknown; timezone?: unknown }, receivedMono: number): Promise<{ offsetMs: number; newTime: string }> {
    const screen = this.access.authorize(caller, 'set-time');
    const address = caller.address;
    const target = parseClientTime(input.timestamp);
    assertPlausibleTime(target, 'timestamp');
    const zone = input.timezone === undefined || input.timezone === null ? undefined : assertValidTimezone(input.timezone);
    const pi = await this.readPi();
    const mono = this.clock.monotonic();
    const piTimeMs = this.clock.now();
    const offsetMs = round3(target + (mono - receivedMono) - piTimeMs);
    const reading: Reading = { source: 'manual', offsetMs, errorBoundMs: null, targetMinusMonoMs: target - receivedMono, who: address, screen, zone, sourceTimeMs: target, piTimeMs };
    const outcomes = await this.dispatch({ kind: 'manual', reading, piZone: pi?.timezone ?? 'UTC' });
    const outcome = outcomes[0];
    if (!outcome) throw new DomainError(ErrorCode.NTP_SYNCHRONIZED, "NTP keeps the Pi's clock (it has internet time); a time set by hand would be undone");
    if (!outcome.ok) throw outcome.error;
    return { offsetMs, newTime: new Date(this.clock.now()).toISOString() };
  }

  /**
   * The operator chose a client's time over the Pi's (after a manual set or a suspected zone mistake).
   * `connId`: the page that asked (its own time); null (REST, the Pi's own screen): the client of the pending
   * decision, else the source.
   */
  async useClientTime(caller: Caller, connId: string | null): Promise<void> {
    this.access.authorize(caller, 'choose-phone-time');
    const pending = this.state.decision;
    if (pending && pending.connId === '' && pending.source !== 'client') {
      // The decision on screen is about GPS or the hardware clock: choosing means its time, whichever page asked.
      await this.dispatch({ kind: 'accept-client', connId: null });
      return;
    }
    const wanted = connId ?? this.state.decision?.connId ?? this.state.sourceId;
    const conn = wanted ? this.phones.get(wanted) : undefined;
    if (!conn?.trusted) {
      throw new DomainError(ErrorCode.NO_TIME_SOURCE, connId ? "this page is not on the Pi's Wi-Fi access point, so its time cannot be used" : "no phone on the Pi's Wi-Fi is connected whose time could be used");
    }
    await this.dispatch({ kind: 'accept-client', connId: conn.id });
  }

  reliability(): Reliability {
    return reliabilityOf(this.state, this.clock.monotonic(), this.settings);
  }

  /**
   * Resolves when no step of the Pi's clock (nor a camera read that may lead to one) is under way: a camera
   * written while the Pi's clock moves gets neither time, and its sync cannot be verified.
   */
  async steady(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.then(
      () => this.inFlight.delete(work),
      () => this.inFlight.delete(work),
    );
    return work;
  }

  /**
   * The one check before cameras are written on request (the manual camera sync, the start of a capture session):
   * `mayWriteCamera` on the Pi's trust now. A warning (a low reliability, a write on confirmation) is logged here.
   */
  checkCameraWrite(confirmed: boolean, several: boolean): CameraWriteVerdict {
    const verdict = mayWriteCamera({ ...this.piTrust(), confirmed, several });
    if (verdict.allowed && verdict.warning) {
      this.logger.warn(verdict.warning);
      this.activity.add('camera', verdict.warning, false, { source: 'camera', reliability: this.reliability(), confirmed });
    }
    return verdict;
  }

  /** Connected cameras (those a camera sync would write). */
  connectedCameraIds(): string[] {
    return (this.cameras?.statuses() ?? []).filter((c) => c.state === CameraState.Connected).map((c) => c.id);
  }

  /** Where the Pi's time comes from and how good it is now: journaled beside every camera measurement. */
  piTrust(): { source: SyncSource; reliability: Reliability } {
    return { source: this.source(), reliability: this.reliability() };
  }

  /** A capture session started (the Session module checked authority): nothing is stepped automatically until it stops. */
  async sessionStarted(session: RunningSession): Promise<void> {
    this.session = session;
    await this.dispatch({ kind: 'session-started' });
  }

  /** The session stopped: what it held back (a measurement, the cameras) follows under the ordinary rules. */
  async sessionStopped(): Promise<void> {
    this.session = null;
    await this.dispatch({ kind: 'session-stopped' });
  }

  /** The status a page or REST client sees; `forCaller` decides `canSetTime` and `screen`. */
  async status(forCaller?: Caller): Promise<TimeSyncStatus> {
    const read = this.clockWatch.last();
    const s = this.state;
    const mono = this.clock.monotonic();
    const reliability = this.reliability();
    const source = this.source();
    const sourceConn = s.sourceId ? this.phones.get(s.sourceId) : undefined;
    const cameras = this.cameras?.statuses() ?? [];
    const decision = s.decision ? (({ connId: _omit, ...wire }) => wire)(s.decision) : null;
    const sources = this.runner.statuses().filter((x) => x.source !== 'ntp');
    return {
      isSynchronized: reliability !== 'none',
      lastSyncTime: s.last ? this.wallOfMono(s.last.monotonicMs) : null,
      syncSource: source,
      sourceLabel: SOURCE_LABELS[source],
      sources,
      reliability,
      lastOffsetMs: s.last?.offsetMs ?? null,
      errorBoundMs: this.chronyBound(source) ?? s.last?.errorBoundMs ?? null,
      lastSyncAgeMs: s.last ? Math.round(mono - s.last.monotonicMs) : null,
      sourceClient: sourceConn?.address ?? null,
      canSetTime: forCaller === undefined ? undefined : this.access.maySetTime(forCaller),
      screen: forCaller === undefined ? undefined : this.access.screenOf(forCaller),
      accessPointClients: this.phones.trustedCount(),
      piWallMinusMonotonicMs: Math.round(this.clock.epochOfMonotonic()),
      operatorHold: s.hold,
      decision,
      session: this.session,
      activityLog: this.activity.entries(),
      journal: this.journal.health(),
      pi: this.piStatus(read, source, reliability),
      cameras,
      camera: cameras[0] ?? NO_CAMERA_STATUS,
      demo: this.demoStatus(forCaller),
      ...(this.chrony() ? { timeServer: this.chrony()!.status()! } : {}),
    };
  }

  /** The Pi's clock alone (GET /api/system/time). */
  async piClock(): Promise<PiClockStatus> {
    return this.piStatus(this.clockWatch.last(), this.source(), this.reliability());
  }

  // ---- the policy loop --------------------------------------------------------------------------

  /** Feeds the policy one event and carries out its actions in order. Returns the outcomes of its steps. */
  private async dispatch(event: PolicyEvent): Promise<StepOutcome[]> {
    const { state, actions } = decide(this.state, event, this.clock.monotonic(), this.settings);
    this.state = state;
    const outcomes: StepOutcome[] = [];
    for (const action of actions) {
      // Actions that need no waiting run at once (a new source's first probe leaves before connect() returns).
      const pending = this.execute(action);
      const outcome = pending instanceof Promise ? await pending : undefined;
      if (outcome) outcomes.push(outcome);
    }
    return outcomes;
  }

  private execute(action: Action): Promise<StepOutcome | void> | void {
    switch (action.kind) {
      case 'start-burst':
        return this.phones.measure(action.connId);
      case 'abort-burst':
        return this.phones.abort();
      case 'schedule':
        clearTimeout(this.resyncTimer);
        this.resyncTimer = setTimeout(() => void this.dispatch({ kind: 'resync' }), action.delayMs);
        this.resyncTimer.unref?.();
        return;
      case 'step':
        return this.track(this.step(action.reading, action.stepClock, action.zone));
      case 'log':
        this.activity.add(action.type, action.message, action.success, action.details);
        return;
      case 'pi-sync':
        this.notePiSync(action);
        // A time the policy took without a step is one more measurement for chrony (a step went to it already).
        if (action.synchronized && action.reading && !action.stepped) this.chrony()?.offer(this.sampleOf(action.reading));
        this.bus.emit('pi-sync', {
          synchronized: action.synchronized,
          source: action.source,
          offset: action.offset === null ? null : round3(action.offset),
          reliability: this.reliability(),
          errorBoundMs: action.errorBoundMs === null ? undefined : round3(action.errorBoundMs),
          stepped: action.stepped,
          ...(action.error ? { error: action.error } : {}),
        });
        return;
      case 'reliability-lost':
        this.bus.emit('reliability-lost', { lastSyncTime: action.lastSyncMono === null ? null : this.wallOfMono(action.lastSyncMono), reliability: action.reliability });
        return;
      case 'status-changed':
        this.bus.emit('status-changed', { reason: action.reason });
        return;
      case 'sync-cameras':
        return this.syncCameras(action.reason, action.cameraIds, action.onlyUnsynced);
      case 'resample':
        if (!this.runner.resample(action.source)) {
          this.activity.add('sync', `${SOURCE_LABELS[action.source]} gives no time now: the Pi keeps its time; it is measured when it does`, false, { source: action.source });
        }
        return;
      case 'read-camera': {
        // One camera at a time, each measured after the step the one before caused: no measurement straddles a
        // step, and the policy compares every camera against the time the Pi really has.
        const run = this.cameraReads.then(() => this.readCamera(action.cameraId));
        this.cameraReads = run.catch(() => undefined);
        return this.track(run);
      }
    }
  }

  /** Clock writes happen one at a time; the target is computed at the moment of the write, from the monotonic clock. */
  private step(reading: Reading, stepClock: boolean, zone: string | undefined): Promise<StepOutcome> {
    const run = this.applying.then(async (): Promise<StepOutcome> => {
      let stepped = false;
      let stepMs: number | null = null;
      let zoneChanged: { from: string; to: string } | null = null;
      this.outside.begin();
      try {
        if (stepClock) {
          const record = await this.stepper.step(() => this.clock.monotonic() + reading.targetMinusMonoMs, { source: reading.source, errorBoundMs: reading.errorBoundMs, client: reading.who });
          stepped = true;
          stepMs = typeof record?.stepMs === 'number' ? record.stepMs : null;
        }
        if (zone) {
          const from = (await this.systemClock.read()).timezone;
          if (from !== zone) {
            await this.stepper.changeZone(from, zone, reading.source);
            await this.clockWatch.refresh();
            zoneChanged = { from, to: zone };
          }
        }
      } catch (error) {
        this.outside.end();
        await this.dispatch({ kind: 'apply-failed', reading, error: messageOf(error), code: error instanceof DomainError ? error.code : ErrorCode.INTERNAL });
        return { ok: false, error };
      }
      this.outside.end();
      await this.dispatch({ kind: 'applied', reading, stepped, zoneChanged, stepMs });
      return { ok: true };
    });
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** The time server when it is chrony (TIME_SERVER=chrony); undefined with TIME_SERVER=off. */
  private chrony(): TimeServer | undefined {
    return this.timeServer?.engine === 'chrony' ? this.timeServer : undefined;
  }

  /** chrony's bound (root delay / 2 + root dispersion) when NTP through chrony keeps the clock; else null. */
  private chronyBound(source: SyncSource): number | null {
    if (source !== 'ntp') return null;
    return this.chrony()?.view()?.errorBoundMs ?? null;
  }

  /** A reading the policy took, as the time server's sample (measured now: the policy decides right after it). */
  private sampleOf(r: Reading): TimeServerSample {
    return { source: r.source, who: r.who, targetMinusMonoMs: r.targetMinusMonoMs, errorBoundMs: r.errorBoundMs, atMono: this.clock.monotonic() };
  }

  private async syncCameras(reason: string, ids: string[] | undefined, onlyUnsynced: boolean | undefined): Promise<void> {
    if (!this.cameras) return;
    const connected = this.cameras.statuses().filter((c) => c.state === CameraState.Connected);
    const wanted = connected.filter((c) => (!ids || ids.includes(c.id)) && (!onlyUnsynced || !c.lastSync?.success));
    if (!wanted.length) return;
    // Not awaited: a camera sync takes seconds and must not hold up the Pi's own sync. The Camera module logs its outcome.
    const run = wanted.length === connected.length && !ids ? this.cameras.syncAll(reason) : Promise.all(wanted.map((c) => this.cameras!.syncOne(c.id, reason)));
    run.catch((error) => this.logger.debug(`camera sync (${reason}): ${logText(messageOf(error))}`));
  }

  /** The Pi has no reliable time and a camera connected: its battery-backed clock may be the best there is. */
  private async readCamera(cameraId: string): Promise<void> {
    if (!this.cameraClocks) return;
    try {
      const reading = await this.cameraClocks.read(cameraId);
      if (reading) await this.onSourceReading(reading);
    } catch (error) {
      this.activity.add('error', `Reading the camera ${cameraId}'s clock failed: ${messageOf(error)}`, false, { source: 'camera', error: messageOf(error), code: error instanceof DomainError ? error.code : ErrorCode.INTERNAL });
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------

  /**
   * The Pi's own drift, from the policy's successful syncs from true time (a phone, GPS): one that did not step
   * measured the Pi against it (Pi minus source = -offset, within its bound); one that stepped left it within that bound.
   */
  private notePiSync(a: Extract<Action, { kind: 'pi-sync' }>): void {
    if (!a.synchronized || !isTrueTimeReference(a.source) || a.offset === null || a.errorBoundMs === null) return;
    this.piClockError.observe({
      reference: this.state.last?.client ?? 'client',
      offsetMs: -a.offset,
      boundMs: a.errorBoundMs,
      atMono: this.clock.monotonic(),
      epoch: this.clock.epochOfMonotonic(),
      stepped: a.stepped,
    });
  }

  /** Reads the Pi's clock now (zone, NTP), where a decision needs it fresh; a change of NTP state goes to the policy. */
  private async readPi(): Promise<SystemClockState | null> {
    const read = await this.clockWatch.refresh();
    if (read && this.clockWatch.reportsNtp && read.ntpSynchronized !== this.state.ntp) await this.dispatch({ kind: 'ntp', synchronized: read.ntpSynchronized });
    return read;
  }

  /** What a source adapter may know of the Pi. */
  private sourceContext(): SourceContext {
    return {
      reference: () => {
        const last = this.state.last;
        if (this.state.ntp || !last || last.source !== 'client' || last.errorBoundMs === null || this.reliability() !== 'high') return null;
        const now = this.piClockError.errorNowMs(this.clock.monotonic(), this.clock.epochOfMonotonic());
        return { source: 'client', errorBoundMs: Math.max(last.errorBoundMs, now ?? 0) };
      },
      plausibleAfterMs: () => this.plausibleFloorMs,
      wallMinusMonoMs: () => this.clock.epochOfMonotonic(),
    };
  }

  /** The build date, or the last time the journal states, whichever is later (an unreadable journal: the build date). */
  private async knownFloor(): Promise<number> {
    try {
      return Math.max(BUILD_DATE_MS, lastKnownWallMs(parseJournal(await this.journal.text())) ?? 0);
    } catch {
      return BUILD_DATE_MS;
    }
  }

  /**
   * A reading of any source (a phone's burst with its connection, GPS, the hardware clock) as the policy's reading:
   * source minus Pi now, with the Pi's zone read fresh (a phone's zone is compared with it).
   */
  private async onSourceReading(r: SourceReading, connId?: string): Promise<void> {
    const pi = await this.readPi();
    const mono = this.clock.monotonic();
    const piTimeMs = this.clock.now();
    const offsetMs = round3(r.sourceMinusMonoMs + mono - piTimeMs);
    const reading: Reading = {
      source: r.source,
      offsetMs,
      errorBoundMs: round3(r.errorBoundMs),
      targetMinusMonoMs: r.sourceMinusMonoMs,
      who: r.who,
      ...(r.fine ? { fine: true } : {}),
      ...(r.zone ? { zone: r.zone } : {}),
      sourceTimeMs: piTimeMs + offsetMs,
      piTimeMs,
    };
    await this.dispatch({ kind: 'measured', ...(connId !== undefined ? { connId } : {}), reading, piZone: pi?.timezone ?? 'UTC' });
  }

  private onSourceLost(l: SourceLoss): void {
    void this.dispatch({ kind: 'source-lost', source: l.source, who: l.who, why: l.why, code: l.code });
  }

  /** What the first-run demo put in place (null outside it), and whether it trusts this caller. */
  private demoStatus(caller?: Caller): DemoStatus | null {
    const loopbackTrusted = this.accessPoint.demoLoopback === true;
    if (!loopbackTrusted && !this.demoCamera) return null;
    return { cameraUrl: this.demoCamera, loopbackTrusted, ...(caller ? { thisBrowserTrusted: loopbackTrusted && isLoopback(caller.address) } : {}) };
  }

  private source(): SyncSource {
    return sourceOf(this.state);
  }

  private piStatus(read: SystemClockState | null, source: SyncSource, reliability: Reliability): PiClockStatus {
    const now = makeTimestamp(this.clock, { source, reliability, estimatedErrorMs: source === 'ntp' ? this.chronyBound(source) : this.state.last?.errorBoundMs ?? null });
    const epochMs = Math.round(now.epochMs);
    const timezone = read?.timezone ?? 'UTC';
    const drift = this.piClockError.drift();
    return {
      timestamp: new Date(epochMs).toISOString(),
      epochMs,
      timezone,
      utcOffsetMinutes: utcOffsetMinutes(timezone, epochMs),
      isDst: isDst(timezone, epochMs),
      source,
      reliability,
      estimatedErrorMs: now.estimatedErrorMs,
      // With chrony, NTP keeps the clock when chrony follows a server (the policy's state), not whenever it is synchronised.
      ntpSynchronized: this.clockWatch.reportsNtp ? read?.ntpSynchronized ?? false : this.state.ntp,
      backend: this.systemClock.backend,
      drift: drift ? roundedDrift(drift) : null,
      // Against the phone or GPS the Pi last followed; a manual set, NTP, a camera or the hardware clock carry no such bound.
      errorNowMs: isTrueTimeReference(source) ? roundUp(this.piClockError.errorNowMs(this.clock.monotonic(), this.clock.epochOfMonotonic())) : null,
    };
  }

  /** A monotonic instant in the Pi's current wall time (so a later step moves it with the clock). */
  private wallOfMono(mono: number): string {
    return new Date(Math.round(this.clock.epochOfMonotonic() + mono)).toISOString();
  }
}

const NO_CAMERA_STATUS: CameraStatus = { id: 'none', state: CameraState.Disconnected, connected: false, baseUrl: null, info: null, lastSync: null, lastError: null };

function cameraName(c: CameraStatus): string {
  return [c.info?.productName, c.info?.serialNumber && `(serial ${c.info.serialNumber})`].filter(Boolean).join(' ') || `the camera ${c.id}`;
}

/**
 * A source of true time the Pi's own drift may be measured against: one ranked above a camera's clock (a phone, GPS),
 * not the operator (no bound) nor NTP (it keeps the clock). A camera or the hardware clock drifts itself.
 */
function isTrueTimeReference(source: SyncSource): boolean {
  return source !== 'manual' && source !== 'ntp' && rankOf(source) > rankOf('camera');
}

function roundUp(x: number | null): number | null {
  return x === null ? null : Math.ceil(x);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
