import request from 'supertest';
import { startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp } from '../support/app';
import { httpJson } from '../support/http';
import { ClientPool, isEvent, TestClient } from '../support/ws-client';

jest.setTimeout(30_000);

const HOSTILE_ZONES = ['Mars/Base', '../../etc/passwd', '$(reboot)', '', 'x'.repeat(500)];

describe('Bad input and authority (e2e)', () => {
  let app: StartedApp;
  const clients = new ClientPool();
  const connect = (options: Parameters<typeof TestClient.connect>[1] = {}) => clients.connect(app.wsUrl, options);
  const snapshot = async () => {
    const s = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    // Pi minus host to a second: far finer than any change a bad input could make, far coarser than the read's jitter.
    return { offset: Math.round((s.pi.epochMs - Date.now()) / 1000), zone: s.pi.timezone, source: s.syncSource, reliability: s.reliability, lastOffset: s.lastOffsetMs };
  };

  beforeEach(async () => {
    // Only 127.0.0.1 is "on the access point"; 127.0.0.2 plays a device on another network.
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32', AUTO_SYNC: 'false', SIMULATED_CLOCK_OFFSET_MS: '-86400000' });
  });
  afterEach(async () => {
    await clients.closeAll();
    await app.close();
  });

  it('refuses unknown keys in "data" on every client frame type alike, from any page, before any handler', async () => {
    const { CLIENT_FRAME_TYPES } = await import('../../backend/protocol/messages');
    const pages = [await connect(), await connect({ localAddress: '127.0.0.2' })];
    for (const page of pages) await page.waitFor((f) => f.type === 'time-sync-status');
    const before = await snapshot();
    for (const page of pages) {
      for (const type of CLIENT_FRAME_TYPES) {
        // Three times each: the same answer every time, never a status or a result.
        for (let i = 0; i < 3; i++) {
          const error = await page.expectError({ type, data: { unexpectedKey: i } });
          expect({ type, ...error }).toEqual({ type, code: 'BAD_REQUEST', message: expect.stringContaining(`${type}: unexpected field(s) "unexpectedKey"`) });
        }
      }
      expect(page.isOpen).toBe(true);
    }
    expect(await snapshot()).toEqual(before);
    expect((await request(app.url).get('/api/session').expect(200)).body.session).toBeNull();
  });

  it('answers malformed WebSocket frames with coded errors, keeps the connection and changes nothing', async () => {
    const c = await connect();
    await c.waitFor((f) => f.type === 'time-sync-status');
    const before = await snapshot();
    const cases: Array<[unknown, string, RegExp?]> = [
      ['{not json', 'INVALID_JSON', /not valid JSON/],
      ['[1,2]', 'BAD_REQUEST'],
      [{ type: 'reboot', data: {} }, 'UNKNOWN_MESSAGE_TYPE', /reboot/],
      [{ data: {} }, 'BAD_REQUEST', /type/],
      [{ type: 'time-sync-response', data: { serverTime: 1, requestId: 'sync-x' } }, 'BAD_REQUEST', /clientTime/],
      [{ type: 'time-sync-response', data: { clientTime: 1, serverTime: 1, requestId: 'sync-x', evil: true } }, 'BAD_REQUEST', /evil/],
      [{ type: 'time-sync-response', data: { clientTime: 1, serverTime: 'x', requestId: 'sync-x' } }, 'BAD_REQUEST', /serverTime/],
      [{ type: 'time-sync-response', data: { clientTime: Date.now(), serverTime: 1, requestId: 'sync-unknown' } }, 'UNKNOWN_REQUEST_ID', /sync-unknown/],
      [{ type: 'manual-time-sync', data: { timestamp: 'yesterday' } }, 'INVALID_TIMESTAMP', /yesterday/],
      [{ type: 'manual-time-sync', data: { timestamp: '2001-01-01T00:00:00Z' } }, 'IMPLAUSIBLE_TIME', /2001-01-01/],
      [{ type: 'manual-time-sync', data: { timestamp: '2150-01-01T00:00:00Z' } }, 'IMPLAUSIBLE_TIME', /2150/],
      [{ type: 'manual-time-sync', data: { timestamp: new Date().toISOString(), extra: 1 } }, 'BAD_REQUEST', /extra/],
      [{ type: 'get-time-sync-status', data: [] }, 'BAD_REQUEST'],
      [JSON.stringify({ type: 'get-time-sync-status', data: { pad: 'x'.repeat(17 * 1024) } }), 'FRAME_TOO_LARGE', /16384/],
    ];
    for (const zone of HOSTILE_ZONES) {
      cases.push([{ type: 'manual-time-sync', data: { timestamp: new Date().toISOString(), timezone: zone } }, zone.length > 64 ? 'BAD_REQUEST' : 'INVALID_TIMEZONE']);
    }
    for (const [frame, code, message] of cases) {
      const error = await c.expectError(frame);
      expect({ frame, code: error.code }).toEqual({ frame, code });
      if (message) expect(error.message).toMatch(message);
      expect(c.isOpen).toBe(true);
    }
    expect(await snapshot()).toEqual(before);
    // Still serving: a valid frame gets its answer.
    const status = c.next((f) => f.type === 'time-sync-status');
    c.send({ type: 'get-time-sync-status', data: {} });
    expect((await status).data.canSetTime).toBe(true);
  });

  it('closes a connection that sends a frame over 1 MiB (1009) and keeps serving everyone else', async () => {
    const other = await connect();
    const flooder = await connect();
    const closed = new Promise<number>((resolve) => flooder.socket.once('close', (code) => resolve(code)));
    flooder.send('x'.repeat(2 * 1024 * 1024));
    expect(await closed).toBe(1009);
    const status = other.next((f) => f.type === 'time-sync-status');
    other.send({ type: 'get-time-sync-status', data: {} });
    expect((await status).data.pi.backend).toBe('simulated');
  });

  it('refuses bad clientTime values, unknown, replayed and foreign request ids during a real burst', async () => {
    await app.close();
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32', SIMULATED_CLOCK_OFFSET_MS: '-86400000' });
    const c = await connect({ answer: false });
    const probe = await c.waitFor((f) => f.type === 'time-sync-request');
    const respond = (clientTime: unknown, requestId = probe.requestId, extra: object = {}) => ({ type: 'time-sync-response', data: { clientTime, serverTime: probe.serverTime, requestId, ...extra } });
    for (const bad of ['NaN', 'garbage', -1, true, { $gt: 0 }, '1e400']) {
      const error = await c.expectError(respond(bad));
      expect(error.code).toBe('INVALID_TIMESTAMP');
    }
    expect((await c.expectError(respond(Date.UTC(2001, 0, 1)))).message).toMatch(/2001-01-01/);
    for (const zone of HOSTILE_ZONES.filter((z) => z.length < 64)) {
      expect((await c.expectError(respond(Date.now(), probe.requestId, { timezone: zone }))).code).toBe('INVALID_TIMEZONE');
    }
    // A good answer is accepted once; the replay is refused.
    c.send(respond(Date.now()));
    expect((await c.expectError(respond(Date.now()))).code).toBe('DUPLICATE_RESPONSE');
    // The id of a request sent to another connection is not this connection's to answer.
    const other = await connect({ answer: false });
    const theirs = await c.waitFor((f) => f.type === 'time-sync-request' && f.requestId !== probe.requestId);
    expect((await other.expectError(respond(Date.now(), theirs.requestId))).code).toBe('UNKNOWN_REQUEST_ID');
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status.syncSource).toBe('none');
  });

  it('answers malformed REST bodies with 400 naming the problem, clock and zone unchanged', async () => {
    const before = await snapshot();
    const post = (body: unknown) => request(app.url).post('/api/system/time').set('content-type', 'application/json').send(body as any);
    const cases: Array<[unknown, string, RegExp]> = [
      ['{"timestamp": ', 'INVALID_JSON', /JSON/],
      [{}, 'BAD_REQUEST', /timestamp/],
      [{ timestamp: 'not a time' }, 'INVALID_TIMESTAMP', /not a time/],
      [{ timestamp: '2001-01-01T00:00:00Z' }, 'IMPLAUSIBLE_TIME', /build date/],
      [{ timestamp: new Date().toISOString(), timezone: 'Mars/Base' }, 'INVALID_TIMEZONE', /Mars\/Base/],
      [{ timestamp: new Date().toISOString(), timezone: '../../etc/passwd' }, 'INVALID_TIMEZONE', /etc\/passwd/],
      [{ timestamp: new Date().toISOString(), timezone: '$(reboot)' }, 'INVALID_TIMEZONE', /reboot/],
      [{ timestamp: new Date().toISOString(), admin: true }, 'BAD_REQUEST', /admin/],
      [{ timestamp: new Date().toISOString(), timezone: 7 }, 'BAD_REQUEST', /timezone/],
    ];
    for (const [body, code, message] of cases) {
      const res = await post(body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code });
      expect(res.body.message).toMatch(message);
    }
    const huge = await post({ timestamp: new Date().toISOString(), pad: 'x'.repeat(40_000) });
    expect(huge.status).toBe(413);
    expect(await snapshot()).toEqual(before);
    expect((await request(app.url).get('/api/health').expect(200)).body).toEqual({ ok: true, version: expect.stringMatching(/^\d+\.\d+\.\d+-dev$/) });
  });

  it('refuses a client that is not on the access point on every path, and logs it', async () => {
    const outsider = await connect({ localAddress: '127.0.0.2', answer: false });
    const status = await outsider.waitFor((f) => f.type === 'time-sync-status');
    expect(status.data.canSetTime).toBe(false);
    const before = await snapshot();

    const ws = await outsider.expectError({ type: 'manual-time-sync', data: { timestamp: new Date(Date.now() + 3600_000).toISOString() } });
    expect(ws.code).toBe('NOT_ACCESS_POINT_CLIENT');
    expect(ws.message).toMatch(/127\.0\.0\.2/);
    const unsolicited = await outsider.expectError({ type: 'time-sync-response', data: { clientTime: Date.now(), serverTime: 1, requestId: 'sync-1' } });
    expect(unsolicited.code).toBe('NOT_ACCESS_POINT_CLIENT');
    const rest = await httpJson(`${app.url}/api/system/time`, 'POST', { timestamp: new Date(Date.now() + 3600_000).toISOString() }, '127.0.0.2');
    expect(rest.status).toBe(403);
    expect(rest.body.code).toBe('NOT_ACCESS_POINT_CLIENT');
    // It sees everything, though.
    const read = await httpJson(`${app.url}/api/timesync/status`, 'GET', '', '127.0.0.2');
    expect(read.status).toBe(200);
    expect(read.body.canSetTime).toBe(false);

    expect(await snapshot()).toEqual(before);
    const log = (await request(app.url).get('/api/activity').expect(200)).body;
    // Three refusals, one activity line: a client's refusals are one line per interval (the rest are counted in the server log).
    expect(log.filter((e: any) => e.details?.error === 'NOT_ACCESS_POINT_CLIENT')).toHaveLength(1);
    // Never a time source either: no probes were sent to it.
    expect(outsider.frames.some((f) => f.type === 'time-sync-request')).toBe(false);
  });

  it('never uses a non-access-point client as a time source, even with auto sync', async () => {
    await app.close();
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32' });
    const outsider = await connect({ localAddress: '127.0.0.2', offsetMs: 3600_000 });
    await new Promise((r) => setTimeout(r, 500));
    expect(outsider.answered).toBe(0);
    const insider = await connect({ offsetMs: 0 });
    await insider.waitFor(isEvent('pi-sync'));
    expect(outsider.answered).toBe(0);
  });

  it("refuses to write a camera while the Pi's reliability is none, unless the operator confirms; one log line", async () => {
    await app.close();
    // The camera's own clock says 2001: implausible, so the Pi cannot take its time and stays at "none".
    const sim = await startCameraSim({ httpsPort: false, clockOffsetMs: -(Date.now() - Date.UTC(2001, 0, 1)) });
    try {
      app = await startApp({ AP_SUBNETS: '127.0.0.1/32', AUTO_SYNC: 'false', CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', CAMERA_SYNC_THRESHOLD: '0' });
      for (let i = 0; i < 100; i++) {
        const s = (await request(app.url).get('/api/timesync/status')).body;
        if (s.cameras.some((c: any) => c.state === 'connected')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 300));
      expect((await request(app.url).get('/api/timesync/status')).body.reliability).toBe('none');
      const writes = () => sim.requests.filter((r) => r.method === 'PUT').length;

      const rest = await request(app.url).post('/api/timesync/camera').expect(409);
      expect(rest.body).toMatchObject({ code: 'PI_TIME_UNRELIABLE', message: expect.stringMatching(/not reliable.*confirm/) });
      const page = await connect();
      expect((await page.expectError({ type: 'sync-camera', data: {} })).code).toBe('PI_TIME_UNRELIABLE');
      expect(writes()).toBe(0);
      const log = (await request(app.url).get('/api/activity').expect(200)).body;
      expect(log.filter((e: any) => e.details?.error === 'PI_TIME_UNRELIABLE')).toHaveLength(1);

      // The operator confirms: the camera gets the Pi's time all the same.
      const event = page.next((f) => isEvent('camera-sync')(f), 8000);
      page.send({ type: 'sync-camera', data: { confirm: true } });
      expect((await event).data.success).toBe(true);
      await request(app.url).post('/api/timesync/camera?confirm=true').expect(200);
      expect(writes()).toBe(2);
    } finally {
      await sim.close();
    }
  });
});
