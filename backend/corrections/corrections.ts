/**
 * From the clock-change journal to the shift each photo needs: pure (journal text in, plain values out), no
 * Nest, no clock, no files.
 *
 * 1. The Pi's own error. Every offset in the journal was measured against the Pi's clock, which may itself
 *    have been wrong. Within one boot (the Pi's clock starts wrong at every boot) its error e = true - Pi is
 *    known at each accepted sync (a confirmation: e = the source's offset; a step from a trusted source:
 *    e = 0 just after), and every move of the Pi's clock (steps the product made, jumps it did not make)
 *    changes e by minus the move. Between syncs e is interpolated linearly on the Pi's clock with the moves
 *    taken out (its drift); before the first and after the last it stays. A boot with no accepted sync
 *    falls back to the Pi's own judgement at each record (trusted source, reliability not none: e = 0);
 *    records that have neither are skipped, named, and never used.
 * 2. Each camera (by serial number) is a timeline of points "camera minus true time" at true times: read-only
 *    measurements, and for each write the offset before and the residual after. Writes split the timeline
 *    into periods. Between two points of a period the camera's clock either drifted or jumped:
 *    - drift: the change is one a quartz clock can make, i.e. what is left of it once the two measurements'
 *      bounds are taken off is at most `maxDriftPpm` of the time between them. The offset is interpolated
 *      linearly; neighbouring drift intervals that one straight line fits (every point within its bound)
 *      are one segment, whose shift the photo tools compute per photo from its own time.
 *    - jump: anything faster (a battery swap, someone setting the camera). It happened at a moment nobody
 *      knows, so a photo of that interval may be from before or after it: it gets the later measurement's
 *      shift, with a bound that covers the jump (see `jumpSegment` for why the later one).
 *    Before the first and after the last point of a period the offset stays as measured.
 * 3. A photo's DateTimeOriginal is the camera's wall time: true time + camera offset + the camera's UTC
 *    offset. So each segment is a range of camera wall times with the shift that puts a photo in it on true
 *    time (in the camera's zone; in the zone the product then wrote to it when the camera's zone setting was
 *    wrong all period long, with the new OffsetTimeOriginal). Where two periods overlap in camera time (the
 *    camera was set back), a photo cannot be placed: that window is listed and left alone.
 */
import { parseJournal, JournalStep, DamagedLine } from '../activity-log/clock-journal';
import type { CameraRecord, JournalEvent, SessionRecord } from '../activity-log/journal-records';

/** How fast a camera's quartz clock may plausibly drift, ppm (1-50 in practice); a faster change between two measurements is a jump. */
export const DEFAULT_MAX_DRIFT_PPM = 200;
const MINUTE_MS = 60_000;
/** A write whose residual was not measured: the write is timed to the second, but only the camera's resolution is certain. */
const UNVERIFIED_WRITE_BOUND_MS = 500;
const TRUSTED_SOURCES = new Set(['client', 'manual', 'ntp']);

export interface SkippedRecord {
  line: number;
  reason: string;
}

/** A camera offset at one instant, against true time. */
export interface CameraPoint {
  line: number;
  kind: 'measure' | 'before-write' | 'after-write';
  /** True time (the Pi's time corrected by its error then), ms. */
  trueMs: number;
  /** Camera minus true time, ms. */
  offsetMs: number;
  boundMs: number | null;
  /** UTC offset of the camera's wall time, minutes; `zoneKnown` false when it was taken from the write that followed. */
  wallOffsetMinutes: number;
  zoneKnown: boolean;
  /** As recorded: camera minus Pi, and the Pi's error then. */
  piOffsetMs: number;
  piErrorMs: number;
}

/**
 * What the camera's clock did between two points of a period: `drift` when the change is one a quartz clock
 * can make (what is left of it beyond the two bounds is at most the limit in ppm of the time between), else
 * `jump`.
 */
export interface PeriodInterval {
  fromLine: number;
  toLine: number;
  /** True time of the two points, ms. */
  fromTrueMs: number;
  toTrueMs: number;
  /** Camera minus true time, later minus earlier, ms. */
  changeMs: number;
  /** changeMs over the time between, parts per million (positive: the camera gained); null: no time between. */
  ratePpm: number | null;
  /** The least rate the two measurements allow (their bounds taken off the change), ppm: what is compared with the limit. */
  leastRatePpm: number | null;
  kind: 'drift' | 'jump';
}

/**
 * The shift for the photos whose camera wall time (DateTimeOriginal with its sub-seconds) is in
 * [fromLocalMs, toLocalMs):
 * - `constant`: shiftMs for all of them (one point, or beyond the first or last point of a period);
 * - `drift`: from shiftMs at fromLocalMs to shiftToMs at toLocalMs, linearly in between (`shiftAt`);
 * - `jump`: the camera's clock jumped between two measurements at a moment nobody knows: shiftMs, the later
 *   measurement's, for all of them, with a bound that covers the jump.
 */
