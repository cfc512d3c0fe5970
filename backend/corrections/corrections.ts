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
 *    into periods; within a period the offset is interpolated between its points (drift), and cut into
 *    segments where it changes by more than `toleranceMs`, each with one shift.
 * 3. A photo's DateTimeOriginal is the camera's wall time: true time + camera offset + the camera's UTC
 *    offset. So each segment is a range of camera wall times with the shift that puts a photo in it on true
 *    time (in the camera's zone; in the zone the product then wrote to it when the camera's zone setting was
 *    wrong all period long, with the new OffsetTimeOriginal). Where two periods overlap in camera time (the
 *    camera was set back), a photo cannot be placed: that window is listed and left alone.
 */
import { parseJournal, JournalStep, DamagedLine } from '../activity-log/clock-journal';
import type { CameraRecord, JournalEvent, SessionRecord } from '../activity-log/journal-records';

export const DEFAULT_TOLERANCE_MS = 20;
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

/** One shift for the photos whose camera wall time (DateTimeOriginal with its sub-seconds) is in [fromLocalMs, toLocalMs). */
export interface CorrectionSegment {
  /** Camera wall time as "YYYY:MM:DD HH:MM:SS.sss" (null: open), and the same in ms as if it were UTC. */
  from: string | null;
  to: string | null;
  fromLocalMs: number | null;
  toLocalMs: number | null;
  /** True time of those ends (ISO, UTC). */
  trueFrom: string | null;
  trueTo: string | null;
  /** Add this to the photo's time (ms): minus the camera's error, plus a zone correction if any. */
  shiftMs: number;
  /** The camera's error in this segment (camera minus true), ms: the mean of its ends. */
  cameraErrorMs: number;
  /** How far the corrected time can be off, ms (null: unknown). */
  boundMs: number | null;
  /** New OffsetTimeOriginal ("+01:00") when the zone is corrected too; null: left as it is. */
  offsetTime: string | null;
}

export interface CameraPeriod {
  /** 1-based, per camera, oldest first. */
  index: number;
  /** The journal lines of the writes that open and close it (null: before the first / after the last). */
  openedBy: number | null;
  closedBy: number | null;
  points: CameraPoint[];
  segments: CorrectionSegment[];
  /** Before its first point (the offset then, drift before it unknown) or after its last. */
  extrapolated: boolean;
  /** Set when the period cannot be corrected (a write against an unknown Pi time): nothing in it is touched. */
  unusable: string | null;
  zone: { camera: number; target: number; corrected: boolean; known: boolean };
}

export interface AmbiguousWindow {
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

/** Reads the journal and builds every camera's periods and segments. */
export function buildModel(text: string, toleranceMs = DEFAULT_TOLERANCE_MS): JournalModel {
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
    cameras.push(cameraCorrections(serial, [...ids], items, zoneLines, toleranceMs));
  }
  cameras.sort((a, b) => a.serial.localeCompare(b.serial));

  const sessions = sessionSpans(parsed.events, errors);
  return { cameras, sessions, skipped, damaged: parsed.damaged, records: entries.length, timeline };
}

function cameraCorrections(
  serial: string,
  cameraIds: string[],
  items: TimelineItem[],
  zoneLines: number[],
  toleranceMs: number,
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
    periods.push(toPeriod(periods.length + 1, raw, zoneLines, toleranceMs));
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

function toPeriod(index: number, raw: { openedBy: number | null; closedBy: number | null; points: CameraPoint[]; unusable: string | null; closingWall: number | null }, zoneLines: number[], toleranceMs: number): CameraPeriod {
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
    segments: [],
    extrapolated: raw.openedBy === null || raw.closedBy === null,
    unusable: raw.unusable ?? (points.length ? null : 'nothing was measured in it'),
    zone: { camera: cameraWall, target, corrected, known: knownWall !== undefined },
  };
  if (period.unusable) return period;
  period.segments = segmentsOf(points, raw.openedBy === null, raw.closedBy === null, (target - cameraWall) * MINUTE_MS, corrected ? offsetText(target) : null, toleranceMs);
  return period;
}

