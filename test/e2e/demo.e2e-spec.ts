/**
 * The first run (`npm start` with the default simulated clock): the demo trusts this machine's browser and
 * offers a simulated camera, says so at start-up and in the status; explicit settings override it.
 * The system backend keeps its rules: see test/integration/system-backend-app.int-spec.ts and
 * backend/config/app.config.spec.ts.
 */
import request from 'supertest';
import { startupFacts } from '../../backend/bootstrap';
import { startupLines } from '../../backend/screen/startup-report';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { httpJson } from '../support/http';
import { ClientPool, isEvent } from '../support/ws-client';

jest.setTimeout(30_000);

/** What `npm start` gets: no DEMO, AP_SUBNETS or CAMERA_URL (empty values count as unset), an AP interface that is not there. */
const FIRST_RUN = { DEMO: '', AP_SUBNETS: '', CAMERA_URL: '', AP_INTERFACE: 'tsdemo-none0', CAMERA_POLL_INTERVAL: '200' };

/** The camera's own answer (CCAPI), read directly: its displayed second, as epoch ms. */
async function cameraClockMs(cameraUrl: string): Promise<number> {
  const body = (await (await fetch(`${cameraUrl}/ver100/functions/datetime`)).json()) as { datetime: string };
  return Date.parse(body.datetime);
}

describe('The first-run demo (simulated clock, no AP_SUBNETS, no CAMERA_URL)', () => {
  let app: StartedApp | undefined;
  let sim: CameraSim | undefined;
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    await sim?.close();
    app = sim = undefined;
  });

  it('offers a simulated camera that this browser, trusted as a phone, gets set: the whole loop', async () => {
    app = await startApp(FIRST_RUN);
    const connected = await statusWhen(app, (s) => s.cameras.some((c: any) => c.connected));
    const cameraUrl: string = connected.demo.cameraUrl;
    expect(connected.demo).toEqual({ cameraUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/ccapi$/), loopbackTrusted: true, thisBrowserTrusted: true });
    const listed = (await request(app.url).get('/api/cameras').expect(200)).body;
    expect(listed).toEqual([expect.objectContaining({ id: '083021009000', connected: true, info: expect.objectContaining({ productName: 'Canon EOS R50 (simulated)' }) })]);
    // It starts more than a minute off, so the loop has something to do.
    expect(Math.abs((await cameraClockMs(cameraUrl)) - Date.now())).toBeGreaterThan(60_000);

    // The local browser is a phone on the access point: it gives the Pi its time and the camera follows.
    const phone = await clients.connect(app.wsUrl, { offsetMs: 0, timezone: 'UTC' });
    expect((await phone.waitFor(isEvent('pi-sync'), 10_000)).data).toMatchObject({ source: 'client', synchronized: true });
    const synced = await phone.waitFor((f) => isEvent('camera-sync')(f) && f.data.success && f.data.written !== false, 10_000);
    expect(Math.abs(synced.data.offset)).toBeGreaterThan(60_000);
    expect(Math.abs((await cameraClockMs(cameraUrl)) - Date.now())).toBeLessThan(1500);

    // "Sync camera now" works too (a loopback POST is allowed), now that the camera is right.
    const again = await request(app.url).post('/api/timesync/camera').expect(200);
    expect(again.body).toEqual([expect.objectContaining({ cameraId: '083021009000', success: true })]);

    // Both demo facts are said at start-up.
    const text = startupLines(await startupFacts(app.app, app.url)).map((l) => `${l.level}: ${l.text}`);
    expect(text).toContain(`log: Demo: a simulated camera at ${cameraUrl}, its clock off by a minute or so (CAMERA_URL is empty; set it for real cameras, or DEMO=false to search the network)`);
    expect(text.some((l) => /^log: Demo: this machine's own browser counts as a phone on the access point/.test(l))).toBe(true);
    expect(text.some((l) => /Loopback is trusted/.test(l))).toBe(false);

    // Closing the app stops its camera.
    await app.close();
    app = undefined;
    await expect(fetch(`${cameraUrl}/ver100/deviceinformation`)).rejects.toThrow();
  });

  it('lets this browser set the time by hand', async () => {
    app = await startApp({ ...FIRST_RUN, SIMULATED_CLOCK_OFFSET_MS: String(-86_400_000) });
    const target = Date.now();
    const res = await httpJson(`${app.url}/api/system/time`, 'POST', { timestamp: new Date(target).toISOString() }, '127.0.0.1');
    expect(res.status).toBe(200);
    const pi = (await request(app.url).get('/api/system/time').expect(200)).body;
    expect(Math.abs(pi.epochMs - Date.now())).toBeLessThan(2000);
  });

  it('takes explicit AP_SUBNETS and CAMERA_URL as given: loopback not trusted, only the configured camera, no demo', async () => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ ...FIRST_RUN, AP_SUBNETS: '10.42.0.0/24', CAMERA_URL: sim.httpUrl });
    const res = await httpJson(`${app.url}/api/system/time`, 'POST', { timestamp: new Date().toISOString() }, '127.0.0.1');
    expect(res).toMatchObject({ status: 403, body: { code: 'NOT_ACCESS_POINT_CLIENT' } });
    const status = await statusWhen(app, (s) => s.cameras.some((c: any) => c.connected));
    expect(status.demo).toBeNull();
    expect(status.canSetTime).toBe(false);
    expect(status.cameras.map((c: any) => [c.id, c.baseUrl])).toEqual([['083021000123', expect.stringContaining(sim.httpUrl)]]);
    const text = startupLines(await startupFacts(app.app, app.url)).map((l) => l.text).join('\n');
    expect(text).not.toMatch(/Demo:/);
  });

  it('keeps AP_SUBNETS for trust while still offering the demo camera when only CAMERA_URL is empty', async () => {
    app = await startApp({ ...FIRST_RUN, AP_SUBNETS: '10.42.0.0/24' });
    const status = await statusWhen(app, (s) => s.cameras.some((c: any) => c.connected));
    expect(status.demo).toEqual({ cameraUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/ccapi$/), loopbackTrusted: false, thisBrowserTrusted: false });
    expect((await httpJson(`${app.url}/api/system/time`, 'POST', { timestamp: new Date().toISOString() }, '127.0.0.1')).status).toBe(403);
  });

  it('DEMO=false: today\'s rules with the simulated clock (no loopback trust, no camera)', async () => {
    app = await startApp({ ...FIRST_RUN, DEMO: 'false', CAMERA_DISCOVERY: 'false' });
    expect((await httpJson(`${app.url}/api/system/time`, 'POST', { timestamp: new Date().toISOString() }, '127.0.0.1')).body).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect((await request(app.url).get('/api/cameras').expect(200)).body).toEqual([]);
    expect((await request(app.url).get('/api/timesync/status').expect(200)).body.demo).toBeNull();
  });
});