export interface CorrectionSegment {
  kind: 'constant' | 'drift' | 'jump';
  /** Camera wall time as "YYYY:MM:DD HH:MM:SS.sss" (null: open), and the same in ms as if it were UTC. */
  from: string | null;
  to: string | null;
  fromLocalMs: number | null;
  toLocalMs: number | null;
  /** True time of the measurements it is made from (ISO, UTC); where a session cuts it, the session's ends. */
  trueFrom: string | null;
  trueTo: string | null;
  /** The journal lines of those measurements (null: open). */
  fromLine: number | null;
  toLine: number | null;
  /** Add this to the photo's time (ms) at fromLocalMs: minus the camera's error, plus a zone correction if any. */
  shiftMs: number;
  /** The same at toLocalMs: differs from shiftMs only for a drift. */
  shiftToMs: number;
  /** Drift: the camera's rate, ppm (positive: it gained). Jump: the rate the change would have needed. Constant: null. */
  ratePpm: number | null;
  /** The camera's error in this segment (camera minus true), ms: the mean of its ends; for a jump, the later measurement's. */
  cameraErrorMs: number;
  /** How far the corrected time can be off, ms (null: unknown). */
  boundMs: number | null;
  /** New OffsetTimeOriginal ("+01:00") when the zone is corrected too; null: left as it is. */
  offsetTime: string | null;
  /** In words, where the shift needs explaining (a jump, a drift, beyond the measurements); the files carry it. */
  note: string | null;
}

export interface CameraPeriod {
  /** 1-based, per camera, oldest first. */
  index: number;
  /** The journal lines of the writes that open and close it (null: before the first / after the last). */
  openedBy: number | null;
  closedBy: number | null;
  points: CameraPoint[];
  /** Between each two neighbouring points: drift or jump. */
  intervals: PeriodInterval[];
  segments: CorrectionSegment[];
  /** Before its first point (the offset then, drift before it unknown) or after its last. */
  extrapolated: boolean;
  /** Set when the period cannot be corrected (a write against an unknown Pi time): nothing in it is touched. */
  unusable: string | null;
  zone: { camera: number; target: number; corrected: boolean; known: boolean };
}

export interface AmbiguousWindow {
  /** The journal line of the write that set the camera back (or near which photos cannot be placed). */
  line: number | null;
  from: string;
  to: string;
  fromLocalMs: number;
  toLocalMs: number;
  reason: string;
}

export interface CameraCorrections {
  serial: string;
  cameraIds: string[];
  periods: CameraPeriod[];
  ambiguous: AmbiguousWindow[];
}

export interface SessionSpan {
  id: string;
  startLine: number;
  stopLine: number | null;
  startTrueMs: number | null;
  stopTrueMs: number | null;
  start: SessionRecord;
  stop: SessionRecord | null;
}

export interface JournalModel {
  /** The limit between drift and jump the model was made with, ppm. */
  maxDriftPpm: number;
  cameras: CameraCorrections[];
  sessions: SessionSpan[];
  skipped: SkippedRecord[];
  damaged: DamagedLine[];
  /** Records of any kind that were read (damaged lines excluded). */
  records: number;
  /** Every record, step or event, oldest first, with the Pi's error when it was written (null: unknown). */
  timeline: TimelineEntry[];
}

/** A record with the Pi's error when it was written (null: unknown) and its boot ("b3", or "id:<boot id>" for old steps). */
export type TimelineEntry = (JournalStep | JournalEvent) & { piErrorMs: number | null; bootKey: string };

// ---- the Pi's error, boot by boot ------------------------------------------------------------------

interface Placed {
  entry: JournalStep | JournalEvent;
  bootKey: string;
  /** Cumulative moves of the Pi's clock in this boot before/at this record, ms. */
  moved: number;
  /** A step whose outcome is unknown breaks the chain: samples on one side say nothing of the other. */
  epoch: number;
}

interface Sample {
  line: number;
  epoch: number;
  /** The Pi's clock with its moves taken out. */
  u: number;
  /** e + moved: the Pi's error with its moves taken out (continuous across moves). */
  eHat: number;
  bound: number;
}

function bootKeyOf(r: { boot?: number | null; bootId?: string | null }): string {
  return typeof r.boot === 'number' ? `b${r.boot}` : `id:${r.bootId ?? 'unknown'}`;
}

function atOf(entry: JournalStep | JournalEvent): number {
  return 'kind' in entry && entry.kind && entry.kind !== 'step' ? (entry as JournalEvent).atMs : (entry as JournalStep).afterMs;
}

function isStep(entry: JournalStep | JournalEvent): entry is JournalStep {
  return !('kind' in entry) || entry.kind === undefined || entry.kind === 'step';
}

