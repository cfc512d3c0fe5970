import type { CameraMeasureMethod, CameraSyncKind, Reliability, SessionCameraResult, SyncSource } from '../protocol/messages';
import type { Clock } from '../time/clock';

/**
 * Records of the clock-change journal beside the steps of the Pi's clock (which have no `kind`, for the
 * journals written before these existed). Every record is one JSON line, appended in the order things
 * happened, so the line order is the time order whatever the clocks did. Each carries the boot it was
 * written in (`boot`, a counter kept by the journal, and the kernel's `bootId`): the Pi's clock starts wrong
 * at every boot, so what was measured against it is only comparable within one boot.
 *
 * Sign conventions: every offset is "that clock minus the Pi's clock" (positive: ahead of the Pi), in ms.
 */
export const EVENT_KINDS = ['zone', 'external-step', 'pi-sync', 'camera-measure', 'camera-write', 'session-start', 'session-stop'] as const;
export type JournalEventKind = (typeof EVENT_KINDS)[number];

export interface JournalEventBase {
  kind: JournalEventKind;
  /** The Pi's wall clock when it was recorded (ISO beside it for people). */
  atMs: number;
  at: string;
  /** Monotonic ms within the server run (orders nothing across runs: the line order does). */
  monotonicMs: number;
  /** Which boot of the Pi's clock: all offsets against the Pi's clock of one boot are comparable. */
  boot: number;
  bootId: string | null;
  /** Write-ahead records (zone changes): a `pending` line before, the outcome with the same id after. */
  id?: string;
  state?: 'pending' | 'confirmed' | 'failed' | 'unknown';
}

/** The Pi's zone was changed by the product (write-ahead, like a step). */
export interface ZoneRecord extends JournalEventBase {
  kind: 'zone';
  from: string;
  to: string;
  source: SyncSource;
  error?: string;
}

/** The wall clock moved against the monotonic clock and the product did not move it (NTP coming online, `date`). */
export interface ExternalStepRecord extends JournalEventBase {
  kind: 'external-step';
  /** How far the wall clock moved beyond the time that passed. */
  stepMs: number;
  beforeMs: number;
  before: string;
  /** Who moved it, when the product knows: the time server that keeps the clock (TIME_SERVER=chrony). */
  by?: 'chrony';
}

/** A time source the policy accepted measured the Pi without stepping it: the Pi's error then. */
export interface PiSyncRecord extends JournalEventBase {
  kind: 'pi-sync';
  source: SyncSource;
  /** Source minus Pi. */
  offsetMs: number;
  errorBoundMs: number | null;
  reliability: Reliability;
}

/** A camera's clock measured (`camera-measure`, read only) or written (`camera-write`). */
export interface CameraRecord extends JournalEventBase {
  kind: 'camera-measure' | 'camera-write';
  /** How it was measured: over CCAPI (absent in records written before slates existed) or from photos of the time slate. */
  method?: CameraMeasureMethod;
  /** The camera sync this record comes from, when it does (JOURNAL_KIND_OF_CAMERA_SYNC gave its kind): a `measured-kept` camera is a `camera-measure`. */
  outcome?: CameraSyncKind;
  cameraId: string;
  /** The body's serial number (EXIF SerialNumber / BodySerialNumber), null if the camera did not say. */
  serial: string | null;
  success: boolean;
  error?: string;
  /** Camera minus Pi before the write (or at the measurement); null if it was not measured. */
  offsetMs: number | null;
  boundMs: number | null;
  /** Writes: camera minus Pi just after, and how well that is known; null: set, not verified. */
  residualMs?: number | null;
  residualBoundMs?: number | null;
  verified?: boolean;
  /** UTC offset of the wall time the camera showed before (its zone setting plus its DST hour), if known. */
  wallOffsetMinutes?: number | null;
  /** Writes: the zone written (the Pi's) and the UTC offset of the wall time written. */
  timezone?: string | null;
  writtenWallOffsetMinutes?: number | null;
  reason?: string;
  /** The Pi's clock moved while this camera was being written: the write cannot be placed in true time. */
  piSteppedDuring?: boolean;
  /** What the Pi thought of its own time then (used only for a boot in which no source was ever accepted). */
  piSource?: SyncSource;
  piReliability?: Reliability;
  /** Slate measurements: the camera as its photos name it, how many photos, and where the zone of their stamps came from. */
  slate?: SlateMeasureDetails;
}

/** What a slate measurement adds to its `camera-measure` record. */
export interface SlateMeasureDetails {
  make: string | null;
  model: string | null;
  photos: number;
  /** `exif`: OffsetTimeOriginal; `pi-zone`: the photos had none and were read in the Pi's zone. */
  zoneFrom: 'exif' | 'pi-zone';
  /** The photos' intervals meet (false: they contradict each other, the offset is their median). */
  consistent: boolean;
  /** The slate's frame period and the page's own error, ms (of the first photo). */
  frameMs: number;
  pageErrMs: number;
}

export interface SessionRecord extends JournalEventBase {
  kind: 'session-start' | 'session-stop';
  sessionId: string;
  /** Who asked (an address), and a label if they gave one. */
  by: string;
  label?: string | null;
  /** Each camera after the start's corrections / at the stop's measurement (the camera records before this line hold the details). */
  cameras?: SessionCamera[];
}

/** One camera in a session record: the protocol's shape, journaled as it was answered. */
export type SessionCamera = SessionCameraResult;

export type JournalEventRecord = ZoneRecord | ExternalStepRecord | PiSyncRecord | CameraRecord | SessionRecord;

/** A record as read back: where its first line is. */
export type JournalEvent = JournalEventRecord & { line: number };

/** What a record needs beside its own fields: when, in which boot. */
export function recordBase(clock: Clock, boot: { boot: number; bootId: string | null }): Omit<JournalEventBase, 'kind'> {
  const atMs = clock.now();
  return { atMs, at: new Date(atMs).toISOString(), monotonicMs: round3(clock.monotonic()), boot: boot.boot, bootId: boot.bootId };
}

/** Whether a parsed line is a record of one of these kinds (enough of it to use). */
export function isEventRecord(value: unknown): value is JournalEventRecord {
  const r = value as JournalEventRecord;
  if (typeof r !== 'object' || r === null || !(EVENT_KINDS as readonly string[]).includes(r.kind)) return false;
  if (!Number.isFinite(r.atMs)) return false;
  if (r.id !== undefined && typeof r.id !== 'string') return false;
  switch (r.kind) {
    case 'zone':
      return typeof r.to === 'string' && typeof r.from === 'string';
    case 'external-step':
      return Number.isFinite(r.stepMs);
    case 'pi-sync':
      return Number.isFinite(r.offsetMs) && typeof r.source === 'string';
    case 'camera-measure':
    case 'camera-write':
      return typeof r.cameraId === 'string' && (r.offsetMs === null || Number.isFinite(r.offsetMs)) && typeof r.success === 'boolean';
    case 'session-start':
    case 'session-stop':
      return typeof r.sessionId === 'string';
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
