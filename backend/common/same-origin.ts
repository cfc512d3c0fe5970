import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { ErrorCode, UPLOAD_HEADER } from '../protocol/vocabulary';
import { CAPTIVE_PORTAL_PROBES } from './captive-portal.controller';

/**
 * The doors a web page on the photographer's phone must not open. The phone sits on the access point (a
 * trusted address) and keeps its mobile data, so any site it opens can make the browser send requests to the
 * Pi. The browser tells who is asking: `Origin` (every cross-origin write and every WebSocket), `Sec-Fetch-Site`,
 * and `Host` (the name the page used: another name for the Pi's address means DNS rebinding).
 */

export interface Refusal {
  status: number;
  code: ErrorCode;
  message: string;
}

/** The Pi's names and addresses, lower-case, IPv6 without brackets or zone. */
export class OwnHosts {
  private names = new Set<string>();

  constructor(
    private readonly extra: { apAddress?: string; allowedHosts?: string },
    private readonly interfaces: () => NodeJS.Dict<{ address: string }[]> = networkInterfaces,
    private readonly hostname: () => string = osHostname,
  ) {
    this.refresh();
  }

  /** A name is looked up again in the interfaces when it is not known: an address that came up since (the access point). */
  has(name: string): boolean {
    const key = canonicalName(name);
    if (!key) return false;
    if (this.names.has(key)) return true;
    this.refresh();
    return this.names.has(key);
  }

  list(): string[] {
    return [...this.names];
  }

  private refresh(): void {
    const host = this.hostname().toLowerCase();
    const names = ['localhost', '127.0.0.1', '::1', host, `${host}.local`, this.extra.apAddress ?? '', ...allowedHostsOf(this.extra.allowedHosts)];
    for (const list of Object.values(this.interfaces())) for (const info of list ?? []) names.push(info.address);
    this.names = new Set(names.map(canonicalName).filter(Boolean));
  }
}

