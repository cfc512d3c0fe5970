import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';
import { CameraClock, parseSimDateTime } from './camera-clock';
import { SimAuth, SimDigest } from './sim-digest';
import { shotJpeg, SlateSource, slateTextAt } from './sim-photo';
import { CANON_ST, deviceDescriptionXml, SsdpResponder } from './sim-ssdp';

/**
 * A Canon camera speaking CCAPI, on real sockets, for integration tests, the benchmark and the demo camera
 * of `npm start` with the simulated clock (see backend/dev/demo-camera.ts): built with the backend for that.
 *
 * Endpoints: GET /ccapi (list, some paths absolute), GET/PUT functions/datetime (wall time + standard
 * offset + dst, UTC kept inside, one-second resolution over a hidden phase), GET deviceinformation,
 * GET devicestatus/battery, POST shooting/control/shutterbutton (busy 503 for a while afterwards), GET/DELETE
 * event/polling (ver100 and ver110: the events since the last poll, at once; ver110 `?timeout=short|long`
 * waits up to `longPollMs` for one), GET contents/... `?kind=original` of the shots it took.
 * Plus an SSDP responder and the UPnP description, Digest authentication, request latency and faults.
 *
 * A shutter press takes a picture `shutterLagMs` later (the shutter opens then, for `exposureSeconds`) of what
 * the camera is pointed at (`slate`, see sim-photo.ts: a Pi's time slate at that instant, or nothing readable),
 * stamped by its own clock; `writeMs` after the shutter closes the file is on the card and in `addedcontents`
 * (`recording`: IMG_nnnn.JPG, IMG_nnnn.CR3 and .JPG, or .CR3 alone).
 */

export type SimFault =
  /** Answer with this status and `{"message": message}` (or a raw body). */
  | { kind: 'status'; status: number; message?: string; body?: string }
  /** Answer normally, `ms` later. */
  | { kind: 'delay'; ms: number }
  /** Reach the camera `ms` late (handled later, as after a Wi-Fi retry on the way in), then answer normally. */
  | { kind: 'late'; ms: number }
  /** Reset the TCP connection (RST) instead of answering. */
  | { kind: 'reset' }
  /** Never answer. */
  | { kind: 'hang' }
  /** 200 with a body that is not JSON. */
  | { kind: 'garbage'; body?: string }
  /** 200 with a JSON-looking body of `bytes` bytes. */
  | { kind: 'huge'; bytes?: number }
  /** Forget every Digest nonce handed out before answering (so this request gets 401 stale=true). */
  | { kind: 'stale-nonce' };

export interface SimFaultScope {
  /** Only requests whose path contains this. */
  path?: string;
  method?: string;
  /** Only this many requests, then the fault clears itself. */
  times?: number;
}

export const BUSY_MESSAGES = ['Device busy', 'Taken in preparation', 'During shooting or recording', 'Mode not supported', 'Out of focus', 'Can not write to card'] as const;

export interface CameraSimOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  httpPort?: number;
  /** HTTPS with a self-signed certificate; false for none. Default 0 (a free port). */
  httpsPort?: number | false;
  /** SSDP responder on host:port (unicast; tests use loopback). false (default) for none. */
  ssdpPort?: number | false;
  /** Port of the UPnP description server (real cameras: 49152). Default 0. */
  descriptionPort?: number;
  /** What X_accessURL advertises: the http or https endpoint. Default http. */
  advertise?: 'http' | 'https';
  /** Camera clock minus host clock at start, ms. Default 0. */
  clockOffsetMs?: number;
  /** The camera's zone setting at start. */
  stdOffsetMinutes?: number;
  dst?: boolean;
  /** Clock rate error, parts per million. */
  driftPpm?: number;
  /** Round-trip latency added to every request (half before it is handled, half after), ms or a function. */
  latencyMs?: number | (() => number);
  auth?: SimAuth | null;
  /** How long the camera stays busy (503 "Device busy") after a shutter press, ms. Default 1500. */
  busyAfterShutterMs?: number;
  /** HTTP keep-alive timeout of the camera's server, ms. Default 10 s. */
  keepAliveTimeoutMs?: number;
  productName?: string;
  serialNumber?: string;
  /** What the camera is pointed at when its shutter is pressed (sim-photo.ts `slateOfApp`); null or absent: nothing readable. */
  slate?: SlateSource | null;
  /** From the shutter press (its request handled) to the opening of the shutter, ms. Default 80. */
  shutterLagMs?: number;
  /** Exposure time, s (written as ExposureTime). Default 1/250. */
  exposureSeconds?: number;
  /** From the shutter closing to the file on the card and in `addedcontents`, ms. Default 400. */
  writeMs?: number;
  /** The files of one shot. Default jpeg. */
  recording?: SimRecording;
  /** How long `event/polling?timeout=short|long` (ver110) waits for an event, ms. Default 2000. */
  longPollMs?: number;
}

