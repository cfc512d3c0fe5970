import { Logger } from '@nestjs/common';
import { XMLParser } from 'fast-xml-parser';
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import { Observable, Subject } from 'rxjs';
import { normalizeAddress } from '../access/access-point';
import { quote } from './ccapi-client';
import { LogOnce } from './log-once';

/** The search target of Canon's CCAPI service (the prior art searched a made-up one). */
export const CANON_SEARCH_TARGET = 'urn:schemas-canon-com:service:ICPO-CameraControlAPIService:1';
/** Namespace of Canon's elements in the UPnP device description. */
export const CANON_UPNP_NAMESPACE = 'urn:schemas-canon-com:schema-upnp';
export const SSDP_GROUP = '239.255.255.250';
export const SSDP_PORT = 1900;
const MAX_DESCRIPTION_BYTES = 64 * 1024;

export interface SsdpOptions {
  /** Where M-SEARCH is sent. Default the SSDP group 239.255.255.250:1900; tests use a unicast loopback target. */
  searchAddress: string;
  searchPort: number;
  /** Local address of the search socket (answers come back to it). Default 0.0.0.0. */
  searchBindAddress: string;
  /** Where NOTIFY is listened for. Default 0.0.0.0:1900 joined to the SSDP group. */
  listenAddress: string;
  listenPort: number;
  /** Group to join on the NOTIFY socket; null for none (tests on loopback). */
  multicastGroup: string | null;
  /** MX of the search, seconds: how long cameras may wait before answering. */
  mx: number;
  /** Timeout of the description download, ms. */
  descriptionTimeoutMs: number;
  /** Whether a camera may be at this sender address (see CameraAddressPolicy). Default: nowhere. */
  admit: (address: string) => boolean;
  /** Ports X_accessURL may name (a camera serves CCAPI on 80, 443 or 8080); tests on loopback add theirs. */
  accessPorts: readonly number[];
}

export const DEFAULT_SSDP_OPTIONS: SsdpOptions = {
  searchAddress: SSDP_GROUP,
  searchPort: SSDP_PORT,
  searchBindAddress: '0.0.0.0',
  listenAddress: '0.0.0.0',
  listenPort: SSDP_PORT,
  multicastGroup: SSDP_GROUP,
  mx: 2,
  descriptionTimeoutMs: 3000,
  admit: () => false,
  accessPorts: [80, 443, 8080],
};

/** Why an announcement was not followed: one code per rule, in the log line. */
export const SsdpRefusal = {
  /** The sender is not where a camera may be (access point, CAMERA_URL, CAMERA_SUBNETS). */
  ForeignSender: 'SSDP_FOREIGN_SENDER',
  /** LOCATION is not an http(s) URL on the sender's own address. */
  ForeignLocation: 'SSDP_FOREIGN_LOCATION',
  /** The description could not be read (no answer, not 200, a redirect, too big) or has no X_accessURL. */
  BadDescription: 'SSDP_BAD_DESCRIPTION',
  /** X_accessURL is not on the sender's own address, or not on an allowed port. */
  ForeignAccessUrl: 'SSDP_FOREIGN_ACCESS_URL',
} as const;
export type SsdpRefusal = (typeof SsdpRefusal)[keyof typeof SsdpRefusal];

/** The IP literal of an http(s) URL's host (brackets off, IPv4-mapped unwrapped), or null. */
function hostAddress(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) ? normalizeAddress(host) : null;
}

/** `text` (named `what`) as an http(s) URL on the sender's own address, without credentials; else why not. */
function urlOnSender(text: string, what: string, from: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `${what} ${quote(text)} is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${what} ${quote(text)} is not http(s)`;
  if (url.username || url.password) return `${what} carries credentials`;
  if (hostAddress(url) !== normalizeAddress(from)) return `${what} names ${quote(url.host)}, not the sender's address`;
  return url;
}

/** Whether LOCATION may be fetched: http(s) on the sender's own address (any port: cameras serve it on 49152). Null if so, else why not. */
export function locationProblem(location: string, from: string): string | null {
  const url = urlOnSender(location, 'LOCATION', from);
  return typeof url === 'string' ? url : null;
}

