/**
 * The screen's scripts with stand-ins for what needs a seat: kiosk-lib.sh's decisions (in dash and bash),
 * start-cage.sh's cage command line, the hidden-cursor theme read by the real libXcursor, and
 * launch-kiosk.sh's fallback page, shown in real headless Chromium and turning into the app by itself.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CHROMIUM, openBrowser } from '../browser/browser';
import { describeIf, KIOSK_DIR, missing } from './host-tools';

const LIB = join(KIOSK_DIR, 'kiosk-lib.sh');

function lib(shell: string, call: string): { status: number | null; out: string } {
  const r = spawnSync(shell, ['-c', `. "${LIB}"; ${call}`], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim() };
}

describe.each(['sh', 'bash'])('kiosk-lib.sh in %s', (shell) => {
  it.each([
    ['0', '0'],
    ['', '0'],
    ['90', '90'],
    ['180', '180'],
    ['270', '270'],
    ['45', '0'],
    ['-90', '0'],
    ['90; reboot', '0'],
  ])('kiosk_rotation %p is %s', (value, expected) => {
    expect(lib(shell, `kiosk_rotation '${value}' 2>/dev/null`).out).toBe(expected);
  });

  it.each([
    ['Cage version 0.1.4', 0],
    ['Cage version 0.1.5', 0],
    ['Cage version 0.2.0', 1],
    ['Cage version 0.3.1', 1],
    ['', 1],
  ])('cage_has_rotate_flag for %p: %s', (version, status) => {
    expect(lib(shell, `cage_has_rotate_flag '${version}'`).status).toBe(status);
  });

  // A point of the panel, in the panel's own 0..1 coordinates, seen by someone in front of a panel turned
  // `turn` degrees clockwise, in 0..1 coordinates of what they see: the picture, upright.
  const seen = (turn: number, [x, y]: [number, number]): [number, number] =>
    turn === 90 ? [1 - y, x] : turn === 180 ? [1 - x, 1 - y] : turn === 270 ? [y, 1 - x] : [x, y];

  it.each([0, 90, 180, 270])('touch_matrix %i maps a touch on the panel to the point of the upright picture under the finger', (turn) => {
    const [a, b, c, d, e, f] = lib(shell, `touch_matrix ${turn}`).out.split(' ').map(Number);
    for (const point of [[0, 0], [1, 0], [0, 1], [1, 1], [0.25, 0.75], [0.9, 0.1]] as Array<[number, number]>) {
      const [x, y] = point;
      expect([a * x + b * y + c, d * x + e * y + f]).toEqual(seen(turn, point));
    }
  });

  it.each([
    ['06:59', '07:00-22:00', 1],
    ['07:00', '07:00-22:00', 0],
    ['21:59', '07:00-22:00', 0],
    ['22:00', '07:00-22:00', 1],
    ['23:30', '22:00-06:00', 0],
    ['03:00', '22:00-06:00', 0],
    ['12:00', '22:00-06:00', 1],
    ['12:00', '', 0],
    ['12:00', 'nonsense', 0],
    ['12:00', '25:00-07:00', 0],
  ])('at %s with KIOSK_SCREEN_ON=%p the screen is on: %s (0 = yes)', (now, schedule, status) => {
    expect(lib(shell, `screen_should_be_on '${now}' '${schedule}'`).status).toBe(status);
  });

  it('escapes HTML and reads settings as systemd does', () => {
    expect(lib(shell, `html_escape 'PORT="eighty" <b> & more'`).out).toBe('PORT=&quot;eighty&quot; &lt;b&gt; &amp; more');
    const dir = mkdtempSync(join(tmpdir(), 'settings-'));
    const file = join(dir, 'settings');
    writeFileSync(file, '# KIOSK_ROTATION=180\nKIOSK_ROTATION=90\nPORT="8080"\nKIOSK_EXTRA_FLAGS=--a --b\nKIOSK_ROTATION=270\n');
    expect(lib(shell, `setting_of '${file}' KIOSK_ROTATION`).out).toBe('270');
    expect(lib(shell, `setting_of '${file}' PORT`).out).toBe('8080');
    expect(lib(shell, `setting_of '${file}' KIOSK_EXTRA_FLAGS`).out).toBe('--a --b');
    expect(lib(shell, `setting_of '${file}' CAMERA_URL`).out).toBe('');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('start-cage.sh', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'start-cage-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs start-cage.sh with a stand-in cage of the given version; returns its arguments and the cursor/rotation environment. */
  function startCage(version: string, env: Record<string, string>): { args: string[]; env: Record<string, string> } {
    const cage = join(dir, `cage-${version}`);
    writeFileSync(
      cage,
      `#!/bin/sh\nif [ "$1" = -v ]; then echo "Cage version ${version}"; exit 0; fi\nprintf '%s\\n' "$@" >"${dir}/args"\nenv | grep -E '^(XCURSOR_|KIOSK_ROTATED)' | sort >"${dir}/env"\n`,
    );
    chmodSync(cage, 0o755);
    const r = spawnSync('sh', [join(KIOSK_DIR, 'start-cage.sh')], { encoding: 'utf8', env: { PATH: process.env.PATH, KIOSK_CAGE: cage, ...env } });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const vars = Object.fromEntries(readFileSync(join(dir, 'env'), 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split('=', 2) as [string, string]));
    return { args: readFileSync(join(dir, 'args'), 'utf8').trim().split('\n'), env: vars };
  }

  it('cage 0.1 (Bookworm) rotates itself: one -r per 90 degrees, and tells the launcher', () => {
    const r = startCage('0.1.4', { KIOSK_ROTATION: '270' });
    expect(r.args).toEqual(['-s', '-r', '-r', '-r', '--', join(KIOSK_DIR, 'launch-kiosk.sh')]);
    expect(r.env.KIOSK_ROTATED_BY_CAGE).toBe('1');
  });

  it('cage 0.2 (Trixie) has no -r: the launcher rotates with wlr-randr', () => {
    const r = startCage('0.2.0', { KIOSK_ROTATION: '90' });
    expect(r.args).toEqual(['-s', '--', join(KIOSK_DIR, 'launch-kiosk.sh')]);
    expect(r.env.KIOSK_ROTATED_BY_CAGE).toBeUndefined();
  });

  it('hides the cursor with the transparent theme unless KIOSK_CURSOR=shown', () => {
    expect(startCage('0.2.0', {}).env).toEqual({ XCURSOR_PATH: join(KIOSK_DIR, 'cursor-theme'), XCURSOR_THEME: 'pi-camera-timesync-hidden' });
    expect(startCage('0.2.0', { KIOSK_CURSOR: 'shown' }).env).toEqual({});
  });
});

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasXcursor = spawnSync(python, ['-c', 'import ctypes; ctypes.CDLL("libXcursor.so.1")']).status === 0;