/** The Pi's error (true - Pi, ms) at every record, or null where it cannot be known. */
export function piErrors(entries: Array<JournalStep | JournalEvent>): Map<number, { errorMs: number; boundMs: number } | null> {
  const placed: Placed[] = [];
  const moved = new Map<string, number>();
  const epochs = new Map<string, number>();
  for (const entry of entries) {
    const key = bootKeyOf(entry as { boot?: number; bootId?: string | null });
    let m = moved.get(key) ?? 0;
    let epoch = epochs.get(key) ?? 0;
    if (isStep(entry)) {
      if (entry.state === 'confirmed') m += entry.stepMs;
      else if (entry.state === 'pending' || entry.state === 'unknown') epoch += 1;
    } else if (entry.kind === 'external-step') {
      m += entry.stepMs;
    }
    moved.set(key, m);
    epochs.set(key, epoch);
    placed.push({ entry, bootKey: key, moved: m, epoch });
  }

  const samples = new Map<string, Sample[]>();
  for (const p of placed) {
    const e = p.entry;
    let eNow: number | null = null;
    let bound = 0;
    if (isStep(e) && e.state === 'confirmed' && TRUSTED_SOURCES.has(e.source)) {
      eNow = 0; // the clock now shows the source's time
      bound = e.errorBoundMs ?? 0;
    } else if (!isStep(e) && e.kind === 'pi-sync') {
      eNow = e.source === 'ntp' ? 0 : TRUSTED_SOURCES.has(e.source) ? e.offsetMs : null;
      bound = e.errorBoundMs ?? 0;
    }
    if (eNow === null) continue;
    const list = samples.get(p.bootKey) ?? [];
    list.push({ line: e.line, epoch: p.epoch, u: atOf(e) - p.moved, eHat: eNow + p.moved, bound });
    samples.set(p.bootKey, list);
  }

  const out = new Map<number, { errorMs: number; boundMs: number } | null>();
  for (const p of placed) {
    const own = (samples.get(p.bootKey) ?? []).filter((s) => s.epoch === p.epoch);
    const line = p.entry.line;
    const u = atOf(p.entry) - p.moved;
    const before = [...own].reverse().find((s) => s.line <= line);
    const after = own.find((s) => s.line > line);
    let eHat: number | null = null;
    let bound = 0;
    if (before && after && after.u !== before.u) {
      const f = Math.min(1, Math.max(0, (u - before.u) / (after.u - before.u)));
      eHat = before.eHat + f * (after.eHat - before.eHat);
      bound = Math.max(before.bound, after.bound);
    } else if (before ?? after) {
      const s = (before ?? after)!;
      eHat = s.eHat;
      bound = s.bound;
    }
    if (eHat !== null) {
      out.set(line, { errorMs: eHat - p.moved, boundMs: bound });
      continue;
    }
    // No accepted sync in this boot: what the Pi thought of its own time when the record was written.
    const trusted = !isStep(p.entry) && p.entry.kind.startsWith('camera-') && piTrusted(p.entry as CameraRecord);
    out.set(line, trusted ? { errorMs: 0, boundMs: 0 } : null);
  }
  return out;
}

function piTrusted(r: CameraRecord & { piSource?: string; piReliability?: string }): boolean {
  return typeof r.piSource === 'string' && TRUSTED_SOURCES.has(r.piSource) && typeof r.piReliability === 'string' && r.piReliability !== 'none';
}

// ---- cameras --------------------------------------------------------------------------------------

type TimelineItem = { kind: 'point'; point: CameraPoint } | { kind: 'write'; line: number; usable: boolean; writtenWall: number | null; zone: string | null; trueMs?: number };

/**
 * A slate measurement is journaled when its photos are sent, which may be after a later write of the camera's
 * clock: its point goes where its true time is, before every write that came after it (and that write's
 * after-write point), not at its line.
 */
function insertByTime(items: TimelineItem[], point: CameraPoint): void {
  let at = items.length;
  while (at > 0) {
    const prev = items[at - 1];
    const later = prev.kind === 'write' ? prev.trueMs !== undefined && prev.trueMs > point.trueMs : prev.point.kind === 'after-write' && prev.point.trueMs > point.trueMs;
    if (!later) break;
    at--;
  }
  items.splice(at, 0, { kind: 'point', point });
}

/** Serial numbers as photos carry them: trimmed, leading zeros dropped (some bodies print it as a number). */
export function normalizeSerial(serial: string): string {
  const s = serial.trim();
  return s.replace(/^0+(?=.)/, '');
}

export interface ModelOptions {
  /** A camera whose offset changed faster than this between two measurements jumped (ppm; CAMERA_MAX_DRIFT_PPM). */
  maxDriftPpm?: number;
}

