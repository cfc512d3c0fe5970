import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { KIOSK_HEADER, KIOSK_QUERY } from '../protocol/vocabulary';
import { normalizeAddress } from './access-point';

/**
 * Who is asking, as the edges see it: the connection's address and the kiosk secret it presented, if any.
 * What that caller may do is decided in one place, `AccessService.screenOf` / `authorize`.
 */
export interface Caller {
  address: string;
  /** The kiosk secret as presented (header `x-kiosk-token` on REST, `?kiosk=` on the WebSocket); null if none. */
  kioskToken: string | null;
}

/** A REST request's caller. */
export function callerOfRequest(request: { socket: { remoteAddress?: string }; headers: IncomingMessage['headers'] }): Caller {
  const header = request.headers[KIOSK_HEADER];
  return { address: normalizeAddress(request.socket.remoteAddress ?? ''), kioskToken: typeof header === 'string' && header ? header : null };
}

/** A WebSocket's caller, from its upgrade request (`/ws?kiosk=<secret>`). */
export function callerOfUpgrade(request: Pick<IncomingMessage, 'socket' | 'url'>): Caller {
  let token: string | null = null;
  try {
    token = new URL(request.url ?? '/', 'http://localhost').searchParams.get(KIOSK_QUERY) || null;
  } catch {
    token = null;
  }
  return { address: normalizeAddress(request.socket.remoteAddress ?? ''), kioskToken: token };
}

/** 127.0.0.0/8 and ::1 (IPv4-mapped forms too): the Pi itself. */
export function isLoopback(address: string): boolean {
  const ip = normalizeAddress(address);
  if (isIP(ip) === 4) return ip.startsWith('127.');
  return ip === '::1' || ip === '0:0:0:0:0:0:0:1';
}
