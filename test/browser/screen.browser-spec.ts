import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsQR from 'jsqr';
import type { Locator, Page } from 'playwright-core';
import { startCameraSim, startCameraSims, type CameraSim } from '../camera-sim/sim';
import { startApp, type StartedApp } from '../support/app';
import { TestClient } from '../support/ws-client';
import { assertServesPage, ensureFrontendBuilt, eventually, openBrowser, outside, piMinusBrowser, screenshotPath, type BrowserSession } from './browser';
import { decodePng } from './png';

jest.setTimeout(120_000);

const HOURS = 3_600_000;
const testId = (page: Page, id: string) => page.getByTestId(id);
/** In the page: every QR picture has loaded. */
const QR_LOADED = "[...document.querySelectorAll('img.qr')].every((img) => img.complete)";
/** In the page: what tells a badge apart without colour (fill or outline, border style, glyph). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const BADGE_LOOK = (el: any): string => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const s = (globalThis as any).getComputedStyle(el);
  const filled = s.backgroundColor !== 'rgba(0, 0, 0, 0)' && s.backgroundColor !== 'transparent';
  return `${filled ? 'filled' : 'outline'} ${s.borderTopStyle} ${el.querySelector('.glyph')?.textContent ?? ''}`;
};

/** The access point as the settings describe it (no NetworkManager here). */
const AP = { AP_SSID: 'PiTimeSync', AP_PASSWORD: 'correct;horse', AP_ADDRESS: '10.42.0.1' };
/** Phones are on 10.42.0.0/24: plain loopback (a browser on the Pi without the secret) is not one. */
const NO_LOOPBACK = { AP_SUBNETS: '10.42.0.0/24', ...AP };

/**
 * The Pi's own screen (Chromium opened with the kiosk secret, as kiosk/launch-kiosk.sh does) and phone-like
 * pages, against the real app on listen(0).
 */