/** Reads the journal and builds every camera's periods and segments. */
export function buildModel(text: string, options: ModelOptions = {}): JournalModel {
  const maxDriftPpm = options.maxDriftPpm ?? DEFAULT_MAX_DRIFT_PPM;
  const parsed = parseJournal(text);
  const entries: Array<JournalStep | JournalEvent> = [...parsed.steps, ...parsed.failed, ...parsed.events].sort((a, b) => a.line - b.line);
  const errors = piErrors(entries);
  const skipped: SkippedRecord[] = [];
  const timeline: TimelineEntry[] = entries.map((e) => ({ ...e, piErrorMs: errors.get(e.line)?.errorMs ?? null, bootKey: bootKeyOf(e as { boot?: number; bootId?: string | null }) }));

  // Camera points, in line order, per serial.
  type Item = TimelineItem;
  const bySerial = new Map<string, { serial: string; ids: Set<string>; items: Item[] }>();
  const zoneLines: number[] = [];
  for (const e of parsed.events) {
    if (e.kind === 'zone' && (e.state ?? 'confirmed') === 'confirmed') zoneLines.push(e.line);
  }
  const cameraRecords = parsed.events.filter((e): e is CameraRecord & { line: number } => e.kind === 'camera-measure' || e.kind === 'camera-write').sort((a, b) => a.line - b.line);
  for (const r of cameraRecords) {
    const serial = normalizeSerial(r.serial ?? r.cameraId);
    const slot = bySerial.get(serial) ?? { serial: (r.serial ?? r.cameraId).trim(), ids: new Set<string>(), items: [] };
    slot.ids.add(r.cameraId);
    bySerial.set(serial, slot);
    const wrote = r.kind === 'camera-write' && r.success;
    const pi = r.piSteppedDuring ? null : errors.get(r.line) ?? null;
    if (r.piSteppedDuring) {
      skipped.push({ line: r.line, reason: `camera ${r.cameraId}: the Pi's clock moved while it was being set, so this write cannot be placed in true time` });
      if (wrote) slot.items.push({ kind: 'write', line: r.line, usable: false, writtenWall: r.writtenWallOffsetMinutes ?? null, zone: r.timezone ?? null });
      continue;
    }
    if (!pi) {
      skipped.push({ line: r.line, reason: `camera ${r.cameraId}: the Pi's own time is not known then (no accepted sync in that boot), so this ${wrote ? 'write' : 'measurement'} cannot be placed in true time` });
      if (wrote) slot.items.push({ kind: 'write', line: r.line, usable: false, writtenWall: r.writtenWallOffsetMinutes ?? null, zone: r.timezone ?? null });
      continue;
    }
    const base = (offset: number, bound: number | null, kind: CameraPoint['kind'], wall: number | null | undefined): CameraPoint => ({
      line: r.line,
      kind,
      trueMs: r.atMs + pi.errorMs,
      offsetMs: round3(offset - pi.errorMs),
      boundMs: bound === null ? null : round3(bound + pi.boundMs),
      wallOffsetMinutes: wall ?? 0,
      zoneKnown: wall !== null && wall !== undefined,
      piOffsetMs: offset,
      piErrorMs: round3(pi.errorMs),
    });
    if (r.offsetMs !== null && Number.isFinite(r.offsetMs) && r.method === 'slate' && !wrote) {
      insertByTime(slot.items, base(r.offsetMs, r.boundMs, 'measure', r.wallOffsetMinutes));
    } else if (r.offsetMs !== null && Number.isFinite(r.offsetMs)) {
      slot.items.push({ kind: 'point', point: base(r.offsetMs, r.boundMs, wrote ? 'before-write' : 'measure', r.wallOffsetMinutes) });
    } else if (!wrote) {
      skipped.push({ line: r.line, reason: `camera ${r.cameraId}: ${r.error ?? 'not measured'}` });
    }
    if (wrote) {
      const residual = r.residualMs ?? 0;
      const bound = r.residualMs === null || r.residualMs === undefined ? UNVERIFIED_WRITE_BOUND_MS : r.residualBoundMs ?? null;
      slot.items.push({ kind: 'write', line: r.line, usable: true, writtenWall: r.writtenWallOffsetMinutes ?? null, zone: r.timezone ?? null, trueMs: r.atMs + pi.errorMs });
      slot.items.push({ kind: 'point', point: base(residual, bound, 'after-write', r.writtenWallOffsetMinutes) });
    }
  }

  const cameras: CameraCorrections[] = [];
  for (const { serial, ids, items } of bySerial.values()) {
    cameras.push(cameraCorrections(serial, [...ids], items, zoneLines, maxDriftPpm));
  }
  cameras.sort((a, b) => a.serial.localeCompare(b.serial));

  const sessions = sessionSpans(parsed.events, errors);
  return { maxDriftPpm, cameras, sessions, skipped, damaged: parsed.damaged, records: entries.length, timeline };
}

function cameraCorrections(
  serial: string,
  cameraIds: string[],
  items: TimelineItem[],
  zoneLines: number[],
  maxDriftPpm: number,
): CameraCorrections {
  // Split at writes: a write's before-point closes a period, its after-point opens the next.
  type Raw = { openedBy: number | null; closedBy: number | null; points: CameraPoint[]; unusable: string | null; closingWall: number | null };
  const raws: Raw[] = [];
  let current: Raw = { openedBy: null, closedBy: null, points: [], unusable: null, closingWall: null };
  for (const item of items) {
    if (item.kind === 'point') {
      if (item.point.kind === 'after-write') continue; // added when its write opens the next period
      current.points.push(item.point);
      continue;
    }
    current.closedBy = item.line;
    current.closingWall = item.writtenWall;
    if (!item.usable) current.unusable ??= `the camera was set (line ${item.line}) when the Pi's own time was unknown`;
    raws.push(current);
    const after = items.find((i): i is { kind: 'point'; point: CameraPoint } => i.kind === 'point' && i.point.kind === 'after-write' && i.point.line === item.line);
    current = { openedBy: item.line, closedBy: null, points: after ? [after.point] : [], unusable: item.usable ? null : `the camera was set (line ${item.line}) when the Pi's own time was unknown`, closingWall: null };
  }
  raws.push(current);

  const periods: CameraPeriod[] = [];
  for (const raw of raws) {
    if (!raw.points.length && raw.openedBy === null) continue; // nothing known before the first write
    periods.push(toPeriod(periods.length + 1, raw, zoneLines, maxDriftPpm));
  }

  // Overlaps in camera time between neighbours: those photos cannot be placed.
  const ambiguous: AmbiguousWindow[] = [];
  for (let i = 0; i + 1 < periods.length; i++) {
    const a = periods[i];
    const b = periods[i + 1];
    const aEnd = a.segments.at(-1)?.toLocalMs ?? null;
    const bStart = b.segments[0]?.fromLocalMs ?? null;
    if (aEnd === null || bStart === null) continue;
    const margin = Math.ceil(Math.max(0, a.points.at(-1)?.boundMs ?? 0, b.points[0]?.boundMs ?? 0));
    const lo = Math.min(bStart, aEnd) - margin;
    const hi = Math.max(bStart, aEnd) + margin;
    if (aEnd > bStart || margin > 0) {
      ambiguous.push({
        line: b.openedBy,
        from: localText(lo),
        to: localText(hi),
        fromLocalMs: lo,
        toLocalMs: hi,
        reason:
          aEnd > bStart
            ? `the camera was set back by ${Math.round(aEnd - bStart)} ms at line ${b.openedBy}: photos in this window may be from before or after`
            : `within the measurement's bound of the write at line ${b.openedBy}`,
      });
      clipEnd(a, lo);
      clipStart(b, hi);
    }
  }
  return { serial, cameraIds, periods, ambiguous };
}