/** Whether X_accessURL may be adopted: http(s) on the sender's own address, on one of `ports`. Null if so, else why not. */
export function accessUrlProblem(accessUrl: string, from: string, ports: readonly number[]): string | null {
  const url = urlOnSender(accessUrl, 'X_accessURL', from);
  if (typeof url === 'string') return url;
  if (url.search || url.hash) return 'X_accessURL carries a query or a fragment';
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  if (!ports.includes(port)) return `X_accessURL names port ${port} (a camera serves CCAPI on ${ports.join(', ')})`;
  return null;
}

export interface DiscoveredCamera {
  /** The address the announcement (or search answer) came from; LOCATION and X_accessURL name it too. */
  address: string;
  /** CCAPI base from X_accessURL, e.g. `http://192.168.4.2:8080/ccapi`. */
  accessUrl: string;
  /** Unique service name; NOTIFY byebye names the camera by it. */
  usn: string;
  location: string;
  friendlyName?: string;
  modelName?: string;
  serialNumber?: string;
  udn?: string;
  nickname?: string;
  /** X_onService: another client is connected to the camera. */
  onService?: boolean;
}

/** `alive`: a NOTIFY ssdp:alive; `found`: an answer to our M-SEARCH; `byebye`: a NOTIFY ssdp:byebye. */
export type SsdpEvent = { type: 'alive' | 'found'; camera: DiscoveredCamera } | { type: 'byebye'; usn: string; from: string };

/** The M-SEARCH datagram, with real CRLF line endings. */
export function buildMSearch(options: Pick<SsdpOptions, 'searchAddress' | 'searchPort' | 'mx'>, searchTarget = CANON_SEARCH_TARGET): string {
  return [
    'M-SEARCH * HTTP/1.1',
    `HOST: ${options.searchAddress}:${options.searchPort}`,
    'MAN: "ssdp:discover"',
    `MX: ${options.mx}`,
    `ST: ${searchTarget}`,
    '',
    '',
  ].join('\r\n');
}

/** Start line and headers (upper-cased names) of an SSDP datagram; null if it is not one. */
export function parseSsdpMessage(text: string): { startLine: string; headers: Map<string, string> } | null {
  const lines = text.split(/\r\n/);
  const startLine = lines.shift();
  if (!startLine || !/^(M-SEARCH \* HTTP\/1\.1|NOTIFY \* HTTP\/1\.1|HTTP\/1\.1 200 OK)$/i.test(startLine.trim())) return null;
  const headers = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toUpperCase(), line.slice(colon + 1).trim());
  }
  return { startLine: startLine.trim(), headers };
}

/**
 * Canon's fields of a UPnP device description. X_accessURL counts only in Canon's namespace, whatever
 * prefix the camera gives it. Null when there is no CCAPI access URL.
 */
export function parseDeviceDescription(xml: string): Omit<DiscoveredCamera, 'usn' | 'location' | 'address'> | null {
  let tree: unknown;
  try {
    tree = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, processEntities: true }).parse(xml);
  } catch {
    return null;
  }
  const found: Record<string, string> = {};
  const walk = (node: unknown, scope: Map<string, string>) => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, scope));
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key.startsWith('@_') || key === '#text') continue;
      for (const element of Array.isArray(value) ? value : [value]) {
        const attrs = typeof element === 'object' && element !== null ? (element as Record<string, unknown>) : {};
        const inner = new Map(scope);
        for (const [a, v] of Object.entries(attrs)) {
          if (a === '@_xmlns') inner.set('', String(v));
          else if (a.startsWith('@_xmlns:')) inner.set(a.slice(8), String(v));
        }
        const [prefix, local] = key.includes(':') ? key.split(':', 2) : ['', key];
        const namespace = inner.get(prefix);
        const text = typeof element === 'object' && element !== null ? attrs['#text'] : element;
        if (text !== undefined && text !== null && typeof text !== 'object') {
          const value = String(text).trim();
          if (namespace === CANON_UPNP_NAMESPACE && found[`canon:${local}`] === undefined) found[`canon:${local}`] = value;
          else if (found[local] === undefined) found[local] = value;
        }
        walk(element, inner);
      }
    }
  };
  walk(tree, new Map());
  const accessUrl = found['canon:X_accessURL'];
  if (!accessUrl || !/^https?:\/\//.test(accessUrl)) return null;
  return {
    accessUrl,
    friendlyName: found.friendlyName,
    modelName: found.modelName,
    serialNumber: found.serialNumber,
    udn: found.UDN,
    nickname: found['canon:X_deviceNickname'],
    onService: found['canon:X_onService'] === undefined ? undefined : found['canon:X_onService'] === '1',
  };
}

