import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { ClockJournal } from '../activity-log/clock-journal';
import { recordBase, SessionCamera, SessionRecord } from '../activity-log/journal-records';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { AccessService } from '../access/access.service';
import { RefusalLog } from '../access/refusal-log';
import { CameraCheck, CameraTimekeeping } from '../corrections/camera-timekeeping';
import { SessionSpan } from '../corrections/corrections';
import { assertSessionId, CorrectionsService } from '../corrections/corrections.service';
import { JournalRecorder } from '../corrections/journal-recorder';
import { CAMERA_SYNC_WORDS, CameraSyncKind } from '../protocol/messages';
import { Caller } from '../access/caller';
import { Clock } from '../time/clock';
import { TimeSyncService } from '../time-sync/time-sync.service';
import { SessionControl } from './session-control';
import { SessionReport, sessionReport, SessionStartAnswer } from './session-report';

export interface SessionInfo {
  id: string;
  startedAt: string;
  startedBy: string;
  label: string | null;
}

/**
 * Capture sessions (a timelapse, a shoot with several bodies): at the start every camera is measured and
 * corrected, during it nothing is stepped automatically (the source policy knows), at the stop every camera
 * is measured and a report is kept (DATA_DIR/sessions/<id>.json) with the correction for its photos. Both
 * ends are journaled, so a session that was running when the server stopped runs on after a restart.
 * Authority: AccessService.authorize, the same as setting the clock (the Pi's own screen and access-point clients).
 */
@Injectable()
export class SessionService extends SessionControl implements OnApplicationBootstrap {
  private readonly logger = new Logger(SessionService.name);
  private running: SessionInfo | null = null;
  /** A start or a stop in progress: a second start is SESSION_RUNNING, a second stop NO_SESSION. */
  private busy: 'starting' | 'stopping' | null = null;
  readonly dir: string;

  constructor(
    private readonly timeSync: TimeSyncService,
    private readonly cameras: CameraTimekeeping,
    private readonly recorder: JournalRecorder,
    private readonly journal: ClockJournal,
    private readonly corrections: CorrectionsService,
    private readonly activity: ActivityLogService,
    private readonly clock: Clock,
    config: AppConfig,
    private readonly access: AccessService,
    private readonly refusals: RefusalLog,
  ) {
    super();
    this.dir = join(resolve(config.DATA_DIR), 'sessions');
  }

  /** A session the journal shows started and never stopped runs on: the policy is told before any page connects. */
  async onApplicationBootstrap(): Promise<void> {
    let spans: SessionSpan[];
    try {
      spans = (await this.corrections.model()).sessions;
    } catch (error) {
      this.logger.warn(`Could not read the journal for a running capture session: ${messageOf(error)}`);
      return;
    }
    const open = spans.at(-1);
    if (!open || open.stop) return;
    this.running = { id: open.id, startedAt: open.start.at, startedBy: open.start.by, label: open.start.label ?? null };
    await this.timeSync.sessionStarted({ id: open.id, startedAt: open.start.at });
    this.activity.add('sync', `Capture session ${open.id} (started ${open.start.at}) is still running: nothing is stepped automatically until it stops`, true, { sessionId: open.id });
  }

  current(): SessionInfo | null {
    return this.running;
  }

  /** `confirm`: write the cameras even though the Pi's own time is not reliable (else PI_TIME_UNRELIABLE, nothing touched). */
  async start(caller: Caller, input: { label?: string; confirm?: boolean } = {}): Promise<SessionStartAnswer> {
    this.access.authorize(caller, 'start-session');
    const address = caller.address;
    if (this.running || this.busy === 'starting') {
      const id = this.running?.id;
      throw new DomainError(ErrorCode.SESSION_RUNNING, id ? `Capture session ${id} is running (since ${this.running!.startedAt}); stop it first` : 'A capture session is starting', { sessionId: id ?? null });
    }
    if (this.busy === 'stopping') throw new DomainError(ErrorCode.SESSION_RUNNING, 'A capture session is stopping; start again when it has');
    const health = this.journal.health();
    // Without the journal, the session's corrections could not be worked out afterwards: refuse before touching a camera.
    if (!health.writable) throw new DomainError(ErrorCode.JOURNAL_UNWRITABLE, `${health.error}; a capture session needs it to record its corrections`, { path: health.path });
    // The start corrects every connected camera: the same check as any camera write, before anything is touched.
    if (this.timeSync.connectedCameraIds().length) {
      // A session corrects every connected camera.
      const verdict = this.timeSync.checkCameraWrite(input.confirm === true, true);
      if (!verdict.allowed) throw this.refusals.refuse(address, verdict.code, `Capture session not started: ${verdict.reason} (confirm: true)`, { source: 'camera' });
    }
    this.busy = 'starting';
    const nowMs = this.clock.now();
    const info: SessionInfo = { id: sessionIdAt(nowMs), startedAt: new Date(nowMs).toISOString(), startedBy: address, label: input.label?.trim() || null };
    try {
      // The policy first: nothing automatic moves a clock while the cameras are measured and corrected.
      await this.timeSync.sessionStarted({ id: info.id, startedAt: info.startedAt });
      await this.timeSync.steady();
      let checks: CameraCheck[];
      try {
        checks = await this.cameras.measureAndCorrect(`capture session ${info.id} starting`);
      } catch (error) {
        checks = [];
        this.logger.warn(`Cameras at the start of session ${info.id}: ${messageOf(error)}`);
      }
      const cameras = checks.map(sessionCamera);
      await this.recorder.run(() => this.recorder.append(this.record('session-start', info, cameras)));
      this.running = info;
      this.activity.add('sync', `Capture session ${info.id} started by ${address}${info.label ? ` (${info.label})` : ''}: ${cameraWords(cameras, 'start')}. Nothing is stepped automatically until it stops`, true, { sessionId: info.id, cameras });
      return { id: info.id, startedAt: info.startedAt, label: info.label, cameras };
    } catch (error) {
      await this.timeSync.sessionStopped();
      throw error;
    } finally {
      this.busy = null;
    }
  }

