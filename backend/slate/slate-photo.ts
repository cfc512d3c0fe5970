/**
 * One photo of the time slate judged: the codes a decoder found and the EXIF tags a reader found in, the
 * camera's offset (or a refusal in plain words) out. Pure: no decoder, no files, no clock; `slate-reader.ts`
 * feeds it.
 */
import { looksLikeSlateCode, parseSlateCode, SlateCode } from '../protocol/slate-code';
import { ErrorCode } from '../protocol/vocabulary';
import { localToUtc } from '../time/timezone';
import { logText } from '../common/escape';
import { MAX_FRAME_MS, photoOffset, PhotoOffset, SlateBoundSettings } from './slate-bound';

/** The EXIF tags the slate needs, as the file holds them (text, or null when absent). */
export interface ExifFacts {
  dateTimeOriginal: string | null;
  subSecTimeOriginal: string | null;
  offsetTimeOriginal: string | null;
  /** Seconds. */
  exposureTime: number | null;
  make: string | null;
  model: string | null;
  /** ExifIFD SerialNumber (0xa431, "BodySerialNumber" in EXIF 2.3). */
  serial: string | null;
}

export interface SlateReadContext extends SlateBoundSettings {
  /** This Pi's identity: a code of another Pi is refused. */
  piId: string;
  /** The Pi's zone (IANA): a photo without OffsetTimeOriginal is taken as stamped in it. */
  piZone: string;
}

/** The camera as the photo names it. */
export interface SlateCamera {
  make: string | null;
  model: string | null;
  /** As the photo holds it (may be unusable for picking photos: see `isScopableSerial`). */
  serial: string | null;
}

export interface SlatePhotoReading extends PhotoOffset {
  ok: true;
  code: SlateCode;
  camera: SlateCamera;
  /** What the photo says: its stamp as written, the zone it was read in, and where that zone came from. */
  exif: {
    dateTimeOriginal: string;
    subSecTimeOriginal: string | null;
    offsetTimeOriginal: string | null;
    exposureTime: number | null;
    /** UTC offset of the camera's wall time, minutes. */
    zoneOffsetMinutes: number;
    /** `exif`: OffsetTimeOriginal; `pi-zone`: the photo has none, the Pi's zone was assumed. */
    zoneFrom: 'exif' | 'pi-zone';
    /** The stamp as an instant (Unix ms). */
    cameraMs: number;
  };
}

export interface SlatePhotoRefusal {
  ok: false;
  code: ErrorCode;
  message: string;
}

export type SlatePhotoResult = SlatePhotoReading | SlatePhotoRefusal;

export const refuse = (code: ErrorCode, message: string): SlatePhotoRefusal => ({ ok: false, code, message });