/**
 * Finds Canon cameras with SSDP: M-SEARCH for the CCAPI service, NOTIFY ssdp:alive / ssdp:byebye, then the
 * description at LOCATION for X_accessURL. Addresses and ports are injectable so tests stay on loopback.
 *
 * SSDP is unauthenticated, so a datagram is followed only from an address `admit` accepts, LOCATION is fetched
 * only from the sender's own address (no redirects), and X_accessURL must name that address on an allowed port:
 * an announcement cannot make the Pi fetch, or adopt, anything elsewhere. Refusals are logged once per sender
 * and reason every few minutes.
 */
export class SsdpDiscovery {
  private readonly logger = new Logger(SsdpDiscovery.name);
  private readonly options: SsdpOptions;
  private readonly events = new Subject<SsdpEvent>();
  readonly events$: Observable<SsdpEvent> = this.events.asObservable();
  private listener: dgram.Socket | null = null;
  private readonly searches = new Set<dgram.Socket>();
  private readonly refusals = new LogOnce();

  constructor(
    options: Partial<SsdpOptions> = {},
    private readonly fetchText: (url: string, timeoutMs: number) => Promise<string> = fetchDescription,
  ) {
    this.options = { ...DEFAULT_SSDP_OPTIONS, ...options };
  }

  /** Port the NOTIFY listener is bound to (0 before `listen`). */
  get listenPort(): number {
    return this.listener ? this.listener.address().port : 0;
  }

