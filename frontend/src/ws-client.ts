import type { ActivityEntry, ActivityLogFrame, ClientFrame, HelloFrame, ServerFrame, TimeSyncRequestFrame, TimeSyncStatus } from '../../backend/protocol/messages';
import { ClientFrameType, KIOSK_QUERY, PROTOCOL_VERSION, ServerFrameType, type Screen } from '../../backend/protocol/vocabulary';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting';

export interface SocketError {
  code: string;
  message: string;
  /** The page's own request this error answers (the last frame it sent before any status came back), if any. */
  action?: ClientFrameType;
  /** Increases with every error, so the UI can tell a repeated error from the same one. */
  seq: number;
}

/** The Pi speaks another protocol version than this page was built for, and reloading did not fix it. */
export interface VersionMismatch {
  page: number;
  server: number;
}

export interface TimeSyncSnapshot {
  connection: ConnectionState;
  /** Failed attempts since the socket was last open. */
  attempt: number;
  status: TimeSyncStatus | null;
  /** `now()` (monotonic) time at which `status` arrived, to age its numbers locally. */
  statusAt: number;
  /** Ordered by `seq`, newest last; at most 100. */
  activityLog: ActivityEntry[];
  lastError: SocketError | null;
  versionMismatch: VersionMismatch | null;
  /** What the server said of this page in its `hello`: which screen it is on and what it may do. */
  hello: { screen: Screen; maySetTime: boolean; trusted: boolean } | null;
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
  /** Reloads the page (a new build of it is served after an update). */
  reload?: () => void;
  /** Where the page notes that it reloaded for a server version, so a page that is still stale does not reload again. Null: no storage. */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null;
}

const OPEN = 1;
const MAX_LOG = 100;
export const RELOADED_FOR_KEY = 'pi-timesync.reloaded-for-protocol';

function sessionStore(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null; // storage disabled by the browser
  }
}

/** `ws://<host>/ws`, with `?kiosk=<secret>` on the Pi's own screen. */
export function defaultSocketUrl(loc: Pick<Location, 'protocol' | 'host'> = window.location, kioskToken: string | null = null): string {
  const query = kioskToken ? `?${KIOSK_QUERY}=${encodeURIComponent(kioskToken)}` : '';
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws${query}`;
}

/**
 * The page's WebSocket to the Pi: connects, reconnects with capped, jittered exponential backoff, answers
 * the server's time-sync requests, and keeps the latest server state for `useSyncExternalStore`: the server
 * sends one status per change and the activity log whole once per connection, then new entries as they
 * happen, so the page never asks. No React in here.
 */
export class TimeSyncSocket {
  private readonly opts: Required<TimeSyncSocketOptions>;
  private ws: WebSocketLike | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private connectTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly listeners = new Set<() => void>();
  private started = false;
  private errorSeq = 0;
  /** The last request sent that has no answer of its own: an error frame before the next status is its answer. */
  private awaiting: ClientFrameType | undefined;
  private snapshot: TimeSyncSnapshot = {
    connection: 'connecting',
    attempt: 0,
    status: null,
    statusAt: 0,
    activityLog: [],
    lastError: null,
    versionMismatch: null,
    hello: null,
  };

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
      reload: options.reload ?? (() => window.location.reload()),
      storage: options.storage === undefined ? sessionStore() : options.storage,
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
    this.awaiting = frame.type;
    return true;
  }

  /** The operator's reload (the version banner's button), unguarded. */
  reloadPage(): void {
    this.opts.reload();
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
    if (this.snapshot.connection === 'open') this.send({ type: ClientFrameType.GetTimeSyncStatus, data: {} });
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
    this.awaiting = undefined;

    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.clearConnectTimer();
      this.update({ connection: 'open', attempt: 0 });
    };
    ws.onmessage = (ev) => {
      if (this.ws !== ws || typeof ev.data !== 'string') return;
      let frame: ServerFrame;
      try {
        frame = JSON.parse(ev.data) as ServerFrame;
      } catch {
        return;
      }
      if (frame && frame.type === ServerFrameType.TimeSyncRequest) {
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
        type: ClientFrameType.TimeSyncResponse,
        data: { clientTime: this.opts.wallNow(), serverTime: frame.serverTime, requestId: frame.requestId, timezone },
      }),
    );
  }

  private handle(frame: ServerFrame): void {
    switch (frame?.type) {
      case ServerFrameType.Hello:
        this.checkVersion(frame);
        if (this.started) this.update({ hello: { screen: frame.screen ?? 'other', maySetTime: !!frame.maySetTime, trusted: !!frame.trusted } });
        break;
      case ServerFrameType.TimeSyncStatus:
        this.awaiting = undefined;
        this.update({ status: frame.data, statusAt: this.opts.now() });
        break;
      case ServerFrameType.ActivityLog:
        this.update({ activityLog: nextLog(this.snapshot.activityLog, frame.data) });
        break;
      case ServerFrameType.Error:
        this.update({
          lastError: { code: frame.data?.code ?? 'UNKNOWN', message: frame.data?.message ?? 'Unknown error', action: this.awaiting, seq: ++this.errorSeq },
        });
        this.awaiting = undefined;
        break;
      default:
        // Events and manual-set results: every change they report also comes as the one status frame that follows.
        break;
    }
  }

  /**
   * A page built for another protocol reloads itself once per server version (a kiosk after an update must not
   * run old code); if it is still stale after that reload, it says so instead of reloading in a loop.
   */
  private checkVersion(hello: HelloFrame): void {
    const storage = this.opts.storage;
    try {
      if (hello.protocolVersion === PROTOCOL_VERSION) {
        storage?.removeItem(RELOADED_FOR_KEY);
        if (this.snapshot.versionMismatch) this.update({ versionMismatch: null });
        return;
      }
      const mark = String(hello.protocolVersion);
      if (storage && storage.getItem(RELOADED_FOR_KEY) !== mark) {
        storage.setItem(RELOADED_FOR_KEY, mark);
        this.stop();
        this.opts.reload();
        return;
      }
    } catch {
      // storage refused: do not risk a reload loop
    }
    this.update({ versionMismatch: { page: PROTOCOL_VERSION, server: hello.protocolVersion } });
  }

  private scheduleReconnect(): void {
    const attempt = this.snapshot.attempt + 1;
    const cap = Math.min(this.opts.maxDelayMs, this.opts.minDelayMs * 2 ** (attempt - 1));
    // "Equal jitter": between half and all of the capped delay, so many pages do not retry in step.
    const delay = cap / 2 + (this.opts.random() * cap) / 2;
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.update({ connection: 'reconnecting', attempt });
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

/**
 * The log after an `activity_log` frame: `full` replaces it (the server's whole log, perhaps of a server that
 * restarted), otherwise the entries are added. Unique by `seq`, ordered by it, the last 100.
 */
export function nextLog(current: ActivityEntry[], data: ActivityLogFrame['data'] | undefined): ActivityEntry[] {
  const entries = Array.isArray(data?.entries) ? data.entries.filter((e) => Number.isFinite(e?.seq)) : [];
  return mergeLog(data?.full ? [] : current, entries);
}

export function mergeLog(current: ActivityEntry[], incoming: ActivityEntry[]): ActivityEntry[] {
  const bySeq = new Map(current.map((e) => [e.seq, e]));
  let added = false;
  for (const e of incoming) {
    if (bySeq.has(e.seq)) continue;
    bySeq.set(e.seq, e);
    added = true;
  }
  if (!added) return current;
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-MAX_LOG);
}