  async stop(caller: Caller): Promise<SessionReport> {
    this.access.authorize(caller, 'stop-session');
    const address = caller.address;
    const info = this.running;
    if (!info || this.busy === 'stopping') throw new DomainError(ErrorCode.NO_SESSION, this.busy === 'stopping' ? 'The capture session is already stopping' : 'No capture session is running');
    this.busy = 'stopping';
    try {
      let checks: CameraCheck[];
      try {
        checks = await this.cameras.measureAll(`capture session ${info.id} stopping`);
      } catch (error) {
        checks = [];
        this.logger.warn(`Cameras at the end of session ${info.id}: ${messageOf(error)}`);
      }
      const cameras = checks.map(sessionCamera);
      // Fails with JOURNAL_UNWRITABLE: the session keeps running (its end must be on record), the operator may stop again.
      await this.recorder.run(() => this.recorder.append(this.record('session-stop', info, cameras)));
      this.running = null;
      await this.timeSync.sessionStopped();
      const report = await this.buildReport(info.id);
      await this.save(report);
      this.activity.add('sync', `Capture session ${info.id} stopped by ${address}: ${cameraWords(cameras, 'end')}. Report: /api/session/${info.id}/report`, true, { sessionId: info.id });
      return report;
    } finally {
      this.busy = null;
    }
  }

  /** The report of a session: as saved at its stop, else made from the journal (a running one: so far). */
  async report(id: unknown): Promise<SessionReport> {
    assertSessionId(id);
    const saved = await readFile(join(this.dir, `${id}.json`), 'utf8').catch(() => null);
    if (saved !== null) {
      try {
        return JSON.parse(saved) as SessionReport;
      } catch {
        this.logger.warn(`The saved report of session ${id} is damaged; made again from the journal`);
      }
    }
    const report = await this.buildReport(id);
    if (report.state === 'stopped') await this.save(report);
    return report;
  }

  /** Every session the journal knows, newest first. */
  async list(): Promise<Array<{ id: string; startedAt: string; stoppedAt: string | null; label: string | null; report: string }>> {
    const spans = (await this.corrections.model()).sessions;
    return spans
      .map((s) => ({ id: s.id, startedAt: s.start.at, stoppedAt: s.stop?.at ?? null, label: s.start.label ?? null, report: `/api/session/${s.id}/report` }))
      .reverse();
  }

  private async buildReport(id: string): Promise<SessionReport> {
    const model = await this.corrections.model();
    const span = [...model.sessions].reverse().find((s) => s.id === id);
    if (!span) throw new DomainError(ErrorCode.UNKNOWN_SESSION, `There is no capture session ${id} in the journal`, { sessionId: id });
    return sessionReport(model, span);
  }

  /** Written whole or not at all (a temporary file renamed over it). A report that cannot be saved is still answered. */
  private async save(report: SessionReport): Promise<void> {
    try {
      await mkdir(this.dir, { recursive: true });
      const file = join(this.dir, `${report.id}.json`);
      await writeFile(`${file}.tmp`, JSON.stringify(report, null, 2) + '\n', 'utf8');
      await rename(`${file}.tmp`, file);
    } catch (error) {
      this.logger.error(`The report of session ${report.id} could not be saved in ${this.dir}: ${messageOf(error)}; it is made again from the journal when asked for`);
    }
  }

  private record(kind: 'session-start' | 'session-stop', info: SessionInfo, cameras: SessionCamera[]): SessionRecord {
    return { kind, ...recordBase(this.clock, this.journal.bootInfo()), sessionId: info.id, by: info.startedBy, label: info.label, cameras };
  }
}

/** s-20261202-100000-3f9a2c: the Pi's UTC time at the start (sorts by time) and a random part. */
export function sessionIdAt(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return `s-${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${randomBytes(3).toString('hex')}`;
}

function sessionCamera(c: CameraCheck): SessionCamera {
  return {
    cameraId: c.cameraId,
    serial: c.serial,
    success: c.success,
    ...(c.outcome ? { outcome: c.outcome } : {}),
    ...(c.code ? { code: c.code } : {}),
    ...(c.error ? { error: c.error } : {}),
    correctedFromMs: c.correctedFromMs,
    offsetMs: c.offsetMs,
    boundMs: c.boundMs,
    ...(c.verified !== undefined ? { verified: c.verified } : {}),
  };
}

function cameraWords(cameras: SessionCamera[], when: 'start' | 'end'): string {
  if (!cameras.length) return 'no camera connected';
  return cameras
    .map((c) => {
      if (!c.success) return `${c.cameraId}: ${c.error ?? 'failed'}`;
      const now = c.offsetMs === null ? CAMERA_SYNC_WORDS[CameraSyncKind.WrittenUnverified] : `${c.offsetMs >= 0 ? '+' : ''}${Math.round(c.offsetMs)} ms${c.boundMs === null ? '' : ` ±${c.boundMs} ms`}`;
      if (when === 'start' && c.outcome === CameraSyncKind.MeasuredKept) return `${c.cameraId} ${CAMERA_SYNC_WORDS[c.outcome]} (${now})`;
      return when === 'start' && c.correctedFromMs !== null ? `${c.cameraId} corrected from ${c.correctedFromMs >= 0 ? '+' : ''}${Math.round(c.correctedFromMs)} ms, now ${now}` : `${c.cameraId} ${now}`;
    })
    .join('; ');
}
