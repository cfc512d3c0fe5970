import { Injectable, Logger } from '@nestjs/common';
import { AccessAction } from '../access/access-rules';
import { AccessService } from '../access/access.service';
import { Caller } from '../access/caller';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { CameraRecord, recordBase } from '../activity-log/journal-records';
import { ClockJournal } from '../activity-log/clock-journal';
import { cameraIdFor } from '../camera/camera-id';
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { isScopableSerial, logText } from '../common/escape';
import { AppConfig } from '../config/app.config';
import { normalizeSerial } from '../corrections/corrections';
import { JournalRecorder } from '../corrections/journal-recorder';
import { CameraMeasureMethod, Reliability, SyncSource } from '../protocol/vocabulary';
import { Clock } from '../time/clock';
import { TimeSyncService } from '../time-sync/time-sync.service';
import { piIdentity } from './pi-identity';
import { groupOffset, GroupOffset, median } from './slate-bound';
import { SlateClock } from './slate-clock';
import { readSlatePhoto, SlatePhotoReading, SlatePhotoResult, SlateReadContext } from './slate-reader';

/** Photos one request may carry. */
export const MAX_SLATE_PHOTOS = 20;
/** Photos of one camera further apart than this are separate measurements (its clock drifts in between). */
export const GROUP_SPAN_MS = 10 * 60_000;
/** A slate time this far ahead of the Pi's clock now cannot be a photo already taken. */
const FUTURE_SLACK_MS = 2000;

/** What the slate page needs: who the Pi is, its time now (to the microsecond) and how far to trust it. */
export interface SlateInfo {
  piId: string;
  /** The Pi's clock now, Unix ms with a fraction; read as late as possible before the answer leaves. */
  epochMs: number;
  /** The setting of the Pi's clock `epochMs` is on (the code's last field). */
  clock: string;
  reliability: Reliability;
  source: SyncSource;
  /** The Pi's own error bound against its source, ms, when known. */
  errorBoundMs: number | null;
  timezone: string;
  latencyFrames: number;
}

/** One uploaded photo: read when its turn comes (one photo in memory at a time). */
export interface SlateUpload {
  name: string;
  load(): Promise<Buffer>;
}

/** One photo's outcome. Offsets are camera minus the Pi's clock of now, ms. */
export type SlatePhotoAnswer =
  | { file: string; ok: false; code: ErrorCode; message: string }
  | {
      file: string;
      ok: true;
      cameraId: string;
      camera: SlatePhotoReading['camera'];
      slateMs: number;
      slateAt: string;
      frame: number;
      offsetMs: number;
      boundMs: number;
      terms: SlatePhotoReading['terms'];
      exif: SlatePhotoReading['exif'];
    };

/** One camera measured from its photos of one request (a record in the journal). */
export interface SlateCameraAnswer extends GroupOffset {
  cameraId: string;
  serial: string | null;
  make: string | null;
  model: string | null;
  /** The serial number can pick this camera's photos in a photo fix (letters, digits, "_", "-"). */
  scopable: boolean;
  /** The Pi's time of the photos (the middle one), on the Pi's clock of now. */
  at: string;
  zoneFrom: 'exif' | 'pi-zone';
  files: string[];
}

export interface SlateAnswer {
  results: SlatePhotoAnswer[];
  cameras: SlateCameraAnswer[];
}

type Placed = { file: string; reading: SlatePhotoReading; slateNowMs: number; offsetMs: number; lowMs: number; highMs: number; cameraId: string; key: string };

/**
 * Photos of the time slate become camera measurements: each photo is read (`readSlatePhoto`), put on the Pi's
 * clock of now (a photo of a slate drawn before the clock was stepped is moved by the step), grouped by camera
 * and time, and each group is one `camera-measure` record (`method: "slate"`) in the clock-change journal, which
 * the photo fixes use like any other measurement: for cameras the Pi never talked to.
 */
@Injectable()
export class SlateService {
  private readonly logger = new Logger('Slate');
  readonly piId: string;
  private readonly slateClock: SlateClock;

  constructor(
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly access: AccessService,
    private readonly timeSync: TimeSyncService,
    private readonly journal: ClockJournal,
    private readonly recorder: JournalRecorder,
    private readonly activity: ActivityLogService,
  ) {
    this.piId = piIdentity(config.PI_NAME);
    this.slateClock = new SlateClock(clock);
  }

