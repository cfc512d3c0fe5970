import request from 'supertest';
import { CameraSim, startCameraSim, startCameraSims } from '../camera-sim/sim';
import { utcOffsetMinutes } from '../../backend/time/timezone';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { httpJson } from '../support/http';
import { ClientPool, isEvent } from '../support/ws-client';

jest.setTimeout(30_000);

describe('The camera through the whole app (e2e, CCAPI simulator on real sockets)', () => {
  let app: StartedApp | undefined;
  let sim: CameraSim | undefined;
  let sims: CameraSim[] = [];
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    await sim?.close();
    await Promise.all(sims.map((s) => s.close()));
    app = sim = undefined;
    sims = [];
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

  it('passes a busy camera on: its outcome says CAMERA_BUSY with its message, ?id= answers 503, logged, nothing changes', async () => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false' });
    await statusWhen(app, (s) => s.camera.connected && s.reliability !== 'none');
    const before = sim.clock.errorMs();
    sim.setBusy(8000, 'During shooting or recording');
    // Its only camera busy: the sync failed, and the status says so (503), with the camera's result.
    const all = await request(app.url).post('/api/timesync/camera').expect(503);
    expect(all.body).toEqual({
      statusCode: 503,
      code: 'CAMERA_BUSY',
      message: 'no camera was set; 083021000123: Camera is busy: During shooting or recording',
      results: [expect.objectContaining({ cameraId: '083021000123', success: false, code: 'CAMERA_BUSY', error: 'Camera is busy: During shooting or recording' })],
    });
    const one = await request(app.url).post('/api/timesync/camera?id=083021000123').expect(503);
    expect(one.body).toEqual({ statusCode: 503, code: 'CAMERA_BUSY', message: 'Camera is busy: During shooting or recording' });
    expect(sim.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    expect(Math.abs(sim.clock.errorMs() - before)).toBeLessThan(5);
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status.camera.connected).toBe(true);
    expect(status.activityLog.some((e: any) => !e.success && /During shooting or recording/.test(e.message))).toBe(true);
  });

  // Writes to a camera wait until the Pi has taken a camera's time: with reliability none they need the operator's confirmation.
  it('two cameras: listed by serial number, synced together by one POST, each in the status and in its own camera-sync event', async () => {
    sims = await startCameraSims(2, {}, (i) => ({ clockOffsetMs: i ? -41_000 : 23_000 }));
    // Threshold 0: both cameras are written (the Pi took camera 0's time, so a measure-first sync would keep that one).
    app = await startApp({ CAMERA_URL: `${sims[0].httpUrl},${sims[1].httpsUrl}`, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'false', CAMERA_SYNC_THRESHOLD: '0' });
    const ids = ['083021000123', '083021000124'];
    await statusWhen(app, (s) => s.cameras.length === 2 && s.cameras.every((c: any) => c.state === 'connected') && s.reliability !== 'none');
    const listed = (await request(app.url).get('/api/cameras').expect(200)).body;
    expect(listed.map((c: any) => [c.id, c.state])).toEqual(ids.map((id) => [id, 'connected']));
    expect((await request(app.url).get('/api/camera').expect(200)).body.id).toBe(ids[0]);

    const page = await clients.connect(app.wsUrl);
    const res = await request(app.url).post('/api/timesync/camera').expect(200);
    expect(res.body.map((o: any) => [o.cameraId, o.success])).toEqual(ids.map((id) => [id, true]));
    expect(new Set(res.body.map((o: any) => o.newTime)).size).toBe(1);
    const events = await Promise.all(ids.map((id) => page.waitFor((f) => isEvent('camera-sync')(f) && f.data.cameraId === id)));
    expect(events.map((e) => e.data.success)).toEqual([true, true]);
    const status = await statusWhen(app, (s) => s.cameras.every((c: any) => c.lastSync?.success));
    expect(status.cameras.map((c: any) => c.id)).toEqual(ids);
    expect(status.camera.id).toBe(ids[0]);

    // One camera by id.
    const one = await request(app.url).post(`/api/timesync/camera?id=${ids[1]}`).expect(200);
    expect(one.body).toMatchObject({ cameraId: ids[1], success: true });
  });

  it.each([
    ['a wrong DST flag is written despite CAMERA_SYNC_THRESHOLD (its wall times are an hour off)', true, 1],
    ['the right DST flag and instant are kept (within CAMERA_SYNC_THRESHOLD)', false, 0],
  ])('a camera whose instant is right: %s', async (_name, wrongDst, writes) => {
    // The Pi in UTC (no DST); the camera's instant right to the ms, its zone UTC, its DST flag on or off.
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: 0, stdOffsetMinutes: 0, dst: wrongDst });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'true', CAMERA_SYNC_THRESHOLD: '5000' });
    const phone = await clients.connect(app.wsUrl, { offsetMs: 0, timezone: 'UTC' });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 8000);
    await statusWhen(app, (s) => s.camera.connected && s.reliability === 'high' && s.pi.timezone === 'UTC');
    const res = await request(app.url).post('/api/timesync/camera').expect(200);
    expect(res.body).toEqual([expect.objectContaining({ cameraId: '083021000123', success: true, written: writes === 1 })]);
    const puts = sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('functions/datetime'));
    expect(puts).toHaveLength(writes);
    if (writes) expect(puts[0].body).toMatchObject({ datetime: expect.stringMatching(/\+0000$/), dst: false });
    expect(sim.clock.dst).toBe(false);
    expect(Math.abs(sim.clock.errorMs())).toBeLessThan(1000);
  });

  describe('a sync of every camera answers how it went: 207 when some failed, the failure when all did', () => {
    const ids = ['083021000123', '083021000124'];
    async function twoCameras(extra: Record<string, string> = {}): Promise<StartedApp> {
      sims = await startCameraSims(2, {}, (i) => ({ clockOffsetMs: i ? -41_000 : 23_000 }));
      const started = await startApp({ CAMERA_URL: `${sims[0].httpUrl},${sims[1].httpUrl}`, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'false', CAMERA_SYNC_THRESHOLD: '0', ...extra });
      await statusWhen(started, (s) => s.cameras.length === 2 && s.cameras.every((c: any) => c.state === 'connected') && s.reliability !== 'none');
      return started;
    }
    const puts = (sim: CameraSim) => sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('functions/datetime'));

    it('one camera busy, the other set: 207 with both results', async () => {
      app = await twoCameras();
      sims[1].setBusy(8000, 'Device busy');
      const res = await request(app.url).post('/api/timesync/camera').expect(207);
      expect(res.body).toMatchObject({ statusCode: 207, code: 'CAMERA_SYNC_PARTIAL', message: `1 of 2 cameras set; ${ids[1]}: Camera is busy: Device busy` });
      expect(res.body.results.map((o: any) => [o.cameraId, o.success, o.code])).toEqual([
        [ids[0], true, undefined],
        [ids[1], false, 'CAMERA_BUSY'],
      ]);
      expect(puts(sims[0])).toHaveLength(1);
      expect(puts(sims[1])).toEqual([]);
    });

    it('every camera refuses the value: 502 CAMERA_REJECTED with both results', async () => {
      app = await twoCameras();
      for (const sim of sims) sim.setFault({ kind: 'status', status: 400, message: 'Invalid parameter' }, { path: 'functions/datetime', method: 'PUT' });
      const res = await request(app.url).post('/api/timesync/camera').expect(502);
      expect(res.body).toMatchObject({ statusCode: 502, code: 'CAMERA_REJECTED' });
      expect(res.body.results.map((o: any) => [o.cameraId, o.success, o.code])).toEqual(ids.map((id) => [id, false, 'CAMERA_REJECTED']));
    });

    it('no camera answers in time: 504 CAMERA_TIMEOUT with both results', async () => {
      app = await twoCameras({ CAMERA_TIMEOUT: '1000' });
      for (const sim of sims) sim.setFault({ kind: 'hang' }, { path: 'functions/datetime' });
      const res = await request(app.url).post('/api/timesync/camera').expect(504);
      expect(res.body).toMatchObject({ statusCode: 504, code: 'CAMERA_TIMEOUT' });
      expect(res.body.results.map((o: any) => [o.cameraId, o.success, o.code])).toEqual(ids.map((id) => [id, false, 'CAMERA_TIMEOUT']));
      for (const sim of sims) expect(puts(sim)).toEqual([]);
    });

    it('one busy, one silent: 502 CAMERA_SYNC_FAILED, each camera saying why', async () => {
      app = await twoCameras({ CAMERA_TIMEOUT: '1000' });
      sims[0].setBusy(8000, 'Device busy');
      sims[1].setFault({ kind: 'hang' }, { path: 'functions/datetime' });
      const res = await request(app.url).post('/api/timesync/camera').expect(502);
      expect(res.body).toMatchObject({ statusCode: 502, code: 'CAMERA_SYNC_FAILED' });
      expect(res.body.results.map((o: any) => o.code)).toEqual(['CAMERA_BUSY', 'CAMERA_TIMEOUT']);
    });

    it('is documented in Swagger: 200, 207, 409, 502, 503, 504', async () => {
      app = await startApp();
      const docs = (await request(app.url).get('/api/docs-json').expect(200)).body;
      const responses = docs.paths['/api/timesync/camera'].post.responses;
      for (const status of ['200', '207', '409', '502', '503', '504']) expect(responses).toHaveProperty([status]);
      expect(JSON.stringify(responses['207'])).toMatch(/CameraSyncFailureBodyDto/);
    });
  });

  it.each([
    ['a path', '../etc', 400, 'INVALID_CAMERA_ID'],
    ['markup', '<script>alert(1)</script>', 400, 'INVALID_CAMERA_ID'],
    ['an unknown camera', '999999999999', 404, 'UNKNOWN_CAMERA'],
  ])('refuses %s as a camera id with a code naming the problem, touching nothing', async (_what, id, status, code) => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'false' });
    await statusWhen(app, (s) => s.camera.connected);
    const res = await request(app.url).post(`/api/timesync/camera?id=${encodeURIComponent(id)}`).expect(status);
    expect(res.body).toMatchObject({ code, message: expect.stringContaining(JSON.stringify(id).slice(1, 6)) });
    expect(sim.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('refuses a camera write from a device that is not on the access point', async () => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'false' });
    await statusWhen(app, (s) => s.camera.connected);
    const res = await httpJson(`${app.url}/api/timesync/camera`, 'POST', {}, '127.0.0.2');
    expect(res).toMatchObject({ status: 403, body: { code: 'NOT_ACCESS_POINT_CLIENT' } });
    expect(sim.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });

  it('shows a camera that refuses the user name and password as present, needing credentials, in the status and the log', async () => {
    sim = await startCameraSim({ httpsPort: false, auth: { user: 'operator', password: 'secret' } });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_USER: 'operator', CAMERA_PASSWORD: 'wrong' });
    const status = await statusWhen(app, (s) => s.camera.state === 'needs-credentials');
    expect(status.activityLog.map((e: any) => e.message)).toContain(`Camera at ${sim.httpUrl} refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD`);
    const res = await request(app.url).post(`/api/timesync/camera?id=${status.camera.id}`).expect(502);
    expect(res.body).toMatchObject({ code: 'CAMERA_AUTH_REQUIRED' });
    // "Sync cameras" with the only camera locked says what it needs, not "no camera".
    const all = await request(app.url).post('/api/timesync/camera').expect(502);
    expect(all.body).toMatchObject({ code: 'CAMERA_AUTH_REQUIRED', message: expect.stringMatching(/user name and password/) });
  });

  it('syncs the camera when the page asks over the WebSocket', async () => {
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: 5000 });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'false' });
    // The Pi has no time: it first takes the camera's (a pi-sync of its own; a Pi still at reliability none would
    // write a camera only when confirmed). Counting starts after that.
    await statusWhen(app, (s) => s.camera.connected && s.syncSource === 'camera');
    const page = await clients.connect(app.wsUrl);
    await page.waitFor((f) => f.type === 'activity_log');
    const from = page.frames.length;
    const event = page.next((f) => isEvent('camera-sync')(f) && f.data.success !== undefined, 8000);
    page.send({ type: 'sync-camera', data: {} });
    expect((await event).data.success).toBe(true);
    await new Promise((r) => setTimeout(r, 500));
    // One camera event, one status frame: the page is never sent the same change twice.
    const after = page.frames.slice(from);
    expect(after.filter((f) => f.type === 'event').map((f) => f.eventType)).toEqual(['camera-sync']);
    expect(after.filter((f) => f.type === 'time-sync-status')).toHaveLength(1);
  });

  it('a zone change without a step reaches the camera (Berlin, then Chatham)', async () => {
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: 0 });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false' });
    await statusWhen(app, (s) => s.camera.connected);
    const writes = () => sim!.requests.filter((r) => r.method === 'PUT').length;
    const berlin = await clients.connect(app.wsUrl, { offsetMs: 0, timezone: 'Europe/Berlin' });
    expect((await berlin.waitFor(isEvent('pi-sync'))).data.stepped).toBe(false);
    await berlin.waitFor((f) => isEvent('camera-sync')(f) && f.data.success, 8000);
    expect(sim.clock.stdOffsetMinutes + (sim.clock.dst ? 60 : 0)).toBe(utcOffsetMinutes('Europe/Berlin', Date.now()));
    const before = writes();
    await berlin.close();
    const chatham = await clients.connect(app.wsUrl, { offsetMs: 0, timezone: 'Pacific/Chatham' });
    expect((await chatham.waitFor(isEvent('pi-sync'))).data.stepped).toBe(false);
    const event = await chatham.waitFor((f) => isEvent('camera-sync')(f) && f.data.success, 8000);
    expect(event.data.cameraId).toBe('083021000123');
    expect(writes()).toBeGreaterThan(before);
    // Chatham is +12:45 (+13:45 in its summer): the camera's wall offset follows.
    expect(sim.clock.stdOffsetMinutes + (sim.clock.dst ? 60 : 0)).toBe(utcOffsetMinutes('Pacific/Chatham', Date.now()));
  });

  it('refuses a camera write over the WebSocket from a page that is not on the access point', async () => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32', CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', AUTO_SYNC: 'false' });
    await statusWhen(app, (s) => s.camera.connected);
    const outsider = await clients.connect(app.wsUrl, { localAddress: '127.0.0.2' });
    expect(await outsider.expectError({ type: 'sync-camera', data: {} })).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect(await outsider.expectError({ type: 'sync-camera', data: { id: '../etc' } })).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect(sim.requests.filter((r) => r.method === 'PUT')).toEqual([]);
  });
});