describeIf(hasXcursor ? [] : ['libXcursor.so.1 (Debian: libxcursor1)'], 'the hidden-cursor theme', 'apt-get install libxcursor1')('the hidden-cursor theme, read by libXcursor', () => {
  it('gives a 1x1 transparent image for every cursor name cage, labwc and Chromium ask for, and nothing for unknown names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cursor-theme-'));
    try {
      const made = spawnSync(process.execPath, [join(KIOSK_DIR, 'tools', 'cursor-theme.mjs'), dir], { encoding: 'utf8' });
      expect(made.status).toBe(0);
      const names = ['default', 'left_ptr', 'pointer', 'hand2', 'text', 'xterm', 'wait', 'grabbing', 'not-allowed', 'nwse-resize', 'no-such-cursor'];
      // XCURSOR_PATH is read by libXcursor as the compositor would; each name: width height first-pixel.
      const script = `
import ctypes, sys
x = ctypes.CDLL('libXcursor.so.1')
class Image(ctypes.Structure):
    _fields_ = [('version', ctypes.c_uint), ('size', ctypes.c_uint), ('width', ctypes.c_uint), ('height', ctypes.c_uint),
                ('xhot', ctypes.c_uint), ('yhot', ctypes.c_uint), ('delay', ctypes.c_uint), ('pixels', ctypes.POINTER(ctypes.c_uint))]
x.XcursorLibraryLoadImage.restype = ctypes.POINTER(Image)
for name in sys.argv[1:]:
    p = x.XcursorLibraryLoadImage(name.encode(), b'pi-camera-timesync-hidden', 24)
    print(name, 'none' if not p else '%dx%d %08x' % (p.contents.width, p.contents.height, p.contents.pixels[0]))
`;
      const r = spawnSync(python, ['-c', script, ...names], { encoding: 'utf8', env: { ...process.env, XCURSOR_PATH: dir } });
      expect(r.status).toBe(0);
      expect(r.stdout.trim().split('\n')).toEqual([...names.slice(0, -1).map((n) => `${n} 1x1 00000000`), 'no-such-cursor none']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A stand-in for the server's /api/health (and the page), at a version the test changes. */
class HealthServer {
  version = '1.0.0';
  private server?: Server;
  constructor(readonly port: number) {}
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === '/api/health') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, version: this.version }));
      } else res.end('<!doctype html><title>the app</title><h1>the app</h1>');
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }
  async stop(): Promise<void> {
    if (this.server) await new Promise((r) => this.server!.close(r));
  }
}

