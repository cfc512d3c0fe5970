import { INestApplicationContext, Logger } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { MessageMappingProperties } from '@nestjs/websockets/gateway-metadata-explorer';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import { EMPTY, Observable } from 'rxjs';
import type { WebSocket, WebSocketServer } from 'ws';
import { parseGuarded } from '../common/json-guard';
import { CLIENT_FRAME_DATA_KEYS, CLIENT_FRAME_TYPES, MAX_FRAME_BYTES } from '../protocol/messages';
import { normalizeAddress } from '../access/access-point';

export interface UpgradeRefusal {
  status: number;
  code: string;
  message: string;
}

/** Pseudo-events the parser emits for frames that cannot be dispatched; the gateway answers them with an error frame. */
export const INVALID_FRAME = '__invalid_frame__';

interface Arrival {
  receivedMono: number;
  /** How long the event loop had been busy when the socket was read (see `LoopWatch.busyBefore`). */
  readLagMs: number;
}

const arrivals = new WeakMap<object, Arrival>();

/** When the frame carrying this payload arrived at the socket (monotonic ms). */
export function arrivalOf(payload: object): number | undefined {
  return arrivals.get(payload)?.receivedMono;
}

/** How long the event loop had been busy when it read the frame carrying this payload (ms; 0 when it was waiting). */
export function readLagOf(payload: object): number | undefined {
  return arrivals.get(payload)?.readLagMs;
}

/** How often the loop's idle time is sampled while reads are watched: the busy time before a read is known to this grain. */
const WATCH_TICK_MS = 1;

/**
 * How late the event loop reads a socket. Node cannot tell when bytes reached the kernel, only when its loop
 * got to them; a loop that was waiting in epoll reads them at once, a busy one when it is done. While watched
 * (a probe burst), a 1 ms timer samples the loop's cumulative idle time (`eventLoopUtilization`); at a read,
 * the time since the last sample minus the idle time since then is how long the loop had been busy, an
 * upper estimate of how long the bytes had waited. Scheduling delays of the whole process (other processes on
 * the cores) count as idle here and stay unseen.
 */
export class LoopWatch {
  private last = { at: 0, idle: 0 };
  private timer: NodeJS.Timeout | null = null;
  private until = 0;

  constructor(
    private readonly monotonic: () => number = () => performance.now(),
    private readonly idleMs: () => number = () => performance.eventLoopUtilization().idle,
  ) {}

  /** Samples for at least `ms` more (each probe sent extends it past its answer's deadline). */
  watch(ms: number): void {
    this.until = Math.max(this.until, this.monotonic() + ms);
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => {
      this.sample();
      if (this.monotonic() > this.until && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    }, WATCH_TICK_MS);
    this.timer.unref();
  }

  /** Busy time of the loop from the last sample to `now` (0 when not watched). */
  busyBefore(now: number): number {
    if (!this.timer) return 0;
    return Math.max(0, now - this.last.at - (this.idleMs() - this.last.idle));
  }

  private sample(): void {
    this.last = { at: this.monotonic(), idle: this.idleMs() };
  }
}

/** The process's one event loop, watched while probe answers are due. */
export const loopWatch = new LoopWatch();

/**
 * The read of a socket's bytes in progress: set by a listener that runs before ws's own 'data' listener
 * (which parses the frames and emits them, synchronously), cleared after it. Frames parsed outside it (ws
 * deferring a message) are stamped when parsed.
 */
let reading: Arrival | null = null;

/** Stamps every read of this socket before ws parses it. */
export function stampReads(socket: { prependListener(event: 'data', fn: () => void): unknown; on(event: 'data', fn: () => void): unknown }, monotonic: () => number, watch: LoopWatch = loopWatch): void {
  socket.prependListener('data', () => {
    const receivedMono = monotonic();
    reading = { receivedMono, readLagMs: watch.busyBefore(receivedMono) };
  });
  socket.on('data', () => {
    reading = null;
  });
}

/**
 * The WsAdapter's message parser: design frames `{ type, data }` instead of Nest's `{ event, data }`.
 * It runs synchronously inside the socket's message event, so that is where the arrival is stamped.
 * It never throws: a bad frame becomes an INVALID_FRAME event carrying the code and message. Depth and
 * forbidden keys are checked here, before class-transformer ever sees the payload.
 */
