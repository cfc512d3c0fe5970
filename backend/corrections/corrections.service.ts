import { Injectable } from '@nestjs/common';
import { ClockJournal } from '../activity-log/clock-journal';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Clock } from '../time/clock';
import { AppConfig } from '../config/app.config';
import { assertCameraId } from '../camera/camera-id';
import { isScopableSerial, logText } from '../common/escape';
import { buildModel, CameraCorrections, forSession, JournalModel, normalizeSerial, SessionSpan } from './corrections';
import { CorrectionFormat } from './dto/corrections.dto';
import { journalCsv } from './journal-csv';
import { exiftoolArgs, FileContext, geosyncArgs } from './photo-files';

/** A session id as the Session module makes them. */
export const SESSION_ID = /^s-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/;

export interface CorrectionsAnswer {
  /** `json`: the object; `exiftool` / `geosync`: the file's text. */
  body: unknown;
  contentType: string;
  filename?: string;
}

/** The journal turned into what photo tools read. Every refusal is coded; a damaged line is named, never used. */
@Injectable()
export class CorrectionsService {
  constructor(
    private readonly journal: ClockJournal,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async model(): Promise<JournalModel> {
    return buildModel(await this.journal.text(), { maxDriftPpm: this.config.CAMERA_MAX_DRIFT_PPM });
  }

  async csv(): Promise<string> {
    return journalCsv(await this.model());
  }

  /** Throws INVALID_SESSION_ID, UNKNOWN_SESSION, INVALID_CAMERA_ID, UNKNOWN_CAMERA, EMPTY_JOURNAL, NO_CORRECTION, SELECTION_REQUIRED. */
  async corrections(query: { format?: CorrectionFormat; session?: string; camera?: string; period?: number }): Promise<CorrectionsAnswer> {
    if (query.session !== undefined) assertSessionId(query.session);
    if (query.camera !== undefined) assertCameraId(query.camera);
    const model = await this.model();
    if (model.records === 0) {
      const damaged = model.damaged.length ? `; ${model.damaged.length} damaged line(s) skipped (${model.damaged.map((d) => `line ${d.line}: ${d.reason}`).join('; ')})` : '';
      throw new DomainError(ErrorCode.EMPTY_JOURNAL, `The clock-change journal holds nothing yet: no clock or camera was measured or set${damaged}`);
    }
    let cameras = model.cameras;
    let span: SessionSpan | undefined;
    let scope = 'every photo the journal covers';
    if (query.session !== undefined) {
      span = [...model.sessions].reverse().find((s) => s.id === query.session);
      if (!span) throw new DomainError(ErrorCode.UNKNOWN_SESSION, `There is no capture session ${query.session} in the journal`, { sessionId: query.session });
      cameras = forSession(model, span);
      scope = `the photos of capture session ${span.id}${span.stopLine === null ? ' (still running)' : ''}`;
    }
    if (query.camera !== undefined) {
      const wanted = normalizeSerial(query.camera);
      const all = model.cameras.find((c) => normalizeSerial(c.serial) === wanted || c.cameraIds.includes(query.camera!));
      if (!all) throw new DomainError(ErrorCode.UNKNOWN_CAMERA, `The journal knows no camera ${query.camera}; known: ${knownSerials(model.cameras)}`, { cameraId: query.camera });
      assertScopable(all);
      cameras = cameras.filter((c) => c.serial === all.serial);
      scope += `, camera ${all.serial}`;
    }
    const usable = cameras.some((c) => c.periods.some((p) => !p.unusable && p.segments.length));
    if (!usable) {
      const why = model.skipped.length ? `; not used: ${model.skipped.map((s) => `line ${s.line}: ${s.reason}`).join('; ')}` : '';
      throw new DomainError(ErrorCode.NO_CORRECTION, `Nothing to correct in ${scope}: no camera was measured or set against a known time${why}`);
    }
    const ctx: FileContext = { generatedAt: new Date(this.clock.now()).toISOString(), scope, skipped: model.skipped, damaged: model.damaged };
    const format = query.format ?? 'json';
    if (format === 'exiftool') return { body: exiftoolArgs(cameras, ctx), contentType: 'text/plain; charset=utf-8', filename: span ? `corrections-${span.id}.args` : 'corrections.args' };
    if (format === 'geosync') return this.geosync(cameras, query.period, ctx);
    return { body: { generatedAt: ctx.generatedAt, scope, cameras, sessions: model.sessions.map(sessionSummary), skipped: model.skipped, damaged: model.damaged }, contentType: 'application/json' };
  }

  private geosync(cameras: CameraCorrections[], periodIndex: number | undefined, ctx: FileContext): CorrectionsAnswer {
    if (cameras.length !== 1) {
      throw new DomainError(ErrorCode.SELECTION_REQUIRED, `-geosync points are for one camera's photos: add camera=<serial> (${knownSerials(cameras)})`);
    }
    const camera = cameras[0];
    assertScopable(camera);
    const usable = camera.periods.filter((p) => !p.unusable && p.points.length);
    const period = periodIndex === undefined ? (usable.length === 1 ? usable[0] : undefined) : camera.periods.find((p) => p.index === periodIndex);
    if (!period) {
      const list = usable.map((p) => p.index).join(', ');
      throw new DomainError(
        ErrorCode.SELECTION_REQUIRED,
        periodIndex === undefined
          ? `camera ${camera.serial}'s clock was set ${usable.length - 1} time(s) in this range, and -geosync cannot interpolate across a setting: add period=<n> (${list}), or session=<id>`
          : `camera ${camera.serial} has no period ${periodIndex} here; periods: ${list}`,
      );
    }
    if (period.unusable) throw new DomainError(ErrorCode.NO_CORRECTION, `period ${period.index} of camera ${camera.serial} cannot be corrected: ${period.unusable}`);
    return { body: geosyncArgs(camera, period, ctx), contentType: 'text/plain; charset=utf-8', filename: `geosync-${camera.serial}-${period.index}.args` };
  }
}

export function assertSessionId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !SESSION_ID.test(id)) {
    throw new DomainError(ErrorCode.INVALID_SESSION_ID, `${JSON.stringify(typeof id === 'string' ? id.slice(0, 40) : id)} is not a session id (like s-20261202-100000-3f9a2c)`);
  }
}

/**
 * A photo fix picks a camera's photos by its serial number: one a camera body could not carry (a line end, a
 * quote, a path...) is refused, whichever id asked for it (the camera's id is a cleaned-up form of it).
 */
function assertScopable(camera: CameraCorrections): void {
  if (isScopableSerial(camera.serial)) return;
  throw new DomainError(
    ErrorCode.UNSAFE_CAMERA_SERIAL,
    `camera ${camera.cameraIds.map(logText).join(', ')} reported the serial number "${logText(camera.serial.slice(0, 40))}", which holds characters no camera body carries (only letters, digits, "_" and "-", up to 32): it is not used to pick photos`,
    { cameraIds: camera.cameraIds },
  );
}

/** The serial numbers to name in a message: the scopable ones, and how many others. */
function knownSerials(cameras: CameraCorrections[]): string {
  const safe = cameras.filter((c) => isScopableSerial(c.serial)).map((c) => c.serial);
  const others = cameras.length - safe.length;
  return [...safe, ...(others ? [`${others} camera(s) with a serial number no camera body carries`] : [])].join(', ') || 'none';
}

function sessionSummary(s: SessionSpan) {
  return { id: s.id, startLine: s.startLine, stopLine: s.stopLine, startedAt: s.start.at, stoppedAt: s.stop?.at ?? null };
}