function toPeriod(index: number, raw: { openedBy: number | null; closedBy: number | null; points: CameraPoint[]; unusable: string | null; closingWall: number | null }, zoneLines: number[], maxDriftPpm: number): CameraPeriod {
  // In true-time order: slate photos may be sent in any order (a CCAPI camera's points already are).
  const points = [...raw.points].sort((a, b) => a.trueMs - b.trueMs);
  // The camera's zone in this period: from a point that knows it, else the zone written at its end (assumed unchanged).
  const knownWall = points.find((p) => p.zoneKnown)?.wallOffsetMinutes;
  const cameraWall = knownWall ?? raw.closingWall ?? 0;
  for (const p of points) {
    if (!p.zoneKnown) p.wallOffsetMinutes = cameraWall;
  }
  const firstLine = points[0]?.line ?? raw.openedBy ?? 0;
  const zoneChangedWithin = raw.closedBy !== null && zoneLines.some((l) => l > firstLine && l < raw.closedBy!);
  const corrected = knownWall !== undefined && raw.closingWall !== null && raw.closingWall !== knownWall && !zoneChangedWithin;
  const target = corrected ? raw.closingWall! : cameraWall;
  const period: CameraPeriod = {
    index,
    openedBy: raw.openedBy,
    closedBy: raw.closedBy,
    points,
    intervals: intervalsOf(points, maxDriftPpm),
    segments: [],
    extrapolated: raw.openedBy === null || raw.closedBy === null,
    unusable: raw.unusable ?? (points.length ? null : 'nothing was measured in it'),
    zone: { camera: cameraWall, target, corrected, known: knownWall !== undefined },
  };
  if (period.unusable) return period;
  const shape: SegmentShape = { zoneShiftMs: (target - cameraWall) * MINUTE_MS, offsetTime: corrected ? offsetText(target) : null, maxDriftPpm };
  period.segments = segmentsOf(points, period.intervals, raw.openedBy === null, raw.closedBy === null, shape);
  return period;
}

/** Drift or jump, between each two neighbouring points of a period. */
export function intervalsOf(points: CameraPoint[], maxDriftPpm: number): PeriodInterval[] {
  const out: PeriodInterval[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    const dt = b.trueMs - a.trueMs;
    const change = b.offsetMs - a.offsetMs;
    // What the measurements cannot explain: the change beyond their two bounds (an unknown bound counts as none).
    const excess = Math.max(0, Math.abs(change) - (a.boundMs ?? 0) - (b.boundMs ?? 0));
    const jump = dt > 0 ? (excess / dt) * 1e6 > maxDriftPpm : excess > 0;
    out.push({
      fromLine: a.line,
      toLine: b.line,
      fromTrueMs: a.trueMs,
      toTrueMs: b.trueMs,
      changeMs: round3(change),
      ratePpm: dt > 0 ? round2((change / dt) * 1e6) : null,
      leastRatePpm: dt > 0 ? round2((excess / dt) * 1e6) : excess > 0 ? null : 0,
      kind: jump ? 'jump' : 'drift',
    });
  }
  return out;
}

interface SegmentShape {
  /** Added to every shift when the camera's zone is corrected too, ms. */
  zoneShiftMs: number;
  offsetTime: string | null;
  maxDriftPpm: number;
}

/**
 * A period's segments, in camera-time order and not overlapping: a constant before its first point and after
 * its last (when open), then for each interval a jump, or one drift for each run of drift intervals one
 * straight line fits.
 */
function segmentsOf(points: CameraPoint[], intervals: PeriodInterval[], openStart: boolean, openEnd: boolean, shape: SegmentShape): CorrectionSegment[] {
  if (points.length === 1 && openStart && openEnd) return [constantSegment(null, null, points[0], shape)];
  const pieces: CorrectionSegment[] = [];
  if (openStart) pieces.push(constantSegment(null, points[0], points[0], shape));
  let i = 0;
  while (i + 1 < points.length) {
    if (intervals[i].kind === 'jump') {
      pieces.push(jumpSegment(points[i], points[i + 1], intervals[i], shape));
      i += 1;
      continue;
    }
    const j = lineEnd(points, intervals, i, shape.maxDriftPpm);
    pieces.push(driftSegment(points.slice(i, j + 1), shape));
    i = j;
  }
  if (openEnd) pieces.push(constantSegment(points.at(-1)!, null, points.at(-1)!, shape));
  if (!pieces.length) pieces.push(constantSegment(points[0], points[0], points[0], shape)); // a single point that both opens and closes
  const out = withoutOverlaps(pieces);
  // A segment of zero length (a write immediately followed by the next) corrects nothing.
  return out.filter((s) => s.fromLocalMs === null || s.toLocalMs === null || s.toLocalMs > s.fromLocalMs || out.length === 1);
}

