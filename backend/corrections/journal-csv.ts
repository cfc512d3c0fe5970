/**
 * The clock-change journal as CSV for a spreadsheet (pure): one row per record, every field in a named column,
 * each row of a capture session carrying its id; then the corrections made from it, one `correction` row per
 * range of a camera's photos (a drift is one row with its shift at both ends and its rate, a jump one row with
 * the later measurement's shift, in words too: the same segments as the ExifTool file). The columns and their meaning are defined once, here: the
 * Swagger description, the `/api/timesync/journal.csv/columns` answer and docs/journal-csv.md (checked by
 * journal-csv.spec.ts) are made from or compared with this list.
 */
import type { JournalStep } from '../activity-log/clock-journal';
import type { JournalEvent } from '../activity-log/journal-records';
import { csvCell } from '../common/escape';
import type { CameraCorrections, JournalModel, SessionSpan, TimelineEntry } from './corrections';

export const JOURNAL_CSV_COLUMNS = [
  { name: 'line', meaning: 'Line of the journal file the record starts on (the journal is in time order, whatever the clocks did); correction rows: the line they come from (the later measurement of the range, the write of a window left alone)' },
  { name: 'boot', meaning: "Which boot of the Pi it was written in (a counter; for steps journaled before the counter, id: and the kernel's boot id); offsets against the Pi's clock compare only within one boot" },
  { name: 'kind', meaning: 'step, zone, external-step, pi-sync, camera-measure, camera-write, session-start, session-stop, damaged (a line that could not be read), or correction (a range of a camera\'s photos and its shift, after the journal\'s rows)' },
  { name: 'state', meaning: 'Steps and zone changes, written ahead: pending, confirmed, failed, or unknown (the power went before the outcome)' },
  { name: 'session', meaning: 'The capture session the row belongs to: every row from its start to its stop, and the camera corrections made by its start; correction rows: the session both its measurements belong to' },
  { name: 'pi_time', meaning: "The Pi's clock when it was recorded (ISO 8601, UTC); for a step, the time it was set to" },
  { name: 'pi_time_ms', meaning: 'pi_time as milliseconds since 1970 (UTC)' },
  { name: 'pi_time_before', meaning: 'Steps and external steps: what the Pi showed just before its clock moved (ISO 8601, UTC)' },
  { name: 'pi_error_ms', meaning: "The Pi's own error then, true time minus Pi, ms; empty when not known" },
  { name: 'source', meaning: 'What gave the time or zone: client (a phone), camera, ntp, manual, gps, rtc; for an external step, chrony when chrony (TIME_SERVER=chrony) made it' },
  { name: 'camera', meaning: 'Camera records and corrections: the camera id the product uses' },
  { name: 'serial', meaning: "Camera records and corrections: the body's serial number (what EXIF SerialNumber holds); empty if the camera did not say" },
  { name: 'success', meaning: 'Camera records: true if the measurement or write went through' },
  { name: 'verified', meaning: 'Camera writes: true if the clock was read back after the write; false: set, not verified' },
  { name: 'offset_ms', meaning: "Camera minus Pi (camera records, before a write) or source minus Pi (pi-sync), ms; positive: ahead of the Pi" },
  { name: 'bound_ms', meaning: 'How well offset_ms is known (±, ms); for a step, the error bound of the time it was set to; for a correction, how far a corrected photo can be off' },
  { name: 'residual_ms', meaning: 'Camera writes: camera minus Pi just after the write, ms' },
  { name: 'residual_bound_ms', meaning: 'How well residual_ms is known (±, ms)' },
  { name: 'step_ms', meaning: "How far the Pi's clock was moved (steps) or moved without this product (external-step), ms" },
  { name: 'zone_from', meaning: "Zone changes: the Pi's zone before" },
  { name: 'zone_to', meaning: "Zone changes: the Pi's zone after" },
  { name: 'camera_zone', meaning: 'Camera writes: the zone written to the camera (the Pi\'s); corrections: the OffsetTimeOriginal written when the zone is corrected too, as UTC+01:00' },
  { name: 'address', meaning: 'Who asked: the address of the phone that gave a step, or that started or stopped a session' },
  { name: 'label', meaning: 'Session records: the label given at the start' },
  { name: 'reason', meaning: 'Camera records: why it was measured or written; damaged lines: what is wrong with the line; corrections: the shift in words (a jump, a drift, beyond the measurements, left alone)' },
  { name: 'error', meaning: 'What failed (failed steps, zone changes, camera records)' },
  { name: 'text', meaning: 'Damaged lines: the start of the line as it is in the file' },
  { name: 'period', meaning: "Corrections: which period of the camera (between two settings of its clock, 1 first)" },
  { name: 'correction', meaning: 'Corrections: constant (one shift), drift (the shift goes linearly from shift_ms to shift_to_ms), jump (the clock jumped between two measurements: the later one\'s shift), or none (left alone, or not corrected)' },
  { name: 'camera_from', meaning: 'Corrections: the first camera time of the range, as DateTimeOriginal with its sub-seconds (empty: any earlier)' },
  { name: 'camera_to', meaning: 'Corrections: the end of the range, not included (empty: any later)' },
  { name: 'shift_ms', meaning: "Corrections: what to add to the time of a photo taken at camera_from, ms" },
  { name: 'shift_to_ms', meaning: 'Corrections: the same at camera_to; in between, in proportion to the photo\'s time' },
  { name: 'rate_ppm', meaning: 'Corrections: a drift: how fast the camera\'s clock gained (negative: lost), parts per million; a jump: the rate the change would have needed' },
] as const;

