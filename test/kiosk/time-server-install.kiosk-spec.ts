/**
 * `kiosk/install.sh --time-server` (a leader) and `--follow=ADDRESS` (a follower): chrony from the distribution,
 * this product's conf.d snippet (its feed, the leader, the access point's subnet, the local stratum), the drop-in
 * that lets the service user use chronyd's command socket, a first drift file, and the settings. Dry run (every file
 * under DESTDIR, commands printed), reruns that change nothing, switching, `--no-time-server` and `--uninstall`
 * taking it all off; then the same for real in the root sandbox (chrony itself is never started there: the sandbox
 * shares this machine's clock, and test/kiosk/sandbox/fake-systemctl.sh only records it).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBundles, TestBundles } from './bundles';
import { attempt, describeIf, KIOSK_DIR } from './host-tools';
import { RootSandbox, sandboxMissing } from './sandbox/root-sandbox';

const INSTALL = join(KIOSK_DIR, 'install.sh');
const CONF = 'etc/chrony/conf.d/pi-camera-timesync.conf';
const DROPIN = 'etc/systemd/system/chrony.service.d/pi-camera-timesync.conf';
const DRIFT = 'var/lib/chrony/chrony.drift';
const SETTINGS = 'etc/default/pi-camera-timesync';
const STATE = 'opt/pi-camera-timesync/install-state';

describe('install.sh --time-server / --follow', () => {
  jest.setTimeout(180_000);
  let bundles: TestBundles;
  let work: string;

  beforeAll(() => {
    bundles = testBundles();
    work = mkdtempSync(join(tmpdir(), 'time-server-install-'));
    writeFileSync(join(work, 'meminfo'), 'MemTotal:        1894292 kB\n');
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const dryRun = (dest: string, args: string[]) => attempt(INSTALL, ['--dry-run', ...args], { env: { ...process.env, DESTDIR: dest, MEMINFO: join(work, 'meminfo') } });
  const read = (dest: string, path: string) => readFileSync(join(dest, path), 'utf8');

  it('--dry-run --time-server: the snippet, the drop-in, a first drift file and the settings under DESTDIR; the commands printed', () => {
    const dest = join(work, 'leader');
    const r = dryRun(dest, [bundles.a, '--kiosk=none', '--time-server', '--ap-address=10.43.7.1/24']);
    expect(r.stderr).not.toMatch(/install.sh: (?!warning)/);
    expect(r.status).toBe(0);
    expect(read(dest, CONF).split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['server 127.0.0.1 port 10123 minpoll 0 maxpoll 0 iburst', 'allow 10.43.7.0/24', 'local stratum 10']);
    expect(read(dest, DROPIN)).toMatch(/^\[Service\]\nRuntimeDirectoryMode=2770\nUMask=0002\n$/m);
    expect(read(dest, DRIFT)).toBe('0.000 50.000\n');
    expect(read(dest, SETTINGS)).toMatch(/^TIME_SERVER=chrony$/m);
    expect(read(dest, SETTINGS)).not.toMatch(/^NTP_FOLLOW=/m);
    expect(read(dest, STATE)).toMatch(/^TIME_SERVER=leader$/m);
    for (const command of [/would run: usermod -a -G _chrony timesync$/m, /would run: chown _chrony:_chrony \/var\/lib\/chrony\/chrony\.drift$/m, /would run: systemctl restart chrony\.service$/m]) expect(r.stdout).toMatch(command);
    expect(r.stdout).not.toMatch(/^\s+\+ /m);

    // Again into the same DESTDIR: nothing written, chrony not restarted.
    const again = dryRun(dest, [bundles.a, '--kiosk=none', '--time-server', '--ap-address=10.43.7.1/24']);
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/wrote |unpacked|systemctl (restart|stop) chrony/);
  });

  it('--follow=ADDRESS adds the leader (preferred); a rerun without options keeps following; --no-time-server takes it off, chrony\'s drift file stays', () => {
    const dest = join(work, 'follower');
    const r = dryRun(dest, [bundles.a, '--kiosk=none', '--follow=10.42.0.1']);
    expect(r.status).toBe(0);
    expect(read(dest, CONF).split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([
      'server 127.0.0.1 port 10123 minpoll 0 maxpoll 0 iburst',
      'server 10.42.0.1 iburst minpoll 0 maxpoll 4 prefer',
      'allow 10.42.0.0/24',
      'local stratum 10',
    ]);
    expect(read(dest, SETTINGS)).toMatch(/^TIME_SERVER=chrony\nNTP_FOLLOW=10\.42\.0\.1$/m);
    expect(read(dest, STATE)).toMatch(/^TIME_SERVER=follow:10\.42\.0\.1$/m);

    const kept = dryRun(dest, [bundles.a]);
    expect(kept.status).toBe(0);
    expect(kept.stdout).toMatch(/Time server: chrony, following 10\.42\.0\.1/);
    expect(kept.stdout).not.toMatch(/wrote /);

    const leader = dryRun(dest, [bundles.a, '--time-server']);
    expect(leader.status).toBe(0);
    expect(read(dest, CONF)).not.toMatch(/10\.42\.0\.1 iburst/);
    expect(read(dest, SETTINGS)).not.toMatch(/^NTP_FOLLOW=/m);

    const off = dryRun(dest, [bundles.a, '--no-time-server']);
    expect(off.status).toBe(0);
    expect(existsSync(join(dest, CONF))).toBe(false);
    expect(existsSync(join(dest, DROPIN))).toBe(false);
    expect(read(dest, SETTINGS)).not.toMatch(/^TIME_SERVER=/m);
    expect(read(dest, STATE)).not.toMatch(/TIME_SERVER/);
    expect(read(dest, DRIFT)).toBe('0.000 50.000\n');
    expect(off.stdout).toMatch(/chrony's configuration taken off/);
  });

  it('--uninstall takes the time server off with the rest; without the option an install adds no chrony', () => {
    const dest = join(work, 'gone');
    expect(dryRun(dest, [bundles.a, '--kiosk=none', '--follow=leader-pi.local']).status).toBe(0);
    const r = dryRun(dest, ['--uninstall', '--purge']);
    expect(r.status).toBe(0);
    expect(existsSync(join(dest, CONF))).toBe(false);
    expect(existsSync(join(dest, DROPIN))).toBe(false);
    expect(r.stdout).toMatch(/left installed: Debian packages \(.*chrony/);

    const plain = join(work, 'plain');
    expect(dryRun(plain, [bundles.a, '--kiosk=none']).status).toBe(0);
    expect(existsSync(join(plain, CONF))).toBe(false);
    expect(read(plain, SETTINGS)).not.toMatch(/TIME_SERVER/);
  });

  it.each([
    [['--follow=x;rm -rf /'], /--follow is one host name or IP address/],
    [['--follow'], /--follow needs a value/],
    [['--uninstall', '--time-server'], /--uninstall takes no bundle and no install options/],
  ])('refuses %p (exit 2, before anything happens)', (args, message) => {
    const r = attempt(INSTALL, ['--dry-run', ...args], { env: { ...process.env, DESTDIR: join(work, 'refused') } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  describeIf(sandboxMissing(), 'install.sh --time-server in a root sandbox', 'run as root')('for real, in a root sandbox', () => {
    it('installs it (the service user joins _chrony, the service runs with TIME_SERVER=chrony), a rerun changes nothing, --uninstall takes it off', async () => {
      const sandbox = await RootSandbox.start();
      try {
        const bundle = '/tmp/a.tar.gz';
        sandbox.copyIn(bundles.a, bundle);
        const install = (...args: string[]) => sandbox.exec([INSTALL, ...args], { env: { HEALTH_TIMEOUT: '60' } });
        const first = install(bundle, '--kiosk=none', '--no-packages', '--yes', '--time-server');
        expect(first.stderr).not.toMatch(/did not pass|failed/);
        expect(first.status).toBe(0);
        expect(sandbox.ok(['cat', `/${CONF}`])).toMatch(/^server 127\.0\.0\.1 port 10123 minpoll 0 maxpoll 0 iburst$/m);
        expect(sandbox.ok(['id', '-nG', 'timesync']).split(/\s+/)).toContain('_chrony');
        expect(sandbox.ok(['stat', '-c', '%U:%G %a', `/${DRIFT}`]).trim()).toBe('_chrony:_chrony 644');
        // The service was started with the settings: its status has the time server (chronyd is not running here).
        const status = JSON.parse(sandbox.ok(['curl', '-sS', '--max-time', '5', 'http://127.0.0.1/api/timesync/status'])) as { timeServer?: { engine: string; state: string } };
        expect(status.timeServer).toMatchObject({ engine: 'chrony', state: 'down' });
        expect(sandbox.ok(['cat', '/run/fake-systemd/calls.log'])).toMatch(/^restart chrony\.service$/m);

        sandbox.ok(['sh', '-c', ': >/run/fake-systemd/calls.log']);
        const again = install(bundle, '--no-packages');
        expect(again.status).toBe(0);
        expect(again.stdout).not.toMatch(/wrote | \+ /);
        expect(sandbox.ok(['cat', '/run/fake-systemd/calls.log']).split('\n').filter((c) => c && !c.startsWith('is-active'))).toEqual([]);

        const gone = sandbox.exec([INSTALL, '--uninstall', '--purge']);
        expect(gone.status).toBe(0);
        for (const path of [CONF, DROPIN]) expect(sandbox.exec(['test', '-e', `/${path}`]).status).not.toBe(0);
        expect(sandbox.exec(['getent', 'passwd', 'timesync']).status).not.toBe(0);
      } finally {
        await sandbox.stop();
      }
    });
  });
});
