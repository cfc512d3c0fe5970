/**
 * install.sh picks the screen's browser by the Pi's memory (MEMINFO: a faked /proc/meminfo), in dry runs:
 * Chromium at 1 GB and more; under 1 GB cog where the package lists have it, else Chromium with low-memory
 * flags; zram under 1 GB from whichever zram package there is; `--browser=` overrides and is remembered.
 * What the package lists hold is faked with `apt-cache`/`dpkg-query` stand-ins first on PATH (every other
 * question goes to the real tools).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBundles, TestBundles } from './bundles';
import { attempt, KIOSK_DIR } from './host-tools';

const INSTALL = join(KIOSK_DIR, 'install.sh');
const SETTINGS = 'etc/default/pi-camera-timesync';
const ZRAM = 'etc/systemd/zram-generator.conf.d/50-pi-camera-timesync.conf';

/** A Pi Zero 2 W's MemTotal (512 MB board) and a Pi 4's with 2 GB, as /proc/meminfo says them. */
const ZERO_2_W = 'MemTotal:         438176 kB\nMemFree:          301012 kB\n';
const PI_4_2GB = 'MemTotal:        1894292 kB\nMemFree:         1501012 kB\n';

describe('install.sh chooses the browser by memory', () => {
  jest.setTimeout(180_000);
  let bundles: TestBundles;
  let work: string;
  let shims: string;
  let n = 0;

  beforeAll(() => {
    bundles = testBundles();
    work = mkdtempSync(join(tmpdir(), 'browser-choice-'));
    shims = join(work, 'bin');
    mkdirSync(shims);
    // FAKE_MISSING: packages neither installed nor in the lists; FAKE_AVAILABLE: in the lists, not installed.
    writeFileSync(
      join(shims, 'apt-cache'),
      `#!/bin/sh
if [ "$1" = policy ]; then
  for p in $FAKE_MISSING; do [ "$2" = "$p" ] && { printf '%s:\\n  Installed: (none)\\n  Candidate: (none)\\n' "$2"; exit 0; }; done
  for p in $FAKE_AVAILABLE; do [ "$2" = "$p" ] && { printf '%s:\\n  Installed: (none)\\n  Candidate: 1.0-1\\n' "$2"; exit 0; }; done
fi
exec /usr/bin/apt-cache "$@"
`,
    );
    writeFileSync(join(shims, 'dpkg-query'), `#!/bin/sh\nfor last in "$@"; do :; done\nfor p in $FAKE_MISSING $FAKE_AVAILABLE; do [ "$last" = "$p" ] && exit 1; done\nexec /usr/bin/dpkg-query "$@"\n`);
    for (const f of ['apt-cache', 'dpkg-query']) chmodSync(join(shims, f), 0o755);
    writeFileSync(join(work, 'zero2w'), ZERO_2_W);
    writeFileSync(join(work, 'pi4'), PI_4_2GB);
  });

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function dryRun(memory: 'zero2w' | 'pi4', args: string[], fake: { missing?: string[]; available?: string[] }, dest = join(work, `run-${++n}`)) {
    const r = attempt(INSTALL, ['--dry-run', bundles.a, '--kiosk=cage', ...args], {
      env: { ...process.env, PATH: `${shims}:${process.env.PATH}`, DESTDIR: dest, MEMINFO: join(work, memory), FAKE_MISSING: (fake.missing ?? []).join(' '), FAKE_AVAILABLE: (fake.available ?? []).join(' ') },
      timeoutMs: 120_000,
    });
    const read = (p: string) => (existsSync(join(dest, p)) ? readFileSync(join(dest, p), 'utf8') : undefined);
    const setting = (name: string) => read(SETTINGS)?.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
    const installs = r.stdout.match(/would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends (.*)$/m)?.[1].split(' ') ?? [];
    return { ...r, dest, read, setting, installs };
  }

  it('2 GB: Chromium with its default flags, no zram', () => {
    const r = dryRun('pi4', [], { available: ['cog', 'systemd-zram-generator', 'zram-tools'] });
    expect(r.stderr).not.toMatch(/install.sh: (?!warning)/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/browser: chromium \(chosen by memory: 1849 MiB/);
    expect(r.setting('KIOSK_ENGINE')).toBe('chromium');
    expect(r.setting('KIOSK_MEMORY_FLAGS')).toBeUndefined();
    expect(r.read(ZRAM)).toBeUndefined();
    expect(r.installs).not.toContain('cog');
    expect(r.installs.filter((p) => /zram/.test(p))).toEqual([]);
    expect(r.stdout).not.toMatch(/zram/);
    expect(r.read('opt/pi-camera-timesync/install-state')).toBe('KIOSK_MODE=cage\n');
  });

  it('512 MB with cog in the lists: cog (no cage), and zram from systemd-zram-generator', () => {
    const r = dryRun('zero2w', [], { available: ['cog', 'systemd-zram-generator', 'zram-tools', 'cage'] });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/browser: cog \(chosen by memory: 427 MiB, under 1 GB/);
    expect(r.setting('KIOSK_ENGINE')).toBe('cog');
    expect(r.setting('KIOSK_MEMORY_FLAGS')).toBeUndefined();
    expect(r.installs).toEqual(expect.arrayContaining(['cog', 'systemd-zram-generator']));
    expect(r.installs).not.toContain('cage'); // cog draws through DRM itself
    expect(r.installs).not.toContain('zram-tools');
    expect(r.read(ZRAM)).toMatch(/^\[zram0\]\nzram-size = ram \/ 2\ncompression-algorithm = zstd\n/m);
    expect(r.stdout).toMatch(/would run: systemctl start dev-zram0\.swap$/m);
    // The unit starts the launcher either way; start-cage.sh skips cage for cog on DRM.
    expect(r.read('etc/systemd/system/pi-camera-timesync-kiosk.service')).toMatch(/^ExecStart=\/opt\/pi-camera-timesync\/current\/kiosk\/start-cage\.sh$/m);
  });

  it('512 MB without cog: Chromium with low-memory flags, and zram from zram-tools when that is what there is', () => {
    const r = dryRun('zero2w', [], { missing: ['cog', 'systemd-zram-generator'], available: ['zram-tools'] });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/browser: chromium \(chosen by memory: 427 MiB, under 1 GB; no cog package here: Chromium with low-memory flags/);
    expect(r.setting('KIOSK_ENGINE')).toBe('chromium');
    const flags = r.setting('KIOSK_MEMORY_FLAGS')!.split(' ');
    expect(flags).toEqual(expect.arrayContaining(['--renderer-process-limit=1', '--no-memcheck', '--in-process-gpu']));
    expect(flags.find((f) => f.startsWith('--js-flags='))).toMatch(/^--js-flags=--max-old-space-size=\d+$/);
    expect(flags.find((f) => f.startsWith('--disable-features='))).toMatch(/site-per-process/);
    expect(r.installs).toContain('zram-tools');
    expect(r.installs).not.toContain('cog');
    expect(r.read(ZRAM)).toBeUndefined();
    expect(r.stdout).toMatch(/would run: systemctl enable --now zramswap\.service$/m);
  });

  it('512 MB with no zram package at all: says so, and goes on', () => {
    const r = dryRun('zero2w', [], { missing: ['cog', 'systemd-zram-generator', 'zram-tools'] });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: neither systemd-zram-generator nor zram-tools is in the package lists/);
    expect(r.setting('KIOSK_MEMORY_FLAGS')).toMatch(/--renderer-process-limit=1/);
  });

  it('--browser= overrides the memory, is remembered by the next run, and --browser=auto forgets it', () => {
    const dest = join(work, 'override');
    const fake = { available: ['cog', 'systemd-zram-generator'] };
    const cog = dryRun('pi4', ['--browser=cog'], fake, dest);
    expect(cog.status).toBe(0);
    expect(cog.stdout).toMatch(/browser: cog \(--browser=cog; 1849 MiB\)/);
    expect(cog.setting('KIOSK_ENGINE')).toBe('cog');
    expect(cog.read('opt/pi-camera-timesync/install-state')).toBe('KIOSK_MODE=cage\nBROWSER=cog\n');
    expect(cog.read(ZRAM)).toBeUndefined(); // 2 GB: no zram, whatever the browser

    const again = dryRun('pi4', [], fake, dest);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/browser: cog \(--browser=cog;/);
    expect(again.stdout).not.toMatch(/wrote \/etc\/default\/pi-camera-timesync/); // nothing changed

    const auto = dryRun('pi4', ['--browser=auto'], fake, dest);
    expect(auto.status).toBe(0);
    expect(auto.setting('KIOSK_ENGINE')).toBe('chromium');
    expect(auto.read('opt/pi-camera-timesync/install-state')).toBe('KIOSK_MODE=cage\n');

    // Chromium chosen on a small Pi still gets the low-memory flags; back to 2 GB they go again.
    const small = dryRun('zero2w', ['--browser=chromium'], fake, dest);
    expect(small.status).toBe(0);
    expect(small.setting('KIOSK_ENGINE')).toBe('chromium');
    expect(small.setting('KIOSK_MEMORY_FLAGS')).toMatch(/--renderer-process-limit=1/);
    const big = dryRun('pi4', ['--browser=chromium'], fake, dest);
    expect(big.setting('KIOSK_MEMORY_FLAGS')).toBeUndefined();
  });

  it('refuses --browser=cog where the distribution has no cog (exit 1, nothing written)', () => {
    const r = dryRun('zero2w', ['--browser=cog'], { missing: ['cog'] });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--browser=cog: this distribution has no 'cog' package/);
    expect(r.read(SETTINGS)).toBeUndefined();
  });

  it('refuses an unknown browser (exit 2) and a meminfo without MemTotal (exit 1)', () => {
    const bad = attempt(INSTALL, ['--dry-run', '--browser=firefox'], { env: { ...process.env, DESTDIR: join(work, 'bad') } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--browser is auto, chromium or cog, not 'firefox'/);
    writeFileSync(join(work, 'empty'), 'MemFree: 1 kB\n');
    const r = attempt(INSTALL, ['--dry-run', bundles.a, '--kiosk=cage'], { env: { ...process.env, DESTDIR: join(work, 'nomem'), MEMINFO: join(work, 'empty') }, timeoutMs: 120_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot read MemTotal from .*empty/);
  });
});