/** Cuts a period at its points, merges neighbours whose offsets stay within `toleranceMs`, one shift each. */
function segmentsOf(points: CameraPoint[], openStart: boolean, openEnd: boolean, zoneShiftMs: number, offsetTime: string | null, toleranceMs: number): CorrectionSegment[] {
  const spans: Array<{ a: CameraPoint | null; b: CameraPoint | null }> = [];
  if (openStart) spans.push({ a: null, b: points[0] });
  for (let i = 0; i + 1 < points.length; i++) {
    // Drift across a span beyond the tolerance: cut it into pieces the offset crosses in at most that much.
    const [a, b] = [points[i], points[i + 1]];
    const pieces = Math.min(1000, Math.max(1, Math.ceil(Math.abs(b.offsetMs - a.offsetMs) / Math.max(toleranceMs, 1))));
    let from = a;
    for (let k = 1; k < pieces; k++) {
      const f = k / pieces;
      const mid: CameraPoint = { ...a, trueMs: a.trueMs + f * (b.trueMs - a.trueMs), offsetMs: a.offsetMs + f * (b.offsetMs - a.offsetMs), boundMs: a.boundMs === null || b.boundMs === null ? null : Math.max(a.boundMs, b.boundMs) };
      spans.push({ a: from, b: mid });
      from = mid;
    }
    spans.push({ a: from, b });
  }
  if (openEnd) spans.push({ a: points.at(-1)!, b: null });
  if (!spans.length) spans.push({ a: points[0], b: points[0] }); // a single point that both opens and closes

  const out: CorrectionSegment[] = [];
  let group: Array<{ a: CameraPoint | null; b: CameraPoint | null }> = [];
  const flush = () => {
    if (!group.length) return;
    const offsets = group.flatMap((s) => [s.a, s.b]).filter((p): p is CameraPoint => p !== null);
    const lo = Math.min(...offsets.map((p) => p.offsetMs));
    const hi = Math.max(...offsets.map((p) => p.offsetMs));
    const error = (lo + hi) / 2;
    const bounds = offsets.map((p) => p.boundMs);
    const bound = bounds.some((b) => b === null) ? null : Math.max(...(bounds as number[])) + (hi - lo) / 2;
    const first = group[0].a;
    const last = group.at(-1)!.b;
    out.push({
      from: first ? localText(localOf(first)) : null,
      to: last ? localText(localOf(last)) : null,
      fromLocalMs: first ? localOf(first) : null,
      toLocalMs: last ? localOf(last) : null,
      trueFrom: first ? new Date(Math.round(first.trueMs)).toISOString() : null,
      trueTo: last ? new Date(Math.round(last.trueMs)).toISOString() : null,
      shiftMs: Math.round(-error + zoneShiftMs),
      cameraErrorMs: round3(error),
      boundMs: bound === null ? null : Math.ceil(bound),
      offsetTime,
    });
    group = [];
  };
  for (const span of spans) {
    const candidate = [...group, span];
    const offsets = candidate.flatMap((s) => [s.a, s.b]).filter((p): p is CameraPoint => p !== null).map((p) => p.offsetMs);
    if (group.length && Math.max(...offsets) - Math.min(...offsets) > toleranceMs) flush();
    group.push(span);
  }
  flush();
  // A segment of zero length (a write immediately followed by the next) corrects nothing.
  return out.filter((s) => s.fromLocalMs === null || s.toLocalMs === null || s.toLocalMs > s.fromLocalMs || out.length === 1);
}

function clipEnd(p: CameraPeriod, localMs: number): void {
  p.segments = p.segments.filter((s) => s.fromLocalMs === null || s.fromLocalMs < localMs);
  const last = p.segments.at(-1);
  if (last && (last.toLocalMs === null || last.toLocalMs > localMs)) Object.assign(last, { toLocalMs: localMs, to: localText(localMs) });
}

function clipStart(p: CameraPeriod, localMs: number): void {
  p.segments = p.segments.filter((s) => s.toLocalMs === null || s.toLocalMs > localMs);
  const first = p.segments[0];
  if (first && (first.fromLocalMs === null || first.fromLocalMs < localMs)) Object.assign(first, { fromLocalMs: localMs, from: localText(localMs) });
}

/** The camera's wall time at a point, as ms "as if UTC" (what DateTimeOriginal + sub-seconds read as). */
function localOf(p: CameraPoint): number {
  return Math.round(p.trueMs + p.offsetMs + p.wallOffsetMinutes * MINUTE_MS);
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

function offsetAt(period: CameraPeriod, trueMs: number): CameraPoint | null {
  const pts = period.points;
  if (!pts.length) return null;
  const before = [...pts].reverse().find((p) => p.trueMs <= trueMs);
  const after = pts.find((p) => p.trueMs > trueMs);
  let offset: number;
  if (before && after) offset = before.offsetMs + ((trueMs - before.trueMs) / (after.trueMs - before.trueMs)) * (after.offsetMs - before.offsetMs);
  else offset = (before ?? after)!.offsetMs;
  const like = (before ?? after)!;
  return { ...like, trueMs, offsetMs: offset };
}

function clipTrueStart(period: CameraPeriod, trueMs: number): void {
  const at = offsetAt(period, trueMs);
  if (!at) return;
  const first = period.segments[0];
  if (first && first.trueFrom !== null && Date.parse(first.trueFrom) >= trueMs) return;
  clipStart(period, localOf(at));
  if (period.segments[0]) period.segments[0].trueFrom = new Date(Math.round(trueMs)).toISOString();
}

function clipTrueEnd(period: CameraPeriod, trueMs: number): void {
  const at = offsetAt(period, trueMs);
  if (!at) return;
  const last = period.segments.at(-1);
  if (last && last.trueTo !== null && Date.parse(last.trueTo) <= trueMs) return;
  clipEnd(period, localOf(at));
  const end = period.segments.at(-1);
  if (end) end.trueTo = new Date(Math.round(trueMs)).toISOString();
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