  async info(): Promise<SlateInfo> {
    const pi = await this.timeSync.piClock();
    const clock = this.slateClock.tag();
    return {
      piId: this.piId,
      clock,
      reliability: pi.reliability,
      source: pi.source,
      errorBoundMs: pi.estimatedErrorMs,
      timezone: pi.timezone,
      latencyFrames: this.config.SLATE_LATENCY_FRAMES,
      epochMs: Math.round(this.clock.preciseNow() * 1000) / 1000,
    };
  }

  /** Throws NOT_ACCESS_POINT_CLIENT unless the caller is the Pi's own screen or a phone on its Wi-Fi (before any upload is read). */
  authorize(caller: Caller): void {
    this.access.authorize(caller, AccessAction.MeasureBySlate);
  }

  /** What the reader needs to judge a photo for this Pi now. */
  async readContext(): Promise<SlateReadContext> {
    const pi = await this.timeSync.piClock();
    return { piId: this.piId, piZone: pi.timezone, latencyFrames: this.config.SLATE_LATENCY_FRAMES };
  }

  /**
   * Reads the photos, journals one measurement per camera, answers each photo's outcome and each camera's
   * measurement. Throws NO_PHOTO, TOO_MANY_PHOTOS, JOURNAL_UNWRITABLE.
   */
  async readPhotos(caller: Caller, uploads: SlateUpload[]): Promise<SlateAnswer> {
    this.authorize(caller);
    if (!uploads.length) throw new DomainError(ErrorCode.NO_PHOTO, 'no photo in the request: send the JPEG files in the form field "photos"');
    if (uploads.length > MAX_SLATE_PHOTOS) throw new DomainError(ErrorCode.TOO_MANY_PHOTOS, `${uploads.length} photos in one request: send at most ${MAX_SLATE_PHOTOS} at a time`);
    const ctx = await this.readContext();
    const results: SlatePhotoAnswer[] = [];
    const placed: Placed[] = [];
    for (const upload of uploads) {
      const outcome = this.place(upload.name, await this.read(upload, ctx));
      if ('refusal' in outcome) {
        results.push({ file: upload.name, ok: false, ...outcome.refusal });
        continue;
      }
      placed.push(outcome);
      const r = outcome.reading;
      results.push({
        file: upload.name,
        ok: true,
        cameraId: outcome.cameraId,
        camera: r.camera,
        slateMs: outcome.slateNowMs,
        slateAt: new Date(outcome.slateNowMs).toISOString(),
        frame: r.code.frame,
        offsetMs: outcome.offsetMs,
        boundMs: r.boundMs,
        terms: r.terms,
        exif: r.exif,
      });
    }
    const measured = groups(placed).map((group) => ({ group, camera: this.measure(group) }));
    for (const { group, camera } of measured) await this.journalOf(camera, group);
    return { results, cameras: measured.map((m) => m.camera) };
  }

  private async read(upload: SlateUpload, ctx: SlateReadContext): Promise<SlatePhotoResult> {
    try {
      return await readSlatePhoto(await upload.load(), ctx);
    } catch (error) {
      this.logger.error(`Slate photo ${logText(upload.name)} could not be read: ${logText(messageOf(error))}`);
      return { ok: false, code: ErrorCode.NO_SLATE_CODE, message: `the photo could not be read (${messageOf(error)})` };
    }
  }

  /** The reading on the Pi's clock of now, or why it cannot be. */
  private place(file: string, result: SlatePhotoResult): Placed | { refusal: { code: ErrorCode; message: string } } {
    if (!result.ok) return { refusal: { code: result.code, message: result.message } };
    const moved = this.slateClock.movedSince(result.code.clock);
    if (moved === null) {
      return {
        refusal: {
          code: ErrorCode.SLATE_CLOCK_UNKNOWN,
          message: `the slate in the photo was shown before the Pi's server last started (its clock ${result.code.clock}, now ${this.slateClock.tag()}), so its time cannot be put on the Pi's clock of now: photograph the slate again`,
        },
      };
    }
    const slateNowMs = result.code.unixMs + moved;
    const nowMs = this.clock.now();
    if (slateNowMs > nowMs + FUTURE_SLACK_MS) {
      return { refusal: { code: ErrorCode.SLATE_IN_FUTURE, message: `the slate in the photo shows ${new Date(slateNowMs).toISOString()}, ${Math.round((slateNowMs - nowMs) / 1000)} s after the Pi's time now: it cannot be a photo already taken` } };
    }
    const { make, model, serial } = result.camera;
    const key = serial !== null ? `serial:${normalizeSerial(serial)}` : `model:${make ?? ''}|${model ?? ''}`;
    const cameraId = serial !== null ? cameraIdFor({ serialNumber: serial }, 'slate') : unscopableId(make, model);
    return { file, reading: result, slateNowMs, offsetMs: round3(result.offsetMs - moved), lowMs: result.lowMs - moved, highMs: result.highMs - moved, cameraId, key };
  }