/** What one shot records: a JPEG, a RAW (CR3) and a JPEG, or a RAW alone. */
export type SimRecording = 'jpeg' | 'raw+jpeg' | 'raw';

/** One shot the simulated camera took: when its shutter opened (host ms), what it saw, and its files' content paths (after `/contents/<card>/`). */
export interface SimShot {
  pressedAtMs: number;
  openedAtMs: number;
  /** The slate code in the picture; null: nothing readable. */
  code: string | null;
  /** The camera's clock minus the host's when the shutter opened, ms. */
  clockErrorMs: number;
  files: string[];
}

export interface SimRequest {
  method: string;
  path: string;
  /** Host time at which the request was handled, ms. */
  handledAtMs: number;
  body?: unknown;
  status: number;
}

export interface CameraSim {
  httpUrl: string;
  httpsUrl: string | null;
  descriptionUrl: string;
  ssdp: { address: string; port: number; responder: SsdpResponder } | null;
  usn: string;
  clock: CameraClock;
  requests: SimRequest[];
  /** Requests being handled at once (now / at most), and TCP/TLS connections accepted, to check the client's manners. */
  stats: { inFlight: number; maxInFlight: number; connections: number };
  setFault(fault: SimFault | null, scope?: SimFaultScope): void;
  setLatency(latency: number | (() => number) | null): void;
  setAuth(auth: SimAuth | null): void;
  /** Makes every Digest nonce handed out so far stale. */
  expireNonces(): void;
  /** The camera is busy (503 with `message`) for `ms`. */
  setBusy(ms: number, message?: string): void;
  /** The shots taken, oldest first. */
  shots: SimShot[];
  /** Points the camera at a slate, or at nothing readable (null). */
  setSlate(slate: SlateSource | null): void;
  setRecording(recording: SimRecording): void;
  setShutterLag(ms: number): void;
  /** Shots whose files have not reached the card yet: resolves when they have (so a test can close cleanly). */
  settled(): Promise<void>;
  /** Sends NOTIFY ssdp:alive / ssdp:byebye to a unicast target. */
  notify(kind: 'alive' | 'byebye', target: { address: string; port: number }): Promise<void>;
  close(): Promise<void>;
}

let certificate: Promise<{ key: string; cert: string }> | null = null;
/** One self-signed certificate per process: RSA key generation is slow. */
function selfSignedCertificate() {
  certificate ??= generate([{ name: 'commonName', value: 'canon-camera.local' }], { keySize: 2048, algorithm: 'sha256', days: 3650 } as never).then((pems) => ({
    key: pems.private,
    cert: pems.cert,
  }));
  return certificate;
}

