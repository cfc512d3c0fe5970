/**
 * `install.sh --dry-run` with DESTDIR: every file it would install appears under DESTDIR and nowhere else,
 * commands are printed instead of run, and two runs give the same tree byte for byte.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { testBundles, TestBundles, VERSIONS } from './bundles';
import { attempt, describeIf, KIOSK_DIR } from './host-tools';
import { RootSandbox, sandboxMissing } from './sandbox/root-sandbox';

const INSTALL = join(KIOSK_DIR, 'install.sh');

/** path -> "f 644 <sha256>", "d 755", "l -> target" for everything under root. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      const s = lstatSync(path);
      const mode = (s.mode & 0o7777).toString(8);
      if (s.isSymbolicLink()) out[rel] = `l -> ${readlinkSync(path)}`;
      else if (s.isDirectory()) {
        out[rel] = `d ${mode}`;
        walk(path);
      } else out[rel] = `f ${mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    }
  };
  walk(root);
  return out;
}

const ours = (t: Record<string, string>) => Object.fromEntries(Object.entries(t).filter(([p]) => !p.startsWith(`opt/pi-camera-timesync/versions/${VERSIONS.a}/`)));
const filesOnly = (t: Record<string, string>) => Object.keys(t).filter((p) => !t[p].startsWith('d '));

describe('install.sh --dry-run', () => {
  jest.setTimeout(120_000);
  let bundles: TestBundles;
  let work: string;
  let password: string;
  /** The first cage dry run, shared by the tests below (each run unpacks the whole bundle). */
  let first: { dest: string; status: number | null; stdout: string; stderr: string };

  beforeAll(() => {
    bundles = testBundles();
    work = mkdtempSync(join(tmpdir(), 'dry-run-'));
    password = join(work, 'ap-password');
    writeFileSync(password, 'correct horse battery\n');
    // A 2 GB Pi whatever this machine has: Chromium, no zram (browser-choice.kiosk-spec.ts covers small Pis).
    writeFileSync(join(work, 'meminfo'), 'MemTotal:        1894292 kB\n');
    const dest = join(work, 'cage');
    first = { dest, ...dryRun(dest, CAGE()) };
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const CAGE = () => ['--dry-run', bundles.a, '--kiosk=cage', '--rotate=90', '--screen-on=07:00-22:00', '--access-point=TimeSync', `--ap-password-file=${password}`];
  const dryRun = (dest: string, args: string[]) => attempt(INSTALL, args, { env: { ...process.env, DESTDIR: dest, MEMINFO: join(work, 'meminfo') } });

  it('writes exactly the files a cage kiosk with an access point needs, under DESTDIR', () => {
    const { dest, ...r } = first;
    expect(r.stderr).not.toMatch(/install.sh: (?!warning)/);
    expect(r.status).toBe(0);
    const t = tree(dest);
    expect(ours(t)).toEqual({
      etc: 'd 755',
      'etc/NetworkManager': 'd 755',
      'etc/NetworkManager/dnsmasq-shared.d': 'd 755',
      'etc/NetworkManager/dnsmasq-shared.d/pi-camera-timesync.conf': expect.stringMatching(/^f 644 /),
      'etc/NetworkManager/system-connections': 'd 755',
      'etc/NetworkManager/system-connections/pi-camera-timesync-ap.nmconnection': expect.stringMatching(/^f 600 /),
      'etc/default': 'd 755',
      'etc/default/pi-camera-timesync': expect.stringMatching(/^f 644 /),
      'etc/polkit-1': 'd 755',
      'etc/polkit-1/rules.d': 'd 755',
      'etc/polkit-1/rules.d/50-pi-camera-timesync.rules': expect.stringMatching(/^f 644 /),
      'etc/systemd': 'd 755',
      'etc/systemd/system': 'd 755',
      'etc/systemd/system/pi-camera-timesync-kiosk.service': expect.stringMatching(/^f 644 /),
      'etc/systemd/system/pi-camera-timesync.service': expect.stringMatching(/^f 644 /),
      'etc/udev': 'd 755',
      'etc/udev/rules.d': 'd 755',
      'etc/udev/rules.d/60-pi-camera-timesync-kiosk.rules': expect.stringMatching(/^f 644 /),
      opt: 'd 755',
      'opt/pi-camera-timesync': 'd 755',
      'opt/pi-camera-timesync/current': `l -> versions/${VERSIONS.a}`,
      'opt/pi-camera-timesync/install-state': expect.stringMatching(/^f 644 /),
      'opt/pi-camera-timesync/versions': 'd 755',
      [`opt/pi-camera-timesync/versions/${VERSIONS.a}`]: 'd 755',
      var: 'd 755',
      'var/lib': 'd 755',
      'var/lib/pi-camera-timesync': 'd 750',
      'var/lib/timesync-kiosk': 'd 700',
    });
    // The version folder is the bundle, file for file, checksums included.
    const version = join(dest, 'opt/pi-camera-timesync/versions', VERSIONS.a);
    const listed = readFileSync(join(version, 'SHA256SUMS'), 'utf8').trim().split('\n').map((l) => l.slice(66).replace(/^\.\//, ''));
    expect(filesOnly(tree(version)).sort()).toEqual([...listed, 'SHA256SUMS'].sort());
    expect(attempt('sha256sum', ['--quiet', '--strict', '-c', 'SHA256SUMS'], { cwd: version }).status).toBe(0);

    const read = (p: string) => readFileSync(join(dest, p), 'utf8');
    expect(read('etc/NetworkManager/dnsmasq-shared.d/pi-camera-timesync.conf')).toMatch(/^address=\/#\/10\.42\.0\.1$/m);
    const ap = read('etc/NetworkManager/system-connections/pi-camera-timesync-ap.nmconnection');
    for (const line of ['type=wifi', 'interface-name=wlan0', 'mode=ap', 'ssid=TimeSync', 'key-mgmt=wpa-psk', 'psk=correct horse battery', 'method=shared', 'address1=10.42.0.1/24']) {
      expect(ap).toMatch(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm'));
    }
    expect(ap).toMatch(/^uuid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/m);
    expect(read('etc/default/pi-camera-timesync')).toMatch(/^KIOSK_ENGINE=chromium\nKIOSK_ROTATION=90\nKIOSK_SCREEN_ON=07:00-22:00\n$/m);
    expect(read('etc/udev/rules.d/60-pi-camera-timesync-kiosk.rules')).toMatch(/ENV\{ID_INPUT_TOUCHSCREEN\}=="1", ENV\{LIBINPUT_CALIBRATION_MATRIX\}="0 -1 1 1 0 0"/);
    expect(read('etc/systemd/system/pi-camera-timesync.service')).toMatch(/^ExecStart=\/\S*node \/opt\/pi-camera-timesync\/current\/dist\/backend\/main\.js$/m);
    expect(read('etc/systemd/system/pi-camera-timesync-kiosk.service')).toMatch(/^ExecStart=\/opt\/pi-camera-timesync\/current\/kiosk\/start-cage\.sh$/m);
    expect(read('opt/pi-camera-timesync/install-state')).toBe('KIOSK_MODE=cage\n');

    // What it would have run, printed.
    for (const command of [
      /would run: useradd --system .* timesync$/m,
      /would run: useradd --system .* timesync-kiosk$/m,
      /would run: runuser -u timesync -- env -i .* \/opt\/pi-camera-timesync\/versions\/0\.0\.1-test\.a\/dist\/backend\/main\.js$/m,
      /would run: systemctl enable pi-camera-timesync\.service$/m,
      /would run: systemctl restart pi-camera-timesync\.service$/m,
      /would run: systemctl enable pi-camera-timesync-kiosk\.service$/m,
      /would run: udevadm trigger /m,
      /would run: nmcli connection reload$/m,
      /would run: nmcli connection up pi-camera-timesync-ap$/m,
    ]) {
      expect(r.stdout).toMatch(command);
    }
    expect(r.stdout).not.toMatch(/^\s+\+ /m); // nothing actually run
  });

  it('gives the same tree and the same output twice; into the same DESTDIR again, it writes nothing', () => {
    const { dest: one, ...r1 } = first;
    const two = join(work, 'twice-2');
    const r2 = dryRun(two, CAGE());
    expect(r1.status).toBe(0);
    expect(r2.status).toBe(0);
    expect(tree(two)).toEqual(tree(one));
    expect(r2.stdout.split(two).join('<DESTDIR>')).toBe(r1.stdout.split(one).join('<DESTDIR>'));
    const again = dryRun(one, CAGE());
    expect(again.status).toBe(0);
    expect(again.stdout).not.toMatch(/wrote |unpacked/);
    expect(tree(one)).toEqual(tree(two));
  });

  it('on a desktop: a block in the user\'s labwc autostart and environment, no kiosk unit, no kiosk user', () => {
    const dest = join(work, 'desktop');
    const r = dryRun(dest, ['--dry-run', bundles.a, '--kiosk=desktop', '--desktop-user=pi']);
    expect(r.status).toBe(0);
    const t = ours(tree(dest));
    expect(t['home/pi/.config/labwc/autostart']).toMatch(/^f 644 /);
    expect(t['etc/systemd/system/pi-camera-timesync-kiosk.service']).toBeUndefined();
    expect(t['var/lib/timesync-kiosk']).toBeUndefined();
    expect(readFileSync(join(dest, 'home/pi/.config/labwc/autostart'), 'utf8')).toBe(
      '# >>> pi-camera-timesync (kiosk/install.sh; --uninstall removes this block)\n/opt/pi-camera-timesync/current/kiosk/launch-kiosk.sh &\n# <<< pi-camera-timesync\n',
    );
    expect(readFileSync(join(dest, 'home/pi/.config/labwc/environment'), 'utf8')).toMatch(/^XCURSOR_THEME=pi-camera-timesync-hidden$/m);
    expect(r.stdout).not.toMatch(/useradd .*timesync-kiosk/);
    expect(r.stdout).toMatch(/would run: chown pi:\S+ \/home\/pi\/\.config\/labwc\/autostart/);
  });

  it('--uninstall --purge in the same DESTDIR takes every file away again', () => {
    const dest = join(work, 'twice-2');
    expect(filesOnly(tree(dest)).length).toBeGreaterThan(1000);
    const r = dryRun(dest, ['--dry-run', '--uninstall', '--purge']);
    expect(r.status).toBe(0);
    expect(filesOnly(tree(dest))).toEqual([]);
    expect(r.stdout).toMatch(/would run: systemctl daemon-reload$/m);
  });

  it.each([
    [['--dry-run'], {}, /--dry-run needs DESTDIR/],
    [['--no-packages'], { DESTDIR: '/tmp/x' }, /DESTDIR is for --dry-run only/],
    [['--dry-run', '--bogus'], { DESTDIR: '/tmp/x' }, /unknown option: --bogus/],
    [['--dry-run', '--rotate=45'], { DESTDIR: '/tmp/x' }, /--rotate is 0, 90, 180 or 270/],
    [['--dry-run', '--screen-on=25:00-07:00'], { DESTDIR: '/tmp/x' }, /--screen-on is HH:MM-HH:MM/],
    [['--dry-run', '--kiosk=x11'], { DESTDIR: '/tmp/x' }, /--kiosk is auto, cage, desktop or none/],
    [['--dry-run', '--purge'], { DESTDIR: '/tmp/x' }, /--purge goes with --uninstall/],
    [['--dry-run', '--access-point=bad;name'], { DESTDIR: '/tmp/x' }, /an SSID of 1 to 32/],
    [['--dry-run', '--rollback', 'bundle.tar.gz'], { DESTDIR: '/tmp/x' }, /takes no bundle/],
  ])('refuses %p (exit 2, before anything happens)', (args, env, message) => {
    const dest = (env as { DESTDIR?: string }).DESTDIR;
    const r = attempt(INSTALL, args, { env: { ...process.env, DESTDIR: '', ...env } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    if (dest) expect(() => lstatSync(dest)).toThrow();
  });

  it('prints its help', () => {
    const r = attempt(INSTALL, ['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Options:$/m);
    expect(r.stdout).toMatch(/--access-point=SSID/);
  });

  describeIf(sandboxMissing(), 'install.sh --dry-run in a root sandbox', 'run as root')('in a root sandbox', () => {
    it('changes nothing outside DESTDIR: no file, no user, no unit', async () => {
      const sandbox = await RootSandbox.start();
      try {
        sandbox.copyIn(bundles.a, '/tmp/a.tar.gz');
        sandbox.copyIn(password, '/tmp/password');
        const baseline = new Set(sandbox.changes());
        const r = sandbox.exec([INSTALL, '--dry-run', '/tmp/a.tar.gz', '--kiosk=cage', '--rotate=90', '--access-point=TimeSync', '--ap-password-file=/tmp/password'], { env: { DESTDIR: '/tmp/dest' } });
        expect(r.status).toBe(0);
        expect(sandbox.ok(['test', '-f', '/tmp/dest/etc/systemd/system/pi-camera-timesync.service'])).toBe('');
        // /tmp is the sandbox's own tmpfs, so DESTDIR is not among the changes: nothing else may be.
        expect(sandbox.changes().filter((c) => !baseline.has(c))).toEqual([]);
        expect(sandbox.exec(['getent', 'passwd', 'timesync']).status).not.toBe(0);
      } finally {
        await sandbox.stop();
      }
    });
  });
});

