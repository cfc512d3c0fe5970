import type { AxiosResponse } from 'axios';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { DomainError, ErrorCode } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { Clock } from '../time/clock';
import { CameraHttp } from './camera-http';
import { DigestChallenge, digestAuthorization, parseDigestChallenges } from './digest';

/** Endpoints this product uses, named by their path after `/ccapi/verNNN/`. */
export type CcapiEndpointName = 'functions/datetime' | 'deviceinformation' | 'devicestatus/battery' | 'shooting/control/shutterbutton' | 'event/polling';

export interface CcapiEndpoint {
  url: string;
  get: boolean;
  put: boolean;
  post: boolean;
  delete: boolean;
}

/** An answer of the camera, with when the request left and when its answer was complete (Pi wall clock). */
export interface CcapiResponse<T = unknown> {
  status: number;
  data: T;
  sentAtMs: number;
  receivedAtMs: number;
}

export interface CcapiRequestOptions {
  /** The JSON body, built at the last moment before the request leaves (and again if Digest asks to resend). */
  body?: () => unknown;
  /**
   * false: a 401 with a new Digest challenge (a stale nonce) is not answered by resending at once, which
   * would land one round trip late, but thrown as CAMERA_AUTH_REQUIRED with `details.challengeRenewed`; the
   * challenge is kept, so the caller can plan the moment again and resend. Default true.
   */
  resendAfterChallenge?: boolean;
}

/** Whether `error` is the 401 of a renewed challenge that was not resent (see `resendAfterChallenge`). */
export function isRenewedChallenge(error: unknown): boolean {
  return error instanceof DomainError && error.code === ErrorCode.CAMERA_AUTH_REQUIRED && error.details?.challengeRenewed === true;
}

/** A file of the camera's card, as downloaded. */
export interface CcapiDownload {
  bytes: Buffer;
  /** The Content-Type the camera gave, or null. */
  contentType: string | null;
  sentAtMs: number;
  receivedAtMs: number;
}

export interface CcapiDownloadOptions {
  /** A larger file is refused (CAMERA_BAD_ANSWER with `details.tooLarge`), its download stopped. */
  maxBytes: number;
  /** The whole download, ms (a full-size JPEG over a camera's Wi-Fi takes seconds). */
  timeoutMs: number;
  /** `?kind=`: original (default), or the camera's smaller renderings. */
  kind?: 'original' | 'display' | 'thumbnail';
}

/** Requests of an exclusive session: they go straight to the camera, nothing else runs in between. */
export interface CcapiSession {
  get<T = unknown>(name: CcapiEndpointName): Promise<CcapiResponse<T>>;
  put<T = unknown>(name: CcapiEndpointName, options: CcapiRequestOptions): Promise<CcapiResponse<T>>;
  post<T = unknown>(name: CcapiEndpointName, options: CcapiRequestOptions): Promise<CcapiResponse<T>>;
  delete<T = unknown>(name: CcapiEndpointName): Promise<CcapiResponse<T>>;
  /** GET a content path the camera gave (`/ccapi/verNNN/contents/...`, e.g. from event/polling `addedcontents`). */
  download(contentPath: string, options: CcapiDownloadOptions): Promise<CcapiDownload>;
}

/**
 * A path of the camera's card as CCAPI names it (`/ccapi/ver110/contents/card1/100CANON/IMG_0001.JPG`), checked
 * before it goes into a URL: it comes from the camera, and the request carries the camera's credentials.
 */
export function isContentPath(path: unknown): path is string {
  return typeof path === 'string' && path.length <= 256 && /^\/ccapi\/ver\d{3}\/contents(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]*)+$/.test(path) && !path.split('/').includes('..');
}

/** Answers larger than this are not a camera talking CCAPI. */
export const MAX_ANSWER_BYTES = 64 * 1024;
const CCAPI_VERSIONS_PREFERRED = ['ver100'];

/**
 * HTTP to one Canon camera over CCAPI.
 *
 * - One request at a time (cameras accept 1-3 sockets), over keep-alive agents of its own.
 * - Certificate checks are skipped only on this client's https.Agent: the camera's certificate is
 *   self-signed. Nothing process-wide changes.
 * - Every failure becomes a DomainError with a plain-words message: 503 CAMERA_BUSY, 400 CAMERA_REJECTED,
 *   timeouts CAMERA_TIMEOUT, resets CAMERA_CONNECTION_RESET, refused/unreachable CAMERA_UNREACHABLE,
 *   401 CAMERA_AUTH_REQUIRED, anything that is not JSON (or too big) CAMERA_BAD_ANSWER.
 * - Optional Digest authentication (MD5 / SHA-256, qop=auth), the challenge kept for later requests.
 *
 * One client per camera session (CameraSessionFactory): queue, sockets and Digest state are that camera's. Latency
 * is not kept here: each sync measures it afresh from its own requests (a median over minutes lags a changed link).
 */
