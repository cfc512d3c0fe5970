import request from 'supertest';
import { startApp, StartedApp } from '../support/app';
import { ClientPool, isEvent, TestClient } from '../support/ws-client';

jest.setTimeout(30_000);

const THREE_HOURS = 3 * 3600_000;

async function piEpoch(app: StartedApp): Promise<{ epochMs: number; hostMid: number; halfRtt: number }> {
  const t0 = Date.now();
  const res = await request(app.url).get('/api/system/time').expect(200);
  const t1 = Date.now();
  return { epochMs: res.body.epochMs, hostMid: (t0 + t1) / 2, halfRtt: (t1 - t0) / 2 };
}

describe('TimeSync over a real WebSocket (e2e)', () => {
  let app: StartedApp;
  const clients = new ClientPool();
  const connect = (options: Parameters<typeof TestClient.connect>[1] = {}) => clients.connect(app.wsUrl, options);

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
  });

  it('serves the page, Swagger, and redirects captive-portal probes to the page', async () => {
    app = await startApp({ AUTO_SYNC: 'false' });
    const page = await request(app.url).get('/').expect(200);
    expect(page.text).toMatch(/<div id="root">/);
    const docs = (await request(app.url).get('/api/docs-json').expect(200)).body;
    for (const path of ['/api/system/time', '/api/timesync/status', '/api/timesync/camera', '/api/timesync/journal', '/api/camera']) expect(docs.paths).toHaveProperty([path]);
    expect(docs.paths['/api/system/time'].post.requestBody.content['application/json'].schema.$ref).toMatch(/ManualTimeDto/);
    await request(app.url).get('/api/docs').expect(200);
    for (const probe of ['/generate_204', '/hotspot-detect.html', '/connecttest.txt']) {
      expect((await request(app.url).get(probe).expect(302)).headers.location).toBe(`${app.url}/`);
    }
  });

  it('sends the status and the activity log on connect', async () => {
    app = await startApp({ AUTO_SYNC: 'false' });
    const c = await connect();
    const status = await c.waitFor((f) => f.type === 'time-sync-status');
    expect(status.data).toMatchObject({ isSynchronized: false, reliability: 'none', syncSource: 'none', canSetTime: true });
    expect(status.data.pi.backend).toBe('simulated');
    const log = await c.waitFor((f) => f.type === 'activity_log');
    expect(Array.isArray(log.data.entries)).toBe(true);
  });

  it('brings the simulated clock to within a few ms of a client three hours ahead, and journals the step', async () => {
    app = await startApp({ SIMULATED_CLOCK_OFFSET_MS: String(-3 * 86400_000) });
    const before = await piEpoch(app);
    expect(before.epochMs - before.hostMid).toBeLessThan(-3 * 86400_000 + 1000);

    const c = await connect({ offsetMs: THREE_HOURS, timezone: 'Europe/Berlin' });
    const event = await c.waitFor(isEvent('pi-sync'), 5000);
    expect(event.data).toMatchObject({ synchronized: true, source: 'client', reliability: 'high', stepped: true });
    expect(event.data.offset).toBeGreaterThan(3 * 86400_000 + THREE_HOURS - 1000);
    expect(c.answered).toBeGreaterThanOrEqual(8);

    const after = await piEpoch(app);
    expect(Math.abs(after.epochMs - (after.hostMid + THREE_HOURS))).toBeLessThan(5 + after.halfRtt);
    expect(after).toBeDefined();
    const sys = (await request(app.url).get('/api/system/time').expect(200)).body;
    expect(sys).toMatchObject({ timezone: 'Europe/Berlin', source: 'client', reliability: 'high', backend: 'simulated', ntpSynchronized: false });
    expect([60, 120]).toContain(sys.utcOffsetMinutes);

    expect(sys.estimatedErrorMs).toBeGreaterThan(0);
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status).toMatchObject({ isSynchronized: true, syncSource: 'client', reliability: 'high', sourceClient: '127.0.0.1' });
    expect(status.errorBoundMs).toBeGreaterThan(0);
    expect(status.errorBoundMs).toBeLessThan(10);
    expect(status.activityLog.some((e: any) => e.type === 'sync' && e.success)).toBe(true);

    const journal = (await request(app.url).get('/api/timesync/journal').expect(200)).body;
    expect(journal).toHaveLength(1);
    expect(journal[0]).toMatchObject({ source: 'client', client: '127.0.0.1' });

    const info = (await request(app.url).get('/api/system/info').expect(200)).body;
    expect(info.durations['sync-burst']).toMatchObject({ count: 1 });
    expect(info.durations['sync-burst'].lastMs).toBeLessThan(1000);
    expect(info.durations['clock-write']).toMatchObject({ count: 1 });
    expect(info.processUptimeMs).toBeGreaterThan(0);
    expect(info.systemUptimeMs).toBeGreaterThan(info.processUptimeMs);
    expect(journal[0].stepMs).toBeGreaterThan(3 * 86400_000 + THREE_HOURS - 1000);
  });

  it('keeps the journal across restarts', async () => {
    app = await startApp();
    const dataDir = app.dataDir;
    const c = await connect({ offsetMs: 60_000 });
    await c.waitFor(isEvent('pi-sync'));
    await c.close();
    await app.close();
    app = await startApp({ DATA_DIR: dataDir });
    const journal = (await request(app.url).get('/api/timesync/journal').expect(200)).body;
    expect(journal).toHaveLength(1);
    expect(journal[0].source).toBe('client');
  });

  it('does not step for an offset under the threshold but records the measurement', async () => {
    app = await startApp();
    const c = await connect({ offsetMs: 0 });
    const event = await c.waitFor(isEvent('pi-sync'));
    expect(event.data).toMatchObject({ synchronized: true, stepped: false });
    expect(Math.abs(event.data.offset)).toBeLessThan(5);
    const journal = (await request(app.url).get('/api/timesync/journal').expect(200)).body;
    expect(journal).toHaveLength(0);
  });

  it('fails over at once to the next access-point connection, and tracks connections, not addresses (two tabs)', async () => {
    app = await startApp();
    const tab1 = await connect({ offsetMs: 10_000 });
    await tab1.waitFor(isEvent('pi-sync'));
    const tab2 = await connect({ offsetMs: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(tab2.answered).toBe(0);
    const request2 = tab2.next((f) => f.type === 'time-sync-request', 2000);
    await tab1.close();
    await request2;
    const event = await tab2.next(isEvent('pi-sync'));
    expect(event.data.offset).toBeGreaterThan(9000);
    expect(event.data.offset).toBeLessThan(11_000);
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status.sourceClient).toBe('127.0.0.1');
    expect(status.activityLog.some((e: any) => /is the time source now/.test(e.message))).toBe(true);
  });

  it('measures but does not step while NTP keeps the clock', async () => {
    app = await startApp({ SIMULATED_NTP_SYNCHRONIZED: 'true' });
    const c = await connect({ offsetMs: THREE_HOURS });
    const event = await c.waitFor(isEvent('pi-sync'));
    expect(event.data).toMatchObject({ source: 'ntp', stepped: false });
    expect(event.data.offset).toBeGreaterThan(THREE_HOURS - 100);
    const after = await piEpoch(app);
    expect(Math.abs(after.epochMs - after.hostMid)).toBeLessThan(50);
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status).toMatchObject({ syncSource: 'ntp', reliability: 'high', isSynchronized: true });
    expect(status.pi.ntpSynchronized).toBe(true);
    await request(app.url).post('/api/system/time').send({ timestamp: new Date(Date.now() + THREE_HOURS).toISOString() }).expect(409);
  });

  it('sets the time by hand over REST and the WebSocket, with source "manual"', async () => {
    app = await startApp({ AUTO_SYNC: 'false' });
    const target = Date.now() + 7 * 86400_000;
    const res = await request(app.url).post('/api/system/time').send({ timestamp: new Date(target).toISOString(), timezone: 'Asia/Kolkata' }).expect(200);
    expect(res.body.offsetMs).toBeGreaterThan(7 * 86400_000 - 1000);
    const sys = (await request(app.url).get('/api/system/time').expect(200)).body;
    expect(sys).toMatchObject({ timezone: 'Asia/Kolkata', utcOffsetMinutes: 330, isDst: false, source: 'manual' });
    expect(Math.abs(sys.epochMs - (Date.now() + 7 * 86400_000))).toBeLessThan(100);

    const c = await connect();
    const result = c.next((f) => f.type === 'manual-time-sync-result');
    c.send({ type: 'manual-time-sync', data: { timestamp: new Date(Date.now() + 3600_000).toISOString(), timezone: 'America/Los_Angeles' } });
    expect((await result).data.success).toBe(true);
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status).toMatchObject({ syncSource: 'manual', reliability: 'high' });
    expect(status.pi.timezone).toBe('America/Los_Angeles');
  });
});