/** The offset as measured at `at`, for the photos between `a` and `b` (null: open); beyond a period's measurements. */
function constantSegment(a: CameraPoint | null, b: CameraPoint | null, at: CameraPoint, shape: SegmentShape): CorrectionSegment {
  const shift = wholeMs(-at.offsetMs + shape.zoneShiftMs);
  return {
    kind: 'constant',
    ...ends(a, b),
    shiftMs: shift,
    shiftToMs: shift,
    ratePpm: null,
    cameraErrorMs: round3(at.offsetMs),
    boundMs: at.boundMs === null ? null : Math.ceil(at.boundMs),
    offsetTime: shape.offsetTime,
    note: a === null || b === null ? 'beyond the measurements: drift there unknown' : null,
  };
}

/**
 * Drift from the first point to the last, through every point between (each within its bound of the line). The
 * bound: at each point its own bound plus how far the line passes from it; between points the clock is taken
 * to drift steadily, which a quartz clock does.
 */
function driftSegment(pts: CameraPoint[], shape: SegmentShape): CorrectionSegment {
  const [a, b] = [pts[0], pts.at(-1)!];
  const dt = b.trueMs - a.trueMs;
  const line = (t: number) => (dt > 0 ? a.offsetMs + ((t - a.trueMs) / dt) * (b.offsetMs - a.offsetMs) : a.offsetMs);
  const bounds = pts.map((p) => (p.boundMs === null ? null : p.boundMs + Math.abs(p.offsetMs - line(p.trueMs))));
  const rate = dt > 0 ? round2(((b.offsetMs - a.offsetMs) / dt) * 1e6) : null;
  const between = pts.length > 2 ? `, through the ${pts.length - 2} measurement(s) between` : '';
  return {
    kind: 'drift',
    ...ends(a, b),
    shiftMs: wholeMs(-a.offsetMs + shape.zoneShiftMs),
    shiftToMs: wholeMs(-b.offsetMs + shape.zoneShiftMs),
    ratePpm: rate,
    cameraErrorMs: round3((a.offsetMs + b.offsetMs) / 2),
    boundMs: bounds.some((x) => x === null) ? null : Math.ceil(Math.max(...(bounds as number[]))),
    offsetTime: shape.offsetTime,
    note: `drift of ${signed(rate ?? 0)} ppm from line ${a.line} to line ${b.line}${between}: the shift is interpolated on the photo's own time`,
  };
}

/**
 * The camera's clock jumped between `a` and `b`, at a moment nobody knows: a photo of that interval carries
 * either a's offset (taken before the jump) or b's (after), and nothing in the photo says which. Either choice
 * is off by the jump for the photos on the other side, so the bound covers it: |b - a| plus a's bound (a photo
 * from before), or b's bound (after), plus what the clock may have drifted in the interval. The later
 * measurement's shift is the one given because
 * - it is what the clock showed when it was last looked at: from the jump on, every photo carries it, up to b
 *   and (when b is a measurement) beyond, where the next segment goes on from the same offset; a's holds
 *   only up to a moment nobody knows;
 * - a jump is what sends someone to measure or set the camera (a battery swapped, a clock set by hand, a
 *   camera found wrong), so b is usually soon after it and most of the interval's photos are after it.
 * Its range in camera time covers every time a photo of the interval can carry, whichever side of the jump:
 * from a's instant with the lower of the two offsets to b's instant with the higher (a camera set back shows
 * some times twice); the neighbouring segments give way there.
 */
function jumpSegment(a: CameraPoint, b: CameraPoint, interval: PeriodInterval, shape: SegmentShape): CorrectionSegment {
  const shift = wholeMs(-b.offsetMs + shape.zoneShiftMs);
  const lo = localAt(a, Math.min(a.offsetMs, b.offsetMs));
  const hi = localAt(b, Math.max(a.offsetMs, b.offsetMs));
  const dt = Math.max(0, b.trueMs - a.trueMs);
  const change = b.offsetMs - a.offsetMs;
  const bound = a.boundMs === null || b.boundMs === null ? null : Math.ceil(Math.max(Math.abs(change) + a.boundMs, b.boundMs) + (shape.maxDriftPpm * dt) / 1e6);
  const rate = interval.ratePpm === null ? 'at once' : `in ${+(dt / 1000).toFixed(3)} s, ${signed(Math.round(interval.ratePpm))} ppm`;
  return {
    kind: 'jump',
    from: localText(lo),
    to: localText(hi),
    fromLocalMs: lo,
    toLocalMs: hi,
    trueFrom: new Date(Math.round(a.trueMs)).toISOString(),
    trueTo: new Date(Math.round(b.trueMs)).toISOString(),
    fromLine: a.line,
    toLine: b.line,
    shiftMs: shift,
    shiftToMs: shift,
    ratePpm: interval.ratePpm,
    cameraErrorMs: round3(b.offsetMs),
    boundMs: bound,
    offsetTime: shape.offsetTime,
    note:
      `a jump between line ${a.line} and line ${b.line}: the camera's clock moved ${signed(Math.round(change))} ms (${rate}; a quartz clock drifts at most ${shape.maxDriftPpm} ppm) ` +
      `at a moment not known: shift of the later measurement, ±${bound ?? '?'} ms`,
  };
}

/**
 * How far one straight line from points[i] reaches over drift intervals: the last j such that the line from i to j
 * passes within each point between of its bound, at a plausible rate. Each point between allows the line's slope a
 * range; their intersection is kept as the end moves on, so a time-lapse of thousands of checks is one pass.
 */
