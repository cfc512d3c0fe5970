import type { Caller } from '../access/caller';
import type { SessionReport, SessionStartAnswer } from './session-report';

/** What the WebSocket gateway needs of capture sessions (the Session module provides it). */
export abstract class SessionControl {
  /** Throws NOT_ACCESS_POINT_CLIENT, SESSION_RUNNING, JOURNAL_UNWRITABLE. */
  abstract start(caller: Caller, input: { label?: string }): Promise<SessionStartAnswer>;
  /** Throws NOT_ACCESS_POINT_CLIENT, NO_SESSION, JOURNAL_UNWRITABLE. */
  abstract stop(caller: Caller): Promise<SessionReport>;
}
