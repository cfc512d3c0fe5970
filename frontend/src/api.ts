/** The two REST actions of the page. Errors come back as `{ statusCode, code, message }`. */

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
  /** POST /api/timesync/camera */
  syncCamera(): Promise<Record<string, unknown>>;
  /** The Pi's clock minus this device's, from a few GETs of /api/system/time (the lowest round trip wins). */
  probePiClock(): Promise<PiClockProbe>;
}

export interface PiClockProbe {
  piMinusDeviceMs: number;
  rttMs: number;
}

export function createApi(fetchImpl: typeof fetch = (...args) => fetch(...args), timeoutMs = 30_000): TimeSyncApi {
  async function post(path: string, body: unknown): Promise<Record<string, unknown>> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let res: Response;
    try {
      res = await fetchImpl(path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
    } catch (e) {
      throw abort.signal.aborted
        ? new ActionError('TIMEOUT', 'The Pi did not answer in time')
        : new ActionError('NETWORK', `Could not reach the Pi (${e instanceof Error ? e.message : String(e)})`);
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
    if (!res.ok) {
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
      const res = await fetchImpl('/api/system/time', { cache: 'no-store', headers: { Accept: 'application/json' } });
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
    syncCamera: () => post('/api/timesync/camera', {}),
    probePiClock: () => probePiClock(),
  };
}

export const NOT_ON_AP_REASON = "Only devices on the Pi's Wi-Fi can set the time";

/** An error in plain words for the person holding the phone. */
export function describeError(e: unknown): string {
  if (!(e instanceof ActionError)) return `Something went wrong: ${e instanceof Error ? e.message : String(e)}`;
  switch (e.code) {
    case 'NOT_ACCESS_POINT_CLIENT':
      return NOT_ON_AP_REASON;
    case 'NTP_SYNCHRONIZED':
      return 'The Pi already has network time (NTP), so its clock is left alone';
    case 'CLOCK_PERMISSION_DENIED':
      return `The Pi is not allowed to change its clock: ${e.message}`;
    case 'CAMERA_BUSY':
      return /busy/i.test(e.message) ? `${capitalize(e.message)}. Try again in a moment` : `The camera is busy (${e.message}). Try again in a moment`;
    case 'NETWORK':
    case 'TIMEOUT':
      return `${e.message}. Check the connection and try again`;
    default:
      return capitalize(e.message);
  }
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
