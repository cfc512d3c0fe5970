import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Download, Locator, Page } from 'playwright-core';
import { startCameraSim, type CameraSim } from '../camera-sim/sim';
import { startApp, type StartedApp } from '../support/app';
import { TestClient } from '../support/ws-client';
import { assertServesPage, ensureFrontendBuilt, eventually, openBrowser, outside, screenshotPath, type BrowserSession } from './browser';
import { decodePng } from './png';

jest.setTimeout(120_000);

const testId = (page: Page, id: string) => page.getByTestId(id);
const AP = { AP_SSID: 'PiTimeSync', AP_PASSWORD: 'correct;horse', AP_ADDRESS: '10.42.0.1' };
const SESSION_ID = /s-\d{8}-\d{6}-[0-9a-f]{6}/;

/**
 * In the page, for every element under the root: the ones that reach outside the viewport sideways, and the ones
 * whose text is cut by their own box (overflow hidden or clipped).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CUT_OFF = (root: any, width: number): string[] => {
  const out: string[] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const style = (e: any) => (globalThis as any).getComputedStyle(e);
  for (const e of [root, ...root.querySelectorAll('*')]) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const name = e.getAttribute('data-testid') || `${e.tagName.toLowerCase()}${e.className ? `.${String(e.className).split(' ')[0]}` : ''}`;
    if (r.left < -0.5 || r.right > width + 0.5) out.push(`${name}: ${Math.round(r.left)}..${Math.round(r.right)} of ${width}`);
    const s = style(e);
    if (s.overflowX !== 'visible' && e.scrollWidth > e.clientWidth + 1) out.push(`${name}: cut sideways (${e.scrollWidth} > ${e.clientWidth})`);
    if (s.overflowY !== 'visible' && e !== root && e.scrollHeight > e.clientHeight + 1) out.push(`${name}: cut (${e.scrollHeight} > ${e.clientHeight})`);
  }
  return out;
};

/**
 * A capture session from the page, against the real app on listen(0) (simulated clock) with a simulated camera:
 * started and stopped from the Pi's own screen (800x480) and from a phone (390x844); the report read there, nothing
 * cut off; "Fix my photos" downloads the session's ExifTool file, and the command shown names it.
 */