export async function startCameraSim(options: CameraSimOptions = {}): Promise<CameraSim> {
  const host = options.host ?? '127.0.0.1';
  const clock = new CameraClock(options.clockOffsetMs ?? 0, options.stdOffsetMinutes ?? 0, options.dst ?? false, options.driftPpm ?? 0);
  const requests: SimRequest[] = [];
  const serial = options.serialNumber ?? '083021000123';
  const productName = options.productName ?? 'Canon EOS R50';
  const usn = `uuid:00000000-0000-0000-0001-${serial.padStart(12, '0').slice(-12)}`;
  let latency: number | (() => number) | null = options.latencyMs ?? null;
  let digest = options.auth ? new SimDigest(options.auth) : null;
  let fault: { fault: SimFault; scope: SimFaultScope } | null = null;
  let busy: { untilMs: number; message: string } | null = null;
  const hanging = new Set<http.ServerResponse>();
  const stats = { inFlight: 0, maxInFlight: 0, connections: 0 };

  let slate: SlateSource | null = options.slate ?? null;
  let recording: SimRecording = options.recording ?? 'jpeg';
  let shutterLagMs = options.shutterLagMs ?? 80;
  const exposureSeconds = options.exposureSeconds ?? 1 / 250;
  const writeMs = options.writeMs ?? 400;
  const longPollMs = options.longPollMs ?? 2000;
  const shots: SimShot[] = [];
  /** The card: `100CANON/IMG_0001.JPG` -> its bytes. */
  const card = new Map<string, { bytes: Buffer; type: string }>();
  let fileNumber = 0;
  /** Files added since the last event poll, and whether a poll has been answered yet (the first one says the state too). */
  let added: string[] = [];
  let polled = false;
  const eventWaiters = new Set<() => void>();
  const shooting = new Set<Promise<void>>();
  let closed = false;

  const sleep = (ms: number) => new Promise<void>((resolve) => (ms > 0 ? setTimeout(resolve, ms) : resolve()));
  const hostNow = () => performance.timeOrigin + performance.now();

  /** One shot: the shutter opens `shutterLagMs` after the press, the picture is what the camera is pointed at then. */
  async function shoot(pressedAtMs: number): Promise<void> {
    await sleep(shutterLagMs - (Date.now() - pressedAtMs));
    if (closed) return;
    const openedAtMs = hostNow();
    const view = slate ? await slate().catch(() => null) : null;
    const code = view ? slateTextAt(view, openedAtMs) : null;
    const n = ++fileNumber;
    const name = `100CANON/IMG_${String(n % 10_000).padStart(4, '0')}`;
    const jpeg = recording === 'raw' ? null : shotJpeg(code, clock, openedAtMs, { make: 'Canon', model: productName, serial, exposureSeconds });
    await sleep(openedAtMs + exposureSeconds * 1000 + writeMs - hostNow());
    if (closed) return;
    const files: string[] = [];
    if (recording !== 'jpeg') {
      card.set(`${name}.CR3`, { bytes: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypcrx \0\0\0\x01crx isom'), Buffer.alloc(4096)]), type: 'image/x-canon-cr3' });
      files.push(`${name}.CR3`);
    }
    if (jpeg) {
      card.set(`${name}.JPG`, { bytes: jpeg, type: 'image/jpeg' });
      files.push(`${name}.JPG`);
    }
    shots.push({ pressedAtMs, openedAtMs, code, clockErrorMs: clock.nowUtcMs(openedAtMs) - openedAtMs, files });
    added.push(...files);
    for (const wake of eventWaiters) wake();
  }

  /** GET event/polling: what happened since the last poll (the first poll also says the state, as real cameras do). */
  async function events(version: string, timeout: string | null): Promise<Record<string, unknown>> {
    if (!added.length && version !== 'ver100' && (timeout === 'short' || timeout === 'long')) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          eventWaiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, longPollMs);
        eventWaiters.add(wake);
      });
    }
    const card = version === 'ver100' ? 'sd' : 'card1';
    const answer: Record<string, unknown> = polled ? {} : { battery: { name: 'LP-E17', kind: 'battery', level: 'full', quality: 'good' }, recordable: { value: 'on' } };
    polled = true;
    if (added.length) answer.addedcontents = added.map((f) => `/ccapi/${version}/contents/${card}/${f}`);
    added = [];
    return answer;
  }
  const latencyNow = () => Math.max(0, typeof latency === 'function' ? latency() : latency ?? 0);

  function takeFault(method: string, path: string): SimFault | null {
    if (!fault) return null;
    const { scope } = fault;
    if (scope.path && !path.includes(scope.path)) return null;
    if (scope.method && scope.method.toUpperCase() !== method) return null;
    const taken = fault.fault;
    if (scope.times !== undefined && --scope.times <= 0) fault = null;
    return taken;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, proto: 'http' | 'https'): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0];
    const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const lat = latencyNow();
    const injected = takeFault(method, path);
    await sleep(lat / 2 + (injected?.kind === 'late' ? injected.ms : 0));
    const handledAtMs = Date.now();
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = rawBody;
    }
    const record: SimRequest = { method, path, handledAtMs, body, status: 0 };
    requests.push(record);

    const reply = async (status: number, payload: unknown, headers: Record<string, string | string[]> = {}) => {
      record.status = status;
      await sleep(lat / 2);
      const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };
    const replyBytes = async (bytes: Buffer, type: string) => {
      record.status = 200;
      await sleep(lat / 2);
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': bytes.length });
      res.end(bytes);
    };

    if (injected) {
      switch (injected.kind) {
        case 'status':
          return reply(injected.status, injected.body ?? (injected.message !== undefined ? { message: injected.message } : ''));
        case 'delay':
          await sleep(injected.ms);
          break;
        case 'reset':
          record.status = -1;
          (req.socket as Socket).resetAndDestroy();
          return;
        case 'hang':
          record.status = -1;
          hanging.add(res);
          return;
        case 'garbage':
          return reply(200, injected.body ?? '<html><body>Internal error 0x2F</body></html>', { 'Content-Type': 'text/html' });
        case 'huge':
          return reply(200, `{"datetime":"${'x'.repeat(injected.bytes ?? 1024 * 1024)}"}`);
        case 'stale-nonce':
          digest?.expireNonces();
          break;
        case 'late':
          break;
      }
    }

    if (digest) {
      const verdict = digest.check(req.headers.authorization, method, req.url ?? path);
      if (verdict !== 'ok') return reply(401, { message: 'Unauthorized' }, { 'WWW-Authenticate': digest.challenges(verdict === 'stale') });
    }

    const base = `${proto}://${req.headers.host ?? host}`;
    if (path === '/ccapi' || path === '/ccapi/') {
      if (method !== 'GET') return reply(405, { message: 'Method not allowed' });
      return reply(200, endpointList(base));
    }
    const isBusy = busy && busy.untilMs > Date.now();
    switch (`${method} ${path}`) {
      case 'GET /ccapi/ver100/deviceinformation':
        return reply(200, { manufacturer: 'Canon Inc.', productname: productName, guid: usn.slice(5), serialnumber: serial, firmwareversion: '1.2.0', macaddress: '00:bb:c1:85:9f:ab' });
      case 'GET /ccapi/ver100/devicestatus/battery':
        return reply(200, { name: 'LP-E17', kind: 'battery', level: 'full', quality: 'good' });
      case 'GET /ccapi/ver100/functions/datetime':
        if (isBusy) return reply(503, { message: busy!.message });
        return reply(200, clock.read(handledAtMs));
      case 'PUT /ccapi/ver100/functions/datetime': {
        if (isBusy) return reply(503, { message: busy!.message });
        const parsed = parseSimDateTime(body);
        if (!parsed) return reply(400, { message: 'Invalid parameter' });
        clock.set(parsed.secondUtcMs, handledAtMs, parsed.stdOffsetMinutes, parsed.dst);
        return reply(200, {});
      }
      case 'POST /ccapi/ver100/shooting/control/shutterbutton':
        if (isBusy) return reply(503, { message: busy!.message });
        if (typeof body !== 'object' || body === null || typeof (body as { af?: unknown }).af !== 'boolean') return reply(400, { message: 'Invalid parameter' });
        // Busy for the exposure and the write at least.
        busy = { untilMs: Date.now() + Math.max(options.busyAfterShutterMs ?? 1500, shutterLagMs + exposureSeconds * 1000 + writeMs), message: 'Device busy' };
        track(shoot(handledAtMs));
        return reply(200, {});
    }
    const polling = /^\/ccapi\/(ver1\d\d)\/event\/polling$/.exec(path);
    if (polling && method === 'GET') return reply(200, await events(polling[1], query.get('timeout')));
    if (polling && method === 'DELETE') return reply(200, {});
    const content = /^\/ccapi\/(ver1\d\d)\/contents\/(?:sd|card1)\/(100CANON\/IMG_\d{4}\.(?:JPG|CR3))$/.exec(path);
    if (content && method === 'GET') {
      const kind = query.get('kind') ?? 'original';
      if (!['original', 'thumbnail', 'display', 'embedded'].includes(kind)) return reply(400, { message: 'Invalid parameter' });
      const file = card.get(content[2]);
      if (!file) return reply(404, { message: 'Not found' });
      return replyBytes(file.bytes, file.type);
    }
    return reply(404, { message: 'Not found' });
  }

  function track(shot: Promise<void>): void {
    shooting.add(shot);
    void shot.catch(() => undefined).finally(() => shooting.delete(shot));
  }

  function endpointList(base: string) {
    // Real cameras list absolute or relative paths: give both, and a newer version the client should not prefer.
    const e = (path: string, get: boolean, put: boolean, post = false) => ({ path, get, put, post, delete: false });
    return {
      ver100: [
        e(`${base}/ccapi/ver100/deviceinformation`, true, false),
        e(`${base}/ccapi/ver100/functions/datetime`, true, true),
        e('/ccapi/ver100/devicestatus/battery', true, false),
        e('/ccapi/ver100/shooting/control/shutterbutton', false, false, true),
        { ...e('/ccapi/ver100/event/polling', true, false), delete: true },
        e('/ccapi/ver100/contents', true, false),
      ],
      ver110: [
        e('/ccapi/ver110/devicestatus/storage', true, false),
        e('/ccapi/ver110/functions/datetime', true, true),
        { ...e('/ccapi/ver110/event/polling', true, false), delete: true },
        e('/ccapi/ver110/contents', true, false),
      ],
    };
  }

  const listen = (server: http.Server | https.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
    });
  const onRequest = (proto: 'http' | 'https') => (req: http.IncomingMessage, res: http.ServerResponse) => {
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let done = false;
    const finish = () => {
      if (!done) stats.inFlight -= 1;
      done = true;
    };
    res.on('close', finish);
    handle(req, res, proto).catch(() => res.destroy());
  };

  const keepAliveTimeout = options.keepAliveTimeoutMs ?? 10_000;
  const httpServer = http.createServer(onRequest('http'));
  httpServer.on('connection', () => (stats.connections += 1));
  httpServer.keepAliveTimeout = keepAliveTimeout;
  const httpPort = await listen(httpServer, options.httpPort ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const httpUrl = `http://${urlHost}:${httpPort}`;

  let httpsServer: https.Server | null = null;
  let httpsUrl: string | null = null;
  if (options.httpsPort !== false) {
    httpsServer = https.createServer(await selfSignedCertificate(), onRequest('https'));
    httpsServer.keepAliveTimeout = keepAliveTimeout;
    httpsServer.on('secureConnection', () => (stats.connections += 1));
    httpsUrl = `https://${urlHost}:${await listen(httpsServer, options.httpsPort ?? 0)}`;
  }

  const accessUrl = () => `${options.advertise === 'https' && httpsUrl ? httpsUrl : httpUrl}/ccapi`;
  const descriptionServer = http.createServer((req, res) => {
    if (req.url !== '/upnp/CameraDevDesc.xml') {
      res.writeHead(404).end();
      return;
    }
    const xml = deviceDescriptionXml({ accessUrl: accessUrl(), friendlyName: productName, modelName: productName, serialNumber: serial, udn: usn, nickname: 'EOSR50', onService: false });
    res.writeHead(200, { 'Content-Type': 'text/xml; charset="utf-8"' }).end(xml);
  });
  const descriptionUrl = `http://${urlHost}:${await listen(descriptionServer, options.descriptionPort ?? 0)}/upnp/CameraDevDesc.xml`;

  let ssdp: CameraSim['ssdp'] = null;
  if (options.ssdpPort !== undefined && options.ssdpPort !== false) {
    const responder = new SsdpResponder({ address: host, port: options.ssdpPort, location: () => descriptionUrl, usn });
    await responder.start();
    ssdp = { address: host, port: responder.port, responder };
  }

  return {
    httpUrl,
    httpsUrl,
    descriptionUrl,
    ssdp,
    usn,
    clock,
    requests,
    stats,
    setFault(f, scope = {}) {
      fault = f ? { fault: f, scope: { ...scope } } : null;
    },
    setLatency(l) {
      latency = l;
    },
    setAuth(auth) {
      digest = auth ? new SimDigest(auth) : null;
    },
    expireNonces() {
      digest?.expireNonces();
    },
    setBusy(ms, message = 'Device busy') {
      busy = { untilMs: Date.now() + ms, message };
    },
    shots,
    setSlate(s) {
      slate = s;
    },
    setRecording(r) {
      recording = r;
    },
    setShutterLag(ms) {
      shutterLagMs = ms;
    },
    async settled() {
      while (shooting.size) await Promise.all([...shooting]);
    },
    notify(kind, target) {
      if (!ssdp) throw new Error('the simulator was started without SSDP');
      return ssdp.responder.notify(kind, target);
    },
    async close() {
      closed = true;
      for (const wake of eventWaiters) wake();
      for (const res of hanging) res.destroy();
      const servers = [httpServer, httpsServer, descriptionServer].filter((s): s is http.Server => s !== null);
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
      await ssdp?.responder.close();
    },
  };
}

export { CANON_ST };

/**
 * Several simulated cameras at once, each on its own ports with its own serial number (`serialBase` + index),
 * clock offset and options; `each(i)` gives camera i's options on top of `common`.
 */
export async function startCameraSims(count: number, common: CameraSimOptions = {}, each: (index: number) => CameraSimOptions = () => ({})): Promise<CameraSim[]> {
  const sims: CameraSim[] = [];
  try {
    for (let i = 0; i < count; i++) {
      sims.push(await startCameraSim({ serialNumber: String(83021000123 + i).padStart(12, '0'), ...common, ...each(i) }));
    }
  } catch (error) {
    await Promise.all(sims.map((sim) => sim.close()));
    throw error;
  }
  return sims;
}
