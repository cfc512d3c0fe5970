import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';
import { CameraClock, parseSimDateTime } from './camera-clock';
import { SimAuth, SimDigest } from './sim-digest';
import { CANON_ST, deviceDescriptionXml, SsdpResponder } from './sim-ssdp';

/**
 * A Canon camera speaking CCAPI, on real sockets, for integration tests, the benchmark and the demo camera
 * of `npm start` with the simulated clock (see backend/dev/demo-camera.ts): built with the backend for that.
 *
 * Endpoints: GET /ccapi (list, some paths absolute), GET/PUT functions/datetime (wall time + standard
 * offset + dst, UTC kept inside, one-second resolution over a hidden phase), GET deviceinformation,
 * GET devicestatus/battery, POST shooting/control/shutterbutton (busy 503 for a while afterwards).
 * Plus an SSDP responder and the UPnP description, Digest authentication, request latency and faults.
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

  const sleep = (ms: number) => new Promise<void>((resolve) => (ms > 0 ? setTimeout(resolve, ms) : resolve()));
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
        busy = { untilMs: Date.now() + (options.busyAfterShutterMs ?? 1500), message: 'Device busy' };
        return reply(200, {});
      default:
        return reply(404, { message: 'Not found' });
    }
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
      ],
      ver110: [e('/ccapi/ver110/devicestatus/storage', true, false), e('/ccapi/ver110/functions/datetime', true, true)],
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
    notify(kind, target) {
      if (!ssdp) throw new Error('the simulator was started without SSDP');
      return ssdp.responder.notify(kind, target);
    },
    async close() {
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
