/**
 * The page's REST actions (each gets its own answer, shown next to its button) and the Pi clock probe.
 * Errors come back as `{ statusCode, code, message }`.
 */
import { CameraSyncKind, ErrorCode, KIOSK_HEADER } from '../../backend/protocol/vocabulary';
import type { CameraSyncOutcome, ConnectInfo, SessionCameraResult } from '../../backend/protocol/messages';

/** Codes of failures the page meets before any answer from the Pi. */
export const PageErrorCode = { Network: 'NETWORK', Timeout: 'TIMEOUT' } as const;

export class ActionError extends Error {
  readonly code: string;
  readonly status?: number;
  constructor(code: string, message: string, status?: number) {
    super(message);
    this.name = 'ActionError';
    this.code = code;
    this.status = status;
  }
}

export interface TimeSyncApi {
  /** POST /api/system/time; `timestamp` is stamped by the caller right before the call. */
  setPiTime(timestamp: string, timezone: string): Promise<Record<string, unknown>>;
  /** POST /api/timesync/camera[?id=]: every connected camera, or the one named; one outcome per camera. */
  syncCameras(id?: string): Promise<CameraSyncOutcome[]>;
  /** The Pi's clock minus this device's, from a few GETs of /api/system/time (the lowest round trip wins). */
  probePiClock(): Promise<PiClockProbe>;
  /** GET /api/screen/connect: the access point's name, the page's address and their QR codes. */
  connectInfo(): Promise<ConnectInfo>;
  /** POST /api/session/start; `confirm`: set the cameras even though the Pi's own time is not reliable (else PI_TIME_UNRELIABLE). */
  startSession(confirm?: boolean): Promise<SessionStarted>;
  /** POST /api/session/stop: every camera measured, nothing written; the answer is the report. */
  stopSession(): Promise<SessionReport>;
  /** GET /api/session/<id>/report: as kept at its stop (a running one: so far). */
  sessionReport(id: string): Promise<SessionReport>;
  /** GET /api/session: the session running and every session in the journal, newest first. */
  listSessions(): Promise<SessionList>;
  /** POST /api/camera/<id>/measure-by-photo: the camera photographs the slate, its photo is read (camera minus Pi). */
  measureByPhoto(id: string): Promise<PhotoMeasure>;
}

/** What a measure by photo answers (the server's PhotoMeasureAnswer, the fields the page shows). */
export interface PhotoMeasure {
  cameraId: string;
  file: string;
  namedAfterMs: number;
  measurement: { offsetMs: number; boundMs: number; at: string };
}

/** Shutter, focus, the camera's write and the download: longer than any other action (CAMERA_PHOTO_TIMEOUT twice). */
const PHOTO_MEASURE_TIMEOUT_MS = 60_000;

/** The answer to a start: each connected camera after the start's corrections (camera minus Pi, ms). */
export interface SessionStarted {
  id: string;
  startedAt: string;
  label: string | null;
  cameras: SessionCameraResult[];
}

export interface SessionListItem {
  id: string;
  startedAt: string;
  stoppedAt: string | null;
  label: string | null;
}

export interface SessionList {
  session: { id: string; startedAt: string; label: string | null } | null;
  sessions: SessionListItem[];
}

/**
 * What the page reads of a session report (the server's `SessionReport`, backend/session/session-report.ts,
 * which the page cannot import: it is not in the protocol file). Times are the Pi's clock (ISO, UTC).
 */
export interface SessionReport {
  id: string;
  state: 'running' | 'stopped';
  label: string | null;
  startedBy: string;
  startedAt: string;
  stoppedAt: string | null;
  durationMs: number | null;
  cameras: SessionCameraReport[];
  piSteps: Array<{ line: number; at: string; kind: 'step' | 'external-step'; stepMs: number; source: string | null; state: string }>;
  zoneChanges: Array<{ line: number; at: string; from: string; to: string; state: string }>;
  skipped: Array<{ line: number; reason: string }>;
  damaged: Array<{ line: number; reason: string }>;
  files: { exiftool: string; json: string; geosync: Record<string, string> };
}

export interface SessionCameraReport {
  cameraId: string;
  serial: string | null;
  /** After the start's corrections, and at the stop's read-only measurement (null: not measured then). */
  start: SessionCameraResult | null;
  end: SessionCameraResult | null;
  /** A figure only when `driftKnown`; `driftSummary` says it in words either way. */
  driftMsPerDay: number | null;
  driftBoundMsPerDay: number | null;
  driftKnown: boolean;
  driftSummary: string;
  writes: Array<{ line: number; at: string; success: boolean; offsetMs: number | null; residualMs: number | null; reason: string | null }>;
  correction: CorrectionPeriod[];
  /** Camera times whose photos cannot be placed and are left alone (absent from reports kept by older servers). */
  leftAlone?: Array<{ from: string; to: string; reason: string }>;
}

