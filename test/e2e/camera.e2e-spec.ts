import request from 'supertest';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp } from '../support/app';
import { ClientPool, isEvent } from '../support/ws-client';

jest.setTimeout(30_000);

/** Polls GET /api/timesync/status until `pred` holds. */
async function statusWhen(app: StartedApp, pred: (s: any) => boolean, timeoutMs = 5000): Promise<any> {
  const end = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < end) {
    last = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`status never matched: ${JSON.stringify(last?.camera)} ${last?.syncSource}`);
}

describe('The camera through the whole app (e2e, CCAPI simulator on real sockets)', () => {
  let app: StartedApp | undefined;
  let sim: CameraSim | undefined;
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    await sim?.close();
    app = sim = undefined;
  });

  it('answers "no camera connected" when there is none', async () => {
    app = await startApp();
    const res = await request(app.url).post('/api/timesync/camera').expect(409);
    expect(res.body).toMatchObject({ code: 'NO_CAMERA', message: expect.stringMatching(/no camera connected/i) });
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status.camera.connected).toBe(false);
  });

  it('takes the Pi time from a camera that connected first, then puts the phone time on the camera', async () => {
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: -83_000, stdOffsetMinutes: 60, dst: false, productName: 'Canon EOS R50' });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', SIMULATED_CLOCK_OFFSET_MS: String(-3 * 86400_000), AUTO_SYNC: 'true' });

    // No reliable time on the Pi: the camera's battery-backed clock is the best there is.
    const fromCamera = await statusWhen(app, (s) => s.camera.connected && s.syncSource === 'camera');
    expect(fromCamera).toMatchObject({ reliability: 'medium', camera: { info: { productName: 'Canon EOS R50' } } });
    expect(Math.abs(fromCamera.pi.epochMs - (Date.now() - 83_000))).toBeLessThan(1500);

    // The phone arrives: the Pi steps to it and the camera follows at once.
    const phone = await clients.connect(app.wsUrl, { offsetMs: 0, timezone: 'Europe/Berlin' });
    const piSync = await phone.waitFor(isEvent('pi-sync'));
    expect(piSync.data).toMatchObject({ source: 'client', stepped: true });
    const cameraSync = await phone.waitFor((f) => isEvent('camera-sync')(f) && f.data.success, 8000);
    expect(Math.abs(cameraSync.data.offset)).toBeGreaterThan(50_000);
    expect(Math.abs(sim.clock.errorMs())).toBeLessThan(60);
    // The camera carries the zone's standard offset and the DST flag, in the operator's zone.
    const put = sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('functions/datetime')).at(-1);
    expect(put?.body).toMatchObject({ datetime: expect.stringMatching(/\+0100$/), dst: false });
    const status = await statusWhen(app, (s) => s.camera.lastSync?.success === true);
    expect(status.activityLog.some((e: any) => e.type === 'camera' && e.success)).toBe(true);
  });

  it('passes a busy camera on as 503 with its message, logs it, and changes nothing', async () => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false' });
    await statusWhen(app, (s) => s.camera.connected);
    const before = sim.clock.errorMs();
    sim.setBusy(5000, 'During shooting or recording');
    const res = await request(app.url).post('/api/timesync/camera').expect(503);
    expect(res.body).toMatchObject({ code: 'CAMERA_BUSY', message: expect.stringContaining('During shooting or recording') });
    expect(Math.abs(sim.clock.errorMs() - before)).toBeLessThan(5);
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status.camera.connected).toBe(true);
    expect(status.activityLog.some((e: any) => !e.success && /During shooting or recording/.test(e.message))).toBe(true);
  });

  it('syncs the camera when the page asks over the WebSocket', async () => {
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: 5000 });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'false' });
    await statusWhen(app, (s) => s.camera.connected);
    const page = await clients.connect(app.wsUrl);
    const event = page.next((f) => isEvent('camera-sync')(f) && f.data.success !== undefined, 8000);
    page.send({ type: 'sync-camera', data: {} });
    expect((await event).data.success).toBe(true);
  });
});