export class CcapiClient {
  private root: string | null = null;
  /** The address the client was first pointed at: it never talks to (nor sends credentials to) another. */
  private pinnedHost: string | null = null;
  private endpoints = new Map<string, CcapiEndpoint>();
  private httpAgent = CcapiClient.newHttpAgent();
  private httpsAgent = CcapiClient.newHttpsAgent();
  private queue: Promise<unknown> = Promise.resolve();
  private challenge: { challenge: DigestChallenge; nc: number } | null = null;

  constructor(
    private readonly http: CameraHttp,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  private static newHttpAgent() {
    return new http.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1 });
  }

  private static newHttpsAgent() {
    // The camera's own certificate is self-signed: skip verification for this agent only.
    return new https.Agent({ keepAlive: true, maxSockets: 1, maxFreeSockets: 1, rejectUnauthorized: false });
  }

  /** `http://host:port` (and any path prefix before `/ccapi`), or null before `use()`. */
  get baseUrl(): string | null {
    return this.root;
  }

  /** The host the client is pinned to (see `use`), or null before it. */
  get host(): string | null {
    return this.pinnedHost;
  }

  /**
   * Points the client at a camera: `http://192.168.4.2:8080` or `https://...:443`, with or without `/ccapi`.
   * Forgets the endpoint list, the Digest challenge and open sockets of the previous one. The host is pinned by
   * the first call: another scheme or port of it may follow, another host is refused (BAD_REQUEST), so the
   * credentials of a camera never go elsewhere.
   */
  use(url: string): void {
    const root = normaliseCameraUrl(url);
    if (root === this.root) return;
    const host = new URL(root).hostname;
    if (this.pinnedHost !== null && host !== this.pinnedHost) {
      throw new DomainError(ErrorCode.BAD_REQUEST, `This camera client talks to ${this.pinnedHost} only, not ${host}`, { host });
    }
    this.pinnedHost = host;
    this.root = root;
    this.endpoints.clear();
    this.challenge = null;
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.httpAgent = CcapiClient.newHttpAgent();
    this.httpsAgent = CcapiClient.newHttpsAgent();
  }

  /** Reads `GET /ccapi`, the list of endpoints per API version; paths may be relative or absolute URLs. */
  async loadEndpoints(): Promise<Map<string, CcapiEndpoint>> {
    const root = this.requireRoot();
    const response = await this.enqueue(() => this.send<unknown>('GET', `${root}/ccapi`, 'the endpoint list'));
    const data = response.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, "The camera's endpoint list is not understood (not a JSON object)");
    }
    const versions = Object.keys(data)
      .filter((v) => /^ver\d+$/.test(v) && Array.isArray((data as Record<string, unknown>)[v]))
      .sort((a, b) => rank(a) - rank(b));
    const endpoints = new Map<string, CcapiEndpoint>();
    for (const version of versions) {
      for (const item of (data as Record<string, unknown[]>)[version]) {
        if (typeof item !== 'object' || item === null || typeof (item as { path?: unknown }).path !== 'string') continue;
        const entry = item as { path: string; get?: unknown; put?: unknown; post?: unknown; delete?: unknown };
        let url: URL;
        try {
          url = new URL(entry.path, `${root}/`);
        } catch {
          continue;
        }
        // An absolute path names the camera's own address; keep talking over the connection we chose
        // (the camera may list http:// URLs while we use https://).
        const name = url.pathname.replace(/^.*\/ccapi\/ver\d+\//, '').replace(/\/+$/, '');
        if (!name || endpoints.has(name)) continue;
        endpoints.set(name, { url: `${root}${url.pathname}${url.search}`, get: entry.get === true, put: entry.put === true, post: entry.post === true, delete: entry.delete === true });
      }
    }
    this.endpoints = endpoints;
    return endpoints;
  }

  /** The endpoint as listed by the camera, or null if the list does not have it (or was not read). */
  endpoint(name: CcapiEndpointName): CcapiEndpoint | null {
    return this.endpoints.get(name) ?? null;
  }

  get<T = unknown>(name: CcapiEndpointName): Promise<CcapiResponse<T>> {
    return this.enqueue(() => this.call<T>('GET', name));
  }

  put<T = unknown>(name: CcapiEndpointName, options: CcapiRequestOptions): Promise<CcapiResponse<T>> {
    return this.enqueue(() => this.call<T>('PUT', name, options));
  }

  post<T = unknown>(name: CcapiEndpointName, options: CcapiRequestOptions): Promise<CcapiResponse<T>> {
    return this.enqueue(() => this.call<T>('POST', name, options));
  }

  delete<T = unknown>(name: CcapiEndpointName): Promise<CcapiResponse<T>> {
    return this.enqueue(() => this.call<T>('DELETE', name));
  }

  download(contentPath: string, options: CcapiDownloadOptions): Promise<CcapiDownload> {
    return this.enqueue(() => this.fetchContent(contentPath, options));
  }

  /**
   * Runs `fn` with the camera to itself: queued requests wait until it is done. For sequences whose timing
   * matters (a clock sync) or that must not be interleaved (a shot). Use only the session's methods inside,
   * the client's own would wait forever.
   */
  exclusive<T>(fn: (session: CcapiSession) => Promise<T>): Promise<T> {
    const session: CcapiSession = {
      get: (name) => this.call('GET', name),
      put: (name, options) => this.call('PUT', name, options),
      post: (name, options) => this.call('POST', name, options),
      delete: (name) => this.call('DELETE', name),
      download: (path, options) => this.fetchContent(path, options),
    };
    return this.enqueue(() => fn(session));
  }

  /** Closes the keep-alive sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private requireRoot(): string {
    if (!this.root) throw new DomainError(ErrorCode.NO_CAMERA, 'no camera connected');
    return this.root;
  }

  private call<T>(method: string, name: CcapiEndpointName, options: CcapiRequestOptions = {}): Promise<CcapiResponse<T>> {
    const url = this.endpoint(name)?.url ?? `${this.requireRoot()}/ccapi/ver100/${name}`;
    return this.send<T>(method, url, name, options);
  }

  private async fetchContent(contentPath: string, options: CcapiDownloadOptions): Promise<CcapiDownload> {
    if (!isContentPath(contentPath)) throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera named a file that is not on its card: ${quote(contentPath)}`);
    const url = `${this.requireRoot()}${contentPath}?kind=${options.kind ?? 'original'}`;
    const file = contentPath.split('/').at(-1)!;
    const answer = await this.send<Buffer>('GET', url, file, {}, {}, { maxBytes: options.maxBytes, timeoutMs: options.timeoutMs, raw: true });
    return { bytes: answer.data, contentType: answer.contentType ?? null, sentAtMs: answer.sentAtMs, receivedAtMs: answer.receivedAtMs };
  }

  /**
   * One exchange, with a single resend when Digest asks for credentials (or a fresh nonce). `transfer`: a file
   * (`raw`: the bytes, not JSON), larger and slower than an answer.
   */
  private async send<T>(
    method: string,
    url: string,
    what: string,
    options: CcapiRequestOptions = {},
    retried: { socket?: boolean; auth?: boolean } = {},
    transfer: { maxBytes: number; timeoutMs: number; raw: boolean } = { maxBytes: MAX_ANSWER_BYTES, timeoutMs: this.config.CAMERA_TIMEOUT, raw: false },
  ): Promise<CcapiResponse<T> & { contentType?: string }> {
    const user = this.config.CAMERA_USER;
    const password = this.config.CAMERA_PASSWORD ?? '';
    const headers: Record<string, string> = { Accept: transfer.raw ? '*/*' : 'application/json' };
    const parsedUrl = new URL(url);
    // Every URL is built from the pinned root; this is the last guard before credentials leave.
    if (parsedUrl.hostname !== this.pinnedHost) throw new DomainError(ErrorCode.BAD_REQUEST, `Refusing a camera request to ${parsedUrl.hostname}: this client talks to ${this.pinnedHost} only`);
    if (user && this.challenge) {
      this.challenge.nc += 1;
      headers.Authorization = digestAuthorization({
        challenge: this.challenge.challenge,
        username: user,
        password,
        method,
        uri: `${parsedUrl.pathname}${parsedUrl.search}`,
        nc: this.challenge.nc,
      });
    }
    let raw: { status: number; headers: Record<string, unknown>; bytes: Buffer; sentAtMs: number; receivedAtMs: number };
    try {
      raw = await this.exchange(method, url, headers, options.body, transfer);
    } catch (error) {
      // A keep-alive socket the camera had already closed: safe to send a GET again, once, on a new socket.
      if (method === 'GET' && !retried.socket && isStaleSocketReset(error)) return this.send<T>(method, url, what, options, { ...retried, socket: true }, transfer);
      throw this.transportError(error, method, url, what, transfer.timeoutMs);
    }

    if (raw.status === 401) {
      const challenges = parseDigestChallenges(raw.headers['www-authenticate'] as string | string[] | undefined);
      if (!user) {
        throw new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, 'The camera asks for a user name and password: set CAMERA_USER and CAMERA_PASSWORD', { status: 401 });
      }
      // Answer a new challenge once: the first one, or one replacing a nonce the camera no longer takes.
      if (challenges.length && !retried.auth) {
        this.challenge = { challenge: challenges[0], nc: 0 };
        if (options.resendAfterChallenge === false) {
          throw new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, `The camera asked for authentication again on ${method} ${what}; not resent at once`, { status: 401, challengeRenewed: true });
        }
        return this.send<T>(method, url, what, options, { ...retried, auth: true }, transfer);
      }
      this.challenge = null;
      throw new DomainError(
        ErrorCode.CAMERA_AUTH_REQUIRED,
        challenges.length || headers.Authorization ? 'The camera refused the user name and password (CAMERA_USER / CAMERA_PASSWORD)' : 'The camera asks for an authentication this product does not speak',
        { status: 401 },
      );
    }

    if (transfer.raw && raw.status >= 200 && raw.status < 300) {
      const type = raw.headers['content-type'];
      return { status: raw.status, data: raw.bytes as T, sentAtMs: raw.sentAtMs, receivedAtMs: raw.receivedAtMs, contentType: typeof type === 'string' ? type : undefined };
    }
    const text = raw.bytes.toString('utf8');
    const parsed = parseJson(text);
    // Only CCAPI's own short `message` ("Device busy") is repeated; any other body is not: whatever answers at a
    // camera's address must not get its text into the status, the log or the API.
    const said = parsed.ok ? cameraMessageOf(parsed.value) : null;
    const details = { status: raw.status, endpoint: what, method, cameraMessage: said ?? undefined };
    if (raw.status >= 200 && raw.status < 300) {
      if (!parsed.ok) {
        throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera's answer to ${method} ${what} is not JSON (${text.length} bytes)`, details);
      }
      return { status: raw.status, data: parsed.value as T, sentAtMs: raw.sentAtMs, receivedAtMs: raw.receivedAtMs };
    }
    if (raw.status === 503) {
      throw new DomainError(ErrorCode.CAMERA_BUSY, said ? `Camera is busy: ${said}` : 'Camera is busy', details);
    }
    if (raw.status >= 400 && raw.status < 500) {
      const why = raw.status === 400 ? said ?? 'Invalid parameter' : `HTTP ${raw.status}${said ? `, ${said}` : ''}`;
      throw new DomainError(ErrorCode.CAMERA_REJECTED, `The camera rejected ${method} ${what}: ${why}`, details);
    }
    const redirect = raw.status >= 300 && raw.status < 400 ? ', a redirect, not followed' : '';
    throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera answered ${method} ${what} with an error (HTTP ${raw.status}${redirect}${said ? `, ${said}` : ''})`, details);
  }

  private async exchange(method: string, url: string, headers: Record<string, string>, body: (() => unknown) | undefined, transfer: { maxBytes: number; timeoutMs: number }) {
    const { timeoutMs, maxBytes } = transfer;
    const controller = new AbortController();
    let timedOut = false;
    let stream: Readable | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
      stream?.destroy(new TimeoutError());
    }, timeoutMs);
    try {
      const data = body ? JSON.stringify(body()) : undefined;
      if (data !== undefined) headers['Content-Type'] = 'application/json';
      const sentAtMs = this.clock.now();
      const response: AxiosResponse<Readable> = await (await this.http.get()).axiosRef.request({
        method,
        url,
        data,
        headers,
        responseType: 'stream',
        decompress: true,
        validateStatus: () => true,
        maxRedirects: 0,
        maxContentLength: maxBytes,
        proxy: false,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        signal: controller.signal,
        transformRequest: [(d: unknown) => d],
      });
      stream = response.data;
      if (timedOut) stream.destroy(new TimeoutError());
      const bytes = await readCapped(stream, maxBytes, method, url);
      const receivedAtMs = this.clock.now();
      return { status: response.status, headers: response.headers as Record<string, unknown>, bytes, sentAtMs, receivedAtMs };
    } catch (error) {
      if (timedOut) throw new TimeoutError();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  private transportError(error: unknown, method: string, url: string, what: string, timeoutMs: number): DomainError {
    if (error instanceof DomainError) return error;
    const host = safeHost(url);
    const details = { endpoint: what, method, host };
    if (error instanceof TimeoutError) {
      return new DomainError(ErrorCode.CAMERA_TIMEOUT, `The camera did not answer ${method} ${what} within ${formatSeconds(timeoutMs)}`, details);
    }
    const code = errorCode(error);
    switch (code) {
      case 'ECONNRESET':
      case 'EPIPE':
        return new DomainError(ErrorCode.CAMERA_CONNECTION_RESET, `The camera closed the connection during ${method} ${what}`, { ...details, cause: code });
      case 'ECONNREFUSED':
        return new DomainError(ErrorCode.CAMERA_UNREACHABLE, `The camera at ${host} refused the connection (is its CCAPI function on?)`, { ...details, cause: code });
      case 'ETIMEDOUT':
        return new DomainError(ErrorCode.CAMERA_TIMEOUT, `The camera at ${host} did not answer (${method} ${what})`, { ...details, cause: code });
      default:
        return new DomainError(ErrorCode.CAMERA_UNREACHABLE, `The camera at ${host} cannot be reached${code ? ` (${code})` : ''}`, { ...details, cause: code ?? undefined });
    }
  }
}

class TimeoutError extends Error {
  constructor() {
    super('camera request timed out');
  }
}

/** `http://h:p/x/ccapi/` -> `http://h:p/x`. Throws DomainError for anything that is not an http(s) URL. */
export function normaliseCameraUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new DomainError(ErrorCode.BAD_REQUEST, `${quote(url)} is not a camera URL (e.g. http://192.168.4.2:8080)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DomainError(ErrorCode.BAD_REQUEST, `${quote(url)} is not an http:// or https:// camera URL`);
  }
  const path = parsed.pathname.replace(/\/+$/, '').replace(/\/ccapi$/, '');
  return `${parsed.protocol}//${parsed.host}${path}`;
}

