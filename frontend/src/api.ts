/**
 * The page's REST actions (each gets its own answer, shown next to its button) and the Pi clock probe.
 * Errors come back as `{ statusCode, code, message }`.
 */
import { CameraSyncKind, ErrorCode, KIOSK_HEADER } from '../../backend/protocol/vocabulary';
import type { CameraSyncOutcome, ConnectInfo } from '../../backend/protocol/messages';

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
  async function post(path: string, body: unknown, answered: (payload: Record<string, unknown>) => boolean = () => false): Promise<Record<string, unknown>> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let res: Response;
    try {
      res = await fetchImpl(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...identity },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
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
  };
}

export const NOT_ON_AP_REASON = "Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time";

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