/** One period between two settings of the camera's clock, cut into segments of one shift each. */
export interface CorrectionPeriod {
  index: number;
  segments: Array<{ from: string | null; to: string | null; shiftMs: number; boundMs: number | null; offsetTime: string | null }>;
  extrapolated: boolean;
  /** Why nothing in it can be corrected, or null. */
  unusable: string | null;
}

export type { CameraSyncOutcome };

export interface PiClockProbe {
  piMinusDeviceMs: number;
  rttMs: number;
}

/** `kioskToken`: the Pi's own screen presents its secret on every request (header `x-kiosk-token`). */
export function createApi(fetchImpl: typeof fetch = (...args) => fetch(...args), timeoutMs = 30_000, kioskToken: string | null = null): TimeSyncApi {
  const identity: Record<string, string> = kioskToken ? { [KIOSK_HEADER]: kioskToken } : {};

  /** `answered`: a non-2xx body that still is the answer (a camera sync that failed carries each camera's result). */
  function post(path: string, body: unknown, answered: (payload: Record<string, unknown>) => boolean = () => false, timeout = timeoutMs): Promise<Record<string, unknown>> {
    return call(path, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...identity }, body: JSON.stringify(body) }, answered, timeout);
  }

  function get(path: string): Promise<Record<string, unknown>> {
    return call(path, { cache: 'no-store', headers: { Accept: 'application/json', ...identity } }, () => false);
  }

  async function call(path: string, init: RequestInit, answered: (payload: Record<string, unknown>) => boolean, timeout = timeoutMs): Promise<Record<string, unknown>> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeout);
    let res: Response;
    try {
      res = await fetchImpl(path, { ...init, signal: abort.signal });
    } catch (e) {
      throw abort.signal.aborted
        ? new ActionError(PageErrorCode.Timeout, 'The Pi did not answer in time')
        : new ActionError(PageErrorCode.Network, `Could not reach the Pi (${e instanceof Error ? e.message : String(e)})`);
    } finally {
      clearTimeout(timer);
    }
    let payload: Record<string, unknown> = {};
    try {
      const text = await res.text();
      payload = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      payload = {};
    }
    if (!res.ok && !answered(payload)) {
      const code = typeof payload.code === 'string' ? payload.code : `HTTP_${res.status}`;
      const raw = payload.message;
      const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' && raw ? raw : res.statusText || `HTTP ${res.status}`;
      throw new ActionError(code, message, res.status);
    }
    return payload;
  }

  async function probePiClock(samples = 4): Promise<PiClockProbe> {
    let best: PiClockProbe | null = null;
    for (let i = 0; i < samples; i++) {
      const t0 = Date.now();
      const res = await fetchImpl('/api/system/time', { cache: 'no-store', headers: { Accept: 'application/json', ...identity } });
      const body = (await res.json()) as { epochMs?: unknown };
      const t1 = Date.now();
      if (!res.ok || typeof body.epochMs !== 'number') throw new ActionError(`HTTP_${res.status}`, 'The Pi did not tell its time');
      // The Pi read its clock somewhere inside the round trip: the middle is off by at most half of it.
      const sample = { piMinusDeviceMs: body.epochMs - (t0 + t1) / 2, rttMs: t1 - t0 };
      if (!best || sample.rttMs < best.rttMs) best = sample;
    }
    return best!;
  }

  return {
    setPiTime: (timestamp, timezone) => post('/api/system/time', { timestamp, timezone }),
    syncCameras: async (id) => {
      const body = await post(`/api/timesync/camera${id === undefined ? '' : `?id=${encodeURIComponent(id)}`}`, {}, hasResults);
      // 207 or every camera failed: the per-camera results are in `results`, shown one by one like a 200's.
      return outcomesOf(hasResults(body) ? body.results : body, id);
    },
    probePiClock: () => probePiClock(),
    connectInfo: async () => {
      const res = await fetchImpl('/api/screen/connect', { cache: 'no-store', headers: { Accept: 'application/json', ...identity } });
      if (!res.ok) throw new ActionError(`HTTP_${res.status}`, 'The Pi did not say how to connect');
      return (await res.json()) as ConnectInfo;
    },
    startSession: async (confirm = false) => (await post('/api/session/start', confirm ? { confirm: true } : {})) as unknown as SessionStarted,
    stopSession: async () => (await post('/api/session/stop', {})) as unknown as SessionReport,
    sessionReport: async (id) => (await get(`/api/session/${encodeURIComponent(id)}/report`)) as unknown as SessionReport,
    listSessions: async () => (await get('/api/session')) as unknown as SessionList,
    measureByPhoto: async (id) => (await post(`/api/camera/${encodeURIComponent(id)}/measure-by-photo`, {}, undefined, Math.max(timeoutMs, PHOTO_MEASURE_TIMEOUT_MS))) as unknown as PhotoMeasure,
  };
}

