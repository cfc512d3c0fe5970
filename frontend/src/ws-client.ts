import type {
  ActivityEntry,
  ClientFrame,
  ManualTimeSyncResultFrame,
  ServerEvent,
  ServerFrame,
  TimeSyncRequestFrame,
  TimeSyncStatus,
} from '../../backend/protocol/messages';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface SocketError {
  code: string;
  message: string;
  requestId?: string;
  /** Increases with every error, so the UI can tell a repeated error from the same one. */
  seq: number;
}

export interface TimeSyncSnapshot {
  connection: ConnectionState;
  /** Failed attempts since the socket was last open. */
  attempt: number;
  /** `now()` time of the next connection attempt while reconnecting. */
  nextRetryAt: number | null;
  status: TimeSyncStatus | null;
  /** `now()` (monotonic) time at which `status` arrived, to age its numbers locally. */
  statusAt: number;
  /** Newest last, as on the wire. */
  activityLog: ActivityEntry[];
  lastError: SocketError | null;
  lastEvent: ServerEvent | null;
  lastManualResult: ManualTimeSyncResultFrame['data'] | null;
}

/** The part of the browser WebSocket this class uses, so tests can hand it a fake. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface TimeSyncSocketOptions {
  url?: string;
  WebSocketImpl?: WebSocketFactory;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A connection attempt that has not opened after this long is abandoned and retried. */
  connectTimeoutMs?: number;
  random?: () => number;
  /** Monotonic milliseconds, for ages. */
  now?: () => number;
  /** The wall clock that is sent as the client's time. */
  wallNow?: () => number;
  isVisible?: () => boolean;
  timeZone?: () => string;
}

const OPEN = 1;
const MAX_LOG = 100;

export function defaultSocketUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/**
 * The page's WebSocket to the Pi: connects, reconnects with capped, jittered exponential backoff, answers
 * the server's time-sync requests, and keeps the latest server state for `useSyncExternalStore`.
 * No React in here.
 */
export class TimeSyncSocket {
  private readonly opts: Required<TimeSyncSocketOptions>;
  private ws: WebSocketLike | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  private started = false;
  private errorSeq = 0;
  /** Whether an activity_log frame arrived on the current connection (the first one replaces the list). */
  private logSeenOnThisConnection = false;
  private snapshot: TimeSyncSnapshot = {
    connection: 'connecting',
    attempt: 0,
    nextRetryAt: null,
    status: null,
    statusAt: 0,
    activityLog: [],
    lastError: null,
    lastEvent: null,
    lastManualResult: null,
  };
  /** Time-sync requests answered (outside the snapshot: answering must not re-render anything). */
  answeredCount = 0;

  constructor(options: TimeSyncSocketOptions = {}) {
    this.opts = {
      url: options.url ?? defaultSocketUrl(),
      WebSocketImpl: options.WebSocketImpl ?? (WebSocket as unknown as WebSocketFactory),
      minDelayMs: options.minDelayMs ?? 500,
      maxDelayMs: options.maxDelayMs ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 8000,
      random: options.random ?? Math.random,
      now: options.now ?? (() => performance.now()),
      wallNow: options.wallNow ?? (() => Date.now()),
      isVisible: options.isVisible ?? (() => document.visibilityState === 'visible'),
      timeZone: options.timeZone ?? (() => Intl.DateTimeFormat().resolvedOptions().timeZone),
    };
  }