export function createFrameParser(monotonic: () => number) {
  return (raw: unknown): { event: string; data: unknown } => {
    const arrival = reading ?? { receivedMono: monotonic(), readLagMs: 0 };
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : raw instanceof ArrayBuffer ? Buffer.from(raw).toString('utf8') : String(raw);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_FRAME_BYTES) return invalid('FRAME_TOO_LARGE', `frame of ${bytes} bytes refused: the limit is ${MAX_FRAME_BYTES} bytes`);
    let parsed: ReturnType<typeof parseGuarded>;
    try {
      parsed = parseGuarded(text);
    } catch {
      return invalid('INVALID_JSON', `frame is not valid JSON: ${JSON.stringify(text.slice(0, 60))}`);
    }
    if (parsed.problem) return invalid(parsed.problem.code, parsed.problem.message);
    const frame = parsed.value;
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return invalid('BAD_REQUEST', 'frame must be a JSON object with a "type"');
    const { type, data, ...rest } = frame as Record<string, unknown>;
    if (typeof type !== 'string') return invalid('BAD_REQUEST', 'frame has no "type" string');
    if (!(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) return invalid('UNKNOWN_MESSAGE_TYPE', `unknown message type ${JSON.stringify(type.slice(0, 60))}; expected one of ${CLIENT_FRAME_TYPES.join(', ')}`);
    const extra = Object.keys(rest);
    if (extra.length) return invalid('BAD_REQUEST', `unexpected field(s) ${extra.slice(0, 5).map((k) => k.slice(0, 40)).join(', ')} beside "type" and "data"`);
    const payload = data === undefined ? {} : data;
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return invalid('BAD_REQUEST', `"data" of ${type} must be an object`);
    const allowed: readonly string[] = CLIENT_FRAME_DATA_KEYS[type as keyof typeof CLIENT_FRAME_DATA_KEYS];
    const unknown = Object.keys(payload).filter((k) => !allowed.includes(k));
    if (unknown.length) {
      const takes = allowed.length ? `it takes ${allowed.join(', ')}` : 'it takes no data';
      return invalid('BAD_REQUEST', `${type}: unexpected field(s) ${unknown.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')} in "data"; ${takes}`);
    }
    arrivals.set(payload, arrival);
    return { event: type, data: payload };
  };
}

function invalid(code: string, message: string) {
  return { event: INVALID_FRAME, data: { code, message } };
}

/** Connections closed for flooding: frames of theirs still buffered are dropped unparsed. */
const shedClients = new WeakSet<object>();

export function shed(client: WebSocket): void {
  shedClients.add(client);
}

/** How often one address's socket errors are logged: the first in a window, the rest counted into the next line. */
const SOCKET_ERROR_WINDOW_MS = 10_000;

/**
 * Nest's WsAdapter with the design's frame parser, plus two things a hostile client must not get: frames of a
 * connection the gateway shed for flooding are dropped before parsing, and a client's protocol error (invalid
 * UTF-8, a frame over maxPayload: ws closes those itself) is one warn line with ws's code, not a stack trace.
 */
export class GuardedWsAdapter extends WsAdapter {
  private readonly socketLogger = new Logger('WebSocket');
  private readonly errorWindows = new Map<string, { since: number; more: number }>();

  constructor(
    app: INestApplicationContext,
    private readonly monotonic: () => number,
    private readonly refuseUpgrade: (request: IncomingMessage) => UpgradeRefusal | null = () => null,
  ) {
    super(app, { messageParser: createFrameParser(monotonic) });
  }

  /** The upgrade is checked before any socket exists: a refused one gets its status and code, and no WebSocket. */
  override create(port: number, options?: Record<string, unknown>): WebSocketServer {
    const verifyClient = (info: { req: IncomingMessage }, done: (ok: boolean, status?: number, message?: string) => void): void => {
      const refusal = this.refuseUpgrade(info.req);
      if (refusal) done(false, refusal.status, `${refusal.code}: ${refusal.message}`);
      else done(true);
    };
    return super.create(port, { ...options, verifyClient });
  }

  override bindMessageHandler(event: { target?: object }, handlersMap: Map<string, MessageMappingProperties>, transform: (data: unknown) => Observable<unknown>): Observable<unknown> {
    if (event.target && shedClients.has(event.target)) return EMPTY;
    return super.bindMessageHandler(event, handlersMap, transform);
  }

  override bindErrorHandler(server: WebSocketServer): WebSocketServer {
    server.on('connection', (client: WebSocket, request: IncomingMessage) => {
      // The raw socket's reads are stamped before ws parses them: a probe answer's arrival is part of its round trip.
      if (typeof request?.socket?.prependListener === 'function') stampReads(request.socket, this.monotonic);
      const address = normalizeAddress(request?.socket?.remoteAddress ?? 'unknown');
      client.on('error', (error: Error & { code?: string }) => this.clientError(address, error));
    });
    server.on('error', (error: Error) => this.socketLogger.error(error));
    return server;
  }

  private clientError(address: string, error: Error & { code?: string }): void {
    const now = this.monotonic();
    const window = this.errorWindows.get(address);
    if (window && now - window.since < SOCKET_ERROR_WINDOW_MS) {
      window.more++;
      return;
    }
    if (this.errorWindows.size > 1000) this.errorWindows.clear();
    const more = window?.more ? ` (${window.more} more from it since the last line)` : '';
    this.errorWindows.set(address, { since: now, more: 0 });
    this.socketLogger.warn(`client ${address}: ${error.code ?? 'WS_ERROR'} ${error.message}; ws closed the connection${more}`);
  }
}
