/**
 * Authority on real sockets across network namespaces: the built server (`node dist/backend/main.js`) runs in
 * a namespace of its own, the Pi, with a camera simulator beside it and two veth links, `wlan0` to a phone's
 * namespace (the access point) and `eth0` to a LAN device's namespace. Both links carry the same IPv6
 * link-local addresses (fe80::1 on the Pi, fe80::2 on the peer), so only the zone tells them apart. The
 * trusted subnets come from AP_INTERFACE=wlan0 as on a Pi (a stand-in `iw` on the server's PATH says wlan0 is
 * in AP mode, as `iw dev wlan0 info` does on a Pi). With HOST=0.0.0.0 (IPv4) and HOST=:: (IPv4, IPv6 global
 * and link-local): from the LAN every path that changes the time, the zone or the camera is refused and nothing
 * changes; from the access point every one of them works. Needs root and iproute2; otherwise it says so and
 * skips. Every namespace (and with it every link) is deleted in afterAll, whatever happened.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf, MAIN } from './built-server';
import { record } from './report';
import { inNs, linkLab, netnsLacking, Proc, removeLab, run, startInNs } from './netns/lab';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');
const CLIENT = join(__dirname, 'netns', 'client.js');
const SIM = join(__dirname, 'netns', 'camera-sim-child.ts');
const tag = String(process.pid % 100000);
const NS = { pi: `tsh-pi-${tag}`, ap: `tsh-ap-${tag}`, lan: `tsh-lan-${tag}` };
const PORT = 8080;
const HOUR = 3600_000;


const lacking = (): string[] => netnsLacking(`tsh-probe-${tag}`);


function buildLab(): void {
  linkLab(NS, `tsh${tag}`);
  const address = (ns: string, dev: string, v4: string, v6: string, ll: string) => {
    // Exactly these addresses, usable at once: no kernel-made link-local, no duplicate address detection.
    inNs(ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${dev}.addr_gen_mode=1`);
    inNs(ns, 'ip', 'addr', 'add', v4, 'dev', dev);
    inNs(ns, 'ip', '-6', 'addr', 'add', v6, 'dev', dev, 'nodad');
    inNs(ns, 'ip', '-6', 'addr', 'add', ll, 'dev', dev, 'nodad');
    inNs(ns, 'ip', 'link', 'set', dev, 'up');
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  };
  address(NS.pi, 'wlan0', '10.231.1.1/24', 'fd31:1::1/64', 'fe80::1/64');
  address(NS.pi, 'eth0', '10.231.2.1/24', 'fd31:2::1/64', 'fe80::1/64');
  address(NS.ap, 'ph0', '10.231.1.2/24', 'fd31:1::2/64', 'fe80::2/64');
  address(NS.lan, 'lan0', '10.231.2.2/24', 'fd31:2::2/64', 'fe80::2/64');
}

type Step = Record<string, unknown> & { do: string; name?: string };
interface StepResult {
  step: string;
  status?: number;
  body?: any;
  t0?: number;
  t1?: number;
  error?: string;
  message?: string;
  event?: string;
  type?: string;
  data?: any;
  trusted?: boolean | null;
  probes?: number;
  ok?: boolean;
}

/** Runs client.js in `ns` against `host` (an address, with a zone for link-local). */
function client(ns: string, host: string, steps: Step[], extra: Record<string, unknown> = {}): Promise<{ results: StepResult[]; probes: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, CLIENT, JSON.stringify({ host, port: PORT, steps, ...extra })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.once('exit', () => {
      clearTimeout(timer);
      try {
        const parsed = JSON.parse(out.trim().split('\n').pop() ?? '');
        if (parsed.fatal) reject(new Error(parsed.fatal));
        else resolve(parsed);
      } catch {
        reject(new Error(`client in ${ns} printed no result: ${out}${err}`));
      }
    });
  });
}

/** The Pi as a phone on the access point reads it (over IPv4: always there). */
async function piState(): Promise<{ piMinusHostMs: number; zone: string; source: string; journal: string }> {
  const { results } = await client(NS.ap, '10.231.1.1', [
    { do: 'get', path: '/api/timesync/status' },
    { do: 'get', path: '/api/timesync/journal' },
  ]);
  const [status, journal] = results;
  if (status.status !== 200) throw new Error(`status: ${JSON.stringify(status)}`);
  return { piMinusHostMs: status.body.pi.epochMs - (status.t0! + status.t1!) / 2, zone: status.body.pi.timezone, source: status.body.syncSource, journal: JSON.stringify(journal.body) };
}

