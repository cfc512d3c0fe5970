import type { Page } from 'playwright-core';
import { startCameraSim, type CameraSim } from '../camera-sim/sim';
import { slateOfApp } from '../../backend/dev/camera-sim/sim-photo';
import { startApp, type StartedApp } from '../support/app';
import { assertServesPage, ensureFrontendBuilt, eventually, openBrowser, screenshotPath, type BrowserSession } from './browser';

jest.setTimeout(90_000);

const HOURS = 3_600_000;
const testId = (page: Page, id: string) => page.getByTestId(id);

/** The page with the camera simulator behind the real backend. */
describe('kiosk page with a camera (Chromium)', () => {
  let camera: CameraSim | undefined;
  let app: StartedApp | undefined;
  let browser: BrowserSession | undefined;

  beforeAll(() => ensureFrontendBuilt());

  beforeEach(async () => {
    // The camera's clock is 5 h 1 min 23 s behind (not a whole number of quarter hours, which would look like a
    // zone mistake and wait for the operator); it is synced once the Pi has good time.
    const sim = (camera = await startCameraSim({ clockOffsetMs: -5 * HOURS - 83_000, httpsPort: false, productName: 'Canon EOS R50', serialNumber: '083021000123' }));
    const started = (app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '500', CAMERA_SYNC_ON_CONNECT: 'false' }));
    await assertServesPage(started.url);
    const { page } = (browser = await openBrowser({ viewport: { width: 800, height: 480 } }));
    await page.goto(started.url);
    // The browser on the trusted loopback makes the Pi reliable; then the camera shows up.
    await testId(page, 'pi-reliability').and(page.locator('[data-reliability=high]')).waitFor({ timeout: 20_000 });
    await eventually(async () => (await testId(page, 'camera-name').textContent())?.includes('EOS R50'), 'the camera to connect', 20_000);
    // When the Pi gets good time, the server sets the camera from it; the row follows without a reload.
    // "Synced" only when the residual was measured well; under load it may honestly be "set, not verified".
    await eventually(async () => /^(●Synced|◐Set)/.test((await testId(page, 'camera-timesync').textContent()) ?? ''), 'the automatic camera sync to show', 20_000);
    expect(await testId(page, 'camera-timesync').textContent()).toMatch(/(was|its clock read) 5 h 1 min 2\d s behind/);
  });

  afterEach(async () => {
    const errors = browser?.pageErrors ?? [];
    await browser?.close();
    await app?.close();
    await camera?.close();
    expect(errors).toEqual([]);
  });

  it('shows the camera and sets its clock from the Pi when asked, with the result in both places', async () => {
    const page = browser!.page;
    expect(await testId(page, 'camera-name').textContent()).toBe('Canon EOS R50 · serial 083021000123');
    camera!.clock.setError(-2 * HOURS);

    await testId(page, 'sync-camera').click();
    const message = testId(page, 'sync-camera-message');
    await message.waitFor({ timeout: 20_000 });
    expect(await message.getAttribute('role')).toBe('status');
    expect(await message.textContent()).toMatch(/Camera clock set to the Pi's time \(it was (2 h 0 min \d+ s|1 h 59 min \d+ s) behind\)/);

    await eventually(async () => /(was|its clock read) (2 h 0 min \d+ s|1 h 59 min \d+ s) behind/.test((await testId(page, 'camera-timesync').textContent()) ?? ''), 'the camera row to show the new sync');
    expect(await testId(page, 'camera-timesync').textContent()).toMatch(
      /^(●Synced (just now|\d+ s ago)was .* behind, now (in step|\d+ ms (ahead|behind)) \(±\d+(\.\d)? ms\)|◐Set set, not verified · (just now|\d+ s ago)its clock read .* behind before)$/,
    );
    expect(Math.abs(camera!.clock.errorMs())).toBeLessThan(1000);
    await page.screenshot({ path: screenshotPath('camera-800x480') });
  });

  it('shows a busy camera in plain words next to the button', async () => {
    const page = browser!.page;
    camera!.setBusy(30_000, 'Device busy');
    await testId(page, 'sync-camera').click();
    const message = testId(page, 'sync-camera-message');
    await message.waitFor({ timeout: 20_000 });
    expect(await message.getAttribute('role')).toBe('alert');
    expect(await message.textContent()).toMatch(/busy.*Device busy.*Try again in a moment/i);
  });

  it('measure by photo: where to point the camera first, then its offset from its own photo of the slate, or why not', async () => {
    const page = browser!.page;
    // The Pi's slate in front of the camera, its clock 1.5 s ahead of the host's.
    camera!.setSlate(slateOfApp(app!.url));
    camera!.clock.setError(1500);
    await testId(page, 'measure-photo-start').click();
    expect(await testId(page, 'measure-photo-hint').textContent()).toMatch(/^Point the camera at the slate on the Pi's screen/);
    expect(camera!.shots).toHaveLength(0);
    await testId(page, 'measure-photo-take').click();
    const message = testId(page, 'measure-photo-message');
    await message.waitFor({ timeout: 30_000 });
    expect(await message.getAttribute('role')).toBe('status');
    expect(await message.textContent()).toMatch(/^✓ Camera 1\.[45] s ahead of the Pi \(±2\d ms\), measured from its photo IMG_0001\.JPG$/);
    await page.screenshot({ path: screenshotPath('camera-measure-by-photo-800x480') });

    camera!.setSlate(null);
    await testId(page, 'measure-photo-start').click();
    await testId(page, 'measure-photo-take').click();
    await eventually(async () => /IMG_0002/.test((await message.textContent()) ?? ''), 'the refusal', 30_000);
    expect(await message.getAttribute('role')).toBe('alert');
    expect(await message.textContent()).toMatch(/^⚠\uFE0E Not verified: The camera was not pointed at the slate: its photo IMG_0002\.JPG/);
  });
});