function rank(version: string): number {
  const preferred = CCAPI_VERSIONS_PREFERRED.indexOf(version);
  return preferred >= 0 ? preferred - 1000 : -Number(version.slice(3)); // ver100 first, then the newest
}

async function readCapped(stream: Readable, max: number, method: string, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const tooBig = () => {
    stream.destroy();
    const limit = max >= 1_048_576 ? `${Math.round(max / 1_048_576)} MiB` : `${max / 1024} KiB`;
    return new DomainError(ErrorCode.CAMERA_BAD_ANSWER, `The camera's answer to ${method} ${new URL(url).pathname} is larger than ${limit}`, { tooLarge: true, maxBytes: max });
  };
  try {
    for await (const chunk of stream) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buffer.length;
      chunks.push(buffer);
      if (size > max) throw tooBig();
    }
  } catch (error) {
    // axios enforces maxContentLength on the stream itself; what came before is the start to quote.
    if ((error as { code?: string }).code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test((error as Error).message)) throw tooBig();
    throw error;
  }
  return Buffer.concat(chunks);
}

/** CCAPI's `message` of an answer, when it is the short plain text a camera sends; else null. */
export function cameraMessageOf(value: unknown): string | null {
  const message = typeof value === 'object' && value !== null ? (value as { message?: unknown }).message : undefined;
  return typeof message === 'string' && /^[A-Za-z0-9][A-Za-z0-9 .,'()/_-]{0,63}$/.test(message) ? message : null;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (!text.trim()) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function errorCode(error: unknown): string | null {
  const e = error as { code?: unknown; cause?: { code?: unknown }; errors?: Array<{ code?: unknown }> } | null;
  if (!e) return null;
  for (const candidate of [e.cause?.code, ...(e.errors ?? []).map((x) => x?.code), e.code]) {
    if (typeof candidate === 'string' && /^E[A-Z]+$/.test(candidate)) return candidate;
  }
  return null;
}

function isStaleSocketReset(error: unknown): boolean {
  const e = error as { request?: { reusedSocket?: boolean } } | null;
  return errorCode(error) === 'ECONNRESET' && e?.request?.reusedSocket === true;
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/** The start of a camera answer, printable, for a message. */
export function quote(text: string, max = 80): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}
