/**
 * Rogue cameras, on real sockets across network namespaces: the built server runs in the Pi's namespace with
 * `wlan0` (the access point, 10.232.1.0/24, trusted: a stand-in `iw` says AP mode) and `eth0` (a LAN,
 * 10.232.2.0/24, untrusted). SSDP discovery is on, no CAMERA_URL, and the Pi's time is unknown (simulated clock,
 * no NTP): exactly when a camera's clock would be taken. From the LAN a fake CCAPI camera three days slow
 * announces itself; from the access point a LOCATION names a loopback service of the Pi; byebyes come from other
 * addresses; and a camera on the access point still works. Needs root and iproute2, else it says so and skips.
 * Every namespace is deleted in afterAll.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf, MAIN } from './built-server';
import { record } from './report';
import { inNs, linkLab, netnsLacking, Proc, removeLab, run, startInNs } from './netns/lab';

jest.setTimeout(120_000);

const CHILD = join(__dirname, 'netns', 'ssdp-camera-child.ts');
const tag = String(process.pid % 100000);
const NS = { pi: `tsd-pi-${tag}`, ap: `tsd-ap-${tag}`, lan: `tsd-lan-${tag}` };
const PI_AP = '10.232.1.1';
const PI_LAN = '10.232.2.1';
const CAMERA_AP = '10.232.1.2';
/** A second address on the access point: trusted, but not the camera's. */
const OTHER_AP = '10.232.1.3';
const ROGUE_LAN = '10.232.2.2';
const PORT = 3000;
const HOUR = 3600_000;
const SSDP = { port: 1900 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const lacking = (): string[] => netnsLacking(`tsd-probe-${tag}`);


function buildLab(): void {
  linkLab(NS, `tsd${tag}`);
  const up = (ns: string, dev: string, ...v4: string[]) => {
    for (const address of v4) inNs(ns, 'ip', 'addr', 'add', address, 'dev', dev);
    inNs(ns, 'ip', 'link', 'set', dev, 'up');
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  };
  up(NS.pi, 'wlan0', `${PI_AP}/24`);
  up(NS.pi, 'eth0', `${PI_LAN}/24`);
  up(NS.ap, 'ph0', `${CAMERA_AP}/24`, `${OTHER_AP}/24`);
  up(NS.lan, 'lan0', `${ROGUE_LAN}/24`);
  // The SSDP group is reachable (the server joins it on 0.0.0.0), as on a Pi with its access point up.
  inNs(NS.pi, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'wlan0');
}

const childArgv = (options: Record<string, unknown>) => [process.execPath, '-r', 'ts-node/register/transpile-only', CHILD, JSON.stringify(options)];

/** GET on the Pi from the access point's namespace (a trusted phone reading it). */
function get(path: string): { status: number; body: any; hostMs: number } {
  const script = `const t0=Date.now();fetch('http://${PI_AP}:${PORT}${path}').then(async r=>{const t1=Date.now();console.log(JSON.stringify({status:r.status,body:await r.json(),hostMs:(t0+t1)/2}))})`;
  return JSON.parse(inNs(NS.ap, process.execPath, '-e', script).trim());
}
const piMinusHostMs = () => {
  const r = get('/api/timesync/status');
  return r.body.pi.epochMs - r.hostMs;
};

const missing = lacking();

describeIf(missing, 'Rogue cameras across network namespaces (test/reliability/doors-ssdp)')('Doors: rogue cameras over SSDP from the LAN and the access point', () => {
  let work: string;
  let server: (Proc & { match: RegExpExecArray }) | undefined;
  let rogue: (Proc & { match: RegExpExecArray }) | undefined;
  let camera: (Proc & { match: RegExpExecArray }) | undefined;
  let bait: (Proc & { match: RegExpExecArray }) | undefined;

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build:backend (npm test does)`);
    removeLab(NS);
    buildLab();
    work = mkdtempSync(join(tmpdir(), 'doors-ssdp-'));
    mkdirSync(join(work, 'bin'));
    mkdirSync(join(work, 'data'));
    writeFileSync(join(work, 'bin', 'iw'), '#!/bin/sh\nif [ "$1 $2 $3" = "dev wlan0 info" ]; then printf "Interface wlan0\\n\\ttype AP\\n"; exit 0; fi\necho "command failed: No such device (-19)" >&2\nexit 237\n');
    chmodSync(join(work, 'bin', 'iw'), 0o755);
    const env = { TS_NODE_TRANSPILE_ONLY: 'true' };
    // Both cameras three days slow: whichever the Pi took, it would show.
    rogue = await startInNs(NS.lan, childArgv({ host: ROGUE_LAN, clockOffsetMs: -72 * HOUR, serial: '083021000123' }), env, /READY (\S+) (\S+)/);
    camera = await startInNs(NS.ap, childArgv({ host: CAMERA_AP, clockOffsetMs: -72 * HOUR, serial: '083021000777' }), env, /READY (\S+) (\S+)/);
    bait = await startInNs(NS.pi, childArgv({ host: '127.0.0.1', bait: true }), env, /READY/);
    server = await startInNs(
      NS.pi,
      [process.execPath, MAIN],
      {
        PATH: `${join(work, 'bin')}:${process.env.PATH}`,
        HOST: '0.0.0.0',
        PORT: String(PORT),
        AP_INTERFACE: 'wlan0',
        AP_SUBNETS: '',
        CLOCK_BACKEND: 'simulated',
        DEMO: 'false',
        SIMULATED_CLOCK_OFFSET_MS: '0',
        CAMERA_URL: '',
        CAMERA_DISCOVERY: 'true',
        CAMERA_POLL_INTERVAL: '1000',
        CAMERA_TIMEOUT: '1500',
        AUTO_SYNC: 'false',
        DATA_DIR: join(work, 'data'),
      },
      /Serving the page/,
    );
    // The access point is read as such before anything is announced.
    await server.waitFor(/wlan0 is an access point/);
  });

  afterAll(async () => {
    await Promise.all([server, rogue, camera, bait].map((p) => p?.stop()));
    removeLab(NS);
    if (work) rmSync(work, { recursive: true, force: true });
    expect(run('ip', ['netns', 'list']).split('\n').filter((l) => l.includes(`-${tag}`))).toEqual([]);
  });

  const notify = async (from: Proc, command: Record<string, unknown>) => {
    const since = from.output().length;
    from.send(command);
    await from.waitFor(/SENT/, since);
  };
  const requestsOf = async (p: Proc) => {
    const since = p.output().length;
    p.send({ requests: true });
    return Number((await p.waitFor(/REQUESTS (\d+)/, since))[1]);
  };

  it('a camera three days slow announced from the LAN: not adopted, never asked, the Pi time not taken', async () => {
    const before = piMinusHostMs();
    for (let i = 0; i < 25; i++) await notify(rogue!, { notify: 'alive', to: { address: PI_LAN, port: SSDP.port } });
    await sleep(3000);
    expect(get('/api/cameras').body).toEqual([]);
    const status = get('/api/timesync/status').body;
    expect(status.syncSource).not.toBe('camera');
    expect(Math.abs(piMinusHostMs() - before)).toBeLessThan(1000);
    expect(await requestsOf(rogue!)).toBe(0);
    // One log line for 25 announcements.
    expect(server!.output().match(/ignored \(SSDP_FOREIGN_SENDER\)/g)).toHaveLength(1);
    record({ suite: 'doors-ssdp', what: 'NOTIFY ssdp:alive of a CCAPI camera 72 h slow from the LAN (untrusted), Pi time unknown', times: 25, outcome: 'no camera adopted, 0 CCAPI requests to it, Pi clock unchanged (source not camera), 1 log line' });
  });

  it('a LOCATION naming a loopback service of the Pi is never fetched, even from the access point', async () => {
    const location = 'http://127.0.0.1:9999/upnp/CameraDevDesc.xml';
    const since = server!.output().length;
    await notify(camera!, { notify: 'alive', to: { address: PI_AP, port: SSDP.port }, location });
    await server!.waitFor(/ignored \(SSDP_FOREIGN_LOCATION\)/, since, 5000);
    await sleep(500);
    expect(bait!.output()).not.toMatch(/HIT/);
    expect(get('/api/cameras').body).toEqual([]);
    record({ suite: 'doors-ssdp', what: 'NOTIFY from the access point whose LOCATION is http://127.0.0.1:9999/ (a loopback service of the Pi)', times: 1, outcome: 'not fetched (0 hits on the loopback service), refused as SSDP_FOREIGN_LOCATION' });
  });

  it('a camera on the access point is adopted and, the Pi time being unknown, sets it; byebye from elsewhere does not disconnect it', async () => {
    await notify(camera!, { notify: 'alive', to: { address: PI_AP, port: SSDP.port } });
    let cameras: any[] = [];
    for (let i = 0; i < 50 && !(cameras = get('/api/cameras').body).some((c: { state: string }) => c.state === 'connected'); i++) await sleep(200);
    expect(cameras).toEqual([expect.objectContaining({ id: '083021000777', state: 'connected', baseUrl: `http://${CAMERA_AP}:8080/ccapi` })]);
    for (let i = 0; i < 50 && get('/api/timesync/status').body.syncSource !== 'camera'; i++) await sleep(200);
    expect(get('/api/timesync/status').body.syncSource).toBe('camera');
    expect(Math.abs(piMinusHostMs() + 72 * HOUR)).toBeLessThan(2000);

    // byebye naming it, from the LAN and from another address on the access point: ignored.
    await notify(rogue!, { notify: 'byebye', to: { address: PI_LAN, port: SSDP.port } });
    const usn = camera!.match[2];
    const other = await startInNs(NS.ap, [process.execPath, '-e', `
      const s=require('dgram').createSocket('udp4');
      const t='NOTIFY * HTTP/1.1\\r\\nHOST: 239.255.255.250:1900\\r\\nNT: urn:schemas-canon-com:service:ICPO-CameraControlAPIService:1\\r\\nNTS: ssdp:byebye\\r\\nUSN: ${usn}::urn:schemas-canon-com:service:ICPO-CameraControlAPIService:1\\r\\n\\r\\n';
      s.bind(0,'${OTHER_AP}',()=>s.send(Buffer.from(t),1900,'${PI_AP}',()=>{console.log('SENT');s.close()}))`], {}, /SENT/);
    await other.stop();
    await server!.waitFor(/SSDP_FOREIGN_BYEBYE/, 0, 5000);
    await sleep(1000);
    expect(get('/api/cameras').body).toEqual([expect.objectContaining({ id: '083021000777', state: 'connected' })]);

    // From its own address, it counts.
    await notify(camera!, { notify: 'byebye', to: { address: PI_AP, port: SSDP.port } });
    let state = '';
    for (let i = 0; i < 25 && (state = get('/api/cameras').body[0].state) !== 'disconnected'; i++) await sleep(200);
    expect(state).toBe('disconnected');
    record({ suite: 'doors-ssdp', what: 'a camera 72 h slow on the access point: announced, then ssdp:byebye naming it from the LAN and from another access-point address, then from its own', times: 4, outcome: 'adopted and taken as the Pi time source (-72 h); the two foreign byebyes ignored (still connected); its own byebye disconnected it' });
  });
});