export const NOT_ON_AP_REASON = "Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time";
export const NOT_ON_AP_PHOTO_REASON = "Only the Pi's own screen and phones on the Pi's Wi-Fi can take a photo with a camera";
export const NOT_ON_AP_SESSION_REASON = "Only the Pi's own screen and phones on the Pi's Wi-Fi can start or stop a capture session";

/** An error in plain words for the person holding the phone. */
export function describeError(e: unknown): string {
  if (!(e instanceof ActionError)) return `Something went wrong: ${e instanceof Error ? e.message : String(e)}`;
  return describeCode(e.code, e.message);
}

/** A coded failure (REST error, error frame, one camera's outcome) in plain words. */
export function describeCode(code: string, message: string): string {
  switch (code) {
    case ErrorCode.NOT_ACCESS_POINT_CLIENT:
      return NOT_ON_AP_REASON;
    case ErrorCode.NTP_SYNCHRONIZED:
      return 'The Pi already has network time (NTP), so its clock is left alone';
    case ErrorCode.CLOCK_PERMISSION_DENIED:
      return `The Pi is not allowed to change its clock: ${message}`;
    case ErrorCode.CAMERA_BUSY:
      return /busy/i.test(message) ? `${capitalize(message)}. Try again in a moment` : `The camera is busy (${message}). Try again in a moment`;
    case ErrorCode.CAMERA_AUTH_REQUIRED:
      return `${NEEDS_CREDENTIALS} (${message})`;
    case PageErrorCode.Network:
    case PageErrorCode.Timeout:
      return `${message}. Check the connection and try again`;
    default:
      return capitalize(message);
  }
}

const NEEDS_CREDENTIALS = 'The camera needs its user name and password (CAMERA_USER and CAMERA_PASSWORD on the Pi)';

const hasResults = (payload: Record<string, unknown>): payload is Record<string, unknown> & { results: unknown[] } => Array.isArray(payload.results);

/** The answer of POST /api/timesync/camera as outcomes: a list (every camera), or one camera's result (`?id=`). */
function outcomesOf(body: unknown, id: string | undefined): CameraSyncOutcome[] {
  const list = Array.isArray(body) ? body : [body];
  return list.map((item) => {
    const o = (item ?? {}) as Record<string, unknown>;
    const cameraId = typeof o.cameraId === 'string' ? o.cameraId : (id ?? '');
    if (o.success === false) {
      return { cameraId, success: false, outcome: CameraSyncKind.Failed, code: typeof o.code === 'string' ? o.code : ErrorCode.INTERNAL, error: typeof o.error === 'string' ? o.error : 'the camera did not take the time' };
    }
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    const outcome: CameraSyncOutcome = {
      cameraId,
      success: true,
      offset: num(o.offset),
      residualMs: num(o.residualMs),
      residualBoundMs: num(o.residualBoundMs),
      ...(typeof o.verified === 'boolean' ? { verified: o.verified } : {}),
      ...(typeof o.written === 'boolean' ? { written: o.written } : {}),
      ...(num(o.thresholdMs) !== null ? { thresholdMs: num(o.thresholdMs)! } : {}),
    };
    return { ...outcome, outcome: syncKindOf({ ...outcome, outcome: isSyncKind(o.outcome) ? o.outcome : undefined }) };
  });
}

const SYNC_KINDS: readonly string[] = Object.values(CameraSyncKind);
const isSyncKind = (v: unknown): v is CameraSyncKind => typeof v === 'string' && SYNC_KINDS.includes(v);

/**
 * What a camera sync did, from an answer or a `lastSync`: the server's `outcome`, or for a server from before
 * it, what `success`, `written` and `verified` say (never "set" for a camera that was not written).
 */
export function syncKindOf(o: { success: boolean; outcome?: CameraSyncKind; written?: boolean; verified?: boolean }): CameraSyncKind {
  if (o.outcome) return o.outcome;
  if (!o.success) return CameraSyncKind.Failed;
  if (o.written === false) return CameraSyncKind.MeasuredKept;
  return o.verified === false ? CameraSyncKind.WrittenUnverified : CameraSyncKind.WrittenVerified;
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
