/**
 * Phones' engines other than Chromium, from Debian's packages, on loopback only:
 * - WebKit (Safari's engine): WebKitGTK's MiniBrowser through `WebKitWebDriver` (webkit2gtk-driver), classic
 *   WebDriver (selenium-webdriver as the client), in a window on a private Xvfb display;
 * - Firefox ESR (firefox-esr) over WebDriver BiDi with puppeteer-core, headless, with a fresh profile.
 * Nothing here downloads a browser or a driver. Every process started here is started in its own process
 * group and killed with it.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo, connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import type { WebDriver } from 'selenium-webdriver';

export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER_PATH ?? '/usr/bin/WebKitWebDriver';
export const XVFB = process.env.XVFB_PATH ?? '/usr/bin/Xvfb';

export type EngineName = 'webkit' | 'firefox';

/** Why an engine's binaries are missing, or null when they are all there. */
export function missingBinaries(engine: EngineName): string | null {
  const wanted = engine === 'webkit' ? [[WEBKIT_DRIVER, 'webkit2gtk-driver'], [XVFB, 'xvfb']] : [[FIREFOX, 'firefox-esr']];
  const missing = wanted.filter(([path]) => {
    try {
      accessSync(path, constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  return missing.length ? `missing ${missing.map(([path, pkg]) => `${path} (Debian package ${pkg})`).join(', ')}` : null;
}

/**
 * The page's Date, shifted by `shiftMs`: `Date.now()`, `new Date()` and `Date()` read the engine's own clock
 * (coarsened as the engine coarsens it) plus the shift; everything else is the engine's Date. Runs before the
 * page's own scripts. `window.__dateShiftMs` tells a test that it ran.
 */
export function dateShiftSource(shiftMs: number): string {
  return `(() => {
  if (window.__dateShiftMs !== undefined) return;
  const shift = ${JSON.stringify(shiftMs)};
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  function ShiftedDate(...args) {
    if (!new.target) return new RealDate(realNow() + shift).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [realNow() + shift] : args, new.target);
  }
  Object.setPrototypeOf(ShiftedDate, RealDate);
  ShiftedDate.prototype = RealDate.prototype;
  Object.defineProperty(ShiftedDate, 'now', { value: () => realNow() + shift, writable: true, configurable: true });
  Object.defineProperty(ShiftedDate, 'length', { value: 7 });
  window.Date = ShiftedDate;
  window.__dateShiftMs = shift;
})();`;
}

import { freePort } from '../support/ports';

export { freePort };

/** Kills a process started with `detached: true` together with everything it started. */
async function killGroup(child: ChildProcess | null | undefined, graceMs = 2000): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    signal('SIGKILL');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
  }
}

/** What a process printed last, for error messages. */
function tail(lines: string[]): string {
  const text = lines.join('').trim();
  return text ? `; it printed: ${text.slice(-800)}` : '';
}

function collect(child: ChildProcess, into: string[]): void {
  const keep = (chunk: Buffer) => {
    into.push(chunk.toString());
    if (into.length > 50) into.splice(0, into.length - 50);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
}

export interface Xvfb {
  display: string;
  stop(): Promise<void>;
}

/** A private X display: Xvfb picks a free display number itself (-displayfd) and listens on no TCP port. */
export async function startXvfb(): Promise<Xvfb> {
  const output: string[] = [];
  const child = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: true,
  });
  collect(child, output);
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display within 10 s${tail(output)}`)), 10_000);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${text.trim()}`);
      }
    });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code ?? sig}) before reporting a display${tail(output)}`));
    });
  }).catch(async (e) => {
    await killGroup(child);
    throw e;
  });
  return { display, stop: () => killGroup(child) };
}

export interface WebKitSession {
  driver: WebDriver;
  browserVersion: string;
  close(): Promise<void>;
}

/**
 * WebKitGTK's MiniBrowser, driven by WebKitWebDriver on a loopback port, on its own Xvfb display. The driver
 * starts MiniBrowser with `--automation`, which uses an ephemeral (in-memory) website data store: a fresh
 * profile every session.
 */
export async function openWebKit(): Promise<WebKitSession> {
  const { Builder, Capabilities } = await import('selenium-webdriver');
  const xvfb = await startXvfb();
  let driverProcess: ChildProcess | null = null;
  let driver: WebDriver | null = null;
  const output: string[] = [];
  const close = async () => {
    await driver?.quit().catch(() => undefined);
    await killGroup(driverProcess);
    await xvfb.stop();
  };
  try {
    const port = await freePort();
    driverProcess = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=local'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, DISPLAY: xvfb.display, LANG: 'en_GB.UTF-8', GTK_A11Y: 'none', NO_AT_BRIDGE: '1' },
    });
    collect(driverProcess, output);
    const base = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (driverProcess.exitCode !== null) throw new Error(`WebKitWebDriver exited (${driverProcess.exitCode})${tail(output)}`);
      const ready = await fetch(`${base}/status`)
        .then((r) => r.json() as Promise<{ value?: { ready?: boolean } }>)
        .then((b) => b.value?.ready === true)
        .catch(() => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on ${base} within 15 s${tail(output)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    driver = await new Builder().usingServer(base).withCapabilities(new Capabilities({ browserName: 'MiniBrowser' })).build();
    const browserVersion = String((await driver.getCapabilities()).get('browserVersion'));
    await driver.manage().setTimeouts({ script: 30_000, pageLoad: 30_000 });
    const session = driver;
    return { driver: session, browserVersion, close };
  } catch (e) {
    await close();
    throw new Error(`${e instanceof Error ? e.message : String(e)}${tail(output)}`);
  }
}

export interface FirefoxSession {
  browser: Browser;
  page: Page;
  browserVersion: string;
  /** Uncaught exceptions in the page. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Headless Firefox ESR over WebDriver BiDi (puppeteer-core), with a fresh profile in a temporary folder. */
export async function openFirefox(options: { resistFingerprinting?: boolean } = {}): Promise<FirefoxSession> {
  const puppeteer = (await import('puppeteer-core')).default;
  const profile = mkdtempSync(join(tmpdir(), 'timesync-firefox-'));
  let browser: Browser | null = null;
  const close = async () => {
    const child = browser?.process();
    await Promise.race([browser?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: profile,
      protocolTimeout: 60_000,
      timeout: 60_000,
      extraPrefsFirefox: {
        'privacy.resistFingerprinting': options.resistFingerprinting === true,
        // No network but loopback here: nothing to update or report.
        'app.update.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
        'network.captive-portal-service.enabled': false,
        'network.connectivity-service.enabled': false,
      },
    });
    const page = (await browser.pages())[0] ?? (await browser.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e instanceof Error ? e.message : String(e)));
    return { browser, page, browserVersion: await browser.version(), pageErrors, close };
  } catch (e) {
    await close();
    throw e;
  }
}

export interface ShimProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * A loopback front for the app, for engines whose driver cannot add a script before the page's own (classic
 * WebDriver): the page (`/`) comes from the app with `script` inserted first in its <head>; every other
 * request and the WebSocket upgrade pass through unchanged, so the page's REST calls and its WebSocket reach
 * the app on the same origin as the page.
 */
export async function startShimProxy(targetPort: number, script: string): Promise<ShimProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const headers = { ...req.headers };
    const isPage = req.method === 'GET' && (path === '/' || path === '/index.html');
    if (isPage) {
      delete headers['if-none-match'];
      delete headers['if-modified-since'];
      delete headers['accept-encoding'];
    }
    const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (answer: IncomingMessage) => {
      if (!isPage || answer.statusCode !== 200) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const html = Buffer.concat(chunks).toString('utf8');
        const at = html.search(/<head[^>]*>/i);
        if (at < 0) {
          res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('shim proxy: the page has no <head>');
          return;
        }
        const end = at + html.slice(at).indexOf('>') + 1;
        const body = `${html.slice(0, end)}<script>${script}</script>${html.slice(end)}`;
        const out = { ...answer.headers, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store' };
        delete out.etag;
        delete out['last-modified'];
        res.writeHead(200, out);
        res.end(body);
      });
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`shim proxy: ${e.message}`);
    });
    req.pipe(upstream);
  });
  server.on('connection', track);
  server.on('upgrade', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('connect', () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
