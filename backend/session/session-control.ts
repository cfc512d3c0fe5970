import type { SessionStartAnswer } from './session-report';
import type { SessionReport } from './session-report';

/**
 * What the WebSocket gateway needs of capture sessions (the Session module provides it; the gateway lives
 * in TimeSync, which the Session module builds on).
 */
export abstract class SessionControl {
  /** Throws NOT_ACCESS_POINT_CLIENT, SESSION_RUNNING, JOURNAL_UNWRITABLE. */
  abstract start(address: string, input: { label?: string }): Promise<SessionStartAnswer>;
  /** Throws NOT_ACCESS_POINT_CLIENT, NO_SESSION, JOURNAL_UNWRITABLE. */
  abstract stop(address: string): Promise<SessionReport>;
}
