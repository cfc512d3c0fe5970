/**
 * An in-process CCAPI camera on simulated time, for unit specs: no sockets, no timers, no host clock.
 *
 * `SimulatedTime` moves a ManualClock only when every task is waiting: each sleeper is woken in order of its
 * instant (a discrete-event scheduler), so several cameras talking at once keep exact, repeatable timing.
 * `FakeCamera` answers the CcapiClient calls the camera module makes (strictly: anything else is recorded in
 * `unexpected` and fails), each request taking `oneWayMs` each way on that simulated time. Its clock keeps
 * its own UTC with one-second display over a hidden phase, like a real camera, and is parsed and formatted
 * with the simulator's own code, not the product's.
 */
import { CcapiClient, CcapiEndpointName, CcapiRequestOptions, CcapiResponse, CcapiSession, normaliseCameraUrl } from '../../backend/camera/ccapi-client';
import { Waiter } from '../../backend/camera/waiter';
import { DomainError, ErrorCode } from '../../backend/common/domain-error';
import { ManualClock } from '../../backend/time/clock';
import { formatSimDateTime, parseSimDateTime } from './camera-clock';

export class SimulatedTime {
  private sleepers: Array<{ at: number; seq: number; resolve: () => void }> = [];
  private seq = 0;
  private kicked = false;

  constructor(readonly clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 12, 0, 123))) {}

  /** What the camera module waits with (Waiter's shape). */
  get waiter(): Waiter {
    return { until: (mono: number) => this.until(mono) } as unknown as Waiter;
  }

  until(monotonicMs: number): Promise<void> {
    return new Promise((resolve) => {
      this.sleepers.push({ at: Math.max(monotonicMs, this.clock.monotonic()), seq: this.seq++, resolve });
      this.kick();
    });
  }

  sleep(ms: number): Promise<void> {
    return this.until(this.clock.monotonic() + ms);
  }

  /** Wakes the earliest sleeper once every task has gone to sleep (or finished). */
  private kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    // setImmediate runs after every promise continuation: by then each task is asleep or done.
    setImmediate(() => {
      this.kicked = false;
      this.sleepers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.sleepers.shift();
      if (!next) return;
      if (next.at > this.clock.monotonic()) this.clock.advance(next.at - this.clock.monotonic());
      next.resolve();
      if (this.sleepers.length) this.kick();
    });
  }
}

export interface FakeCameraOptions {
  serialNumber?: string;
  productName?: string;
  guid?: string;
  /** One-way latency of every request, ms. */
  oneWayMs?: number;
  /** Camera minus Pi at start, ms (sub-second phase included). */
  errorMs?: number;
  /** The camera's zone setting and DST flag. */
  zoneMinutes?: number;
  dst?: boolean;
  /** Clock rate error, parts per million (positive: the camera gains). */
  driftPpm?: number;
  /** Each direction of each request takes this long, drawn afresh (overrides `oneWayMs`): jitter. */
  latency?: () => number;
}

export interface FakeFault {
  method?: 'GET' | 'PUT';
  name?: string;
  /** What the client would throw (the camera answered 503, 401, or the connection failed). */
  error: () => DomainError;
  /** Only this many requests; forever if unset. */
  times?: number;
}

