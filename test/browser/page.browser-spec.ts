import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startApp, type StartedApp } from '../support/app';
import { assertServesPage, ensureFrontendBuilt, eventually, openBrowser, piMinusBrowser, screenshotPath, type BrowserSession } from './browser';
import { decodePng } from './png';

jest.setTimeout(90_000);

const HOURS = 3_600_000;
const testId = (page: Page, id: string) => page.getByTestId(id);

/** The kiosk page, served by the real backend (simulated clock, loopback trusted), in headless Chromium. */
describe('kiosk page (Chromium)', () => {
  let app: StartedApp | null = null;
  let browser: BrowserSession | null = null;

  beforeAll(() => ensureFrontendBuilt());

  afterEach(async () => {
    const errors = browser?.pageErrors ?? [];
    await browser?.close();
    await app?.close().catch(() => undefined);
    browser = null;
    app = null;
    expect(errors).toEqual([]);
  });

  async function open(env: Record<string, string> = {}, options: Parameters<typeof openBrowser>[0] = {}) {
    app = await startApp(env);
    await assertServesPage(app.url);
    browser = await openBrowser(options);
    return { app, page: browser.page };
  }

  async function waitForStatus(page: Page) {
    await testId(page, 'connection').and(page.locator('[data-state=open]')).waitFor({ timeout: 15_000 });
    await testId(page, 'pi-reliability').waitFor({ timeout: 15_000 });
  }

  it('loads, connects and shows the "Pi sync" and "Camera sync" rows', async () => {
    const { app, page } = await open();
    const res = await page.goto(app.url);
    expect(res?.status()).toBe(200);
    await waitForStatus(page);
    const cameraRow = testId(page, 'camera-status').getByText('Camera sync', { exact: true });
    const piRow = testId(page, 'controller-info').getByText('Pi sync', { exact: true });
    expect(await testId(page, 'controller-info').getByRole('heading', { name: 'Pi time' }).isVisible()).toBe(true);
    expect(await cameraRow.isVisible()).toBe(true);
    expect(await piRow.isVisible()).toBe(true);
    expect(await testId(page, 'camera-timesync').textContent()).toBe('');
    expect(await testId(page, 'simulated-banner').textContent()).toBe('Simulated clock: the system clock is not changed');
    expect(await testId(page, 'connection').textContent()).toContain('Connected');
  });

  it("brings the Pi's clock to within 10 ms of a browser clock running 3 h ahead, and the rows follow", async () => {
    const { app, page } = await open({ SIMULATED_CLOCK_OFFSET_MS: '0' });
    // Playwright's clock keeps running in real time after install (checked below), only shifted.
    await page.clock.install({ time: Date.now() + 3 * HOURS });
    await page.goto(app.url);
    const advance = await page.evaluate(async () => {
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 300));
      return Date.now() - t0;
    });
    expect(advance).toBeGreaterThanOrEqual(295);
    expect(advance).toBeLessThan(400);

    await waitForStatus(page);
    const measured = await eventually(async () => {
      const m = await piMinusBrowser(page);
      return Math.abs(m.diffMs) < 10 ? m : null;
    }, 'the Pi clock to follow the browser', 20_000, 250);
    expect(Math.abs(measured.diffMs)).toBeLessThan(10);
    expect(measured.rttMs).toBeLessThan(20);

    await eventually(async () => (await testId(page, 'pi-source').textContent())?.includes('127.0.0.1'), 'the source row');
    expect(await testId(page, 'pi-reliability').getAttribute('data-reliability')).toBe('high');
    expect(await testId(page, 'pi-offset').textContent()).toMatch(/^offset \+(2 h 59 min 5\d s|3 h 0 min \d s)/);
    await eventually(async () => (await testId(page, 'time-difference').textContent()) === 'in step (within 0.1 s)', 'the difference row');
    const logged = await page.getByTestId('activity-entry').allTextContents();
    expect(logged.length).toBeGreaterThan(0);
  });

  it("sets the Pi's time by hand with the steppers", async () => {
    const { app, page } = await open({ AUTO_SYNC: 'false', SIMULATED_CLOCK_OFFSET_MS: String(-2 * 24 * HOURS) });
    await page.goto(app.url);
    await waitForStatus(page);
    expect(await testId(page, 'pi-timesync').textContent()).toContain('Not synchronized yet');
    const before = await piMinusBrowser(page);
    expect(before.diffMs).toBeLessThan(-47 * HOURS);

    await testId(page, 'open-manual').click();
    expect(await testId(page, 'manual-delta').textContent()).toBe("This device's time");
    await testId(page, 'step-hour-up').click();
    await testId(page, 'step-minute-up').click();
    await testId(page, 'step-minute-down').click();
    expect(await testId(page, 'manual-delta').textContent()).toBe("+1 h 0 min 0 s from this device's time");
    await testId(page, 'set-pi-time').click();
    await page.getByTestId('set-pi-time-message').and(page.locator('.ok')).waitFor();
    expect(await testId(page, 'set-pi-time-message').textContent()).toContain("Pi's clock set to");

    const after = await piMinusBrowser(page);
    expect(Math.abs(after.diffMs - 1 * HOURS)).toBeLessThan(250);
    await testId(page, 'manual-sheet-close').click();
    await eventually(async () => (await testId(page, 'pi-source').textContent())?.includes('set by hand'), 'the source row to say manual');
    expect(await testId(page, 'operator-hold').textContent()).toBe('Set by hand; automatic syncs only measure');
    await eventually(async () => (await testId(page, 'time-difference').textContent()) === 'Pi is 1 h 0 min 0 s ahead', 'the difference row');
  });

  it("disables setting the time, with the reason, for a device that is not on the Pi's Wi-Fi", async () => {
    const { app, page } = await open({ AP_SUBNETS: '10.42.0.0/24' });
    await page.goto(app.url);
    await waitForStatus(page);
    await testId(page, 'open-manual').click();
    await testId(page, 'set-pi-time-reason').waitFor();
    expect(await testId(page, 'set-pi-time').isDisabled()).toBe(true);
    expect(await testId(page, 'set-pi-time-reason').textContent()).toBe("Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time");
  });

  it('disables Sync camera now, with the reason, while no camera is connected', async () => {
    const { app, page } = await open();
    await page.goto(app.url);
    await waitForStatus(page);
    expect(await testId(page, 'sync-camera').isDisabled()).toBe(true);
    expect(await testId(page, 'sync-camera-reason').textContent()).toBe('No camera connected');
    expect(await testId(page, 'camera-name').textContent()).toBe('No camera connected');
  });

  it("after a time set by hand, asks before taking a phone's time, and takes it when told", async () => {
    const { app, page } = await open({ SIMULATED_CLOCK_OFFSET_MS: '0' });
    await page.goto(app.url);
    await waitForStatus(page);
    await testId(page, 'open-manual').click();
    await testId(page, 'step-hour-up').click();
    await testId(page, 'set-pi-time').click();
    await page.getByTestId('set-pi-time-message').and(page.locator('.ok')).waitFor();
    await testId(page, 'manual-sheet-close').click();
    await testId(page, 'operator-hold').waitFor();
    expect(await testId(page, 'operator-hold').textContent()).toBe('Set by hand; automatic syncs only measure');

    // A new connection is a new source: it is measured, the clock stays, and the page asks.
    await page.reload();
    await testId(page, 'decision').waitFor({ timeout: 20_000 });
    expect(await testId(page, 'decision').getAttribute('data-kind')).toBe('manual-disagrees');
    expect(await testId(page, 'decision-message').textContent()).toBeTruthy();
    expect(await testId(page, 'decision-detail').textContent()).toMatch(/^The phone at 127\.0\.0\.1 is (1 h 0 min 0 s|59 min 59 s) behind the Pi/);
    expect(Math.abs((await piMinusBrowser(page)).diffMs - 1 * HOURS)).toBeLessThan(250);
    await page.screenshot({ path: screenshotPath('decision-800x480') });

    await testId(page, 'use-client-time').click();
    await testId(page, 'decision').waitFor({ state: 'detached', timeout: 20_000 });
    const measured = await eventually(async () => {
      const m = await piMinusBrowser(page);
      return Math.abs(m.diffMs) < 10 ? m : null;
    }, "the Pi clock to take the browser's time", 20_000, 250);
    expect(Math.abs(measured.diffMs)).toBeLessThan(10);
    expect(await testId(page, 'operator-hold').count()).toBe(0);
    await eventually(async () => (await testId(page, 'pi-source').textContent())?.includes('127.0.0.1'), 'the source row to name the browser');
  });

  it('reloads itself once when the server speaks another protocol version, then says so instead of looping', async () => {
    const { app, page } = await open();
    // The server's hello, rewritten to a future version; everything else passes through.
    await page.routeWebSocket(/\/ws$/, (ws) => {
      const server = ws.connectToServer();
      server.onMessage((message) => {
        const frame = JSON.parse(String(message)) as { type: string; protocolVersion?: number };
        if (frame.type === 'hello') frame.protocolVersion = 99;
        ws.send(JSON.stringify(frame));
      });
    });
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(app.url);
    await testId(page, 'version-banner').waitFor({ timeout: 15_000 });
    expect(loads).toBe(2);
    expect(await testId(page, 'version-banner').textContent()).toContain('page 3, Pi 99');
    await page.waitForTimeout(1000);
    expect(loads).toBe(2);
  });

  it('shows Reconnecting… when the server goes away and recovers by itself when it is back on the same port', async () => {
    const first = await open();
    const page = first.page;
    await page.goto(first.app.url);
    await waitForStatus(page);
    const port = first.app.port;

    await first.app.close();
    app = null;
    const connection = testId(page, 'connection');
    await connection.and(page.locator('[data-state=reconnecting]')).waitFor({ timeout: 10_000 });
    expect(await connection.textContent()).toContain('Reconnecting…');
    expect(await testId(page, 'stale-note').isVisible()).toBe(true);
    await page.screenshot({ path: screenshotPath('reconnecting-800x480') });

    app = await startApp({}, port);
    await connection.and(page.locator('[data-state=open]')).waitFor({ timeout: 20_000 });
    await testId(page, 'pi-reliability').waitFor();
    expect(await testId(page, 'stale-note').count()).toBe(0);
    expect(page.url()).toBe(`${app.url}/`);
  });

  describe('layouts', () => {
    const layouts = [
      { name: '800x480', viewport: { width: 800, height: 480 } },
      { name: '1024x600', viewport: { width: 1024, height: 600 } },
      { name: '390x844', viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true },
    ];

    for (const layout of layouts) {
      it(`fits ${layout.name}: no sideways scroll, touch targets of 44 px, the Pi's and the camera's sync rows on the first screen`, async () => {
        const { app, page } = await open({}, { viewport: layout.viewport, hasTouch: layout.hasTouch, isMobile: layout.isMobile });
        await page.goto(app.url);
        await waitForStatus(page);
        await page.waitForTimeout(300);
        await page.screenshot({ path: screenshotPath(`page-${layout.name}`) });
        await page.screenshot({ path: screenshotPath(`page-${layout.name}-full`), fullPage: true });

        const scrollWidth = await page.evaluate('document.scrollingElement.scrollWidth');
        expect(scrollWidth).toBeLessThanOrEqual(layout.viewport.width);

        const small: string[] = [];
        for (const target of await page.locator('button, select').all()) {
          const box = await target.boundingBox();
          if (box && (box.width < 44 || box.height < 44)) small.push(`${await target.getAttribute('data-testid')} ${box.width}x${box.height}`);
        }
        expect(small).toEqual([]);

        for (const id of ['camera-timesync', 'pi-timesync']) {
          const box = await testId(page, id).boundingBox();
          expect(box).not.toBeNull();
          expect(box!.y + box!.height).toBeLessThanOrEqual(layout.viewport.height);
        }
        const fontSize = await page.evaluate('parseFloat(getComputedStyle(document.body).fontSize)');
        expect(fontSize).toBeGreaterThanOrEqual(15);
      });
    }
  });

  it('night mode: red on black only, remembered after a reload', async () => {
    const { app, page } = await open();
    await page.goto(app.url);
    await waitForStatus(page);
    await testId(page, 'night-toggle').click();
    await page.reload();
    await waitForStatus(page);
    expect(await testId(page, 'night-toggle').getAttribute('aria-pressed')).toBe('true');
    expect(await page.evaluate('document.documentElement.className')).toContain('night');
    // An error message and a disabled button with its reason on screen too: every state must stay red.
    await page.route('**/api/system/time', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 500, contentType: 'application/json', body: JSON.stringify({ statusCode: 500, code: 'CLOCK_PERMISSION_DENIED', message: 'access denied' }) })
        : route.fallback(),
    );
    await testId(page, 'open-manual').click();
    await testId(page, 'set-pi-time').click();
    await testId(page, 'set-pi-time-message').and(page.locator('.error')).waitFor();
    await page.waitForTimeout(300);

    const shots = [
      ['night-800x480-manual', false],
      ['night-800x480', false],
      ['night-800x480-full', true],
    ] as const;
    for (const [name, fullPage] of shots) {
      if (name === 'night-800x480') {
        await testId(page, 'manual-sheet-close').click();
        await testId(page, 'sync-camera-reason').waitFor();
      }
      const file = screenshotPath(name);
      await page.screenshot({ path: file, fullPage });
      const { rgba, width, height } = decodePng(readFileSync(file));
      let lit = 0;
      let red = 0;
      for (let i = 0; i < width * height * 4; i += 4) {
        if (rgba[i + 1] > 48 || rgba[i + 2] > 48) lit++;
        else if (rgba[i] > 96) red++;
      }
      expect({ name, lit }).toEqual({ name, lit: 0 });
      expect(red).toBeGreaterThan(1000);
    }
  });
});