describe('capture sessions on the page (Chromium)', () => {
  let app: StartedApp | null = null;
  let camera: CameraSim | null = null;
  let browser: BrowserSession | null = null;
  let problems: string[] = [];
  /** Console errors a test causes on purpose (Chromium logs every failed request). */
  let expected: RegExp[] = [];

  beforeAll(() => ensureFrontendBuilt());

  afterEach(async () => {
    await browser?.close();
    await app?.close().catch(() => undefined);
    await camera?.close();
    browser = null;
    app = null;
    camera = null;
    const seen = problems;
    problems = [];
    expected = [];
    expect(seen).toEqual([]);
  });

  async function start(env: Record<string, string>): Promise<StartedApp> {
    camera = await startCameraSim({ clockOffsetMs: -4_000, httpsPort: false, productName: 'Canon EOS R50', serialNumber: '083021000123' });
    app = await startApp({ CAMERA_URL: camera.httpUrl, CAMERA_POLL_INTERVAL: '500', ...env });
    await assertServesPage(app.url);
    return app;
  }

  async function browse(viewport: { width: number; height: number }, extra: { hasTouch?: boolean; isMobile?: boolean } = {}): Promise<Page> {
    browser = await openBrowser({ viewport, ...extra });
    const page = browser.page;
    page.on('console', (m) => {
      if (m.type() === 'error' && !expected.some((e) => e.test(m.text()))) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    return page;
  }

  async function connected(page: Page) {
    await testId(page, 'connection').and(page.locator('[data-state=open]')).waitFor({ timeout: 20_000 });
    await testId(page, 'pi-reliability').waitFor({ timeout: 20_000 });
  }

  /** The Pi has a phone's time and the camera has been set from it (a camera sync's outcome on its row). */
  async function piAndCameraOnTime(page: Page) {
    await testId(page, 'pi-reliability').and(page.locator('[data-reliability=high]')).waitFor({ timeout: 45_000 });
    await eventually(async () => /^(●Synced|◐Set|●Kept)/.test((await testId(page, 'camera-timesync').textContent()) ?? ''), 'the camera to be set from the Pi', 30_000);
  }

  async function cutOff(page: Page, roots: Locator): Promise<string[]> {
    const out: string[] = [];
    for (const root of await roots.all()) out.push(...(await root.evaluate(CUT_OFF, page.viewportSize()!.width)));
    return out;
  }

  /** Buttons and links drawn as buttons under the root smaller than a finger (44 px). */
  async function smallTargets(root: Locator): Promise<string[]> {
    const small: string[] = [];
    for (const target of await root.locator('button, a.btn, summary').all()) {
      const box = await target.boundingBox();
      if (box && (box.width < 44 || box.height < 44)) small.push(`${(await target.getAttribute('data-testid')) ?? (await target.textContent())} ${box.width}x${box.height}`);
    }
    return small;
  }

  /** Whether the last report checked had photos to fix (see checkReport). */
  let fixable = true;

  /** The report the stop opened: what it says of the camera and the Pi, read as a photographer would. */
  async function checkReport(page: Page): Promise<string> {
    const sheet = testId(page, 'report-sheet');
    await sheet.waitFor({ timeout: 30_000 });
    const summary = (await testId(page, 'report-summary').textContent()) ?? '';
    const id = summary.match(SESSION_ID)?.[0];
    expect(id).toBeDefined();
    expect(summary).toMatch(/Started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d .* · stopped \d\d:\d\d:\d\d · \d+ s$/);
    const cameraReport = sheet.getByTestId('report-camera');
    expect(await cameraReport.count()).toBe(1);
    expect(await testId(page, 'report-camera-name').textContent()).toBe('EOS R50 · 083021000123');
    // Set at the start (it was 3 s ahead), verified or honestly not; measured read-only at the stop, or "uncertain".
    expect(await testId(page, 'report-start').textContent()).toMatch(/^set \(it was [23]\.\d s ahead of the Pi\), (now (\d+(\.\d)? ms (ahead of|behind) the Pi|in step with the Pi) \(±\d+(\.\d)? ms\)|not verified)$/);
    expect(await testId(page, 'report-end').textContent()).toMatch(/^(\d+(\.\d)? ms (ahead of|behind) the Pi \(±\d+(\.\d)? ms\)|in step with the Pi \(±\d+(\.\d)? ms\)|uncertain: .*)$/);
    // Seconds of measurements tell nothing of a drift in ms a day: the report says so, and the page shows no figure.
    expect(await testId(page, 'report-drift').getAttribute('data-known')).toBe('false');
    expect(await testId(page, 'report-drift').textContent()).toMatch(/^not (known|measured)/);
    expect(await testId(page, 'report-writes').textContent()).toBe('not set during the session');
    // A camera whose write at the start could not be verified and whose stop measurement was uncertain (a loaded
    // machine) has no measurement against a known time: the report says so instead of a shift, and offers no fix.
    const photos = (await testId(page, 'report-photos').textContent()) ?? '';
    expect(photos).toMatch(/^(taken \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} – .* \(camera time\): shifted |no correction: the camera was not measured against a known time$)/);
    fixable = photos.startsWith('taken');
    expect(await testId(page, 'report-pi-steps').textContent()).toBe('not stepped: automatic steps wait while a session runs');
    if (fixable) expect(await testId(page, 'fix-photos-command').textContent()).toBe(`exiftool -@ corrections-${id}.args -overwrite_original path/to/photos`);
    return id!;
  }

  /** "Fix my photos": the file the page downloads is the session's ExifTool argument file, under the name the command uses. */
  async function checkDownload(page: Page, id: string): Promise<void> {
    const link = testId(page, 'fix-photos-download');
    await link.scrollIntoViewIfNeeded();
    expect(await outside(page, [['Fix my photos', link]])).toEqual([]);
    const [download] = (await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), link.click()])) as [Download, unknown];
    expect(download.suggestedFilename()).toBe(`corrections-${id}.args`);
    const file = await download.path();
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n')[0]).toBe('# Pi Camera TimeSync: photo time corrections, generated from the clock-change journal');
    expect(text).toContain(`the photos of capture session ${id}`);
    expect(text).toContain('# camera 083021000123');
    expect(text).toMatch(/^-if$/m);
    expect(text).toMatch(/^-SubSecDateTimeOriginal</m);
  }

  it("on the Pi's own screen (800x480): start, the running session, stop, the report and the download, nothing cut off", async () => {
    // Phones: 127.0.0.2 (a ws client can connect from there); the Pi's screen is told apart by its secret.
    const a = await start({ AP_SUBNETS: '127.0.0.2/32', ...AP });
    const page = await browse({ width: 800, height: 480 });
    const secret = readFileSync(join(a.dataDir, 'kiosk-token'), 'utf8').trim();
    await page.goto(`${a.url}/?kiosk=${secret}`);
    await connected(page);

    // No phone yet: the QR codes take the side column, the session is one tap away in the header.
    await testId(page, 'qr-wifi').waitFor();
    expect(await testId(page, 'open-session').textContent()).toBe('Capture session');
    expect(await outside(page, [['the session button', testId(page, 'open-session')]])).toEqual([]);

    const phone = await TestClient.connect(a.wsUrl, { localAddress: '127.0.0.2' });
    try {
      await piAndCameraOnTime(page);
      // The session sits under the newest entries now.
      await testId(page, 'session-start').waitFor();
      expect(await testId(page, 'session-state').textContent()).toBe('None running.');
      camera!.clock.setError(3000);

      await testId(page, 'session-start').click();
      const message = testId(page, 'session-message');
      await message.waitFor({ timeout: 30_000 });
      expect(await message.getAttribute('role')).toBe('status');
      expect(await message.textContent()).toMatch(/^✓ Started\. EOS R50 · 083021000123: set \(it was [23]\.\d s ahead of the Pi\), (now .* \(±.*\)|not verified)$/);
      await testId(page, 'session').and(page.locator('[data-state=running]')).waitFor({ timeout: 20_000 });
      // The Pi's screen: when and how long, in one line (the log and the report say the rest).
      expect(await testId(page, 'session-state').textContent()).toMatch(/^●Running since \d\d:\d\d:\d\d · \d+ s$/);
      expect(Math.abs(camera!.clock.errorMs())).toBeLessThan(200);
      await page.screenshot({ path: screenshotPath('session-running-800x480') });

      const mainScreen: Array<[string, Locator]> = [
        ["the Pi's time", testId(page, 'pi-time')],
        ["the Pi's state", testId(page, 'pi-timesync')],
        ['the camera state', testId(page, 'camera-timesync')],
        ['the camera clock line', testId(page, 'camera-clock')],
        ['Sync camera now', testId(page, 'sync-camera')],
        ['the newest log entry', page.getByTestId('activity-entry').first()],
        ['the session state', testId(page, 'session-state')],
        ['the answer to Start', message],
        ['Stop session', testId(page, 'session-stop')],
      ];
      expect(await outside(page, mainScreen)).toEqual([]);
      expect(await page.evaluate('document.scrollingElement.scrollHeight')).toBeLessThanOrEqual(480);
      expect(await page.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(800);
      // Its title and its state whole; only the answer to Start may be cut to two lines (the log has it whole).
      expect(await cutOff(page, testId(page, 'session').locator('.card-head, .session-state'))).toEqual([]);

      await testId(page, 'session-stop').click();
      const id = await checkReport(page);
      const sheet = testId(page, 'report-sheet');
      await page.screenshot({ path: screenshotPath('session-report-800x480') });
      await testId(page, 'fix-photos').scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath('session-report-800x480-fix-photos') });
      await testId(page, 'report-summary').scrollIntoViewIfNeeded();
      // The first screen of the report: what became of the camera, without scrolling.
      expect(await outside(page, [['the camera at start', testId(page, 'report-start')], ['the camera at stop', testId(page, 'report-end')], ['its drift', testId(page, 'report-drift')]])).toEqual([]);
      expect(await cutOff(page, sheet)).toEqual([]);
      expect(await smallTargets(sheet)).toEqual([]);
      if (fixable) {
        expect(await testId(page, 'fix-photos-on-pi').isVisible()).toBe(true);
        await checkDownload(page, id);
      } else expect(await testId(page, 'fix-photos-nothing').isVisible()).toBe(true);

      // Closed: the report stays one tap away, and the main screen still fits.
      await testId(page, 'report-sheet-close').click();
      await testId(page, 'session').and(page.locator('[data-state=idle]')).waitFor();
      expect(await testId(page, 'session-last').textContent()).toMatch(/^Last: stopped \d\d:\d\d:\d\dReport$/);
      expect(await testId(page, 'session-message').textContent()).toMatch(/^✓ Stopped after \d+ s$/);
      await page.screenshot({ path: screenshotPath('session-stopped-800x480') });
      const idle = mainScreen.filter(([name]) => !['Stop session', 'the answer to Start', 'the session state'].includes(name));
      expect(await outside(page, [...idle, ['Start session', testId(page, 'session-start')], ['the last session', testId(page, 'session-last')], ['Report', testId(page, 'open-session-report')], ['the answer to Stop', testId(page, 'session-message')]])).toEqual([]);
      expect(await page.evaluate('document.scrollingElement.scrollHeight')).toBeLessThanOrEqual(480);
      // At night the report is red on black too.
      await testId(page, 'night-toggle').click();
      await testId(page, 'open-session-report').click();
      expect(await checkReport(page)).toBe(id);
      for (const part of ['report-summary', 'fix-photos']) {
        await testId(page, part).scrollIntoViewIfNeeded();
        const file = screenshotPath(`session-report-800x480-night-${part}`);
        await page.screenshot({ path: file });
        const { rgba, width, height } = decodePng(readFileSync(file));
        let lit = 0;
        for (let i = 0; i < width * height * 4; i += 4) if (rgba[i + 1] > 48 || rgba[i + 2] > 48) lit++;
        expect({ part, lit }).toEqual({ part, lit: 0 });
      }
    } finally {
      phone.close();
    }
  });

  it('on a phone (390x844): a refusal offered to confirm, start anyway, stop, the report and the download, nothing cut off', async () => {
    // Loopback is a phone here: the browser gives the Pi its time.
    const a = await start({});
    const page = await browse({ width: 390, height: 844 }, { hasTouch: true, isMobile: true });
    await page.goto(a.url);
    await connected(page);
    await piAndCameraOnTime(page);

    // The Pi's answer when its time is not reliable (here it is, so the first start is answered as if it were not):
    // the refusal in words, and "Start anyway" sends the real start with confirm.
    const bodies: string[] = [];
    let refusedOnce = false;
    expected = [/status of 409 \(Conflict\)/];
    await page.route('**/api/session/start', async (route) => {
      bodies.push(route.request().postData() ?? '');
      if (refusedOnce) return route.fallback();
      refusedOnce = true;
      return route.fulfill({
        status: 409,
        contentType: 'application/json',
        body: JSON.stringify({ statusCode: 409, code: 'PI_TIME_UNRELIABLE', message: "Capture session not started: The Pi's own time is not reliable (confirm: true)" }),
      });
    });
    await testId(page, 'session-start').click();
    const message = testId(page, 'session-message');
    await message.and(page.locator('.error')).waitFor({ timeout: 20_000 });
    expect(await message.getAttribute('role')).toBe('alert');
    expect(await message.textContent()).toMatch(/^⚠\uFE0E Not started: the Pi's own time is not reliable .* or start anyway: the cameras are then set from the Pi's clock as it is$/);
    await testId(page, 'session').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('session-refused-390x844') });
    expect(await cutOff(page, testId(page, 'session'))).toEqual([]);
    expect(await smallTargets(testId(page, 'session'))).toEqual([]);

    await testId(page, 'session-start-anyway').click();
    await testId(page, 'session').and(page.locator('[data-state=running]')).waitFor({ timeout: 30_000 });
    expect(bodies).toEqual(['{}', '{"confirm":true}']);
    await message.and(page.locator('.ok')).waitFor({ timeout: 20_000 });
    expect(await message.textContent()).toMatch(/^✓ Started\. EOS R50 · 083021000123: (kept, not written|set)/);
    await page.screenshot({ path: screenshotPath('session-running-390x844') });
    await testId(page, 'session-stop').scrollIntoViewIfNeeded();
    expect(await outside(page, [['the session state', testId(page, 'session-state')], ['Stop session', testId(page, 'session-stop')]])).toEqual([]);
    expect(await page.evaluate('document.scrollingElement.scrollWidth')).toBeLessThanOrEqual(390);

    await testId(page, 'session-stop').click();
    const sheet = testId(page, 'report-sheet');
    await sheet.waitFor({ timeout: 30_000 });
    const summary = (await testId(page, 'report-summary').textContent()) ?? '';
    const id = summary.match(SESSION_ID)![0];
    expect(await testId(page, 'report-camera-name').textContent()).toBe('EOS R50 · 083021000123');
    expect(await testId(page, 'report-drift').getAttribute('data-known')).toBe('false');
    expect(await testId(page, 'report-end').textContent()).toMatch(/(ahead of|behind) the Pi \(±|in step with the Pi|^uncertain: /);
    const photos = (await testId(page, 'report-photos').textContent()) ?? '';
    expect(photos).toMatch(/\(camera time\): shifted |^no correction: the camera was not measured against a known time$/);
    const phoneFixable = photos.startsWith('taken');
    if (phoneFixable) expect(await testId(page, 'fix-photos-command').textContent()).toBe(`exiftool -@ corrections-${id}.args -overwrite_original path/to/photos`);
    else expect(await testId(page, 'fix-photos-nothing').isVisible()).toBe(true);
    expect(await testId(page, 'fix-photos-on-pi').count()).toBe(0);
    await page.screenshot({ path: screenshotPath('session-report-390x844') });
    await testId(page, 'fix-photos').scrollIntoViewIfNeeded();
    await page.screenshot({ path: screenshotPath('session-report-390x844-fix-photos') });
    await testId(page, 'report-summary').scrollIntoViewIfNeeded();
    expect(await outside(page, [['the camera at start', testId(page, 'report-start')], ['the camera at stop', testId(page, 'report-end')], ['its drift', testId(page, 'report-drift')]])).toEqual([]);
    expect(await cutOff(page, sheet)).toEqual([]);
    expect(await smallTargets(sheet)).toEqual([]);
    if (phoneFixable) await checkDownload(page, id);
  });
});