export class FakeCamera {
  oneWayMs: number;
  /** When set, each direction of each request takes what this returns, ms (jitter); else `oneWayMs`. */
  latency: (() => number) | null;
  driftPpm: number;
  serialNumber: string;
  productName: string;
  guid: string;
  zoneMinutes: number;
  dst: boolean;
  /** The camera keeps its PUTs' time but ignores the new value (to test the read-back). */
  ignorePut = false;
  /** The Pi's wall clock is stepped by this much while the PUT is handled. */
  stepPiDuringPutMs = 0;
  readonly faults: FakeFault[] = [];
  /** Faults armed once a PUT of the clock has been handled (to fail the read-back, not the reads before). */
  readonly faultsAfterPut: FakeFault[] = [];
  /** Every request handled: method, endpoint and the Pi's wall time at the camera. */
  readonly requests: Array<{ method: string; name: string; atMs: number }> = [];
  /** Every PUT of the clock, with the Pi's wall time at which the camera handled it and the second written (UTC). */
  readonly puts: Array<{ atMs: number; secondUtcMs: number; body: { datetime: string; dst: boolean } }> = [];
  /** Calls a strict fake does not expect. */
  readonly unexpected: string[] = [];
  private utcAtSetMs: number;
  private monoAtSetMs: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly time: SimulatedTime,
    options: FakeCameraOptions = {},
  ) {
    this.oneWayMs = options.oneWayMs ?? 10;
    this.latency = options.latency ?? null;
    this.driftPpm = options.driftPpm ?? 0;
    this.serialNumber = options.serialNumber ?? '083021000123';
    this.productName = options.productName ?? 'Canon EOS R50';
    this.guid = options.guid ?? `00000000-0000-0000-0001-${this.serialNumber.padStart(12, '0').slice(-12)}`;
    this.zoneMinutes = options.zoneMinutes ?? 60;
    this.dst = options.dst ?? false;
    this.utcAtSetMs = time.clock.now() + (options.errorMs ?? 37_250);
    this.monoAtSetMs = time.clock.monotonic();
  }

  /** The camera's UTC now, to the millisecond (its drift included). */
  utcNow(): number {
    return this.utcAtSetMs + (this.time.clock.monotonic() - this.monoAtSetMs) * (1 + this.driftPpm / 1e6);
  }

  /** Camera minus the Pi's wall clock now, ms. */
  errorMs(): number {
    return this.utcNow() - this.time.clock.now();
  }

  setErrorMs(errorMs: number): void {
    this.utcAtSetMs = this.time.clock.now() + errorMs;
    this.monoAtSetMs = this.time.clock.monotonic();
  }

  fail(fault: FakeFault): void {
    this.faults.push(fault);
  }

  /** A CcapiClient for this camera (what CameraSessionFactory would make). */
  client(): CcapiClient {
    const session: CcapiSession = {
      get: <T>(name: CcapiEndpointName) => this.exchange<T>('GET', name),
      put: <T>(name: CcapiEndpointName, options: CcapiRequestOptions) => this.exchange<T>('PUT', name, options),
      post: async () => this.strict('POST'),
      delete: async () => this.strict('DELETE'),
      download: async () => this.strict('download'),
    };
    let baseUrl: string | null = null;
    const client = {
      get baseUrl() {
        return baseUrl;
      },
      use: (url: string) => {
        baseUrl = normaliseCameraUrl(url);
      },
      close: () => undefined,
      loadEndpoints: async () => {
        await this.exchange('GET', 'ccapi' as CcapiEndpointName);
        return new Map();
      },
      endpoint: () => null,
      get: <T>(name: CcapiEndpointName) => this.enqueue(() => session.get<T>(name)),
      put: <T>(name: CcapiEndpointName, options: CcapiRequestOptions) => this.enqueue(() => session.put<T>(name, options)),
      post: async () => this.strict('POST'),
      exclusive: <T>(fn: (s: CcapiSession) => Promise<T>) => this.enqueue(() => fn(session)),
    };
    return client as unknown as CcapiClient;
  }

  private oneWay(): number {
    return Math.max(0, this.latency ? this.latency() : this.oneWayMs);
  }

  private strict(what: string): never {
    this.unexpected.push(what);
    throw new Error(`unexpected ${what}`);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async exchange<T>(method: 'GET' | 'PUT', name: string, options: CcapiRequestOptions = {}): Promise<CcapiResponse<T>> {
    const body = options.body?.();
    const sentAtMs = this.time.clock.now();
    await this.time.sleep(this.oneWay());
    let outcome: { data: unknown } | { error: unknown };
    try {
      outcome = { data: this.handle(method, name, body) };
    } catch (error) {
      outcome = { error };
    }
    await this.time.sleep(this.oneWay());
    if ('error' in outcome) throw outcome.error;
    return { status: 200, data: outcome.data as T, sentAtMs, receivedAtMs: this.time.clock.now() };
  }

  private handle(method: 'GET' | 'PUT', name: string, body: unknown): unknown {
    const atMs = this.time.clock.now();
    this.requests.push({ method, name, atMs });
    const fault = this.faults.find((f) => (!f.method || f.method === method) && (!f.name || f.name === name));
    if (fault) {
      if (fault.times !== undefined && --fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      throw fault.error();
    }
    switch (`${method} ${name}`) {
      case 'GET ccapi':
        return {};
      case 'GET deviceinformation':
        return { manufacturer: 'Canon Inc.', productname: this.productName, guid: this.guid, serialnumber: this.serialNumber, firmwareversion: '1.2.0' };
      case 'GET functions/datetime': {
        const second = Math.floor(this.utcNow() / 1000) * 1000;
        return { datetime: formatSimDateTime(second, this.zoneMinutes, this.dst), dst: this.dst };
      }
      case 'PUT functions/datetime': {
        const parsed = parseSimDateTime(body);
        if (!parsed) throw new DomainError(ErrorCode.CAMERA_REJECTED, 'The camera rejected PUT functions/datetime: Invalid parameter');
        this.puts.push({ atMs, secondUtcMs: parsed.secondUtcMs, body: body as { datetime: string; dst: boolean } });
        if (!this.ignorePut) {
          this.utcAtSetMs = parsed.secondUtcMs;
          this.monoAtSetMs = this.time.clock.monotonic();
          this.zoneMinutes = parsed.stdOffsetMinutes;
          this.dst = parsed.dst;
        }
        if (this.stepPiDuringPutMs) this.time.clock.step(this.time.clock.now() + this.stepPiDuringPutMs);
        this.faults.push(...this.faultsAfterPut.splice(0));
        return {};
      }
      default:
        return this.strict(`${method} ${name}`);
    }
  }
}

/** What the client throws for common camera answers. */
export const cameraErrors = {
  busy: () => new DomainError(ErrorCode.CAMERA_BUSY, 'Camera is busy: Device busy'),
  auth: () => new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, 'The camera refused the user name and password (CAMERA_USER / CAMERA_PASSWORD)'),
  timeout: () => new DomainError(ErrorCode.CAMERA_TIMEOUT, 'The camera did not answer GET deviceinformation within 5 s'),
  refused: () => new DomainError(ErrorCode.CAMERA_UNREACHABLE, 'The camera at 10.0.0.2:8080 refused the connection (is its CCAPI function on?)'),
  garbage: () => new DomainError(ErrorCode.CAMERA_BAD_ANSWER, 'The camera answered with an error (HTTP 502)'),
};
