import { AppConfig } from '../config/app.config';
import { StartupFacts, startupLines } from './startup-report';

const facts = (config: Partial<AppConfig>, rest: Partial<StartupFacts> = {}): StartupFacts => ({
  config: Object.assign(new AppConfig(), config),
  subnets: [],
  url: 'http://[::1]:3000',
  accessPointUrl: null,
  kiosk: { path: '/var/lib/pi-camera-timesync/kiosk-token', available: true, created: false, problem: null },
  ...rest,
});
const text = (f: StartupFacts) => startupLines(f).map((l) => `${l.level}: ${l.text}`);

describe(startupLines.name, () => {
  it('says the clock, the trusted subnets, the cameras and the addresses, never the secret', () => {
    const lines = text(
      facts(
        { CLOCK_BACKEND: 'system', CAMERA_URL: 'http://192.168.4.2:8080, http://192.168.4.3:8080' },
        { subnets: ['10.42.0.1/24'], url: 'http://0.0.0.0:80', accessPointUrl: 'http://10.42.0.1/', kiosk: { path: '/var/lib/x/kiosk-token', available: true, created: true, problem: null } },
      ),
    );
    expect(lines).toEqual([
      "log: Clock: the Pi's system clock, set through timedatectl (systemd-timedated, allowed by the polkit rule)",
      'log: Trusted subnets (phones there give the Pi its time as soon as they connect and may set it): 10.42.0.1/24 (from the interface wlan0)',
      'log: Cameras: http://192.168.4.2:8080, http://192.168.4.3:8080 (CAMERA_URL)',
      'log: The page: http://localhost/; phones on the access point open http://10.42.0.1/',
      "log: The Pi's own screen opens http://localhost/?kiosk=<the secret in /var/lib/x/kiosk-token> (written now)",
    ]);
  });

  it('warns when nobody can give the Pi its time (wlan0 missing, AP_SUBNETS empty)', () => {
    const lines = text(facts({}));
    expect(lines[0]).toBe("log: Clock: simulated (CLOCK_BACKEND=simulated); this machine's clock is never changed");
    expect(lines[1]).toMatch(/^warn: No trusted subnet: wlan0 has no address \(missing or down\) and AP_SUBNETS is empty/);
    expect(lines[2]).toBe('log: Cameras: searching the network with SSDP (CAMERA_URL is empty); every camera that answers is adopted');
    expect(lines[3]).toBe('log: The page: http://localhost:3000/');
  });

  it('warns when loopback is trusted, names the simulated offset, and says when there is no kiosk secret', () => {
    const lines = text(
      facts(
        { AP_SUBNETS: '127.0.0.1/32,::1/128', SIMULATED_CLOCK_OFFSET_MS: -259_200_000, CAMERA_DISCOVERY: false },
        { subnets: ['127.0.0.1/32', '::1/128'], kiosk: { path: '/x', available: false, created: false, problem: 'EROFS: read-only file system' } },
      ),
    );
    expect(lines).toContain("log: Clock: simulated (CLOCK_BACKEND=simulated, starting 3 d behind); this machine's clock is never changed");
    expect(lines).toContain('warn: Loopback is trusted (127.0.0.1/32, ::1/128): any local program counts as a phone on the Wi-Fi. For demos and tests, not for a Pi');
    expect(lines).toContain('log: Cameras: none (CAMERA_URL is empty and CAMERA_DISCOVERY=false)');
    expect(lines).toContain("warn: No kiosk secret (EROFS: read-only file system): no page counts as the Pi's own screen");
    expect(lines.join('\n')).not.toMatch(/kiosk=[A-Za-z0-9]/);
  });

  it('says what the demo put in place instead of the loopback warning', () => {
    const lines = text(
      facts(
        { DEMO: true, CAMERA_URL: 'http://127.0.0.1:40123' },
        { subnets: ['127.0.0.0/8', '::1/128'], demo: { loopbackTrusted: true, cameraUrl: 'http://127.0.0.1:40123/ccapi' } },
      ),
    );
    expect(lines).toContain(
      'log: Trusted subnets (phones there give the Pi its time as soon as they connect and may set it): 127.0.0.0/8, ::1/128 (from the demo, and the interface wlan0 while it is an access point)',
    );
    expect(lines).toContain(
      "log: Demo: this machine's own browser counts as a phone on the access point (loopback is trusted because the clock is simulated and AP_SUBNETS is not set; DEMO=false or AP_SUBNETS turns this off; never with CLOCK_BACKEND=system)",
    );
    expect(lines).toContain('log: Demo: a simulated camera at http://127.0.0.1:40123/ccapi, its clock off by a minute or so (CAMERA_URL is empty; set it for real cameras, or DEMO=false to search the network)');
    expect(lines.join('\n')).not.toMatch(/Loopback is trusted|\(CAMERA_URL\)/);
  });
});