export type JournalCsvColumn = (typeof JOURNAL_CSV_COLUMNS)[number]['name'];
type Row = Record<JournalCsvColumn, unknown>;

/** Where the columns are described, for the CSV's `Link` header (`rel="describedby"`). */
export const JOURNAL_CSV_COLUMNS_PATH = '/api/timesync/journal.csv/columns';

/**
 * The journal, one row per record (damaged lines included, named), then one row per correction range; RFC 4180
 * with formulas defused by csvCell.
 */
export function journalCsv(model: JournalModel): string {
  const rows: Row[] = [];
  for (const e of model.timeline) rows.push(rowOf(e));
  for (const d of model.damaged) rows.push({ ...empty(), line: d.line, kind: 'damaged', reason: d.reason, text: d.preview });
  rows.sort((a, b) => (a.line as number) - (b.line as number));
  markSessions(rows, model.sessions);
  const sessionOf = new Map(rows.map((r) => [r.line as number, r.session as string | null]));
  const corrections = model.cameras.flatMap((c) => correctionRows(c, sessionOf));
  const names = JOURNAL_CSV_COLUMNS.map((c) => c.name);
  return [names.join(','), ...[...rows, ...corrections].map((r) => names.map((c) => csvCell(r[c])).join(','))].join('\r\n') + '\r\n';
}

/** One camera's corrections: each segment of each period (as the ExifTool file has them), then the windows left alone. */
function correctionRows(camera: CameraCorrections, sessionOf: Map<number, string | null>): Row[] {
  const base = (): Row => ({ ...empty(), kind: 'correction', camera: camera.cameraIds.join(' '), serial: camera.serial });
  const rows: Row[] = [];
  for (const period of camera.periods) {
    if (period.unusable) {
      rows.push({ ...base(), line: period.closedBy ?? period.openedBy, period: period.index, correction: 'none', reason: `not corrected: ${period.unusable}` });
      continue;
    }
    for (const s of period.segments) {
      const lines = [s.fromLine, s.toLine].filter((l): l is number => l !== null);
      const sessions = new Set(lines.map((l) => sessionOf.get(l) ?? null));
      rows.push({
        ...base(),
        line: s.toLine ?? s.fromLine ?? period.points[0]?.line ?? null,
        session: sessions.size === 1 ? [...sessions][0] : null,
        period: period.index,
        correction: s.kind,
        camera_from: s.from,
        camera_to: s.to,
        shift_ms: s.shiftMs,
        shift_to_ms: s.shiftToMs,
        rate_ppm: s.ratePpm,
        bound_ms: s.boundMs,
        camera_zone: s.offsetTime === null ? null : `UTC${s.offsetTime}`,
        reason: s.note,
      });
    }
  }
  for (const w of camera.ambiguous) rows.push({ ...base(), line: w.line, correction: 'none', camera_from: w.from, camera_to: w.to, reason: `left alone: ${w.reason}` });
  return rows;
}

