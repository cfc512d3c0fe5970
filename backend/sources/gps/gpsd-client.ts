import * as net from 'node:net';
import { GpsdMessage, GpsdVersion, LineSplitter, MAX_LINE_CHARS, parseGpsdLine, WATCH_COMMAND } from './gpsd-protocol';

export interface GpsdClientOptions {
  /** The monotonic clock every received chunk is stamped with (ms). */
  monotonic: () => number;
  /** First delay before trying again after a failure or a close, ms; doubles up to `maxRetryMs`. */
  firstRetryMs: number;
  maxRetryMs: number;
  /** A connection that says no VERSION within this long is not gpsd: closed and tried again later. */
  helloTimeoutMs: number;
  maxLineChars: number;
}

export const DEFAULT_GPSD_CLIENT_OPTIONS: GpsdClientOptions = {
  monotonic: () => performance.now(),
  firstRetryMs: 1000,
  maxRetryMs: 30_000,
  helloTimeoutMs: 5000,
  maxLineChars: MAX_LINE_CHARS,
};

export interface GpsdClientEvents {
  /** gpsd answered (its VERSION line) and has been sent the WATCH. */
  connected(version: GpsdVersion): void;
  /** A report, stamped with the monotonic time at which the chunk holding it was read from the socket. */
  message(message: GpsdMessage, receivedAtMono: number): void;
  /** A connection that had said VERSION closed. Reconnection is under way, quietly. */
  gone(reason: string): void;
  /** An attempt failed (refused, unreachable, not gpsd). Called on every attempt; the caller decides what to say. */
  unreachable(reason: string): void;
}

/**
 * A client of gpsd's JSON protocol over TCP: connects, sends the WATCH, turns lines into typed messages, and
 * reconnects after any failure with a capped backoff (1 s doubling to 30 s by default; back to 1 s once gpsd has
 * answered). It says nothing itself: the events carry everything, so the source decides what is worth a log line.
 */
export class GpsdClient {
  private readonly options: GpsdClientOptions;
  private socket: net.Socket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private helloTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private hello = false;
  private running = false;
  private readonly lines: LineSplitter;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly events: GpsdClientEvents,
    options: Partial<GpsdClientOptions> = {},
  ) {
    this.options = { ...DEFAULT_GPSD_CLIENT_OPTIONS, ...options };
    this.retryMs = this.options.firstRetryMs;
    this.lines = new LineSplitter(this.options.maxLineChars);
  }

  /** `host:port` as people write it. */
  get address(): string {
    return net.isIPv6(this.host) ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`;
  }

  /** Whether gpsd is answering now. */
  get isConnected(): boolean {
    return this.hello;
  }

  /** Lines dropped for their length since start (a misbehaving peer). */
  get droppedLines(): number {
    return this.lines.dropped;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    this.hello = false;
    socket?.removeAllListeners();
    socket?.on('error', () => undefined);
    socket?.destroy();
  }

  private connect(): void {
    if (!this.running) return;
    this.lines.reset();
    this.hello = false;
    const socket = net.createConnection({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    let failure: string | null = null;
    socket.on('connect', () => {
      this.helloTimer = setTimeout(() => {
        failure = `no VERSION from ${this.address} within ${this.options.helloTimeoutMs} ms: not gpsd?`;
        socket.destroy();
      }, this.options.helloTimeoutMs);
      this.helloTimer.unref();
    });
    socket.on('data', (chunk: string) => {
      const at = this.options.monotonic();
      for (const line of this.lines.push(chunk)) {
        if (this.socket !== socket) return;
        const message = parseGpsdLine(line);
        if (!message) continue;
        if (message.class === 'VERSION' && !this.hello) {
          this.hello = true;
          this.retryMs = this.options.firstRetryMs;
          if (this.helloTimer) clearTimeout(this.helloTimer);
          this.helloTimer = null;
          socket.write(WATCH_COMMAND);
          this.events.connected(message);
          continue;
        }
        if (this.hello) this.events.message(message, at);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      failure ??= error.code === 'ECONNREFUSED' ? `nothing listens at ${this.address}` : `${this.address}: ${error.code ?? error.message}`;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.helloTimer) clearTimeout(this.helloTimer);
      this.helloTimer = null;
      const wasUp = this.hello;
      this.hello = false;
      if (!this.running) return;
      if (wasUp) this.events.gone(failure ?? `gpsd at ${this.address} closed the connection`);
      else this.events.unreachable(failure ?? `gpsd at ${this.address} closed the connection before it said VERSION`);
      this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.maxRetryMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.retryTimer = this.helloTimer = null;
  }
}