/** `file://.../open.html` -> the URL that page jumps to (the browser is never given the app's URL itself). */
function jumpOf(start: string): string {
  if (!start.startsWith('file://') || !start.endsWith('/open.html')) return start;
  const m = /<meta http-equiv="refresh" content="0; url=([^"]*)">/.exec(readFileSync(start.slice('file://'.length), 'utf8'));
  return m ? m[1].replace(/&amp;/g, '&') : start;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describeIf(missing(['curl'], false), 'launch-kiosk.sh', 'apt-get install curl')('launch-kiosk.sh with a stand-in browser', () => {
  jest.setTimeout(60_000);
  let dir: string;
  let launcher: ChildProcess | undefined;
  let server: HealthServer | undefined;
  let port: number;
  const runtime = () => join(dir, 'run');
  const fallbackFile = () => join(runtime(), `pi-camera-timesync-kiosk.${process.getuid?.() ?? 0}`, 'server-not-up.html');
  /** One line per browser start: its last argument, the launcher's page that jumps to the app, read as that URL. */
  const starts = () => (existsSync(join(dir, 'browser.log')) ? readFileSync(join(dir, 'browser.log'), 'utf8').trim().split('\n').filter(Boolean).map(jumpOf) : []);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'launch-kiosk-'));
    mkdirSync(runtime());
    mkdirSync(join(dir, 'bin'));
    // The browser: notes its URL, then stays up until killed (as Chromium would).
    writeFileSync(join(dir, 'bin', 'browser'), `#!/bin/sh\nfor last in "$@"; do :; done\necho "$last" >>"${dir}/browser.log"\necho $$ >"${dir}/browser.pid"\nexec sleep 600\n`);
    // The server's journal, as journalctl -u pi-camera-timesync --output=cat shows a bad setting.
    writeFileSync(join(dir, 'bin', 'journalctl'), `#!/bin/sh\nprintf '%s\\n' 'Invalid configuration:' '  PORT="eighty": PORT must be an integer number' | tail -n "$(echo "$*" | sed -n 's/.*--lines=\\([0-9]*\\).*/\\1/p')"\n`);
    for (const f of ['browser', 'journalctl']) chmodSync(join(dir, 'bin', f), 0o755);
    port = await freePort();
  });

  afterEach(async () => {
    if (launcher && launcher.exitCode === null) {
      const exited = new Promise((r) => launcher!.once('exit', r));
      launcher.kill('SIGTERM');
      await exited;
    }
    launcher = undefined;
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  function startLauncher(extra: Record<string, string> = {}): void {
    launcher = spawn('sh', [join(KIOSK_DIR, 'launch-kiosk.sh')], {
      env: {
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        XDG_RUNTIME_DIR: runtime(),
        KIOSK_SETTINGS: join(dir, 'no-settings'),
        KIOSK_BROWSER: join(dir, 'bin', 'browser'),
        PORT: String(port),
        KIOSK_FALLBACK_AFTER: '1',
        ...extra,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }

  it('shows "the server does not start: <its last log line>" when the server is not up, then turns it into the app', async () => {
    startLauncher();
    const [first] = await until('the browser starts', () => (starts().length ? starts() : false));
    expect(first).toBe(`file://${fallbackFile()}`);
    const page = readFileSync(fallbackFile(), 'utf8');
    expect(page).toMatch(/<h1>The server does not start:<\/h1>\s*<p class="line">  PORT=&quot;eighty&quot;: PORT must be an integer number<\/p>/);
    expect(page).toMatch(/<meta http-equiv="refresh" content="5">/);

    server = new HealthServer(port);
    await server.start();
    await until('the fallback page becomes a jump to the app', () => readFileSync(fallbackFile(), 'utf8').includes(`url=http://127.0.0.1:${port}/`));
    expect(starts()).toHaveLength(1); // the same browser, which reloads the page by itself
  });

  it('opens the app at once when the server is up, and reopens it when the server comes back with a new version', async () => {
    server = new HealthServer(port);
    await server.start();
    startLauncher();
    await until('the browser starts', () => starts().length === 1);
    expect(starts()).toEqual([`http://127.0.0.1:${port}/`]);
    server.version = '1.0.1';
    await until('the browser is restarted for the new version', () => starts().length === 2, 20_000);
    expect(starts()[1]).toBe(`http://127.0.0.1:${port}/`);
  });

  it('starts the browser again when it exits (a crash)', async () => {
    server = new HealthServer(port);
    await server.start();
    startLauncher();
    await until('the browser starts', () => starts().length === 1);
    process.kill(Number(readFileSync(join(dir, 'browser.pid'), 'utf8')), 'SIGKILL');
    await until('the browser starts again', () => starts().length === 2);
  });

  it('switches the screen off and on by KIOSK_SCREEN_ON, here through a DSI backlight', async () => {
    const backlight = join(dir, 'backlight', 'panel');
    mkdirSync(backlight, { recursive: true });
    writeFileSync(join(backlight, 'bl_power'), '0\n');
    server = new HealthServer(port);
    await server.start();
    // A window that excludes now, so the screen must go off; no wlopm or wlr-randr on PATH here.
    const now = new Date();
    const hhmm = (d: Date) => `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
    const from = new Date(now.getTime() + 2 * 3600_000);
    const to = new Date(now.getTime() + 3 * 3600_000);
    startLauncher({ KIOSK_SCREEN_ON: `${hhmm(from)}-${hhmm(to)}`, KIOSK_BACKLIGHT_DIR: join(dir, 'backlight'), KIOSK_SCHEDULE_PERIOD: '1', PATH: `${join(dir, 'bin')}:/usr/bin:/bin`, ...(process.env.TZ ? { TZ: process.env.TZ } : {}) });
    await until('the backlight goes off', () => readFileSync(join(backlight, 'bl_power'), 'utf8').trim() === '4');
  });
});

describeIf(existsSync(CHROMIUM) ? [] : [CHROMIUM], 'the fallback page in Chromium', 'apt-get install chromium')('the fallback page in headless Chromium', () => {
  jest.setTimeout(60_000);

  it('is readable (not a black screen) and takes Chromium to the app once the server answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fallback-chromium-'));
    const port = await freePort();
    const launcherDir = join(dir, 'run', `pi-camera-timesync-kiosk.${process.getuid?.() ?? 0}`);
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'browser'), '#!/bin/sh\nexec sleep 600\n');
    writeFileSync(join(dir, 'bin', 'journalctl'), `#!/bin/sh\necho 'Error: Cannot find module /opt/pi-camera-timesync/current/dist/backend/main.js'\n`);
    for (const f of ['browser', 'journalctl']) chmodSync(join(dir, 'bin', f), 0o755);
    mkdirSync(join(dir, 'run'));
    const launcher = spawn('sh', [join(KIOSK_DIR, 'launch-kiosk.sh')], {
      env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, XDG_RUNTIME_DIR: join(dir, 'run'), KIOSK_SETTINGS: join(dir, 'none'), KIOSK_BROWSER: join(dir, 'bin', 'browser'), PORT: String(port), KIOSK_FALLBACK_AFTER: '1' },
      stdio: 'ignore',
    });
    const session = await openBrowser({ viewport: { width: 800, height: 480 } });
    let server: HealthServer | undefined;
    try {
      const file = join(launcherDir, 'server-not-up.html');
      await until('the fallback page is written', () => existsSync(file));
      await session.page.goto(`file://${file}`);
      const text = await session.page.locator('body').innerText();
      expect(text).toMatch(/The server does not start:\s*Error: Cannot find module \/opt\/pi-camera-timesync\/current\/dist\/backend\/main\.js/);
      // Light text on a dark background: something to read, not a black screen.
      const colors = (await session.page.evaluate('[getComputedStyle(document.querySelector("h1")).color, getComputedStyle(document.documentElement).backgroundColor]')) as string[];
      expect(colors[0]).not.toBe(colors[1]);
      mkdirSync(join(__dirname, '..', '..', 'test-artifacts', 'screenshots'), { recursive: true });
      await session.page.screenshot({ path: join(__dirname, '..', '..', 'test-artifacts', 'screenshots', 'kiosk-fallback-800x480.png') });

      server = new HealthServer(port);
      await server.start();
      await session.page.waitForURL(`http://127.0.0.1:${port}/`, { timeout: 20_000 });
      expect(await session.page.locator('h1').innerText()).toBe('the app');
      expect(session.pageErrors).toEqual([]);
    } finally {
      await session.close();
      launcher.kill('SIGTERM');
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeIf([...missing(['curl'], true), ...(existsSync(CHROMIUM) ? [] : [CHROMIUM])], 'the kiosk secret on no command line', 'root and apt-get install chromium curl')('the kiosk secret reaches Chromium on no command line', () => {
  jest.setTimeout(90_000);

  it('real Chromium opens the page with the secret; no /proc/*/cmdline (read as nobody) nor environ holds it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-secret-'));
    const secret = `kiosk-${Date.now().toString(36)}-S3cr3tValue`;
    const port = await freePort();
    const requested: string[] = [];
    const server = createServer((req, res) => {
      requested.push(req.url ?? '');
      if (req.url === '/api/health') res.setHeader('content-type', 'application/json').end(JSON.stringify({ ok: true, version: '1' }));
      else res.end('<!doctype html><title>the app</title>');
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    mkdirSync(join(dir, 'run'));
    writeFileSync(join(dir, 'kiosk-token'), `${secret}\n`, { mode: 0o640 });
    const launcher = spawn('sh', [join(KIOSK_DIR, 'launch-kiosk.sh')], {
      env: {
        PATH: process.env.PATH,
        XDG_RUNTIME_DIR: join(dir, 'run'),
        KIOSK_SETTINGS: join(dir, 'none'),
        KIOSK_BROWSER: CHROMIUM,
        // Headless for the test; the later --ozone-platform wins over the launcher's wayland.
        KIOSK_EXTRA_FLAGS: `--headless --no-sandbox --disable-gpu --disable-quic --user-data-dir=${join(dir, 'profile')} --ozone-platform=headless`,
        KIOSK_TOKEN_FILE: join(dir, 'kiosk-token'),
        PORT: String(port),
        KIOSK_FALLBACK_AFTER: '5',
      },
      stdio: 'ignore',
    });
    try {
      await until('Chromium asks for the page with the secret', () => requested.includes(`/?kiosk=${secret}`), 45_000);
      const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
      // As another, unprivileged user: what any local account could read.
      const asNobody = spawnSync('sh', ['-c', 'for f in /proc/[0-9]*/cmdline; do tr "\\0" " " <"$f" 2>/dev/null; echo; done'], { uid: 65534, gid: 65534, encoding: 'utf8', maxBuffer: 64 << 20 });
      expect(asNobody.status).toBe(0);
      const lines = asNobody.stdout.split('\n');
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
      // Not a vacuous pass: nobody does see the browser's command line, with the launcher's page on it.
      expect(lines.some((l) => l.includes('--kiosk') && /open\.html/.test(l))).toBe(true);
      // Nor in any process's environment (read as root: everything).
      const environs = pids.map((p) => {
        try {
          return readFileSync(`/proc/${p}/environ`, 'latin1');
        } catch {
          return '';
        }
      });
      expect(environs.filter((e) => e.includes(secret))).toEqual([]);
      const opener = join(dir, 'run', `pi-camera-timesync-kiosk.${process.getuid?.() ?? 0}`, 'open.html');
      expect(statSync(opener).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(opener)).mode & 0o777).toBe(0o700);
    } finally {
      const exited = new Promise((r) => launcher.once('exit', r));
      launcher.kill('SIGTERM');
      await exited;
      const closed = new Promise((r) => server.close(r));
      server.closeAllConnections();
      await closed;
      // The launcher stops Chromium on its way out; its processes finish writing the profile, then it is removed.
      const chromiumLeft = () => readdirSync('/proc').some((p) => /^\d+$/.test(p) && cmdlineOf(p).includes(join(dir, 'profile')));
      await until('Chromium has exited', () => !chromiumLeft(), 15_000).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  });
});

function cmdlineOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
