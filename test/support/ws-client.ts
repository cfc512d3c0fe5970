import WebSocket from 'ws';

type Frame = { type: string; [key: string]: any };

export interface ClientOptions {
  /** This client's clock minus the host's, ms. Can be changed while connected. */
  offsetMs: number;
  /** Answer probes (a hidden page does not). */
  answer: boolean;
  timezone?: string;
  /** Echo serverTime rounded to an integer. */
  integerEcho?: boolean;
  /** After this many answers, the client's clock jumps by `byMs` (someone set it during the burst). */
  jumpAfter?: { answers: number; byMs: number };
}

/**
 * A real `ws` client that behaves like the page: it answers every time-sync-request at once with its own
 * clock (the host's plus `offsetMs`) and records every frame it receives.
 */
export class TestClient {
  readonly frames: Frame[] = [];
  /** Each probe as received: the server's time in it and this client's clock at arrival (the naive offset is their difference). */
  readonly probes: { serverTime: number; clientTime: number }[] = [];
  private waiters: Array<{ pred: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  answered = 0;

  private constructor(
    readonly socket: WebSocket,
    readonly options: ClientOptions,
  ) {
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      if (frame.type === 'time-sync-request') this.probes.push({ serverTime: frame.serverTime, clientTime: Date.now() + this.options.offsetMs });
      if (frame.type === 'time-sync-request' && this.options.answer) {
        const jump = this.options.jumpAfter && this.answered >= this.options.jumpAfter.answers ? this.options.jumpAfter.byMs : 0;
        // A client that keeps "a timestamp in ms" as an integer, as the design's examples do.
        const serverTime = this.options.integerEcho ? Math.round(frame.serverTime) : frame.serverTime;
        this.socket.send(
          JSON.stringify({
            type: 'time-sync-response',
            data: { clientTime: Date.now() + this.options.offsetMs + jump, serverTime, requestId: frame.requestId, ...(this.options.timezone ? { timezone: this.options.timezone } : {}) },
          }),
        );
        this.answered++;
      }
      this.frames.push(frame);
      this.waiters = this.waiters.filter((w) => (w.pred(frame) ? (w.resolve(frame), false) : true));
    });
  }

  static connect(url: string, options: Partial<ClientOptions> & { localAddress?: string } = {}): Promise<TestClient> {
    const socket = new WebSocket(url, { localAddress: options.localAddress });
    const client = new TestClient(socket, { offsetMs: 0, answer: true, ...options });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
    });
  }

  /** Resolves with the first frame (already received or future) matching `pred`. */
  waitFor(pred: (f: Frame) => boolean, timeoutMs = 5000, fromIndex = 0): Promise<Frame> {
    const seen = this.frames.slice(fromIndex).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching frame within ${timeoutMs} ms; got ${this.frames.map((f) => f.type + (f.eventType ? ':' + f.eventType : '')).join(', ')}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
    });
  }

  /** Waits for the next frame matching `pred` that arrives after this call. */
  next(pred: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return this.waitFor(pred, timeoutMs, this.frames.length);
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Sends a frame and waits for the error frame it causes. */
  async expectError(frame: unknown): Promise<{ code: string; message: string }> {
    const pending = this.next((f) => f.type === 'error');
    this.send(frame);
    return (await pending).data;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}

export const isEvent = (eventType: string) => (f: Frame) => f.type === 'event' && f.eventType === eventType;

/** The clients a test opened, so `afterEach` can close them all. */
export class ClientPool {
  private readonly clients: TestClient[] = [];

  async connect(url: string, options: Parameters<typeof TestClient.connect>[1] = {}): Promise<TestClient> {
    const client = await TestClient.connect(url, options);
    this.clients.push(client);
    return client;
  }

  closeAll(): Promise<void> {
    return Promise.all(this.clients.splice(0).map((c) => c.close())).then(() => undefined);
  }
}
