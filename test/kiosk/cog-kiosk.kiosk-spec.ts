/**
 * The kiosk in WPE WebKit's cog (install.sh's choice on a Pi under 1 GB):
 * - launch-kiosk.sh with KIOSK_ENGINE=cog and a stand-in cog: the platform (drm on the bare screen, wl under a
 *   Wayland compositor), the rotation handed to cog's DRM platform, and the URL argument: the launcher's
 *   private open.html, never the secret;
 * - the same with the real cog on its headless platform: it follows open.html to the page with the secret,
 *   and no process's command line holds the secret;
 * - the page itself in WPE WebKit (cog --platform=headless driven by WPEWebDriver): the Pi's own screen
 *   connects, shows its controls and has no page errors.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeIf, KIOSK_DIR, missing, REPO } from './host-tools';

const COG = process.env.COG_PATH ?? '/usr/bin/cog';
const WPE_DRIVER = process.env.WPE_DRIVER_PATH ?? '/usr/bin/WPEWebDriver';
const LAUNCHER = join(KIOSK_DIR, 'launch-kiosk.sh');
const uid = process.getuid?.() ?? 0;

async function until<T>(what: string, check: () => T | false | Promise<T | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** /api/health answers; every other path is "the app"; the paths asked for are kept. */
async function fakeServer(): Promise<{ server: Server; port: number; requested: string[]; stop(): Promise<void> }> {
  const requested: string[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requested.push(req.url ?? '');
    if (req.url === '/api/health') res.setHeader('content-type', 'application/json').end(JSON.stringify({ ok: true, version: '1' }));
    else res.setHeader('content-type', 'text/html').end('<!doctype html><title>the app</title><h1>the app</h1>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    requested,
    stop: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

async function stopLauncher(launcher: ChildProcess): Promise<void> {
  if (launcher.exitCode !== null || launcher.signalCode !== null) return;
  const exited = new Promise((r) => launcher.once('exit', r));
  launcher.kill('SIGTERM');
  await exited;
}

function cmdlines(): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        return '';
      }
    });
}