  /** Starts listening for NOTIFY. Resolves false (and logs) when the port cannot be had; searching still works. */
  async listen(): Promise<boolean> {
    if (this.listener) return true;
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await bind(socket, this.options.listenPort, this.options.listenAddress);
      if (this.options.multicastGroup) socket.addMembership(this.options.multicastGroup);
    } catch (error) {
      socket.close();
      this.logger.warn(`Cannot listen for camera announcements on ${this.options.listenAddress}:${this.options.listenPort}: ${(error as Error).message}`);
      return false;
    }
    socket.on('error', (error) => this.logger.warn(`SSDP listener: ${error.message}`));
    socket.on('message', (msg, rinfo) => void this.receive(msg.toString('utf8'), rinfo.address));
    this.listener = socket;
    return true;
  }

  /** Whether an M-SEARCH is waiting for answers. */
  get searching(): boolean {
    return this.searches.size > 0;
  }

  /**
   * Sends M-SEARCH. Every camera that answers with a description holding a CCAPI URL is emitted at once as a
   * `found` event (so it can be adopted while the search still runs); resolves with all of them after
   * `timeoutMs`.
   */
  async search(timeoutMs = (this.options.mx + 1) * 1000): Promise<DiscoveredCamera[]> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    this.searches.add(socket);
    const found: DiscoveredCamera[] = [];
    try {
      await bind(socket, 0, this.options.searchBindAddress);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        timer.unref?.();
        socket.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        const seen = new Set<string>();
        socket.on('error', () => undefined);
        socket.on('message', async (msg, rinfo) => {
          const parsed = parseSsdpMessage(msg.toString('utf8'));
          if (!parsed || !/^HTTP\/1\.1 200/i.test(parsed.startLine)) return;
          const location = parsed.headers.get('LOCATION');
          const st = parsed.headers.get('ST');
          if (!location || seen.has(location) || (st && st !== CANON_SEARCH_TARGET && st !== 'ssdp:all')) return;
          if (!this.admitted(rinfo.address)) return;
          seen.add(location);
          const camera = await this.describe(location, parsed.headers.get('USN') ?? location, rinfo.address);
          if (camera && this.searches.has(socket)) {
            found.push(camera);
            this.events.next({ type: 'found', camera });
          }
        });
        const datagram = Buffer.from(buildMSearch(this.options), 'utf8');
        if (this.options.multicastGroup && this.options.searchAddress === this.options.multicastGroup) socket.setMulticastTTL(2);
        // UDP may drop one: send twice, as UPnP recommends.
        socket.send(datagram, this.options.searchPort, this.options.searchAddress);
        setTimeout(() => this.searches.has(socket) && socket.send(datagram, this.options.searchPort, this.options.searchAddress), 100).unref();
      });
      return found;
    } catch (error) {
      this.logger.warn(`Camera search failed: ${(error as Error).message}`);
      return found;
    } finally {
      if (this.searches.delete(socket)) socket.close();
    }
  }

  close(): void {
    this.listener?.close();
    this.listener = null;
    const searches = [...this.searches];
    this.searches.clear();
    for (const socket of searches) socket.close();
  }

  /** @internal A NOTIFY datagram from `from` (what the listener does with each; tests call it directly). */
  async receive(text: string, from: string): Promise<void> {
    const parsed = parseSsdpMessage(text);
    if (!parsed || !/^NOTIFY/i.test(parsed.startLine)) return;
    const nt = parsed.headers.get('NT');
    const nts = parsed.headers.get('NTS');
    const usn = parsed.headers.get('USN');
    if (nt !== CANON_SEARCH_TARGET || !usn) return;
    if (nts !== 'ssdp:byebye' && nts !== 'ssdp:alive') return;
    if (!this.admitted(from)) return;
    if (nts === 'ssdp:byebye') {
      this.events.next({ type: 'byebye', usn, from: normalizeAddress(from) });
      return;
    }
    const location = parsed.headers.get('LOCATION');
    if (!location) return;
    const camera = await this.describe(location, usn, from);
    if (camera) this.events.next({ type: 'alive', camera });
  }

  private admitted(from: string): boolean {
    if (this.options.admit(normalizeAddress(from))) return true;
    this.refuse(SsdpRefusal.ForeignSender, from, 'not in the access point\'s subnets, CAMERA_URL or CAMERA_SUBNETS');
    return false;
  }

  private refuse(code: SsdpRefusal, from: string, why: string): void {
    const sender = normalizeAddress(from);
    if (this.refusals.first(`${code} ${sender}`)) this.logger.warn(`Camera announcement from ${quote(sender)} ignored (${code}): ${why}`);
  }

  private async describe(location: string, usn: string, from: string): Promise<DiscoveredCamera | null> {
    const badLocation = locationProblem(location, from);
    if (badLocation) {
      this.refuse(SsdpRefusal.ForeignLocation, from, badLocation);
      return null;
    }
    let description: ReturnType<typeof parseDeviceDescription>;
    try {
      description = parseDeviceDescription(await this.fetchText(location, this.options.descriptionTimeoutMs));
    } catch (error) {
      this.refuse(SsdpRefusal.BadDescription, from, `its device description cannot be read (${(error as Error).message})`);
      return null;
    }
    if (!description) {
      this.refuse(SsdpRefusal.BadDescription, from, 'its device description has no CCAPI access URL');
      return null;
    }
    const badAccess = accessUrlProblem(description.accessUrl, from, this.options.accessPorts);
    if (badAccess) {
      this.refuse(SsdpRefusal.ForeignAccessUrl, from, badAccess);
      return null;
    }
    return { ...description, address: normalizeAddress(from), usn, location };
  }
}

function bind(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

/** GET of the description XML: plain node http(s), no proxy, with a timeout and a size cap. */
export function fetchDescription(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return reject(new Error(`not an http URL: ${url}`));
    const get = parsed.protocol === 'https:' ? https.get : http.get;
    const req = get(url, { timeout: timeoutMs, agent: false, ...(parsed.protocol === 'https:' ? { rejectUnauthorized: false } : {}) }, (res) => {
      // node's http never follows a redirect; say so rather than read the body of one.
      if (res.statusCode !== 200) {
        res.resume();
        const status = res.statusCode ?? 0;
        return reject(new Error(status >= 300 && status < 400 ? `HTTP ${status}: a redirect, not followed` : `HTTP ${status}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_DESCRIPTION_BYTES) req.destroy(new Error('description larger than 64 KiB'));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
