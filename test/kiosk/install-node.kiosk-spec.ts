/**
 * Node.js on a Pi without a new enough one, offline: install.sh says what it needs and why it cannot get it,
 * and leaves nothing half-installed (no apt source of ours, no users, no /opt folder). Runs in the root
 * sandbox (no network: only loopback) with a stand-in `node` that is version 18, as Bookworm's own.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBundles, TestBundles } from './bundles';
import { describeIf, KIOSK_DIR, missing } from './host-tools';
import { RootSandbox, sandboxMissing } from './sandbox/root-sandbox';

const INSTALL = join(KIOSK_DIR, 'install.sh');
const describeSandbox = describeIf([...sandboxMissing(), ...missing(['apt-get'], false)], 'install.sh without Node.js, offline', 'run as root');

/** apt's own caches and lists, which a failed `apt-get update` may touch: not ours. */
const APT_BOOKKEEPING = /^(file|dir|link) \/(var\/lib\/apt\/lists|var\/cache\/apt|var\/cache\/debconf)(\/|$)/;

describeSandbox('install.sh without Node.js 20, offline', () => {
  jest.setTimeout(120_000);
  let sandbox: RootSandbox;
  let bundles: TestBundles;
  let baseline: Set<string>;
  let work: string;

  beforeEach(async () => {
    bundles = testBundles();
    sandbox = await RootSandbox.start();
    work = mkdtempSync(join(tmpdir(), 'old-node-'));
    writeFileSync(join(work, 'node'), '#!/bin/sh\n# Stand-in for Bookworm\'s node 18: fails the version check install.sh makes.\n[ "$1" = --version ] && { echo v18.19.0; exit 0; }\nexit 1\n');
    chmodSync(join(work, 'node'), 0o755);
    expect(sandbox.outside(['mount', '--bind', join(work, 'node'), `${sandbox.root}/usr/bin/node`]).status).toBe(0);
    sandbox.ok(['mkdir', '/tmp/bundles']);
    sandbox.copyIn(bundles.a, '/tmp/bundles/a.tar.gz');
    baseline = new Set(sandbox.changes());
  });

  afterEach(async () => {
    await sandbox?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  const leftovers = () => sandbox.changes().filter((c) => !baseline.has(c) && !APT_BOOKKEEPING.test(c));

  it('Bookworm: adds NodeSource, finds no network, says so, and takes its apt source away again', () => {
    expect(sandbox.ok(['sh', '-c', '. /etc/os-release; echo $VERSION_CODENAME']).trim()).toBe('bookworm');
    const r = sandbox.exec([INSTALL, '/tmp/bundles/a.tar.gz', '--kiosk=none'], { timeoutMs: 90_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/Node\.js 22 from NodeSource/);
    expect(r.stdout).toMatch(/6F71 F525 2828 41EE DAF8 51B4 2F59 B5F9 9B1B E0B4/);
    expect(r.stderr).toMatch(/could not download the package lists \(is the Pi online\?.*Nothing was changed/s);
    for (const path of ['/etc/apt/sources.list.d/pi-camera-timesync-nodesource.list', '/etc/apt/preferences.d/pi-camera-timesync-nodesource', '/usr/share/keyrings/pi-camera-timesync-nodesource.asc']) {
      expect(sandbox.exec(['test', '-e', path]).status).not.toBe(0);
    }
    expect(sandbox.exec(['getent', 'passwd', 'timesync']).status).not.toBe(0);
    expect(leftovers()).toEqual([]);
  });

  it("Trixie: asks Debian for its own nodejs (no NodeSource), and offline stops the same way", () => {
    const osRelease = join(work, 'os-release');
    writeFileSync(osRelease, 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n');
    expect(sandbox.outside(['mount', '--bind', osRelease, `${sandbox.root}/usr/lib/os-release`]).status).toBe(0);
    const r = sandbox.exec([INSTALL, '/tmp/bundles/a.tar.gz', '--kiosk=none'], { timeoutMs: 90_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/installing: nodejs/);
    expect(r.stdout).not.toMatch(/NodeSource/);
    expect(r.stderr).toMatch(/could not download the package lists/);
    expect(leftovers()).toEqual([]);
  });
});
