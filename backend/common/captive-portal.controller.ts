import { Controller, Get, Header, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

/**
 * What phones fetch right after joining a Wi-Fi network to learn whether it reaches the internet. Any answer
 * but the expected one (204, Apple's "Success" page, Microsoft's and Firefox's texts) makes them open a
 * captive-portal window; a redirect to the page makes that window the app. The probes reach the Pi only if
 * the access point's DNS answers every name with the Pi's address (the dnsmasq-shared.d entry written by
 * `kiosk/install.sh --access-point`).
 */
export const CAPTIVE_PORTAL_PROBES = [
  'generate_204', // Android (connectivitycheck.gstatic.com, www.google.com, clients3.google.com, vendors' own hosts)
  'gen_204', // Android, older and Chrome OS
  'hotspot-detect.html', // Apple (captive.apple.com)
  'library/test/success.html', // Apple, older iOS
  'connecttest.txt', // Windows 10/11 (www.msftconnecttest.com)
  'ncsi.txt', // Windows 7/8 (www.msftncsi.com)
  'redirect', // Windows opens this one once it has seen a portal
  'canonical.html', // Firefox (detectportal.firefox.com)
  'success.txt', // Firefox
  'kindle-wifi/wifistub.html', // Kindle
] as const;

export interface ProbeRequest {
  /** The Host header the phone sent. */
  host?: string;
  /** Our address the connection arrived at (the access point's own address for a phone on it). */
  localAddress?: string;
  localPort?: number;
  /** Names of this machine (its hostname), which stay valid when the phone is back online. */
  ownNames: string[];
}

/**
 * The absolute URL of the page for a probe. A probe names a vendor's host (captive.apple.com): a page opened
 * under that name would break as soon as the phone is online again and the name leads to the vendor, so the
 * redirect names the address the phone reached us at. A host that already is us (an IP address, our
 * hostname, a `.local` name, a single label) is kept as the phone typed it.
 */
export function portalUrl({ host, localAddress, localPort, ownNames }: ProbeRequest): string {
  const given = (host ?? '').trim().toLowerCase();
  const valid = SAFE_HOST.test(given);
  if (valid && isOurName(nameOf(given), ownNames)) return `http://${given}/`;
  const address = (localAddress ?? '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  const family = isIP(address);
  // A link-local IPv6 address is useless without its zone, which browsers do not take in URLs.
  if (family === 0 || /^fe[89ab]/i.test(address)) return `http://${valid ? given : 'localhost'}/`;
  const literal = family === 6 ? `[${address}]` : address;
  return `http://${literal}${localPort && localPort !== 80 ? `:${localPort}` : ''}/`;
}

/** A Host header of letters, digits, dots, dashes, colons and brackets: nothing that could bend the URL. */
const SAFE_HOST = /^[\w.:[\]-]+$/;

/** `[fe80::1]:80` → `fe80::1`, `pi.local:3000` → `pi.local`. */
function nameOf(host: string): string {
  return host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
}

function isOurName(name: string, ownNames: string[]): boolean {
  if (!name) return false;
  if (isIP(name)) return true;
  if (!name.includes('.') || name.endsWith('.local')) return true;
  return ownNames.some((own) => own.toLowerCase() === name);
}

@ApiTags('captive portal')
@Controller()
export class CaptivePortalController {
  @Get([...CAPTIVE_PORTAL_PROBES])
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Captive-portal probes of Android, Apple, Windows, Firefox and Kindle: redirected to the page' })
  @ApiResponse({ status: 302, description: 'Location: the absolute URL of the page, e.g. http://10.42.0.1/' })
  probe(@Req() request: Request, @Res() response: Response): void {
    const location = portalUrl({
      host: request.headers.host,
      localAddress: request.socket.localAddress,
      localPort: request.socket.localPort,
      ownNames: [hostname()],
    });
    response.redirect(302, location);
  }
}
