/**
 * A capture session's report, made from the journal alone (pure): what the cameras were at the start and at
 * the end, their drift, every step of the Pi's or a camera's clock in between, and the correction that puts
 * the session's photos on true time. The numbers are those of the journal's records, so the report and the
 * journal cannot disagree.
 */
import type { JournalStep } from '../activity-log/clock-journal';
import type { CameraRecord, ExternalStepRecord, JournalEvent, SessionCamera, ZoneRecord } from '../activity-log/journal-records';
import { AmbiguousWindow, CameraCorrections, CameraPeriod, forSession, JournalModel, normalizeSerial, SessionSpan, SkippedRecord } from '../corrections/corrections';
import type { DamagedLine } from '../activity-log/clock-journal';
import { knownness } from '../time/drift';

const DAY_MS = 86_400_000;

export interface SessionStartAnswer {
  id: string;
  startedAt: string;
  label: string | null;
  /** Each connected camera after the start's corrections: camera minus Pi, ms. */
  cameras: SessionCamera[];
}

export interface SessionCameraReport {
  cameraId: string;
  serial: string | null;
  /** After the start's corrections, as journaled in the session-start record. */
  start: (SessionCamera & { line: number }) | null;
  /** At the stop's measurement, as journaled in the session-stop record. */
  end: (SessionCamera & { line: number }) | null;
  /** Camera minus true time, ms per day, from the first and last measurement of the session's period; null if it cannot be told. */
  driftMsPerDay: number | null;
  driftBoundMsPerDay: number | null;
  /** The bound is at most 1 s/day, so driftMsPerDay means something; false: not known yet (too short a span). */
  driftKnown: boolean;
  /** The same in words: "+72 ms/day (±84)", "not known: 38 s of measurements bound it only to ±40 552 ms/day", "not measured". */
  driftSummary: string;
  /** Writes of this camera's clock during the session (lines between start and stop). */
  writes: Array<{ line: number; at: string; success: boolean; offsetMs: number | null; residualMs: number | null; reason: string | null }>;
  /** The shifts that put this camera's photos of the session on true time. */
  correction: CameraPeriod[];
  /** Camera times whose photos cannot be placed (the camera was set back, or too near a setting): left alone by the correction, and why. */
  leftAlone: AmbiguousWindow[];
}

export interface SessionReport {
  id: string;
  state: 'running' | 'stopped';
  label: string | null;
  startedBy: string;
  startedAt: string;
  stoppedAt: string | null;
  /** True time between start and stop when the Pi's error is known, else the Pi's. */
  durationMs: number | null;
  journal: { startLine: number; stopLine: number | null };
  cameras: SessionCameraReport[];
  /** Steps of the Pi's clock during the session: the product's (an operator's confirmation) and others (NTP, `date`). */
  piSteps: Array<{ line: number; at: string; kind: 'step' | 'external-step'; stepMs: number; source: string | null; state: string }>;
  zoneChanges: Array<{ line: number; at: string; from: string; to: string; state: string }>;
  /** Lines of the journal that could not be used for this report, and why. */
  skipped: SkippedRecord[];
  damaged: DamagedLine[];
  /** Where the photo tools' files are. */
  files: { exiftool: string; json: string; geosync: Record<string, string> };
}