  // Arrow properties: stable identities for useSyncExternalStore.
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): TimeSyncSnapshot => this.snapshot;

  start(): void {
    if (this.started) return;
    this.started = true;
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', this.onWake);
    if (typeof window !== 'undefined') window.addEventListener('online', this.onWake);
    this.connect();
  }

  stop(): void {
    this.started = false;
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', this.onWake);
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onWake);
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      this.detach(ws);
      ws.close(1000, 'page closed');
    }
  }

  /** Sends a frame if the socket is open; false when it is not (the caller tells the user). */
  send(frame: ClientFrame): boolean {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return false;
    ws.send(JSON.stringify(frame));
    return true;
  }

  requestStatus(): boolean {
    return this.send({ type: 'get-time-sync-status', data: {} });
  }

  /** Skips the backoff wait (the page became visible again, the network came back, or the user asked). */
  reconnectNow(): void {
    if (!this.started || this.snapshot.connection !== 'reconnecting' || this.ws) return;
    this.clearTimers();
    this.connect();
  }

  /**
   * The page is visible again or the network is back: reconnect now, or, if the socket survived, ask for a
   * fresh status (a phone that slept may not have counted the time on its monotonic clock).
   */
  private readonly onWake = () => {
    if (!this.opts.isVisible()) return;
    if (this.snapshot.connection === 'open') this.requestStatus();
    else this.reconnectNow();
  };

  private connect(): void {
    this.retryTimer = null;
    let ws: WebSocketLike;
    try {
      ws = new this.opts.WebSocketImpl(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.logSeenOnThisConnection = false;
    this.update({ nextRetryAt: null });

    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.clearConnectTimer();
      this.update({ connection: 'open', attempt: 0, nextRetryAt: null });
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data) as ServerFrame;
      } catch {
        return;
      }
      if (frame && frame.type === 'time-sync-request') {
        this.answer(ws, frame);
        return;
      }
      this.handle(frame);
    };
    ws.onerror = () => {
      // A close event always follows; reconnecting is handled there.
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.detach(ws);
      this.ws = null;
      this.clearConnectTimer();
      if (this.started) this.scheduleReconnect();
    };
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (this.ws === ws && ws.readyState !== OPEN) {
        this.detach(ws);
        this.ws = null;
        try {
          ws.close();
        } catch {
          // already failed
        }
        this.scheduleReconnect();
      }
    }, this.opts.connectTimeoutMs);
  }

  /**
   * Answers at once, in the message handler: no await and no React between the frame's arrival and the
   * stamp, which is taken last, right before the send. Hidden pages are throttled or frozen, so their
   * stamps are not trusted: they do not answer.
   */
  private answer(ws: WebSocketLike, frame: TimeSyncRequestFrame): void {
    if (!this.opts.isVisible()) return;
    const timezone = this.opts.timeZone();
    ws.send(
      JSON.stringify({
        type: 'time-sync-response',
        data: { clientTime: this.opts.wallNow(), serverTime: frame.serverTime, requestId: frame.requestId, timezone },
      }),
    );
    this.answeredCount++;
  }

  private handle(frame: ServerFrame): void {
    switch (frame.type) {
      case 'time-sync-status': {
        const status = frame.data;
        const patch: Partial<TimeSyncSnapshot> = { status, statusAt: this.opts.now() };
        if (Array.isArray(status.activityLog) && status.activityLog.length && !this.logSeenOnThisConnection) {
          patch.activityLog = mergeLog(this.snapshot.activityLog, status.activityLog);
        }
        this.update(patch);
        break;
      }
      case 'activity_log': {
        const entries = Array.isArray(frame.data?.entries) ? frame.data.entries : [];
        // The first list after (re)connecting is the server's whole log: it replaces what a previous
        // connection (perhaps to a server that has since restarted) left here.
        const activityLog = this.logSeenOnThisConnection ? mergeLog(this.snapshot.activityLog, entries) : entries.slice(-MAX_LOG);
        this.logSeenOnThisConnection = true;
        this.update({ activityLog });
        break;
      }
      case 'error':
        this.update({
          lastError: { code: frame.data?.code ?? 'UNKNOWN', message: frame.data?.message ?? 'Unknown error', requestId: frame.data?.requestId, seq: ++this.errorSeq },
        });
        break;
      case 'event': {
        const patch: Partial<TimeSyncSnapshot> = { lastEvent: frame };
        const status = this.snapshot.status;
        if ((frame.eventType === 'camera-connected' || frame.eventType === 'camera-disconnected') && status && frame.data) {
          patch.status = { ...status, camera: frame.data };
        }
        this.update(patch);
        // An event may change what the status shows (a camera sync, a reliability change) without a status
        // frame of its own: ask for a fresh one.
        this.requestStatus();
        break;
      }
      case 'manual-time-sync-result':
        this.update({ lastManualResult: frame.data });
        break;
      default:
        break;
    }
  }

  private scheduleReconnect(): void {
    const attempt = this.snapshot.attempt + 1;
    const cap = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** (attempt - 1));
    // "Equal jitter": between half and all of the capped delay, so many pages do not retry in step.
    const delay = cap / 2 + (this.opts.random() * cap) / 2;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.update({ connection: 'reconnecting', attempt, nextRetryAt: this.opts.now() + delay });
  }

  private detach(ws: WebSocketLike): void {
    ws.onopen = ws.onclose = ws.onerror = null;
    ws.onmessage = null;
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private clearTimers(): void {
    this.clearConnectTimer();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private update(patch: Partial<TimeSyncSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const listener of this.listeners) listener();
  }
}

const entryKey = (e: ActivityEntry) => `${e.timestamp}|${e.type}|${e.success}|${e.message}`;

/**
 * Adds the entries not yet shown, keeping wire order (newest last) and the last 100. Works whether the
 * server sends only new entries or its whole list each time.
 */
export function mergeLog(current: ActivityEntry[], incoming: ActivityEntry[]): ActivityEntry[] {
  const seen = new Set(current.map(entryKey));
  const added = incoming.filter((e) => !seen.has(entryKey(e)));
  if (!added.length) return current;
  return current.concat(added).slice(-MAX_LOG);
}