describe("the Pi's own screen (Chromium)", () => {
  let app: StartedApp | null = null;
  let cameras: CameraSim[] = [];
  const browsers: BrowserSession[] = [];
  /** Console errors and uncaught exceptions of every page: a test expects none. */
  let problems: string[] = [];

  beforeAll(() => ensureFrontendBuilt());

  afterEach(async () => {
    for (const b of browsers.splice(0)) await b.close();
    await app?.close().catch(() => undefined);
    for (const c of cameras.splice(0)) await c.close();
    app = null;
    const seen = problems;
    problems = [];
    expect(seen).toEqual([]);
  });

  async function start(env: Record<string, string>) {
    app = await startApp(env);
    await assertServesPage(app.url);
    return app;
  }

  async function browse(viewport = { width: 800, height: 480 }, extra: { hasTouch?: boolean; isMobile?: boolean } = {}): Promise<Page> {
    const b = await openBrowser({ viewport, ...extra });
    browsers.push(b);
    watch(b.page);
    return b.page;
  }

  function watch(page: Page) {
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  }

  function kioskUrl(a: StartedApp): string {
    const secret = readFileSync(join(a.dataDir, 'kiosk-token'), 'utf8').trim();
    return `${a.url}/?kiosk=${secret}`;
  }

  async function connected(page: Page) {
    await testId(page, 'connection').and(page.locator('[data-state=open]')).waitFor({ timeout: 20_000 });
    await testId(page, 'pi-reliability').waitFor({ timeout: 20_000 });
  }

  /** Decodes the QR code shown in `locator` from a screenshot of it, with a kept decoder (jsQR). */
  async function decodeQr(locator: Locator, name: string): Promise<string | null> {
    const file = screenshotPath(name);
    await locator.screenshot({ path: file });
    const { rgba, width, height } = decodePng(readFileSync(file));
    return jsQR(new Uint8ClampedArray(rgba.buffer, rgba.byteOffset, rgba.byteLength), width, height)?.data ?? null;
  }

  /** Names of the locators not entirely inside the viewport (or not there). */
  async function twoCameras(): Promise<string> {
    // Not whole quarter hours off: the Pi takes its time from the first camera that answers, the other follows.
    cameras = [
      await startCameraSim({ clockOffsetMs: -2 * HOURS - 83_000, httpsPort: false, productName: 'Canon EOS R50', serialNumber: '083021000123' }),
      await startCameraSim({ clockOffsetMs: -2 * HOURS - 91_000, httpsPort: false, productName: 'Canon EOS R6', serialNumber: '083021000124' }),
    ];
    return cameras.map((c) => c.httpUrl).join(',');
  }

  for (const viewport of [
    { width: 800, height: 480 },
    { width: 1024, height: 600 },
  ]) {
    const size = `${viewport.width}x${viewport.height}`;

    it(`at ${size}, with no phone connected, shows how to connect (both QR codes decode) and everything needed without scrolling`, async () => {
      const a = await start({ ...NO_LOOPBACK, CAMERA_URL: await twoCameras(), CAMERA_POLL_INTERVAL: '500', SIMULATED_CLOCK_OFFSET_MS: String(-3 * 24 * HOURS) });
      const page = await browse(viewport);
      await page.goto(kioskUrl(a));
      await connected(page);
      // The secret leaves the address bar at once.
      expect(page.url()).toBe(`${a.url}/`);
      expect(await page.locator('[data-screen=kiosk]').count()).toBe(1);

      // Both cameras connect; the Pi, which had no time, takes it from one of them: entries appear in the log.
      await eventually(async () => (await page.getByTestId('camera').count()) === 2, 'both camera rows', 20_000);
      await eventually(async () => (await page.getByTestId('activity-entry').count()) >= 2, 'log entries', 20_000);
      await testId(page, 'qr-wifi').waitFor();
      await testId(page, 'qr-page').waitFor();
      await page.waitForFunction(QR_LOADED);
      await page.screenshot({ path: screenshotPath(`kiosk-${size}`) });

      expect(await decodeQr(testId(page, 'qr-wifi'), `kiosk-${size}-qr-wifi`)).toBe('WIFI:T:WPA;S:PiTimeSync;P:correct\\;horse;;');
      expect(await decodeQr(testId(page, 'qr-page'), `kiosk-${size}-qr-page`)).toBe(`http://10.42.0.1:${a.port}/`);
      expect(await testId(page, 'connect-ssid').textContent()).toBe('PiTimeSync');
      // The password is in the QR code, not on the screen (AP_SHOW_PASSWORD is off).
      expect(await testId(page, 'connect-password').count()).toBe(0);

      // Never a comparison of the Pi with itself.
      const text = (await page.locator('body').textContent()) ?? '';
      expect(text).not.toMatch(/in step|This device|Difference/);

      const rows = page.getByTestId('camera');
      const items: Array<[string, Locator]> = [
        ["the Pi's sync row", testId(page, 'pi-timesync')],
        ["the Pi's time", testId(page, 'pi-time')],
        ['camera 1 sync row', rows.nth(0).getByTestId('camera-timesync')],
        ['camera 1 name', rows.nth(0).getByTestId('camera-name')],
        ['camera 2 sync row', rows.nth(1).getByTestId('camera-timesync')],
        ['camera 2 name', rows.nth(1).getByTestId('camera-name')],
        ['Sync cameras now', testId(page, 'sync-camera')],
        ['the Wi-Fi QR code', testId(page, 'qr-wifi')],
        ["the page's QR code", testId(page, 'qr-page')],
        ["the access point's name", testId(page, 'connect-ssid')],
        ['the newest log entry', page.getByTestId('activity-entry').first()],
        ['the second newest log entry', page.getByTestId('activity-entry').nth(1)],
        ['Set time by hand (one tap away)', testId(page, 'open-manual')],
      ];
      expect(await outside(page, items)).toEqual([]);
      expect(await page.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(viewport.width);
    });
  }

  for (const count of [1, 2, 4]) {
    it(`at 800x480 with ${count} camera${count > 1 ? 's' : ''} synced and checked, the Pi, every camera's state and clock line, the actions and the newest entry fit without scrolling`, async () => {
      // Cameras off by a few seconds (each differently), so each is written and then checked, read-only.
      cameras = await startCameraSims(count, { httpsPort: false }, (i) => ({ clockOffsetMs: -(3_000 + 1_700 * i), productName: ['Canon EOS R50', 'Canon EOS R6', 'Canon EOS R5 Mark II', 'Canon EOS 5D Mark IV'][i] }));
      const a = await start({
        AP_SUBNETS: '127.0.0.2/32',
        ...AP,
        CAMERA_URL: cameras.map((c) => c.httpUrl).join(','),
        CAMERA_POLL_INTERVAL: '500',
        CAMERA_CHECK_INTERVAL: '1000',
        SIMULATED_CLOCK_OFFSET_MS: String(-3 * 24 * HOURS),
      });
      const page = await browse();
      await page.goto(kioskUrl(a));
      await connected(page);
      // Before any phone: the QR codes take the right-hand column, and still every camera fits.
      await eventually(async () => (await page.getByTestId('camera').count()) === count, 'every camera row', 20_000);
      await testId(page, 'qr-wifi').waitFor();
      await page.screenshot({ path: screenshotPath(`kiosk-${count}-camera${count > 1 ? 's' : ''}-no-phone-800x480`) });
      const before: Array<[string, Locator]> = [
        ["the Pi's time", testId(page, 'pi-time')],
        ["the Pi's sync row", testId(page, 'pi-timesync')],
        [`camera ${count}`, page.getByTestId('camera').last()],
        ['Sync camera(s) now', testId(page, 'sync-camera')],
        ["the page's QR code", testId(page, 'qr-page')],
        ['the newest log entry', page.getByTestId('activity-entry').first()],
      ];
      expect(await outside(page, before)).toEqual([]);

      // A phone on the Pi's Wi-Fi gives the Pi its time; the cameras are set from it, then checked.
      const phone = await TestClient.connect(a.wsUrl, { localAddress: '127.0.0.2' });
      try {
        // A burst cut by a camera step is retried TIME_SYNC_RETRY_DELAY later: room for that on a loaded machine.
        await testId(page, 'pi-reliability').and(page.locator('[data-reliability=high]')).waitFor({ timeout: 45_000 });
        await eventually(async () => (await page.getByTestId('camera-clock').count()) === count, "every camera's clock line", 30_000);
        const size = `kiosk-${count}-camera${count > 1 ? 's' : ''}-800x480`;
        await page.screenshot({ path: screenshotPath(size) });
        const rows = page.getByTestId('camera');
        expect(await rows.count()).toBe(count);
        const items: Array<[string, Locator]> = [
          ["the Pi's time", testId(page, 'pi-time')],
          ["the Pi's state", testId(page, 'pi-timesync')],
        ];
        for (let i = 0; i < count; i++) {
          items.push([`camera ${i + 1} state`, rows.nth(i).getByTestId('camera-timesync')]);
          items.push([`camera ${i + 1} name`, rows.nth(i).getByTestId('camera-name')]);
          items.push([`camera ${i + 1} clock line`, rows.nth(i).getByTestId('camera-clock')]);
        }
        items.push(
          [count > 1 ? 'Sync cameras now' : 'Sync camera now', testId(page, 'sync-camera')],
          ['the newest log entry', page.getByTestId('activity-entry').first()],
          ['Set time by hand (one tap away)', testId(page, 'open-manual')],
        );
        expect(await outside(page, items)).toEqual([]);
        expect(await page.evaluate('document.scrollingElement.scrollHeight')).toBeLessThanOrEqual(480);
        expect(await page.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(800);
        expect(await testId(page, 'sync-camera').isEnabled()).toBe(true);

        // The answer to "Sync cameras now" shows by its button, and the screen still fits.
        await testId(page, 'sync-camera').click();
        await testId(page, 'sync-camera-message').waitFor({ timeout: 20_000 });
        await page.screenshot({ path: screenshotPath(`${size}-after-sync`) });
        expect(await outside(page, [...items, ['the answer to Sync', testId(page, 'sync-camera-message')]])).toEqual([]);

        // A tap on a camera: every camera's rows in full.
        await rows.last().click();
        const sheet = testId(page, 'cameras-sheet');
        await sheet.waitFor();
        expect(await sheet.getByTestId('camera').count()).toBe(count);
        expect(await sheet.getByTestId('camera-name').last().textContent()).toMatch(/^Canon EOS .* · serial 08302100012\d$/);
        await testId(page, 'cameras-sheet-close').click();
        await sheet.waitFor({ state: 'detached' });

        // At night the condensed rows are red on black too.
        await testId(page, 'night-toggle').click();
        const file = screenshotPath(`${size}-night`);
        await page.screenshot({ path: file });
        const { rgba, width, height } = decodePng(readFileSync(file));
        let lit = 0;
        for (let i = 0; i < width * height * 4; i += 4) if (rgba[i + 1] > 48 || rgba[i + 2] > 48) lit++;
        expect(lit).toBe(0);
        expect(await outside(page, items)).toEqual([]);
      } finally {
        phone.close();
      }
    });
  }

  it('says "Time not confirmed since start: connect a phone" while the Pi has no time, and what is known once a phone gave it', async () => {
    // Phones: 127.0.0.2 (a ws client can connect from there; Chromium cannot). Plain loopback is no phone.
    const a = await start({ AP_SUBNETS: '127.0.0.2/32', ...AP, SIMULATED_CLOCK_OFFSET_MS: String(-3 * 24 * HOURS) });
    const page = await browse();
    await page.goto(kioskUrl(a));
    await connected(page);
    expect(await testId(page, 'pi-unconfirmed').textContent()).toContain('Time not confirmed since start: connect a phone');
    expect(await testId(page, 'pi-reliability').getAttribute('data-reliability')).toBe('none');
    expect(await outside(page, [['the big line', testId(page, 'pi-unconfirmed')]])).toEqual([]);

    const phone = await TestClient.connect(a.wsUrl, { localAddress: '127.0.0.2' });
    try {
      await testId(page, 'pi-reliability').and(page.locator('[data-reliability=high]')).waitFor({ timeout: 20_000 });
      expect(await testId(page, 'pi-unconfirmed').count()).toBe(0);
      expect(await testId(page, 'pi-source').textContent()).toBe('from the phone at 127.0.0.2');
      expect(await testId(page, 'pi-age').textContent()).toMatch(/just now|s ago/);
      expect(await testId(page, 'pi-bound').textContent()).toMatch(/^± \d/);
      // A phone is connected: the QR codes give way, one tap away.
      await testId(page, 'open-connect').waitFor();
      expect(await testId(page, 'qr-wifi').count()).toBe(0);
      await testId(page, 'open-connect').click();
      await testId(page, 'connect-sheet').getByTestId('qr-wifi').waitFor();
      await testId(page, 'connect-sheet-close').click();
      await eventually(async () => (await page.getByTestId('activity-entry').first().textContent())?.includes('the phone at 127.0.0.2'), 'the log to name the phone');
    } finally {
      phone.close();
    }
  });

  it('the kiosk page may set the time by hand; a plain loopback page may not', async () => {
    const a = await start({ ...NO_LOOPBACK, SIMULATED_CLOCK_OFFSET_MS: String(-2 * 24 * HOURS) });

    // Plain loopback: a browser on the Pi (or an SSH tunnel) without the secret.
    const plain = await browse();
    await plain.goto(a.url);
    await connected(plain);
    expect(await plain.locator('[data-screen=other]').count()).toBe(1);
    await testId(plain, 'open-manual').click();
    expect(await testId(plain, 'set-pi-time').isDisabled()).toBe(true);
    expect(await testId(plain, 'set-pi-time-reason').textContent()).toBe("Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time");
    const refused = await fetch(`${a.url}/api/system/time`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ timestamp: new Date().toISOString() }) });
    expect(refused.status).toBe(403);
    const guessed = await fetch(`${a.url}/api/system/time`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'x-kiosk-token': 'guessed-guessed-guessed-guessed-guessed' }, body: JSON.stringify({ timestamp: new Date().toISOString() }) });
    expect(guessed.status).toBe(403);
    expect((await piMinusBrowser(plain)).diffMs).toBeLessThan(-47 * HOURS);

    // The Pi's own screen: the time starts from the Pi's clock, the operator steps it and sets it.
    const kiosk = await browse();
    await kiosk.goto(kioskUrl(a));
    await connected(kiosk);
    await testId(kiosk, 'open-manual').click();
    expect(await testId(kiosk, 'manual-delta').textContent()).toBe("The Pi's time");
    expect(await testId(kiosk, 'set-pi-time').isEnabled()).toBe(true);
    // Two days and an hour ahead of the Pi's wrong clock: the browser's (the host's) time plus an hour.
    await testId(kiosk, 'step-day-up').click();
    await testId(kiosk, 'step-day-up').click();
    await testId(kiosk, 'step-hour-up').click();
    await testId(kiosk, 'set-pi-time').click();
    await kiosk.getByTestId('set-pi-time-message').and(kiosk.locator('.ok')).waitFor();
    const after = await piMinusBrowser(kiosk);
    expect(Math.abs(after.diffMs - 1 * HOURS)).toBeLessThan(2000);
    await testId(kiosk, 'manual-sheet-close').click();
    await eventually(async () => (await testId(kiosk, 'pi-source').textContent())?.includes('set by hand'), 'the source row');
    await eventually(async () => (await kiosk.getByTestId('activity-entry').first().textContent())?.includes("Time set by hand on the Pi's screen"), 'the log entry in words');
    // The refusals of the plain page are in the log too, in words.
    expect((await kiosk.getByTestId('activity-entry').allTextContents()).join('\n')).toMatch(/Refused: 127\.0\.0\.1 .*may not set the time/);

    // A reload keeps the kiosk (the secret is kept for the tab), though it is no longer in the address.
    await kiosk.reload();
    await connected(kiosk);
    expect(await kiosk.locator('[data-screen=kiosk]').count()).toBe(1);
  });

  it("a phone's disagreement reaches the Pi's screen; the answer there takes the phone's time on both", async () => {
    // Loopback is a phone here (the demo setting); the Pi's screen is told apart by its secret.
    const a = await start({ AP_SUBNETS: '127.0.0.1/32,::1/128', ...AP, SIMULATED_CLOCK_OFFSET_MS: '0' });
    const kiosk = await browse();
    await kiosk.goto(kioskUrl(a));
    await connected(kiosk);
    // The Pi's screen is no time source, though it is on loopback.
    expect(await testId(kiosk, 'pi-reliability').getAttribute('data-reliability')).toBe('none');
    await testId(kiosk, 'open-manual').click();
    await testId(kiosk, 'step-hour-up').click();
    await testId(kiosk, 'set-pi-time').click();
    await kiosk.getByTestId('set-pi-time-message').and(kiosk.locator('.ok')).waitFor();
    await testId(kiosk, 'manual-sheet-close').click();

    // A phone connects: measured, not applied (the operator set the time by hand): a decision on every page.
    const phone = await kiosk.context().newPage();
    watch(phone);
    await phone.goto(a.url);
    await connected(phone);
    for (const page of [phone, kiosk]) {
      await testId(page, 'decision').waitFor({ timeout: 20_000 });
      expect(await testId(page, 'decision').getAttribute('data-kind')).toBe('manual-disagrees');
      expect(await testId(page, 'decision-message').textContent()).toMatch(/^The phone at 127\.0\.0\.1 says \d\d:\d\d:\d\d .*, the Pi was set by hand to .*Use the phone's time\?$/);
    }
    expect(await testId(kiosk, 'use-client-time').textContent()).toBe("Use the phone's time");
    expect(await testId(phone, 'use-client-time').textContent()).toBe("Use this phone's time");
    await kiosk.screenshot({ path: screenshotPath('kiosk-decision-800x480') });
    expect(Math.abs((await piMinusBrowser(kiosk)).diffMs - HOURS)).toBeLessThan(2000);

    await testId(kiosk, 'use-client-time').click();
    for (const page of [kiosk, phone]) await testId(page, 'decision').waitFor({ state: 'detached', timeout: 20_000 });
    const measured = await eventually(async () => {
      const m = await piMinusBrowser(phone);
      return Math.abs(m.diffMs) < 10 ? m : null;
    }, "the Pi clock to take the phone's time", 20_000, 250);
    expect(Math.abs(measured.diffMs)).toBeLessThan(10);
    await eventually(async () => (await testId(phone, 'pi-source').textContent())?.includes('the phone at 127.0.0.1'), "the phone's source row");
    expect((await kiosk.getByTestId('activity-entry').allTextContents()).join('\n')).toContain('The operator chose the time of the phone at 127.0.0.1');
  });

  it('night mode: every reliability state in red only, each told apart without colour; the QR code still decodes', async () => {
    const a = await start({ AP_SUBNETS: '127.0.0.2/32', ...AP, SIMULATED_CLOCK_OFFSET_MS: String(-3 * 24 * HOURS), TIME_SYNC_RETRY_DELAY: '3600000' });
    const kiosk = await browse();
    await kiosk.goto(kioskUrl(a));
    await connected(kiosk);
    await testId(kiosk, 'night-toggle').click();
    expect(await kiosk.locator('meta[name=theme-color]').getAttribute('content')).toBe('#000000');
    await testId(kiosk, 'qr-wifi').waitFor();

    const looks: Record<string, string> = {};
    async function shoot(state: string) {
      await testId(kiosk, 'pi-reliability').and(kiosk.locator(`[data-reliability=${state}]`)).waitFor({ timeout: 20_000 });
      await kiosk.waitForFunction(QR_LOADED);
      const file = screenshotPath(`kiosk-night-${state}-800x480`);
      await kiosk.screenshot({ path: file });
      const { rgba, width, height } = decodePng(readFileSync(file));
      let lit = 0;
      let red = 0;
      for (let i = 0; i < width * height * 4; i += 4) {
        if (rgba[i + 1] > 48 || rgba[i + 2] > 48) lit++;
        else if (rgba[i] > 96) red++;
      }
      expect({ state, lit }).toEqual({ state, lit: 0 });
      expect(red).toBeGreaterThan(1000);
      // What tells the level without colour: the badge's shape (fill, border style) and its glyph.
      looks[state] = await testId(kiosk, 'pi-reliability').evaluate(BADGE_LOOK);
    }

    await shoot('none');
    expect(await decodeQr(testId(kiosk, 'qr-wifi'), 'kiosk-night-qr-wifi')).toBe('WIFI:T:WPA;S:PiTimeSync;P:correct\\;horse;;');

    // The operator sets the time by hand on the Pi's screen: high.
    await testId(kiosk, 'open-manual').click();
    await testId(kiosk, 'step-day-up').click();
    await testId(kiosk, 'set-pi-time').click();
    await kiosk.getByTestId('set-pi-time-message').and(kiosk.locator('.ok')).waitFor();
    await testId(kiosk, 'manual-sheet-close').click();
    await shoot('high');

    // Phones that never answer (in a pocket): each failed sync costs one level.
    for (const state of ['medium', 'low']) {
      const silent = await TestClient.connect(a.wsUrl, { localAddress: '127.0.0.2', answer: false });
      await testId(kiosk, 'pi-reliability').and(kiosk.locator(`[data-reliability=${state}]`)).waitFor({ timeout: 20_000 });
      silent.close();
      await shoot(state);
    }
    expect(new Set(Object.values(looks)).size).toBe(4);
  });

  it('at 390x844 on a phone, the main action is above the fold; screenshots kept', async () => {
    const a = await start({ AP_SUBNETS: '127.0.0.1/32,::1/128', ...AP, CAMERA_URL: await twoCameras(), CAMERA_POLL_INTERVAL: '500' });
    const page = await browse({ width: 390, height: 844 }, { hasTouch: true, isMobile: true });
    await page.goto(a.url);
    await connected(page);
    expect(await page.locator('[data-screen=phone]').count()).toBe(1);
    await eventually(async () => (await page.getByTestId('camera').count()) === 2, 'both camera rows', 20_000);
    await page.screenshot({ path: screenshotPath('phone-390x844') });
    expect(
      await outside(page, [
        ["the Pi's sync row", testId(page, 'pi-timesync')],
        ['camera 1 sync row', page.getByTestId('camera-timesync').nth(0)],
        ['Sync cameras now', testId(page, 'sync-camera')],
      ]),
    ).toEqual([]);
    expect(await testId(page, 'sync-camera').isEnabled()).toBe(true);
  });
});