const missing = lacking();

describeIf(missing, 'Authority across network namespaces (test/reliability/netns)')('Authority across network namespaces: the access point and the LAN', () => {
  let work: string;
  let sim: (Proc & { match: RegExpExecArray }) | undefined;
  let simUrl: string;
  const puts = () => Number(/PUT (\d+)\n(?![\s\S]*PUT)/.exec(sim!.output())?.[1] ?? 0);

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build:backend (npm test does)`);
    removeLab(NS);
    buildLab();
    work = mkdtempSync(join(tmpdir(), 'netns-authority-'));
    // What `iw dev wlan0 info` prints on a Pi whose wlan0 is the access point; any other interface is no Wi-Fi.
    mkdirSync(join(work, 'bin'));
    writeFileSync(join(work, 'bin', 'iw'), '#!/bin/sh\nif [ "$1 $2 $4" = "dev wlan0 info" ] || [ "$1 $2 $3" = "dev wlan0 info" ]; then printf "Interface wlan0\\n\\tifindex 2\\n\\ttype AP\\n"; exit 0; fi\necho "command failed: No such device (-19)" >&2\nexit 237\n');
    chmodSync(join(work, 'bin', 'iw'), 0o755);
    sim = await startInNs(NS.pi, [process.execPath, '-r', 'ts-node/register/transpile-only', SIM], { TS_NODE_TRANSPILE_ONLY: 'true' }, /READY (http:\/\/\S+)/);
    simUrl = sim.match[1];
  });

  afterAll(async () => {
    await sim?.stop();
    removeLab(NS);
    if (work) rmSync(work, { recursive: true, force: true });
    const left = run('ip', ['netns', 'list']).split('\n').filter((l) => l.includes(`-${tag}`));
    expect(left).toEqual([]);
  });

  describe.each([
    ['0.0.0.0', { 'IPv4': ['10.231.2.1', '10.231.1.1'] }],
    ['::', { 'IPv4': ['10.231.2.1', '10.231.1.1'], 'IPv6 global': ['fd31:2::1', 'fd31:1::1'], 'IPv6 link-local': ['fe80::1%lan0', 'fe80::1%ph0'] }],
  ] as Array<[string, Record<string, [string, string]>]>)('HOST=%s', (host, families) => {
    let server: Proc | undefined;
    let dataDir: string;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'netns-data-'));
      server = await startInNs(NS.pi, 
        [process.execPath, MAIN],
        {
          PATH: `${join(work, 'bin')}:${process.env.PATH}`,
          HOST: host,
          PORT: String(PORT),
          AP_INTERFACE: 'wlan0',
          AP_SUBNETS: '',
          CLOCK_BACKEND: 'simulated',
          DEMO: 'false',
          // "Booted three days ago": what a LAN client's write would have been copied from.
          SIMULATED_CLOCK_OFFSET_MS: String(-72 * HOUR),
          CAMERA_URL: simUrl,
          CAMERA_DISCOVERY: 'false',
          CAMERA_POLL_INTERVAL: '500',
          CAMERA_SYNC_ON_CONNECT: 'false',
          // Every allowed write reaches the camera (the test counts PUTs), even one within the measured threshold.
          CAMERA_SYNC_THRESHOLD: '0',
          AUTO_SYNC: 'true',
          DATA_DIR: dataDir,
        },
        /Serving the page/,
      );
      // The camera connects; the Pi, with no reliable time, takes the camera's clock. Then nothing moves by itself.
      for (let i = 0; i < 100 && (await piState()).source !== 'camera'; i++) await new Promise((r) => setTimeout(r, 200));
    });

    afterAll(async () => {
      await server?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const lanSteps = (): Step[] => {
      const timestamp = new Date(Date.now() + HOUR).toISOString();
      return [
        { do: 'post', name: 'POST /api/system/time', path: '/api/system/time', body: { timestamp, timezone: 'Asia/Tokyo' } },
        { do: 'post', name: 'POST /api/timesync/camera?confirm=true', path: '/api/timesync/camera?confirm=true' },
        { do: 'post', name: 'POST /api/timesync/use-client-time', path: '/api/timesync/use-client-time' },
        { do: 'ws-open', name: 'WS connect (answers probes, 1 h ahead)', answer: true, offsetMs: HOUR },
        { do: 'ws-send', name: 'WS manual-time-sync', frame: { type: 'manual-time-sync', data: { timestamp, timezone: 'Asia/Tokyo' } }, until: 'manual-result' },
        { do: 'ws-send', name: 'WS sync-camera (confirmed)', frame: { type: 'sync-camera', data: { confirm: true } }, until: 'camera-sync' },
        { do: 'ws-send', name: 'WS use-client-time', frame: { type: 'use-client-time', data: {} }, until: 'pi-sync' },
        { do: 'ws-send', name: 'WS time-sync-response (unasked)', frame: { type: 'time-sync-response', data: { clientTime: Date.now() + HOUR, serverTime: 1, requestId: 'sync-1' } } },
        // With AUTO_SYNC an access-point client is probed at once; this one must never be a source.
        { do: 'sleep', name: 'WS as a time source', ms: 1500 },
      ];
    };

    for (const [family, [lanAddress]] of Object.entries(families)) {
      it(`from the LAN over ${family} (${lanAddress}): every path refused, time, zone, camera and journal unchanged`, async () => {
        const before = await piState();
        const camera = puts();
        const { results, probes } = await client(NS.lan, lanAddress, lanSteps(), { timezone: 'Asia/Tokyo' });
        const byName = Object.fromEntries(results.map((r) => [r.step, r]));
        for (const name of ['POST /api/system/time', 'POST /api/timesync/camera?confirm=true', 'POST /api/timesync/use-client-time']) {
          expect({ name, status: byName[name].status, code: byName[name].body?.code }).toEqual({ name, status: 403, code: 'NOT_ACCESS_POINT_CLIENT' });
        }
        expect(byName['WS connect (answers probes, 1 h ahead)']).toMatchObject({ ok: true, trusted: false });
        for (const name of ['WS manual-time-sync', 'WS sync-camera (confirmed)', 'WS use-client-time', 'WS time-sync-response (unasked)']) {
          expect({ name, error: byName[name].error }).toEqual({ name, error: 'NOT_ACCESS_POINT_CLIENT' });
        }
        expect(probes).toBe(0);
        const after = await piState();
        expect(Math.abs(after.piMinusHostMs - before.piMinusHostMs)).toBeLessThan(1000);
        expect({ zone: after.zone, source: after.source, journal: after.journal, cameraWrites: puts() }).toEqual({ zone: before.zone, source: before.source, journal: before.journal, cameraWrites: camera });
        record({ suite: 'netns', what: `HOST=${host}, from the LAN over ${family}: 3 REST writes, 4 WS writes, WS as a source`, times: 8, outcome: `all refused (403 / NOT_ACCESS_POINT_CLIENT), 0 probes, clock/zone/journal/camera unchanged` });
      });
    }

    let round = 0;
    for (const [family, [, apAddress]] of Object.entries(families)) {
      it(`from the access point over ${family} (${apAddress}): every path works`, async () => {
        const n = round++;
        const rest1 = ((n * 4 + 1) * HOUR) / 4;
        const manual = ((n * 4 + 2) * HOUR) / 4;
        const source = ((n * 4 + 3) * HOUR) / 4;
        const zones = ['Asia/Tokyo', 'America/Los_Angeles', 'Australia/Sydney'];
        const camera = puts();
        const at = (offset: number) => new Date(Date.now() + offset).toISOString();
        const { results } = await client(
          NS.ap,
          apAddress,
          [
            { do: 'ws-open', name: 'WS connect', answer: true, offsetMs: source },
            // Its first burst: a step, or (after an earlier manual set) a decision for the operator.
            { do: 'ws-wait', name: 'first burst', event: 'pi-sync', synchronized: true, decision: true, timeoutMs: 10_000 },
            { do: 'post', name: 'POST /api/system/time', path: '/api/system/time', body: { timestamp: at(rest1), timezone: zones[0] } },
            { do: 'get', name: 'after REST set', path: '/api/timesync/status' },
            { do: 'ws-send', name: 'WS manual-time-sync', frame: { type: 'manual-time-sync', data: { timestamp: at(manual), timezone: zones[1] } }, until: 'manual-result' },
            { do: 'get', name: 'after WS set', path: '/api/timesync/status' },
            { do: 'ws-send', name: 'WS use-client-time', frame: { type: 'use-client-time', data: {} }, until: 'pi-sync', synchronized: true, stepped: true, timeoutMs: 10_000 },
            { do: 'get', name: 'after WS use-client-time', path: '/api/timesync/status' },
            { do: 'post', name: 'POST /api/system/time again', path: '/api/system/time', body: { timestamp: at(rest1), timezone: zones[0] } },
            { do: 'mark' },
            { do: 'post', name: 'POST /api/timesync/use-client-time', path: '/api/timesync/use-client-time' },
            { do: 'ws-wait', name: 'REST use-client-time applied', event: 'pi-sync', synchronized: true, stepped: true, sinceMark: true, timeoutMs: 10_000 },
            { do: 'get', name: 'after REST use-client-time', path: '/api/timesync/status' },
            // Cameras follow every step by themselves; the requests below come after that write.
            { do: 'ws-wait', name: 'camera followed the step', event: 'camera-sync', sinceMark: true, timeoutMs: 10_000 },
            { do: 'ws-send', name: 'WS sync-camera', frame: { type: 'sync-camera', data: {} }, until: 'camera-sync', timeoutMs: 10_000 },
            { do: 'post', name: 'POST /api/timesync/camera', path: '/api/timesync/camera' },
          ],
          { timezone: zones[2] },
        );
        const byName = Object.fromEntries(results.map((r) => [r.step, r]));
        const offsetOf = (r: StepResult) => r.body.pi.epochMs - (r.t0! + r.t1!) / 2;
        expect(byName['WS connect']).toMatchObject({ ok: true, trusted: true });
        expect(byName['POST /api/system/time']).toMatchObject({ status: 200 });
        expect(Math.abs(offsetOf(byName['after REST set']) - rest1)).toBeLessThan(2000);
        expect(byName['after REST set'].body.pi.timezone).toBe(zones[0]);
        expect(byName['WS manual-time-sync']).toMatchObject({ type: 'manual-time-sync-result', data: { success: true } });
        expect(Math.abs(offsetOf(byName['after WS set']) - manual)).toBeLessThan(2000);
        expect(byName['after WS set'].body.pi.timezone).toBe(zones[1]);
        // The page's own time, measured by a fresh burst and stepped to: the WS time-sync answers as a source.
        expect(byName['WS use-client-time']).toMatchObject({ event: 'pi-sync', data: { synchronized: true, source: 'client', stepped: true } });
        expect(Math.abs(offsetOf(byName['after WS use-client-time']) - source)).toBeLessThan(1000);
        expect(byName['after WS use-client-time'].body).toMatchObject({ syncSource: 'client', pi: { timezone: zones[2] } });
        expect(byName['POST /api/timesync/use-client-time']).toMatchObject({ status: 200, body: { accepted: true } });
        expect(byName['REST use-client-time applied']).toMatchObject({ event: 'pi-sync', data: { synchronized: true, stepped: true } });
        expect(Math.abs(offsetOf(byName['after REST use-client-time']) - source)).toBeLessThan(1000);
        expect(byName['camera followed the step']).toMatchObject({ event: 'camera-sync' });
        expect(byName['WS sync-camera']).toMatchObject({ event: 'camera-sync', data: { success: true } });
        expect(byName['POST /api/timesync/camera']).toMatchObject({ status: 200 });
        expect(puts()).toBeGreaterThanOrEqual(camera + 2);
        record({ suite: 'netns', what: `HOST=${host}, from the access point over ${family}: REST and WS manual sets, WS answers as the source, WS and REST use-client-time, WS and REST camera sync`, times: 8, outcome: 'all applied: clock and zone as asked (within 2 s), camera written twice' });
      });
    }
  });
});
