/**
 * Cross-site doors, from outside: the built server (loopback trusted, as a phone on the access point is), a
 * second local server on another port serving an evil page, and real Chromium opening it. The page tries every
 * write a site on the photographer's phone could try; the API must show that nothing changed. Then DNS
 * rebinding (Host headers) with plain HTTP clients, and the product's own page still setting the time.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import WebSocket from 'ws';
import { ErrorCode } from '../../backend/protocol/vocabulary';
import { startCameraSim, CameraSim } from '../camera-sim/sim';
import { BuiltServer, describeIf, json, MAIN, startBuiltServer } from './built-server';
import { record } from './report';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FRONTEND = join(__dirname, '..', '..', 'dist', 'frontend', 'index.html');
const DAY = 24 * 3600_000;

/** The evil page: each attempt records what the browser let it see; the Pi's state is what counts. */
function evilPage(target: string): string {
  const ws = target.replace(/^http/, 'ws');
  return `<!doctype html><html><body>
<iframe name="sink" style="display:none"></iframe>
<form id="f" method="POST" action="${target}/api/session/stop" target="sink"><input name="x" value="1"></form>
<script>
window.results = {};
const note = (k, v) => { window.results[k] = v; };
(async () => {
  try { const r = await fetch('${target}/api/session/start', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{"cameras":[]}' }); note('textPlain', 'sent ' + r.type); } catch (e) { note('textPlain', 'error ' + e.message); }
  try { const r = await fetch('${target}/api/timesync/camera?confirm=true', { method: 'POST', mode: 'no-cors' }); note('camera', 'sent ' + r.type); } catch (e) { note('camera', 'error ' + e.message); }
  try { const r = await fetch('${target}/api/system/time', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ timestamp: new Date(Date.now() + ${DAY}).toISOString() }) }); note('jsonCors', 'status ' + r.status); } catch (e) { note('jsonCors', 'error ' + e.message); }
  document.getElementById('f').submit();
  note('form', 'submitted');
  await new Promise((resolve) => {
    const s = new WebSocket('${ws}/ws');
    const frames = [];
    s.onopen = () => { frames.push('open'); s.send(JSON.stringify({ type: 'manual-time-sync', data: { timestamp: new Date(Date.now() + ${DAY}).toISOString() } })); setTimeout(resolve, 1500); };
    s.onmessage = (m) => frames.push(String(m.data).slice(0, 80));
    s.onerror = () => frames.push('error');
    s.onclose = (c) => { frames.push('close ' + c.code); resolve(); };
    note('ws', frames);
  });
  note('done', true);
})();
</script></body></html>`;
}