export function sessionReport(model: JournalModel, span: SessionSpan): SessionReport {
  const inSession = (line: number) => line > span.startLine && (span.stopLine === null || line < span.stopLine);
  const corrections = forSession(model, span);
  const startCams = span.start.cameras ?? [];
  const endCams = span.stop?.cameras ?? [];
  const serials = new Map<string, { cameraId: string; serial: string | null }>();
  for (const c of [...startCams, ...endCams]) serials.set(normalizeSerial(c.serial ?? c.cameraId), { cameraId: c.cameraId, serial: c.serial });
  for (const c of corrections) if (!serials.has(normalizeSerial(c.serial))) serials.set(normalizeSerial(c.serial), { cameraId: c.cameraIds[0], serial: c.serial });

  const cameraWrites = model.timeline.filter((e): e is typeof e & CameraRecord => 'kind' in e && e.kind === 'camera-write' && inSession(e.line));
  const cameras: SessionCameraReport[] = [...serials.entries()].map(([key, who]) => {
    const own = corrections.find((c) => normalizeSerial(c.serial) === key);
    const start = startCams.find((c) => normalizeSerial(c.serial ?? c.cameraId) === key);
    const end = endCams.find((c) => normalizeSerial(c.serial ?? c.cameraId) === key);
    return {
      cameraId: who.cameraId,
      serial: who.serial,
      start: start ? { ...start, line: span.startLine } : null,
      end: end && span.stopLine !== null ? { ...end, line: span.stopLine } : null,
      ...drift(own),
      writes: cameraWrites
        .filter((w) => normalizeSerial(w.serial ?? w.cameraId) === key)
        .map((w) => ({ line: w.line, at: w.at, success: w.success, offsetMs: w.offsetMs, residualMs: w.residualMs ?? null, reason: w.reason ?? null })),
      correction: own?.periods ?? [],
      leftAlone: own?.ambiguous ?? [],
    };
  });

  const piSteps: SessionReport['piSteps'] = [];
  const zoneChanges: SessionReport['zoneChanges'] = [];
  for (const e of model.timeline) {
    if (!inSession(e.line)) continue;
    if (!('kind' in e) || e.kind === undefined || e.kind === 'step') {
      const s = e as JournalStep;
      piSteps.push({ line: s.line, at: s.after, kind: 'step', stepMs: s.stepMs, source: s.source, state: s.state });
    } else if (e.kind === 'external-step') {
      const x = e as ExternalStepRecord & JournalEvent;
      piSteps.push({ line: x.line, at: x.at, kind: 'external-step', stepMs: x.stepMs, source: null, state: 'confirmed' });
    } else if (e.kind === 'zone') {
      const z = e as ZoneRecord & JournalEvent;
      zoneChanges.push({ line: z.line, at: z.at, from: z.from, to: z.to, state: z.state ?? 'confirmed' });
    }
  }

  const lastLine = span.stopLine ?? Infinity;
  const base = `/api/timesync/corrections?session=${span.id}`;
  return {
    id: span.id,
    state: span.stop ? 'stopped' : 'running',
    label: span.start.label ?? null,
    startedBy: span.start.by,
    startedAt: span.start.at,
    stoppedAt: span.stop?.at ?? null,
    durationMs: span.stop ? Math.round(span.startTrueMs !== null && span.stopTrueMs !== null ? span.stopTrueMs - span.startTrueMs : span.stop.atMs - span.start.atMs) : null,
    journal: { startLine: span.startLine, stopLine: span.stopLine },
    cameras,
    piSteps,
    zoneChanges,
    skipped: model.skipped.filter((s) => s.line <= lastLine),
    damaged: model.damaged,
    files: {
      exiftool: `${base}&format=exiftool`,
      json: base,
      geosync: Object.fromEntries(corrections.map((c) => [c.serial, `${base}&format=geosync&camera=${encodeURIComponent(c.serial)}`])),
    },
  };
}

type SessionDrift = Pick<SessionCameraReport, 'driftMsPerDay' | 'driftBoundMsPerDay' | 'driftKnown' | 'driftSummary'>;

/** From the first and last point of the one period the session spans: no write between, or it is not drift. */
function drift(own: CameraCorrections | undefined): SessionDrift {
  const none = (why: string): SessionDrift => ({ driftMsPerDay: null, driftBoundMsPerDay: null, driftKnown: false, driftSummary: why });
  const periods = own?.periods.filter((p) => !p.unusable) ?? [];
  if (periods.length !== 1) return none(periods.length ? 'not measured: the camera was written during the session' : 'not measured');
  const points = periods[0].points;
  const a = points[0];
  const b = points.at(-1);
  if (!a || !b || b.trueMs - a.trueMs <= 0 || a.boundMs === null || b.boundMs === null) return none('not measured: one measurement only');
  const span = b.trueMs - a.trueMs;
  const driftMsPerDay = round1(((b.offsetMs - a.offsetMs) / span) * DAY_MS);
  const driftBoundMsPerDay = round1(((a.boundMs + b.boundMs) / span) * DAY_MS);
  const { known } = knownness(driftBoundMsPerDay / 1000, span);
  const driftSummary = known
    ? `${driftMsPerDay >= 0 ? '+' : ''}${driftMsPerDay} ms/day (±${driftBoundMsPerDay})`
    : `not known: ${Math.round(span / 1000)} s of measurements bound it only to ±${Math.round(driftBoundMsPerDay)} ms/day (a figure needs ±1000 or better)`;
  return { driftMsPerDay, driftBoundMsPerDay, driftKnown: known, driftSummary };
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
