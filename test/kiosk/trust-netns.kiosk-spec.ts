/**
 * Who may set the clock, on real sockets: the built server runs in a network namespace of its own (the Pi)
 * with HOST=:: and two links, `wlan0` to a phone's namespace and `eth0` to a LAN device's namespace. Both
 * links carry the SAME IPv6 link-local addresses (fe80::1 on the Pi, fe80::2 on the peer), so only the
 * zone Node reports (`fe80::2%wlan0` or `fe80::2%eth0`) tells them apart. The veth `wlan0` is no Wi-Fi
 * device, so its mode comes from a stand-in `iw` on the server's PATH (what `iw dev wlan0 info` prints
 * on a Pi: `type AP` or `type managed`); the last test uses the real `iw`.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandOptions, CommandOutput, CommandRunner } from '../../backend/system-clock/timedatectl-clock';
import { IwModeDetector } from '../../backend/access/access-point';
import { attempt, describeIf, missing, quietly, REPO, run } from './host-tools';

const MAIN = join(REPO, 'dist', 'backend', 'main.js');
const lacking = missing(['ip', 'curl', 'iw'], true);
const describeNetns = describeIf(lacking, 'Trust on real sockets in network namespaces', 'run as root; Debian: apt-get install iproute2 curl iw');

const tag = `${process.pid % 100000}`;
const NS = { pi: `tsk-pi-${tag}`, phone: `tsk-phone-${tag}`, lan: `tsk-lan-${tag}` };
const PORT = 8080;

function ns(name: string, ...args: string[]): string {
  return run('ip', ['netns', 'exec', name, ...args]);
}

function buildLab(): void {
  for (const name of Object.values(NS)) run('ip', ['netns', 'add', name]);
  run('ip', ['link', 'add', `tskw${tag}`, 'netns', NS.pi, 'type', 'veth', 'peer', 'name', 'ph0', 'netns', NS.phone]);
  run('ip', ['link', 'add', `tske${tag}`, 'netns', NS.pi, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', NS.lan]);
  ns(NS.pi, 'ip', 'link', 'set', `tskw${tag}`, 'name', 'wlan0');
  ns(NS.pi, 'ip', 'link', 'set', `tske${tag}`, 'name', 'eth0');
  const address = (name: string, dev: string, v4: string, ll: string) => {
    // No kernel-made link-local addresses: exactly the ones below, usable at once (nodad).
    ns(name, 'sysctl', '-q', '-w', `net.ipv6.conf.${dev}.addr_gen_mode=1`);
    ns(name, 'ip', 'addr', 'add', v4, 'dev', dev);
    ns(name, 'ip', '-6', 'addr', 'add', ll, 'dev', dev, 'nodad');
    ns(name, 'ip', 'link', 'set', dev, 'up');
    ns(name, 'ip', 'link', 'set', 'lo', 'up');
  };
  address(NS.pi, 'wlan0', '10.42.0.1/24', 'fe80::1/64');
  address(NS.pi, 'eth0', '192.168.50.1/24', 'fe80::1/64');
  address(NS.phone, 'ph0', '10.42.0.2/24', 'fe80::2/64');
  address(NS.lan, 'lan0', '192.168.50.2/24', 'fe80::2/64');
}

function removeLab(): void {
  for (const name of Object.values(NS)) quietly('ip', ['netns', 'del', name]);
}

interface Server {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

async function startServer(path: string, dataDir: string): Promise<Server> {
  const env = { PATH: path, HOST: '::', PORT: String(PORT), CLOCK_BACKEND: 'simulated', DEMO: 'false', AP_INTERFACE: 'wlan0', CAMERA_DISCOVERY: 'false', DATA_DIR: dataDir, AUTO_SYNC: 'false' };
  const child = spawn('ip', ['netns', 'exec', NS.pi, 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, MAIN], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    const check = setInterval(() => {
      if (/Serving the page/.test(out)) {
        clearTimeout(timer);
        clearInterval(check);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(check);
      reject(new Error(`server exited with ${code}: ${out}`));
    });
  });
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** GET /api/timesync/status from a namespace; `canSetTime` is the server's verdict on the caller's address. */
function canSetTime(from: string, url: string): boolean {
  const body = ns(from, 'curl', '-sS', '-g', '--max-time', '5', url);
  const status = JSON.parse(body) as { canSetTime?: boolean };
  if (typeof status.canSetTime !== 'boolean') throw new Error(`no canSetTime in ${body}`);
  return status.canSetTime;
}

const STATUS = '/api/timesync/status';
const URLS = {
  phoneV4: `http://10.42.0.1:${PORT}${STATUS}`,
  phoneLinkLocal: `http://[fe80::1%25ph0]:${PORT}${STATUS}`,
  lanV4: `http://192.168.50.1:${PORT}${STATUS}`,
  lanLinkLocal: `http://[fe80::1%25lan0]:${PORT}${STATUS}`,
};