/** Judges a photo from the QR texts found in it and its EXIF tags. */
export function judgeSlatePhoto(codes: string[], exif: ExifFacts | null, ctx: SlateReadContext): SlatePhotoResult {
  if (codes.length === 0) {
    return refuse(ErrorCode.NO_SLATE_CODE, 'no QR code could be read in the photo: the slate is not in it, or too small, too blurred or cut off. Fill more of the picture with the slate and keep it sharp');
  }
  const distinct = [...new Set(codes)];
  if (distinct.length > 1) {
    return refuse(ErrorCode.SEVERAL_CODES, `the photo holds ${distinct.length} QR codes: photograph one slate at a time, alone in the picture`);
  }
  const text = distinct[0];
  const code = parseSlateCode(text);
  if (!code) {
    return looksLikeSlateCode(text)
      ? refuse(ErrorCode.NOT_A_SLATE_CODE, `the photo's code is a slate of another version (${quote(text)}): this Pi reads TS1 slates only`)
      : refuse(ErrorCode.NOT_A_SLATE_CODE, `the photo's QR code is not a time slate (${quote(text)}): photograph the slate page (/slate)`);
  }
  if (code.piId !== ctx.piId) {
    return refuse(ErrorCode.FOREIGN_SLATE, `the slate in the photo is another Pi's ("${code.piId}"), not this one's ("${ctx.piId}"): its time is that Pi's, so send the photo to the Pi that showed it`);
  }
  if (code.frameMs > MAX_FRAME_MS) {
    return refuse(ErrorCode.SLATE_TOO_SLOW, `the slate was drawn every ${code.frameMs} ms, slower than one frame every ${MAX_FRAME_MS} ms: one code stayed up too long to date the photo. Show the slate on a screen that is not busy`);
  }
  if (!exif?.dateTimeOriginal) {
    return refuse(ErrorCode.NO_EXIF_TIME, "the photo has no DateTimeOriginal, so the camera's time is not in it (an edited or exported copy often loses it): send the file as the camera wrote it");
  }
  const wall = parseExifDateTime(exif.dateTimeOriginal);
  if (wall === null) {
    return refuse(ErrorCode.NO_EXIF_TIME, `the photo's DateTimeOriginal ${quote(exif.dateTimeOriginal)} is not a date and time: the camera's time cannot be read from it`);
  }
  const sub = parseSubSec(exif.subSecTimeOriginal);
  const wallMs = wall + sub.ms;
  const exifZone = parseOffsetTime(exif.offsetTimeOriginal);
  const zoneOffsetMinutes = exifZone ?? zoneOffsetAt(wall, ctx.piZone);
  const cameraMs = wallMs - zoneOffsetMinutes * 60_000;
  const exposureMs = exif.exposureTime !== null && Number.isFinite(exif.exposureTime) && exif.exposureTime >= 0 ? exif.exposureTime * 1000 : null;
  const offset = photoOffset({ cameraMs, subSecDigits: sub.digits, exposureMs, slateMs: code.unixMs, frameMs: code.frameMs, pageErrMs: code.errMs }, ctx);
  return {
    ok: true,
    ...offset,
    code,
    camera: { make: clean(exif.make), model: clean(exif.model), serial: clean(exif.serial) },
    exif: {
      dateTimeOriginal: exif.dateTimeOriginal,
      subSecTimeOriginal: exif.subSecTimeOriginal,
      offsetTimeOriginal: exif.offsetTimeOriginal,
      exposureTime: exif.exposureTime,
      zoneOffsetMinutes,
      zoneFrom: exifZone === null ? 'pi-zone' : 'exif',
      cameraMs,
    },
  };
}

/** "2026:12:02 10:00:03" (EXIF's form; "-" or "T" separators tolerated) as ms if it were UTC; null if it is not a date. */
export function parseExifDateTime(text: string): number | null {
  const m = /^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})\s*$/.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return new Date(ms).getUTCDate() === d ? ms : null;
}

/** SubSecTimeOriginal: the digits of the fraction of a second ("25" is 0.25 s, to 10 ms); none: whole seconds. */
export function parseSubSec(text: string | null): { ms: number; digits: number } {
  const m = /^\s*(\d{1,9})\s*$/.exec(text ?? '');
  if (!m) return { ms: 0, digits: 0 };
  const digits = Math.min(3, m[1].length);
  return { ms: Number(`0.${m[1]}`) * 1000, digits };
}

/** OffsetTimeOriginal "+01:00" / "-03:30" / "Z" in minutes; null when absent or unreadable. */
export function parseOffsetTime(text: string | null): number | null {
  if (!text) return null;
  if (/^\s*Z\s*$/i.test(text)) return 0;
  const m = /^\s*([+-])(\d{2}):?(\d{2})\s*$/.exec(text);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return minutes > 14 * 60 ? null : (m[1] === '-' ? -minutes : minutes);
}

/** The UTC offset, in `zone`, of a wall time given as ms as if UTC. */
function zoneOffsetAt(wallAsUtcMs: number, zone: string): number {
  const d = new Date(wallAsUtcMs);
  const instant = localToUtc({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), millisecond: 0 }, zone);
  return Math.round((wallAsUtcMs - instant) / 60_000);
}

function clean(value: string | null): string | null {
  const text = value?.replace(/\0+$/, '').trim();
  return text ? text.slice(0, 64) : null;
}

function quote(text: string): string {
  return `"${logText(text.length > 60 ? `${text.slice(0, 60)}…` : text)}"`;
}