function raw(url: string, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; location?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname: host, port } = new URL(url);
    const req = request({ host, port, path, method, headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A WebSocket upgrade: 'open', or the HTTP status it was refused with. */
function upgrade(url: string, headers: Record<string, string>): Promise<string | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`, { headers });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once('error', () => resolve(-1));
  });
}

const lacking = [...(existsSync(CHROMIUM) ? [] : [CHROMIUM]), ...(existsSync(MAIN) ? [] : [`${MAIN} (npm run build)`]), ...(existsSync(FRONTEND) ? [] : [`${FRONTEND} (npm run build)`])];

describeIf(lacking, 'cross-origin doors')('Cross-origin doors (built server, evil page on another port, real Chromium)', () => {
  jest.setTimeout(120_000);
  let sim: CameraSim;
  let server: BuiltServer;
  let evil: Server;
  let evilUrl: string;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: -DAY });
    server = await startBuiltServer({ AP_SUBNETS: '127.0.0.1/32,::1/128', CAMERA_URL: sim.httpUrl, CAMERA_SYNC_ON_CONNECT: 'false', CAMERA_SYNC_THRESHOLD: '0', CAMERA_POLL_INTERVAL: '500', DATA_DIR: mkdtempSync(join(tmpdir(), 'doors-data-')) });
    evil = createServer((_req, res) => res.setHeader('content-type', 'text/html').end(evilPage(server.url)));
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}/`;
    profile = mkdtempSync(join(tmpdir(), 'doors-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // The camera is connected (so a camera write would have somewhere to go).
    for (let i = 0; i < 100; i++) {
      const cams = await json(`${server.url}/api/cameras`);
      if (Array.isArray(cams.body) ? cams.body.some((c: { connected?: boolean }) => c.connected) : JSON.stringify(cams.body).includes('"connected":true')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await new Promise((r) => evil?.close(r));
    await server?.stop();
    await sim?.close();
  });

  async function state() {
    const t0 = Date.now();
    const status = (await json(`${server.url}/api/timesync/status`)).body;
    const t1 = Date.now();
    return {
      piMinusHostMs: status.pi.epochMs - (t0 + t1) / 2,
      source: status.syncSource as string,
      session: (await json(`${server.url}/api/session`)).body,
      cameraWrites: sim.requests.filter((r) => r.method === 'PUT').length,
      activity: status.activityLog as Array<{ details?: { error?: string } }>,
    };
  }

  it('a page of another origin on a trusted device changes nothing: text/plain fetch, form POST, camera sync, JSON fetch, WebSocket manual set', async () => {
    const before = await state();
    const page = await context.newPage();
    await page.goto(evilUrl);
    await page.waitForFunction('window.results && window.results.done === true', undefined, { timeout: 30_000 });
    const results = (await page.evaluate('window.results')) as Record<string, unknown>;
    await new Promise((r) => setTimeout(r, 500));
    const after = await state();

    // The socket was refused at the upgrade: never open, no hello.
    expect(results.ws).not.toContain('open');
    expect(String(results.ws)).not.toMatch(/hello/);
    expect(Math.abs(after.piMinusHostMs - before.piMinusHostMs)).toBeLessThan(250);
    expect(after.source).toBe(before.source);
    expect(after.session).toEqual(before.session);
    expect(after.cameraWrites).toBe(before.cameraWrites);
    // Refused by the doors (not by chance): the refusal is in the activity log, coded.
    expect(after.activity.map((e) => e.details?.error)).toContain(ErrorCode.FOREIGN_ORIGIN);
    record({ suite: 'doors', what: 'Chromium on a trusted address opens a page of another origin: text/plain fetch to /api/session/start, form POST to /api/session/stop, POST /api/timesync/camera?confirm=true, JSON fetch to /api/system/time, WebSocket manual-time-sync +24 h', times: 5, outcome: `nothing changed (Pi offset, source ${after.source}, session, 0 camera writes); WebSocket ${JSON.stringify(results.ws)}; FOREIGN_ORIGIN in the activity log` });
    await page.close();
  });

  it('plain clients: a foreign Origin is 403 FOREIGN_ORIGIN, a form or text body 415, a foreign Origin on /ws 403, none of them a change', async () => {
    const port = new URL(server.url).port;
    const host = `127.0.0.1:${port}`;
    const before = await state();
    const foreign = await raw(server.url, '/api/session/start', { host, origin: 'http://evil.example', 'content-type': 'application/json' }, 'POST', '{}');
    expect([foreign.status, JSON.parse(foreign.body).code]).toEqual([403, ErrorCode.FOREIGN_ORIGIN]);
    const otherPort = await raw(server.url, '/api/system/time', { host, origin: `http://127.0.0.1:${Number(port) + 1}`, 'content-type': 'application/json' }, 'POST', JSON.stringify({ timestamp: new Date(Date.now() + DAY).toISOString() }));
    expect(otherPort.status).toBe(403);
    const text = await raw(server.url, '/api/session/start', { host, origin: `http://${host}`, 'content-type': 'text/plain' }, 'POST', '{}');
    expect([text.status, JSON.parse(text.body).code]).toEqual([415, ErrorCode.UNSUPPORTED_MEDIA_TYPE]);
    const form = await raw(server.url, '/api/session/stop', { host, 'content-type': 'application/x-www-form-urlencoded' }, 'POST', 'x=1');
    expect([form.status, JSON.parse(form.body).code]).toEqual([415, ErrorCode.UNSUPPORTED_MEDIA_TYPE]);
    const crossSite = await raw(server.url, '/api/timesync/camera?confirm=true', { host, 'sec-fetch-site': 'cross-site' }, 'POST');
    expect([crossSite.status, JSON.parse(crossSite.body).code]).toEqual([403, ErrorCode.FOREIGN_ORIGIN]);
    expect(await upgrade(server.url, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(server.url, { origin: `http://${host}` })).toBe('open');
    expect(await upgrade(server.url, {})).toBe('open');
    const after = await state();
    expect({ source: after.source, session: after.session, writes: after.cameraWrites }).toEqual({ source: before.source, session: before.session, writes: before.cameraWrites });
    record({ suite: 'doors', what: 'plain HTTP/WebSocket clients: foreign Origin, another port of the Pi, text/plain, form, Sec-Fetch-Site cross-site, /ws with a foreign Origin', times: 8, outcome: '403 FOREIGN_ORIGIN x3, 415 UNSUPPORTED_MEDIA_TYPE x2, /ws 403; own Origin and no Origin open /ws; nothing changed' });
  });

  it("Host headers: another name (DNS rebinding) gets no API or socket, a page request is sent to the Pi's address; the Pi's names do; captive checks are redirected", async () => {
    const port = new URL(server.url).port;
    for (const path of ['/api/health', '/api/timesync/status', '/api/docs-json']) {
      const r = await raw(server.url, path, { host: `evil.example:${port}` });
      expect([path, r.status, JSON.parse(r.body).code]).toEqual([path, 421, ErrorCode.FOREIGN_HOST]);
    }
    // A page under another name (on the access point every name leads to the Pi): to the page at the Pi's
    // address, another origin than the asking one, with nothing in the answer.
    for (const path of ['/', '/index.html']) {
      const r = await raw(server.url, path, { host: `evil.example:${port}` });
      expect([path, r.status, r.location, r.body]).toEqual([path, 302, `http://127.0.0.1:${port}/`, expect.not.stringContaining('root')]);
    }
    expect((await raw(server.url, '/api/health', { host: 'evil.example' })).status).toBe(421);
    expect(await upgrade(server.url, { host: `evil.example:${port}` })).toBe(421);
    for (const name of ['localhost', '127.0.0.1', '[::1]', hostname(), `${hostname()}.local`]) {
      const r = await raw(server.url, '/api/health', { host: `${name}:${port}` });
      expect([name, r.status]).toEqual([name, 200]);
    }
    expect((await raw(server.url, '/', { host: `localhost:${port}` })).body).toMatch(/<div id="root">/);
    for (const [host, path] of [['connectivitycheck.gstatic.com', '/generate_204'], ['captive.apple.com', '/hotspot-detect.html'], ['www.msftconnecttest.com', '/connecttest.txt'], ['detectportal.firefox.com', '/success.txt']]) {
      const r = await raw(server.url, path, { host });
      expect([host, r.status, r.location]).toEqual([host, 302, `http://127.0.0.1:${port}/`]);
    }
    record({ suite: 'doors', what: 'Host headers: evil.example on the page, API, docs and /ws; the Pi\'s names; captive-check names on their probe paths', times: 16, outcome: 'evil.example: 421 FOREIGN_HOST on the API, docs and /ws, page requests 302 to http://127.0.0.1:<port>/; localhost, 127.0.0.1, [::1], hostname, hostname.local: 200; 4 captive checks: 302 to the Pi' });
  });

  it("the product's own page still sets the time by hand (JSON writes from its own origin)", async () => {
    const page = await context.newPage();
    await page.goto(server.url);
    await page.getByTestId('open-manual').click();
    await page.getByTestId('step-hour-up').click();
    await page.getByTestId('set-pi-time').click();
    await page.getByTestId('set-pi-time-message').and(page.locator('.ok')).waitFor({ timeout: 15_000 });
    const after = await state();
    expect(after.source).toBe('manual');
    expect(Math.abs(after.piMinusHostMs - 3600_000)).toBeLessThan(1000);
    record({ suite: 'doors', what: "the product's own page in Chromium: manual set +1 h", times: 1, outcome: `applied (source manual, Pi ${Math.round(after.piMinusHostMs)} ms ahead of the host)` });
    await page.close();
  });
});