/** `ALLOWED_HOSTS`: comma-separated names or addresses. */
export function allowedHostsOf(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A name as compared: lower-case, one trailing dot dropped, IPv6 without brackets or zone; '' for nothing usable. */
export function canonicalName(name: string): string {
  let n = name.trim().toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  n = n.replace(/%.*$/, '');
  if (isIP(n)) return n;
  n = n.replace(/\.$/, '');
  return /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/.test(n) && n.length <= 253 ? n : '';
}

/**
 * A Host header split strictly: `name[:port]` or `[v6][:port]`, nothing else (no user info, no path) so that
 * no URL parser can read another host out of it. null: not a Host header.
 */
export function parseHost(header: string): { name: string; port: number | null } | null {
  const m = /^(\[[0-9a-f:.]+(?:%(?:25)?[a-z0-9_.-]+)?\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(header.trim());
  if (!m) return null;
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535)) return null;
  const name = canonicalName(m[1]);
  return name ? { name, port } : null;
}

/** GET/HEAD of a captive-portal probe path: answered (with a redirect to the Pi) whatever the Host. */
export function isCaptiveProbe(method: string, path: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return (CAPTIVE_PORTAL_PROBES as readonly string[]).includes(p);
}

export interface RequestFacts {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Our port the connection arrived at (for a request without Host). */
  localPort?: number;
  /** Whether the connection is TLS. */
  secure?: boolean;
}

/** A request that names another host than the Pi: nothing but the captive-portal redirect answers it. No Host at all (HTTP/1.0, a script) is no browser and passes. */
export function hostRefusal(req: RequestFacts, own: OwnHosts): Refusal | null {
  const header = req.headers.host;
  if (header === undefined) return null;
  if (isCaptiveProbe(req.method, req.path)) return null;
  const host = parseHost(header);
  if (host && own.has(host.name)) return null;
  return { status: 421, code: ErrorCode.FOREIGN_HOST, message: `Host ${JSON.stringify(header.slice(0, 100))} is not a name of this Pi: open the page at one of its addresses (or add the name to ALLOWED_HOSTS)` };
}

/**
 * A refused request that is a phone opening a page under another name (on the access point every name leads to
 * the Pi): sent to the page at the Pi's own address instead of a bare refusal. Safe against DNS rebinding: the
 * redirect carries nothing, and the page it names is of another origin than the one that asked.
 */
export function redirectsToPage(req: RequestFacts, refusal: Refusal): boolean {
  if (refusal.code !== ErrorCode.FOREIGN_HOST || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  return !/^\/(api|ws)(\/|$)/.test(req.path);
}

/**
 * A request sent by a page of another origin. Same origin: the Origin's host is one of the Pi's names and its
 * port is the request's (the Host's, else the port it arrived at). No Origin (non-browser clients) passes;
 * `Sec-Fetch-Site: cross-site` is refused whatever the Origin says.
 */
export function originRefusal(req: RequestFacts, own: OwnHosts): Refusal | null {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site') return foreign(`a page of another site (Sec-Fetch-Site: cross-site)`);
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  const scheme = req.secure ? 'https:' : 'http:';
  const defaultPort = req.secure ? 443 : 80;
  const host = req.headers.host === undefined ? null : parseHost(req.headers.host);
  const requestPort = host ? (host.port ?? defaultPort) : (req.localPort ?? defaultPort);
  let url: URL | null = null;
  try {
    url = new URL(origin);
  } catch {
    url = null;
  }
  if (url && url.protocol === scheme && url.origin === origin.toLowerCase().replace(/\/$/, '') && own.has(url.hostname) && Number(url.port || defaultPort) === requestPort) return null;
  return foreign(`a page of another origin (${JSON.stringify(origin.slice(0, 100))})`);
}

function foreign(what: string): Refusal {
  return { status: 403, code: ErrorCode.FOREIGN_ORIGIN, message: `${what} may not change anything on this Pi: only its own page may` };
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isApiWrite(method: string, path: string): boolean {
  return WRITE_METHODS.has(method) && (path === '/api' || path.startsWith('/api/'));
}

/** The one write that takes files: slate photos, as multipart/form-data. */
export const MULTIPART_WRITES: ReadonlySet<string> = new Set(['/api/slate/photos']);

/**
 * A write's body must be JSON: forms and text/plain are what another site's page can send without asking.
 * A write with no body at all and no Content-Type (a bare `POST /api/session/stop` from a script) passes.
 * The exception: multipart/form-data on a path of MULTIPART_WRITES, with the header UPLOAD_HEADER. A form on
 * another site can post multipart without asking, but not add a header (the browser would ask the Pi first, and
 * the Pi never says yes); the Origin check before this one still refuses another site's page whatever it sends.
 */
export function contentTypeRefusal(headers: IncomingHttpHeaders, path = ''): Refusal | null {
  const type = headers['content-type'];
  if (type === undefined) {
    const hasBody = headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;
    if (!hasBody) return null;
  } else if (/^application\/json\s*(;|$)/i.test(type.trim())) {
    return null;
  } else if (MULTIPART_WRITES.has(path) && /^multipart\/form-data\s*;/i.test(type.trim())) {
    if (headers[UPLOAD_HEADER] !== undefined) return null;
    return { status: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: `an upload without the header ${UPLOAD_HEADER} refused: a form of another site cannot add it, so the Pi's own page and scripts send it` };
  }
  const given = type === undefined ? 'a body without Content-Type' : `Content-Type ${JSON.stringify(type.slice(0, 100))}`;
  return { status: 415, code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: `${given} refused: requests that change something take application/json` };
}

/** Everything a write under /api must pass, in order: the origin, then the body's type. */
export function writeRefusal(req: RequestFacts, own: OwnHosts): Refusal | null {
  if (!isApiWrite(req.method, req.path)) return null;
  return originRefusal(req, own) ?? contentTypeRefusal(req.headers, req.path);
}

/** The WebSocket upgrade: the Pi's Host and its own page's Origin (none: a non-browser client). */
export function upgradeRefusal(req: RequestFacts, own: OwnHosts): Refusal | null {
  return hostRefusal(req, own) ?? originRefusal(req, own);
}