  private measure(group: Placed[]): SlateCameraAnswer {
    const offset = groupOffset(group.map((p) => ({ offsetMs: p.offsetMs, boundMs: p.reading.boundMs, lowMs: p.lowMs, highMs: p.highMs, slateMs: p.slateNowMs })));
    const first = group[0].reading;
    const serial = first.camera.serial;
    return {
      ...offset,
      cameraId: group[0].cameraId,
      serial,
      make: first.camera.make,
      model: first.camera.model,
      scopable: serial !== null && isScopableSerial(serial),
      at: new Date(Math.round(median(group.map((p) => p.slateNowMs)))).toISOString(),
      zoneFrom: first.exif.zoneFrom,
      files: group.map((p) => p.file),
    };
  }

  private async journalOf(camera: SlateCameraAnswer, group: Placed[]): Promise<void> {
    const first = group[0].reading;
    const atMs = Math.round(median(group.map((p) => p.slateNowMs)));
    const trust = this.timeSync.piTrust();
    const base = recordBase(this.clock, this.journal.bootInfo());
    const record: CameraRecord = {
      kind: 'camera-measure',
      ...base,
      // When the photos were taken (the Pi's clock of now), not when they were sent: what the offset is true at.
      atMs,
      at: new Date(atMs).toISOString(),
      monotonicMs: round3(atMs - this.clock.epochOfMonotonic()),
      method: CameraMeasureMethod.Slate,
      cameraId: camera.cameraId,
      serial: camera.serial,
      success: true,
      offsetMs: camera.offsetMs,
      boundMs: camera.boundMs,
      wallOffsetMinutes: first.exif.zoneOffsetMinutes,
      reason: `slate: ${group.length} photo(s)`,
      piSource: trust.source,
      piReliability: trust.reliability,
      slate: { make: camera.make, model: camera.model, photos: group.length, zoneFrom: camera.zoneFrom, consistent: camera.consistent, frameMs: first.code.frameMs, pageErrMs: first.code.errMs },
    };
    await this.recorder.run(() => this.recorder.append(record));
    const name = cameraName(camera.make, camera.model);
    const sign = camera.offsetMs >= 0 ? '+' : '-';
    const serialWords = camera.serial === null ? ', no serial number in its photos: its photos cannot be picked out for a fix' : camera.scopable ? ` ${camera.serial}` : ` (serial number "${camera.serial}" cannot pick photos)`;
    this.activity.add(
      'camera',
      `${name}${serialWords}: measured from ${group.length} slate photo(s), camera ${sign}${formatMs(Math.abs(camera.offsetMs))} from the Pi ±${formatMs(camera.boundMs)}${camera.consistent ? '' : ' (the photos disagree: their median)'}`,
      true,
      { source: 'camera', cameraId: camera.cameraId, offset: camera.offsetMs, boundMs: camera.boundMs, method: CameraMeasureMethod.Slate, photos: group.length },
    );
  }
}

/** "Canon EOS R5" (the model often starts with the make: it is not said twice). */
export function cameraName(make: string | null, model: string | null): string {
  if (model && make && model.toLowerCase().startsWith(make.toLowerCase())) return model;
  return [make, model].filter(Boolean).join(' ') || 'a camera';
}

/** A camera known only by make and model: an id a photo fix never matches against a SerialNumber (the "." is not in one). */
function unscopableId(make: string | null, model: string | null): string {
  const text = `${make ?? ''} ${model ?? ''}`.trim() || 'unknown';
  return `exif.${text.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 58) || 'unknown'}`;
}

/** Photos of one camera, split where two are more than GROUP_SPAN_MS apart. */
function groups(placed: Placed[]): Placed[][] {
  const byKey = new Map<string, Placed[]>();
  for (const p of placed) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  const out: Placed[][] = [];
  for (const list of byKey.values()) {
    const sorted = [...list].sort((a, b) => a.slateNowMs - b.slateNowMs);
    let current: Placed[] = [];
    for (const p of sorted) {
      if (current.length && p.slateNowMs - current.at(-1)!.slateNowMs > GROUP_SPAN_MS) {
        out.push(current);
        current = [];
      }
      current.push(p);
    }
    out.push(current);
  }
  return out;
}

function formatMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