describeIf(missing(['curl'], false), 'launch-kiosk.sh with cog', 'apt-get install curl')('launch-kiosk.sh with KIOSK_ENGINE=cog and a stand-in cog', () => {
  jest.setTimeout(60_000);
  let dir: string;
  let launcher: ChildProcess | undefined;
  let fake: Awaited<ReturnType<typeof fakeServer>> | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cog-launch-'));
    mkdirSync(join(dir, 'run'));
    mkdirSync(join(dir, 'bin'));
    // The stand-in cog: its arguments, one per line, then it stays up as cog would.
    writeFileSync(join(dir, 'bin', 'cog'), `#!/bin/sh\nprintf '%s\\n' "$@" >"${dir}/args"\nexec sleep 600\n`);
    chmodSync(join(dir, 'bin', 'cog'), 0o755);
    writeFileSync(join(dir, 'kiosk-token'), 'kiosk-Stand1nSecret\n');
    fake = await fakeServer();
  });

  afterEach(async () => {
    if (launcher) await stopLauncher(launcher);
    launcher = undefined;
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (extra: Record<string, string>) => {
    launcher = spawn('sh', [LAUNCHER], {
      env: {
        PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
        XDG_RUNTIME_DIR: join(dir, 'run'),
        KIOSK_SETTINGS: join(dir, 'none'),
        KIOSK_ENGINE: 'cog',
        KIOSK_TOKEN_FILE: join(dir, 'kiosk-token'),
        PORT: String(fake!.port),
        KIOSK_FALLBACK_AFTER: '5',
        ...extra,
      },
      stdio: 'ignore',
    });
  };
  const args = () => (existsSync(join(dir, 'args')) ? readFileSync(join(dir, 'args'), 'utf8').trim().split('\n') : false);
  const opener = () => join(dir, 'run', `pi-camera-timesync-kiosk.${uid}`, 'open.html');

  it('on the bare screen: cog on DRM, turned by KIOSK_ROTATION, opened on the private page, not on the secret', async () => {
    start({ KIOSK_ROTATION: '90' });
    const a = await until('cog starts', args);
    expect(a[0]).toBe('--platform-params=renderer=gles,rotation=3'); // 90 clockwise = 3 counter-clockwise steps
    expect(a).toContain('--platform=drm');
    expect(a).toContain('--webprocess-failure=exit'); // a crashed page ends cog; the launcher starts it again
    expect(a[a.length - 1]).toBe(`file://${opener()}`);
    expect(a.join(' ')).not.toMatch(/Stand1nSecret/);
    expect(a.join(' ')).not.toMatch(/--kiosk|--ozone/); // no Chromium flags
    expect(readFileSync(opener(), 'utf8')).toMatch(/url=http:\/\/127\.0\.0\.1:\d+\/\?kiosk=kiosk-Stand1nSecret"/);
  });

  it('inside a Wayland compositor (labwc, cage): cog on wl, which turns nothing itself', async () => {
    start({ WAYLAND_DISPLAY: 'wayland-1', KIOSK_ROTATION: '90', KIOSK_ROTATED_BY_CAGE: '1' });
    const a = await until('cog starts', args);
    expect(a).toContain('--platform=wl');
    expect(a.some((x) => x.startsWith('--platform-params'))).toBe(false);
    expect(a[a.length - 1]).toBe(`file://${opener()}`);
  });

  it('start-cage.sh leaves cage out for cog on DRM', () => {
    writeFileSync(join(dir, 'bin', 'cage'), `#!/bin/sh\necho cage >"${dir}/cage-ran"\n`);
    chmodSync(join(dir, 'bin', 'cage'), 0o755);
    const script = readFileSync(join(KIOSK_DIR, 'start-cage.sh'), 'utf8');
    // The branch before cage: exec the launcher. Checked by running it with a launcher that only reports.
    const copy = join(dir, 'kiosk');
    mkdirSync(copy);
    writeFileSync(join(copy, 'start-cage.sh'), script);
    writeFileSync(join(copy, 'kiosk-lib.sh'), readFileSync(join(KIOSK_DIR, 'kiosk-lib.sh')));
    writeFileSync(join(copy, 'launch-kiosk.sh'), `#!/bin/sh\necho launcher >"${dir}/launcher-ran"\n`);
    chmodSync(join(copy, 'launch-kiosk.sh'), 0o755);
    const run = (engine: string) =>
      new Promise<number | null>((resolve) => {
        const child = spawn('sh', [join(copy, 'start-cage.sh')], { env: { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, KIOSK_ENGINE: engine, KIOSK_CAGE: join(dir, 'bin', 'cage') }, stdio: 'ignore' });
        child.once('exit', resolve);
      });
    return (async () => {
      expect(await run('cog')).toBe(0);
      expect(existsSync(join(dir, 'launcher-ran'))).toBe(true);
      expect(existsSync(join(dir, 'cage-ran'))).toBe(false);
      expect(await run('chromium')).toBe(0);
      expect(existsSync(join(dir, 'cage-ran'))).toBe(true);
    })();
  });
});

describeIf(existsSync(COG) ? missing(['curl'], false) : [COG], 'the kiosk secret in cog', 'apt-get install cog curl')('real cog (headless) through the launcher', () => {
  jest.setTimeout(60_000);

  it('follows the private page to the app with the secret; no command line holds the secret', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cog-secret-'));
    const secret = `kiosk-${Date.now().toString(36)}-CogS3cret`;
    writeFileSync(join(dir, 'kiosk-token'), `${secret}\n`);
    mkdirSync(join(dir, 'run'));
    const fake = await fakeServer();
    const launcher = spawn('sh', [LAUNCHER], {
      env: {
        PATH: process.env.PATH,
        XDG_RUNTIME_DIR: join(dir, 'run'),
        KIOSK_SETTINGS: join(dir, 'none'),
        KIOSK_ENGINE: 'cog',
        KIOSK_BROWSER: COG,
        KIOSK_COG_PLATFORM: 'headless',
        KIOSK_TOKEN_FILE: join(dir, 'kiosk-token'),
        PORT: String(fake.port),
        KIOSK_FALLBACK_AFTER: '5',
      },
      stdio: 'ignore',
      detached: true,
    });
    try {
      await until('cog asks for the page with the secret', () => fake.requested.includes(`/?kiosk=${secret}`), 45_000);
      const lines = cmdlines();
      expect(lines.filter((l) => l.includes(secret))).toEqual([]);
      // Not vacuous: cog is running, on the launcher's page.
      expect(lines.some((l) => l.startsWith(`${COG} `) && l.includes('--platform=headless') && l.includes('open.html'))).toBe(true);
    } finally {
      await stopLauncher(launcher);
      try {
        process.kill(-launcher.pid!, 'SIGKILL'); // cog's web and network processes with it
      } catch {
        // all gone
      }
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeIf([COG, WPE_DRIVER].filter((p) => !existsSync(p)), 'the page in WPE WebKit', 'apt-get install cog wpewebkit-driver')('the kiosk page in WPE WebKit (cog headless, WPEWebDriver)', () => {
  jest.setTimeout(120_000);

  it('the Pi\'s own screen connects, opens its hand-set sheet, and throws no error', async () => {
    const { Builder, By, Capabilities, until: webUntil } = await import('selenium-webdriver');
    const { startApp } = await import('../support/app');
    const { ensureFrontendBuilt } = await import('../browser/browser');
    ensureFrontendBuilt();
    const app = await startApp();
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const driverProcess = spawn(WPE_DRIVER, [`--port=${port}`], { stdio: 'ignore', detached: true });
    let driver: import('selenium-webdriver').WebDriver | undefined;
    try {
      await until('WPEWebDriver answers', () => fetch(`http://127.0.0.1:${port}/status`).then((r) => r.ok).catch(() => false), 15_000);
      driver = await new Builder()
        .usingServer(`http://127.0.0.1:${port}`)
        .withCapabilities(new Capabilities({ browserName: 'cog', 'wpe:browserOptions': { binary: COG, args: ['--automation', '--platform=headless'] } }))
        .build();
      const token = readFileSync(join(app.dataDir, 'kiosk-token'), 'utf8').trim();
      await driver.get(`${app.url}/?kiosk=${token}`);
      // Errors from here on (the page has loaded its scripts by now; a later failure is caught too).
      await driver.executeScript("window.__errors = []; addEventListener('error', (e) => window.__errors.push(String(e.message))); addEventListener('unhandledrejection', (e) => window.__errors.push(String(e.reason)));");
      const connection = await driver.wait(webUntil.elementLocated(By.css('[data-testid=connection][data-state=open]')), 20_000, 'the page never connected');
      expect(await connection.getText()).toMatch(/Connected/);
      // The Pi's own screen layout (.app.on-pi), whose header button opens the hand-set sheet.
      await driver.wait(webUntil.elementLocated(By.css('.app.on-pi header [data-testid=open-manual]:not([disabled])')), 10_000, 'not the Pi screen layout');
      await driver.findElement(By.css('header [data-testid=open-manual]')).click();
      await driver.wait(webUntil.elementLocated(By.css('[data-testid=manual-sheet] [data-testid=manual-time]')), 10_000, 'the hand-set sheet did not open');
      const state = (await driver.executeScript(
        "return { ua: navigator.userAgent, errors: window.__errors, socketError: !!document.querySelector('[data-testid=socket-error]'), wide: document.documentElement.scrollWidth <= innerWidth + 1 }",
      )) as { ua: string; errors: string[]; socketError: boolean; wide: boolean };
      expect(state.ua).toMatch(/AppleWebKit/);
      expect(state.ua).not.toMatch(/Chrome/);
      expect(state.errors).toEqual([]);
      expect(state.socketError).toBe(false);
      expect(state.wide).toBe(true); // nothing sticks out sideways
      const shots = join(REPO, 'test-artifacts', 'screenshots');
      mkdirSync(shots, { recursive: true });
      writeFileSync(join(shots, 'kiosk-cog-headless.png'), Buffer.from(await driver.takeScreenshot(), 'base64'));
    } finally {
      await driver?.quit().catch(() => undefined);
      try {
        process.kill(-driverProcess.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      await app.close();
    }
  });
});
