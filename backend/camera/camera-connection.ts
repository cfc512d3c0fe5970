/**
 * A camera's connection as a plain value, and what each thing learnt of the camera (an answer to a check, a
 * failure, SSDP, a sync's outcome) makes of it: `nextConnection(connection, event)`. Pure: the session asks the camera, feeds the
 * answer in, and reports the change of state (its id, the activity log and the events are the session's and the
 * registry's).
 */
import { DomainError, ErrorCode, messageOf } from '../common/domain-error';
import { CameraState } from '../protocol/messages';

/** Consecutive timeouts / resets before the camera counts as gone (a refused connection counts at once). */
export const TRANSPORT_FAILURES_FOR_DISCONNECT = 2;

/** Errors after which the camera is certainly still there (it answered, if only to say no). */
const ALIVE_CODES = new Set<string>([ErrorCode.CAMERA_BUSY, ErrorCode.CAMERA_REJECTED, ErrorCode.CAMERA_BAD_ANSWER]);

export interface Connection {
  state: CameraState;
  /** Timeouts and resets in a row. */
  transportFailures: number;
  /** SSDP found the camera: once gone, it may come back elsewhere, and SSDP will say. */
  discovered: boolean;
  /** A discovered camera that signed off or stopped answering: not polled until SSDP sees it again. */
  dormant: boolean;
  /** What went wrong last, as the status shows it: why it is not connected, or why its last sync failed; null once it connects or syncs. */
  lastError: string | null;
}

export type ConnectionEvent =
  /** It answered a connection attempt (its device information, or busy: it is there) and no other session holds it. */
  | { kind: 'connected' }
  /** It answered a check with its device information. */
  | { kind: 'answered' }
  /** It answered, but busy, with a refusal or garbled: there, not usable for now. */
  | { kind: 'answered-no'; reason: string }
  /** It answered 401; `connecting`: to a connection attempt (an answer: the timeouts in a row start again). */
  | { kind: 'credentials-refused'; reason: string; connecting: boolean }
  /** Anything else: a timeout, a reset; `unreachable`: the connection was refused (gone at once). */
  | { kind: 'no-answer'; reason: string; unreachable: boolean }
  /** Not usable here: the same camera is connected at another address, or another camera answers at this one. */
  | { kind: 'lost'; reason: string }
  /** SSDP ssdp:byebye from its own address. */
  | { kind: 'signed-off' }
  /** SSDP saw it (alive, or an answer to a search). */
  | { kind: 'seen' }
  /** A clock sync of it succeeded (the error shown is cleared), or failed with `reason` (shown whatever the state). */
  | { kind: 'synced' }
  | { kind: 'sync-failed'; reason: string };

export function initialConnection(discovered: boolean): Connection {
  return { state: CameraState.Disconnected, transportFailures: 0, discovered, dormant: false, lastError: null };
}

export function nextConnection(c: Connection, event: ConnectionEvent): Connection {
  switch (event.kind) {
    case 'connected':
      return enter({ ...c, transportFailures: 0 }, CameraState.Connected, null);
    case 'answered':
      return { ...c, transportFailures: 0 };
    case 'answered-no':
      // Connected, it is certainly still there; away, the answer says why it is not usable.
      if (c.state === CameraState.Connected) return { ...c, transportFailures: 0 };
      return c.state === CameraState.Disconnected ? { ...c, lastError: event.reason } : c;
    case 'credentials-refused':
      return enter(event.connecting ? { ...c, transportFailures: 0 } : c, CameraState.NeedsCredentials, event.reason);
    case 'no-answer': {
      if (c.state === CameraState.Disconnected) return { ...c, lastError: event.reason };
      const failed = { ...c, transportFailures: c.transportFailures + 1 };
      return event.unreachable || failed.transportFailures >= TRANSPORT_FAILURES_FOR_DISCONNECT ? enter(failed, CameraState.Disconnected, event.reason) : failed;
    }
    case 'lost':
      return enter({ ...c, lastError: event.reason }, CameraState.Disconnected, event.reason);
    case 'signed-off':
      return enter({ ...c, dormant: true }, CameraState.Disconnected, 'the camera signed off the network');
    case 'seen':
      return { ...c, discovered: true, dormant: false };
    case 'synced':
      return { ...c, lastError: null };
    case 'sync-failed':
      return { ...c, lastError: event.reason };
  }
}

/** What a failed request to the camera says of its connection (a 503 while connecting is the caller's to decide: it is there). */
export function connectionEventOf(error: unknown, connecting: boolean): ConnectionEvent {
  const code = error instanceof DomainError ? error.code : null;
  const reason = messageOf(error);
  if (code === ErrorCode.CAMERA_AUTH_REQUIRED) return { kind: 'credentials-refused', reason, connecting };
  if (code && ALIVE_CODES.has(code)) return { kind: 'answered-no', reason };
  return { kind: 'no-answer', reason, unreachable: code === ErrorCode.CAMERA_UNREACHABLE };
}

/** The state `to`, with what entering it means: gone clears the failures (and a discovered camera waits for SSDP); connected clears the error. */
function enter(c: Connection, to: CameraState, reason: string | null): Connection {
  if (c.state === to) return c;
  const gone = to === CameraState.Disconnected;
  return {
    ...c,
    state: to,
    transportFailures: gone ? 0 : c.transportFailures,
    dormant: gone && c.discovered ? true : c.dormant,
    lastError: to === CameraState.Connected ? null : reason,
  };
}