/**
 * Which session each row belongs to: the lines from a session's start to its stop (or to the end while it
 * runs), and the camera records its start wrote just before its own record: the unbroken run of camera records
 * right above it, of cameras it names, made since the start began (the second in its id) or whose reason names it.
 */
function markSessions(rows: Row[], spans: SessionSpan[]): void {
  for (const span of spans) {
    const first = rows.findIndex((r) => r.line === span.startLine);
    if (first < 0) continue;
    for (const row of rows.slice(first)) {
      if (span.stopLine !== null && (row.line as number) > span.stopLine) break;
      row.session = span.id;
    }
    const began = startedAtMs(span.id);
    const cameras = new Set((span.start.cameras ?? []).map((c) => c.cameraId));
    for (let i = first - 1; i >= 0; i--) {
      const row = rows[i];
      if (row.kind !== 'camera-measure' && row.kind !== 'camera-write') break;
      const named = typeof row.reason === 'string' && row.reason.includes(`capture session ${span.id} `);
      const during = cameras.has(row.camera as string) && began !== null && typeof row.pi_time_ms === 'number' && row.pi_time_ms >= began;
      if (!named && !during) break;
      row.session = span.id;
    }
  }
}

/** s-20261202-100000-3f9a2c: the Pi's UTC time, to the second, when the start began. */
function startedAtMs(id: string): number | null {
  const m = /^s-(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)-/.exec(id);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : null;
}

function empty(): Row {
  return Object.fromEntries(JOURNAL_CSV_COLUMNS.map((c) => [c.name, null])) as Row;
}

function rowOf(e: TimelineEntry): Row {
  const row = empty();
  row.line = e.line;
  row.boot = e.bootKey.startsWith('b') ? Number(e.bootKey.slice(1)) : e.bootKey;
  row.state = e.state ?? null;
  row.pi_error_ms = e.piErrorMs === null ? null : Math.round(e.piErrorMs * 1000) / 1000;
  if (!('kind' in e) || e.kind === undefined || e.kind === 'step') {
    const s = e as JournalStep;
    Object.assign(row, {
      kind: 'step',
      pi_time: s.after,
      pi_time_ms: s.afterMs,
      pi_time_before: s.before || null,
      source: s.source,
      step_ms: s.stepMs,
      bound_ms: s.errorBoundMs ?? null,
      address: s.client ?? null,
      error: s.error ?? null,
    });
    return row;
  }
  const ev = e as JournalEvent & TimelineEntry;
  row.kind = ev.kind;
  row.pi_time = ev.at;
  row.pi_time_ms = ev.atMs;
  switch (ev.kind) {
    case 'zone':
      Object.assign(row, { source: ev.source, zone_from: ev.from, zone_to: ev.to, error: ev.error ?? null });
      break;
    case 'external-step':
      Object.assign(row, { step_ms: ev.stepMs, pi_time_before: ev.before || null, source: ev.by ?? null });
      break;
    case 'pi-sync':
      Object.assign(row, { source: ev.source, offset_ms: ev.offsetMs, bound_ms: ev.errorBoundMs });
      break;
    case 'camera-measure':
    case 'camera-write':
      Object.assign(row, {
        camera: ev.cameraId,
        serial: ev.serial,
        success: ev.success,
        verified: ev.verified ?? null,
        offset_ms: ev.offsetMs,
        bound_ms: ev.boundMs,
        residual_ms: ev.residualMs ?? null,
        residual_bound_ms: ev.residualBoundMs ?? null,
        camera_zone: ev.timezone ?? null,
        reason: ev.reason ?? null,
        error: ev.success ? null : (ev.error ?? null),
      });
      break;
    case 'session-start':
    case 'session-stop':
      Object.assign(row, { address: ev.by || null, label: ev.label ?? null });
      break;
  }
  return row;
}

/** The columns as the Swagger description and the `columns` answer give them. */
export function journalCsvColumnsText(): string {
  return JOURNAL_CSV_COLUMNS.map((c) => `${c.name}: ${c.meaning}`).join('; ');
}
