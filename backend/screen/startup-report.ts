import { cameraUrls, type AppConfig } from '../config/app.config';
import { formatDuration } from '../time/format';
import { isLoopback } from '../access/caller';

export interface StartupFacts {
  config: Pick<AppConfig, 'CLOCK_BACKEND' | 'SIMULATED_CLOCK_OFFSET_MS' | 'AP_SUBNETS' | 'AP_INTERFACE' | 'CAMERA_URL' | 'CAMERA_DISCOVERY' | 'AUTO_SYNC'>;
  /** The trusted subnets now (AccessPointPolicy.subnets()). */
  subnets: string[];
  /** The URL the server listens on, as Nest reports it. */
  url: string;
  /** The page's address on the access point, if known. */
  accessPointUrl: string | null;
  kiosk: { path: string; available: boolean; created: boolean; problem: string | null };
  /** The first-run demo (DEMO): loopback trusted as a phone, and the simulated camera's CCAPI URL if one was started. */
  demo?: { loopbackTrusted: boolean; cameraUrl: string | null };
}

export interface StartupLine {
  level: 'log' | 'warn';
  text: string;
}

/**
 * What the server says at start, so a newcomer knows what it will do before the first 403: the clock it
 * sets, who may give it the time, where it looks for cameras, and where the page is. Never the kiosk secret.
 */
export function startupLines(f: StartupFacts): StartupLine[] {
  const lines: StartupLine[] = [];
  const log = (text: string) => lines.push({ level: 'log', text });
  const warn = (text: string) => lines.push({ level: 'warn', text });
  const c = f.config;

  if (c.CLOCK_BACKEND === 'system') log("Clock: the Pi's system clock, set through timedatectl (systemd-timedated, allowed by the polkit rule)");
  else {
    const off = c.SIMULATED_CLOCK_OFFSET_MS ? `, starting ${formatDuration(Math.abs(c.SIMULATED_CLOCK_OFFSET_MS))} ${c.SIMULATED_CLOCK_OFFSET_MS < 0 ? 'behind' : 'ahead'}` : '';
    log(`Clock: simulated (CLOCK_BACKEND=simulated${off}); this machine's clock is never changed`);
  }

  const from = c.AP_SUBNETS?.trim() ? 'AP_SUBNETS' : f.demo?.loopbackTrusted ? `the demo, and the interface ${c.AP_INTERFACE} while it is an access point` : `the interface ${c.AP_INTERFACE}`;
  if (!f.subnets.length) {
    warn(
      `No trusted subnet: ${c.AP_INTERFACE} has no address (missing or down) and AP_SUBNETS is empty. No phone can give the Pi its time ` +
        `or set it until the access point is up (looked up again at every connection); set AP_INTERFACE or AP_SUBNETS`,
    );
  } else {
    log(`Trusted subnets (phones there give the Pi its time${c.AUTO_SYNC ? ' as soon as they connect' : ''} and may set it): ${f.subnets.join(', ')} (from ${from})`);
    const loopback = f.subnets.filter((s) => isLoopback(s.split('/')[0]));
    if (f.demo?.loopbackTrusted) {
      log(
        "Demo: this machine's own browser counts as a phone on the access point (loopback is trusted because the clock is simulated " +
          'and AP_SUBNETS is not set; DEMO=false or AP_SUBNETS turns this off; never with CLOCK_BACKEND=system)',
      );
    } else if (loopback.length) warn(`Loopback is trusted (${loopback.join(', ')}): any local program counts as a phone on the Wi-Fi. For demos and tests, not for a Pi`);
  }

  const urls = cameraUrls(c.CAMERA_URL);
  if (f.demo?.cameraUrl) {
    log(`Demo: a simulated camera at ${f.demo.cameraUrl}, its clock off by a minute or so (CAMERA_URL is empty; set it for real cameras, or DEMO=false to search the network)`);
  } else if (urls.length) log(`Cameras: ${urls.join(', ')} (CAMERA_URL)`);
  else if (c.CAMERA_DISCOVERY) log('Cameras: searching the network with SSDP (CAMERA_URL is empty); every camera that answers is adopted');
  else log('Cameras: none (CAMERA_URL is empty and CAMERA_DISCOVERY=false)');

  const local = localUrl(f.url);
  log(`The page: ${local}${f.accessPointUrl ? `; phones on the access point open ${f.accessPointUrl}` : ''}`);
  if (f.kiosk.available) {
    log(`The Pi's own screen opens ${local}?kiosk=<the secret in ${f.kiosk.path}>${f.kiosk.created ? ' (written now)' : ''}`);
  } else {
    warn(`No kiosk secret (${f.kiosk.problem ?? 'not written'}): no page counts as the Pi's own screen`);
  }
  return lines;
}

/** `http://[::1]:3000` or `http://0.0.0.0:3000` → `http://localhost:3000/`. */
function localUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.hostname === '[::1]' || u.hostname === '[::]' || u.hostname === '0.0.0.0' || u.hostname === '127.0.0.1') u.hostname = 'localhost';
    return u.toString();
  } catch {
    return url;
  }
}