describeNetns('Trust on real sockets in network namespaces (server with HOST=::)', () => {
  jest.setTimeout(60_000);
  let work: string;
  let server: Server | undefined;

  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first`);
    removeLab();
    buildLab();
    work = mkdtempSync(join(tmpdir(), 'trust-netns-'));
    // What `iw dev <if> info` prints on a Pi, for the type written in <work>/iw-type/<if>; else what iw says
    // for a device that is not wireless.
    mkdirSync(join(work, 'bin'));
    mkdirSync(join(work, 'iw-type'));
    writeFileSync(
      join(work, 'bin', 'iw'),
      `#!/bin/sh\nf="${work}/iw-type/$2"\nif [ "$1 $3" = "dev info" ] && [ -f "$f" ]; then printf 'Interface %s\\n\\tifindex 3\\n\\ttype %s\\n\\twiphy 0\\n' "$2" "$(cat "$f")"; exit 0; fi\necho 'command failed: No such device (-19)' >&2; exit 237\n`,
    );
    chmodSync(join(work, 'bin', 'iw'), 0o755);
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  afterAll(() => {
    removeLab();
    if (work) rmSync(work, { recursive: true, force: true });
    // Nothing of ours is left in the machine's list of namespaces.
    expect(run('ip', ['netns', 'list'])).not.toMatch(new RegExp(`tsk-\\w+-${tag}\\b`));
  });

  const fakePath = () => `${join(work, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`;
  const setType = (type: string | null) => {
    const file = join(work, 'iw-type', 'wlan0');
    if (type === null) rmSync(file, { force: true });
    else writeFileSync(file, type);
  };

  it('wlan0 in AP mode: the phone is trusted over IPv4 and over link-local; the LAN device on eth0 is not, even with the same link-local address', async () => {
    setType('AP');
    server = await startServer(fakePath(), join(work, 'data-ap'));
    expect(canSetTime(NS.phone, URLS.phoneV4)).toBe(true);
    expect(canSetTime(NS.phone, URLS.phoneLinkLocal)).toBe(true);
    expect(canSetTime(NS.lan, URLS.lanV4)).toBe(false);
    expect(canSetTime(NS.lan, URLS.lanLinkLocal)).toBe(false);
    // And the refusal is enforced, not only reported: a manual set from fe80::2%eth0 is a 403.
    const body = JSON.stringify({ timestamp: new Date(Date.now() + 3_600_000).toISOString() });
    const answer = attempt('ip', ['netns', 'exec', NS.lan, 'curl', '-sS', '-g', '--max-time', '5', '-H', 'content-type: application/json', '-d', body, `http://[fe80::1%25lan0]:${PORT}/api/system/time`]);
    expect(JSON.parse(answer.stdout)).toMatchObject({ statusCode: 403, code: 'NOT_ACCESS_POINT_CLIENT' });
    expect(server.output()).toMatch(/wlan0 is an access point/);
  });

  it('wlan0 as a Wi-Fi client (type managed): nobody on it is trusted; when it turns into an access point, the phone is, within seconds', async () => {
    setType('managed');
    server = await startServer(fakePath(), join(work, 'data-client'));
    expect(canSetTime(NS.phone, URLS.phoneV4)).toBe(false);
    expect(canSetTime(NS.phone, URLS.phoneLinkLocal)).toBe(false);
    expect(server.output()).toMatch(/wlan0 is a Wi-Fi client of another network/);
    setType('AP');
    await until(() => canSetTime(NS.phone, URLS.phoneV4), 8000);
    expect(canSetTime(NS.phone, URLS.phoneLinkLocal)).toBe(true);
    setType('managed');
    await until(() => !canSetTime(NS.phone, URLS.phoneV4), 8000);
  });

  it('with the real iw, a wlan0 that is no Wi-Fi device is not an access point: nobody is trusted', async () => {
    server = await startServer('/usr/sbin:/usr/bin:/sbin:/bin', join(work, 'data-real'));
    expect(canSetTime(NS.phone, URLS.phoneV4)).toBe(false);
    expect(canSetTime(NS.phone, URLS.phoneLinkLocal)).toBe(false);
    expect(server.output()).toMatch(/wlan0 is not a Wi-Fi interface/);
  });

  it('IwModeDetector with the real iw inside the namespace: the veth is not wireless, nor is a missing interface', async () => {
    class InNamespace extends CommandRunner {
      override run(file: string, args: readonly string[], options?: CommandOptions): Promise<CommandOutput> {
        return super.run('ip', ['netns', 'exec', NS.pi, file, ...args], options);
      }
    }
    const detector = new IwModeDetector(new InNamespace());
    expect(await detector.mode('wlan0')).toBe('not-wireless');
    expect(await detector.mode('wlan9')).toBe('not-wireless');
  });
});

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (predicate()) return;
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