function lineEnd(points: CameraPoint[], intervals: PeriodInterval[], i: number, maxDriftPpm: number): number {
  const a = points[i];
  let [lo, hi] = [-Infinity, Infinity];
  let j = i + 1;
  while (j + 1 < points.length && intervals[j].kind === 'drift') {
    // Point j would be between: its bound limits the slope.
    const p = points[j];
    const dt = p.trueMs - a.trueMs;
    if (dt <= 0) break;
    const slack = (p.boundMs ?? 0) + 0.5;
    lo = Math.max(lo, (p.offsetMs - slack - a.offsetMs) / dt);
    hi = Math.min(hi, (p.offsetMs + slack - a.offsetMs) / dt);
    const b = points[j + 1];
    const span = b.trueMs - a.trueMs;
    if (span <= 0) break;
    const slope = (b.offsetMs - a.offsetMs) / span;
    const excess = Math.max(0, Math.abs(b.offsetMs - a.offsetMs) - (a.boundMs ?? 0) - (b.boundMs ?? 0));
    if (slope < lo || slope > hi || (excess / span) * 1e6 > maxDriftPpm) break;
    j += 1;
  }
  return j;
}

function ends(a: CameraPoint | null, b: CameraPoint | null): Pick<CorrectionSegment, 'from' | 'to' | 'fromLocalMs' | 'toLocalMs' | 'trueFrom' | 'trueTo' | 'fromLine' | 'toLine'> {
  return {
    from: a ? localText(localOf(a)) : null,
    to: b ? localText(localOf(b)) : null,
    fromLocalMs: a ? localOf(a) : null,
    toLocalMs: b ? localOf(b) : null,
    trueFrom: a ? new Date(Math.round(a.trueMs)).toISOString() : null,
    trueTo: b ? new Date(Math.round(b.trueMs)).toISOString() : null,
    fromLine: a?.line ?? null,
    toLine: b?.line ?? null,
  };
}

/**
 * Segments in order with no camera time in two of them: where a jump's range reaches over a neighbour, the
 * jump keeps it (its bound covers the photos there, from either side); elsewhere the earlier one keeps it.
 */
function withoutOverlaps(pieces: CorrectionSegment[]): CorrectionSegment[] {
  const out: CorrectionSegment[] = [];
  for (const piece of pieces) {
    let keep = true;
    while (out.length) {
      const last = out.at(-1)!;
      if (last.toLocalMs === null || piece.fromLocalMs === null || last.toLocalMs <= piece.fromLocalMs) break;
      if (piece.kind === 'jump' && last.kind !== 'jump') {
        if (last.fromLocalMs !== null && last.fromLocalMs >= piece.fromLocalMs) {
          out.pop();
          continue;
        }
        setEnd(last, piece.fromLocalMs);
        break;
      }
      if (piece.toLocalMs !== null && piece.toLocalMs <= last.toLocalMs) keep = false;
      else setStart(piece, last.toLocalMs);
      break;
    }
    if (keep) out.push(piece);
  }
  return out;
}

/** The shift a photo at this camera wall time gets from this segment (ms, before rounding): linear within a drift. */
export function shiftAt(s: Pick<CorrectionSegment, 'kind' | 'fromLocalMs' | 'toLocalMs' | 'shiftMs' | 'shiftToMs'>, localMs: number): number {
  if (s.kind !== 'drift' || s.fromLocalMs === null || s.toLocalMs === null || s.toLocalMs <= s.fromLocalMs) return s.shiftMs;
  return s.shiftMs + ((localMs - s.fromLocalMs) / (s.toLocalMs - s.fromLocalMs)) * (s.shiftToMs - s.shiftMs);
}

/** Moves a segment's start (its shift there follows a drift). */
function setStart(s: CorrectionSegment, localMs: number): void {
  const shift = wholeMs(shiftAt(s, localMs));
  Object.assign(s, { shiftMs: shift, fromLocalMs: localMs, from: localText(localMs) });
}

function setEnd(s: CorrectionSegment, localMs: number): void {
  const shift = wholeMs(shiftAt(s, localMs));
  Object.assign(s, { shiftToMs: shift, toLocalMs: localMs, to: localText(localMs) });
}

function clipEnd(p: CameraPeriod, localMs: number): void {
  p.segments = p.segments.filter((s) => s.fromLocalMs === null || s.fromLocalMs < localMs);
  const last = p.segments.at(-1);
  if (last && (last.toLocalMs === null || last.toLocalMs > localMs)) setEnd(last, localMs);
}

function clipStart(p: CameraPeriod, localMs: number): void {
  p.segments = p.segments.filter((s) => s.toLocalMs === null || s.toLocalMs > localMs);
  const first = p.segments[0];
  if (first && (first.fromLocalMs === null || first.fromLocalMs < localMs)) setStart(first, localMs);
}

/** The camera's wall time at a point, as ms "as if UTC" (what DateTimeOriginal + sub-seconds read as). */
function localOf(p: CameraPoint): number {
  return localAt(p, p.offsetMs);
}

/** The camera's wall time at a point's instant had its offset been `offsetMs`. */
function localAt(p: Pick<CameraPoint, 'trueMs' | 'wallOffsetMinutes'>, offsetMs: number): number {
  return Math.round(p.trueMs + offsetMs + p.wallOffsetMinutes * MINUTE_MS);
}

/** "2026:12:02 10:00:03.250", ExifTool's date format, from ms as if UTC. */
export function localText(localMs: number): string {
  const iso = new Date(localMs).toISOString(); // 2026-12-02T10:00:03.250Z
  return `${iso.slice(0, 4)}:${iso.slice(5, 7)}:${iso.slice(8, 10)} ${iso.slice(11, 23)}`;
}

/** "+01:00" / "-03:30". */
export function offsetText(minutes: number): string {
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

// ---- sessions -------------------------------------------------------------------------------------

function sessionSpans(events: JournalEvent[], errors: Map<number, { errorMs: number } | null>): SessionSpan[] {
  const spans: SessionSpan[] = [];
  for (const e of events) {
    if (e.kind === 'session-start') {
      const pi = errors.get(e.line);
      spans.push({ id: e.sessionId, startLine: e.line, stopLine: null, start: e, stop: null, startTrueMs: pi ? e.atMs + pi.errorMs : null, stopTrueMs: null });
    } else if (e.kind === 'session-stop') {
      const span = [...spans].reverse().find((s) => s.id === e.sessionId && s.stopLine === null);
      if (!span) continue;
      const pi = errors.get(e.line);
      Object.assign(span, { stopLine: e.line, stop: e, stopTrueMs: pi ? e.atMs + pi.errorMs : null });
    }
  }
  return spans;
}

/**
 * The corrections for photos of one session: each camera's segments cut to the session's span in true
 * time (a camera's state at the start is what the start's corrections left). Null ends stay open only if
 * the session is still running.
 */
export function forSession(model: JournalModel, span: SessionSpan): CameraCorrections[] {
  const out: CameraCorrections[] = [];
  for (const camera of model.cameras) {
    const periods: CameraPeriod[] = [];
    for (const period of camera.periods) {
      // The start's own corrections are written just before its record: the period they open is the session's.
      const endsBefore = period.closedBy !== null && period.closedBy < span.startLine;
      const startsAfter = span.stopLine !== null && period.openedBy !== null && period.openedBy > span.stopLine;
      if (endsBefore || startsAfter) continue;
      const clipped: CameraPeriod = { ...period, segments: period.segments.map((s) => ({ ...s })) };
      if (!period.unusable && span.startTrueMs !== null) clipTrueStart(clipped, span.startTrueMs);
      if (!period.unusable && span.stopTrueMs !== null) clipTrueEnd(clipped, span.stopTrueMs);
      periods.push(clipped);
    }
    if (periods.length) out.push({ ...camera, periods, ambiguous: camera.ambiguous.filter((w) => periods.some((p) => overlaps(p, w))) });
  }
  return out;
}

function overlaps(p: CameraPeriod, w: AmbiguousWindow): boolean {
  return p.segments.some((s) => (s.fromLocalMs === null || s.fromLocalMs <= w.toLocalMs) && (s.toLocalMs === null || s.toLocalMs >= w.fromLocalMs));
}

/**
 * The camera wall times a photo taken at this true time can carry (ms as if UTC): one, or across a jump
 * (which side of it the photo was is not known) from the lower offset to the higher.
 */
function localRangeAt(period: CameraPeriod, trueMs: number): { lo: number; hi: number } | null {
  const pts = period.points;
  if (!pts.length) return null;
  const next = pts.findIndex((p) => p.trueMs > trueMs);
  const before = next === -1 ? pts.at(-1)! : next > 0 ? pts[next - 1] : null;
  const after = next === -1 ? null : pts[next];
  if (before && after) {
    if (period.intervals[next - 1]?.kind === 'jump') {
      return { lo: localAt({ ...before, trueMs }, Math.min(before.offsetMs, after.offsetMs)), hi: localAt({ ...before, trueMs }, Math.max(before.offsetMs, after.offsetMs)) };
    }
    const offset = before.offsetMs + ((trueMs - before.trueMs) / (after.trueMs - before.trueMs)) * (after.offsetMs - before.offsetMs);
    const local = localAt({ ...before, trueMs }, offset);
    return { lo: local, hi: local };
  }
  const only = (before ?? after)!;
  const local = localAt({ ...only, trueMs }, only.offsetMs);
  return { lo: local, hi: local };
}

function clipTrueStart(period: CameraPeriod, trueMs: number): void {
  const at = localRangeAt(period, trueMs);
  if (!at) return;
  const first = period.segments[0];
  if (first && first.trueFrom !== null && Date.parse(first.trueFrom) >= trueMs) return;
  // Every photo that may be from the session stays in: across a jump, from the lower camera time.
  clipStart(period, at.lo);
  if (period.segments[0]) period.segments[0].trueFrom = new Date(Math.round(trueMs)).toISOString();
}

function clipTrueEnd(period: CameraPeriod, trueMs: number): void {
  const at = localRangeAt(period, trueMs);
  if (!at) return;
  const last = period.segments.at(-1);
  if (last && last.trueTo !== null && Date.parse(last.trueTo) <= trueMs) return;
  clipEnd(period, at.hi);
  const end = period.segments.at(-1);
  if (end) end.trueTo = new Date(Math.round(trueMs)).toISOString();
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** A shift in whole ms (never -0, which would print as "-0"). */
function wholeMs(x: number): number {
  return Math.round(x) + 0;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function signed(x: number): string {
  return `${x < 0 ? '-' : '+'}${Math.abs(x)}`;
}
