import { firstValueFrom, take, toArray } from 'rxjs';
import { CameraSyncResult } from '../../backend/camera/camera-report';
import { CameraService } from '../../backend/camera/camera.service';
import { ErrorCode } from '../../backend/common/domain-error';
import { CameraStatus } from '../../backend/protocol/messages';
import { isDst } from '../../backend/time/timezone';
import { parseSimDateTime } from '../camera-sim/camera-clock';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { cameraConfig, newService, rejectionOf, ServiceHarness } from './camera-harness';

jest.setTimeout(30_000);

describe.each(['http', 'https'] as const)(`${CameraService.name} against the camera simulator over %s`, (proto) => {
  let sim: CameraSim;
  let h: ServiceHarness;
  let sut: CameraService;
  const SERIAL = '083021000123';
  const connected = () => sut.statuses()[0]?.state === 'connected';
  const syncClock = async (reason: string) => (await sut.syncOne(SERIAL, reason)) as CameraSyncResult;

  beforeEach(async () => {
    sim = await startCameraSim({ clockOffsetMs: 37_000 + Math.random() * 1000, stdOffsetMinutes: 60, dst: true });
    h = newService(cameraConfig({ CAMERA_URL: proto === 'http' ? sim.httpUrl : sim.httpsUrl! }), { zone: 'Australia/Sydney' });
    sut = h.service;
  });
  afterEach(async () => {
    h.close();
    await sim.close();
  });

  it('connects on the first check: status with device information, event, activity entry, connection$', async () => {
    const emitted = firstValueFrom(sut.connection$);
    await sut.check();
    expect(connected()).toBe(true);
    const status = sut.status();
    expect(status).toEqual({
      id: SERIAL,
      state: 'connected',
      connected: true,
      baseUrl: `${proto === 'http' ? sim.httpUrl : sim.httpsUrl}/ccapi`,
      info: { productName: 'Canon EOS R50', serialNumber: SERIAL, firmwareVersion: '1.2.0', manufacturer: 'Canon Inc.', guid: sim.usn.slice(5) },
      lastSync: null,
      lastError: null,
    });
    await expect(emitted).resolves.toEqual(status);
    expect(h.named('camera-connected')).toEqual([status]);
    expect(h.activity.entries()).toEqual([expect.objectContaining({ type: 'camera', success: true, message: expect.stringContaining('Camera connected: Canon EOS R50') })]);
  });

  it('refuses to sync or read a camera that has not answered: NO_CAMERA, and syncAll has nothing to do', async () => {
    const id = sut.statuses()[0].id;
    expect(id).toMatch(/^127\.0\.0\.1_\d+$/);
    await expect(sut.syncOne(id, 'test')).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA, message: `camera ${id} is not connected` });
    await expect(sut.readClock(id)).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA });
    await expect(sut.syncAll('test')).resolves.toEqual([]);
    expect(sim.requests.filter((r) => r.path.includes('datetime'))).toEqual([]);
  });

  it("reads the camera clock with DST taken off (pitfall 7)", async () => {
    await sut.check();
    const reading = await sut.readClock(SERIAL);
    expect(reading.dst).toBe(true);
    expect(reading.datetime).toMatch(/\+0100$/);
    // The camera is ~37.5 s ahead; without taking the DST hour off it would look 1 h off.
    expect(reading.epochMs - reading.piTimeMs).toBeGreaterThan(35_000);
    expect(reading.epochMs - reading.piTimeMs).toBeLessThan(40_000);
  });

  it("sets the camera to the Pi's time in the Pi's zone, second-aligned, verified, residual measured", async () => {
    await sut.check();
    const trueErrorBefore = sim.clock.errorMs();
    const result = await syncClock('test');
    const trueError = sim.clock.errorMs();

    // What the camera now keeps: Sydney's standard offset and DST flag, the Pi's time to well under 100 ms.
    expect(sim.clock.stdOffsetMinutes).toBe(600);
    expect(sim.clock.dst).toBe(isDst('Australia/Sydney', Date.now()));
    expect(Math.abs(trueError)).toBeLessThan(50);
    expect(result).toEqual({
      cameraId: SERIAL,
      success: true,
      reason: 'test',
      verified: true,
      previousTime: expect.any(String),
      newTime: expect.any(String),
      offset: expect.any(Number),
      offsetBoundMs: expect.any(Number),
      residualMs: expect.any(Number),
      residualBoundMs: expect.any(Number),
      datetime: expect.stringMatching(/ \+1000$/),
      dst: isDst('Australia/Sydney', Date.parse(result.newTime)),
      timezone: 'Australia/Sydney',
      latencyMs: expect.any(Number),
      written: true,
      outcome: 'written-verified',
    });
    // The measured residual agrees with the truth within its bound; the old error too.
    expect(Math.abs(result.residualMs! - trueError)).toBeLessThanOrEqual(result.residualBoundMs! + 3);
    expect(result.residualBoundMs!).toBeLessThan(50);
    expect(Math.abs(-result.offset - trueErrorBefore)).toBeLessThanOrEqual(result.offsetBoundMs + 3);

    const puts = sim.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0].body).toEqual({ datetime: result.datetime, dst: result.dst });

    expect(h.named('camera-sync')).toEqual([
      {
        cameraId: SERIAL,
        success: true,
        previousTime: result.previousTime,
        newTime: result.newTime,
        offset: result.offset,
        residualMs: result.residualMs,
        written: true,
        residualBoundMs: result.residualBoundMs,
        verified: true,
        outcome: 'written-verified',
        offsetBoundMs: result.offsetBoundMs,
        at: expect.any(String),
      },
    ]);
    expect(h.activity.entries().at(-1)).toEqual(
      expect.objectContaining({ type: 'camera', success: true, details: expect.objectContaining({ cameraId: SERIAL, offset: result.offset, residualMs: result.residualMs }) }),
    );
    expect(sut.status().lastSync).toEqual({
      success: true,
      at: expect.any(String),
      offsetMs: result.offset,
      residualMs: result.residualMs,
      residualBoundMs: result.residualBoundMs,
      verified: true,
      written: true,
      outcome: 'written-verified',
    });
  });

  it('syncs with simulated Wi-Fi latency (5-80 ms) to within a few tens of ms', async () => {
    sim.setLatency(() => 5 + Math.random() * 75);
    await sut.check();
    const [result] = (await sut.syncAll('test')) as CameraSyncResult[];
    expect(result).toMatchObject({ cameraId: SERIAL, success: true });
    // What the sync says of itself holds: the truth is within the residual's bound.
    if (result.verified) expect(Math.abs(result.residualMs! - sim.clock.errorMs())).toBeLessThanOrEqual(result.residualBoundMs! + 3);
  });

  it.each([
    ['busy (503)', { kind: 'status', status: 503, message: 'Device busy' }, ErrorCode.CAMERA_BUSY, 'Camera is busy: Device busy'],
    ['a refused value (400)', { kind: 'status', status: 400, message: 'Invalid parameter' }, ErrorCode.CAMERA_REJECTED, 'Invalid parameter'],
    ['a timeout', { kind: 'hang' }, ErrorCode.CAMERA_TIMEOUT, 'did not answer'],
    ['a reset', { kind: 'reset' }, ErrorCode.CAMERA_CONNECTION_RESET, 'closed the connection'],
    // The answer's body is never echoed (a rogue could make the Pi repeat another service's answer).
    ['garbage', { kind: 'garbage' }, ErrorCode.CAMERA_BAD_ANSWER, 'is not JSON'],
  ] as const)('reports a PUT failing with %s: error entry, camera-sync success:false, re-thrown, no retry', async (_what, fault, code, words) => {
    await sut.check();
    sim.setFault(fault, { method: 'PUT' });
    const error = await rejectionOf(syncClock('test'));
    expect(error.code).toBe(code);
    expect(error.message).toContain(words);
    expect(sim.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
    expect(h.named('camera-sync')).toEqual([{ cameraId: SERIAL, success: false, outcome: 'failed', at: expect.any(String), previousTime: expect.any(String), newTime: null, offset: expect.any(Number), residualMs: null, error: error.message }]);
    expect(h.activity.entries().at(-1)).toEqual(
      expect.objectContaining({ type: 'error', success: false, message: expect.stringContaining(error.message), details: expect.objectContaining({ cameraId: SERIAL, error: error.message, code }) }),
    );
    expect(sut.status().lastSync).toMatchObject({ success: false, verified: false, error: error.message });
    // Still connected: a failed sync is not a disconnect.
    expect(connected()).toBe(true);
  });

  it('is busy for a while after a shutter press, then syncs', async () => {
    await sut.check();
    sim.setBusy(600);
    await expect(syncClock('test')).rejects.toMatchObject({ code: ErrorCode.CAMERA_BUSY, message: 'Camera is busy: Device busy' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await expect(syncClock('test')).resolves.toMatchObject({ success: true });
  });

  it('treats 503 as busy, not gone: checks stay connected, no disconnect event', async () => {
    await sut.check();
    sim.setFault({ kind: 'status', status: 503, message: 'During shooting or recording' });
    for (let i = 0; i < 3; i++) await sut.check();
    expect(connected()).toBe(true);
    expect(h.named('camera-disconnected')).toEqual([]);
  });

  it('leaves the state unchanged on garbage answers', async () => {
    await sut.check();
    const before = sut.status();
    sim.setFault({ kind: 'garbage' });
    for (let i = 0; i < 3; i++) await sut.check();
    expect(sut.status()).toEqual(before);
    sim.setFault({ kind: 'huge' });
    await sut.check();
    expect(sut.status()).toEqual(before);
    expect(h.events.filter((e) => e.name !== 'activity').map((e) => e.name)).toEqual(['camera-connected']);
  });

  it('declares the camera gone after two timeouts in a row, not one', async () => {
    await sut.check();
    sim.setFault({ kind: 'hang' });
    await sut.check();
    expect(connected()).toBe(true);
    await sut.check();
    expect(connected()).toBe(false);
    expect(h.named('camera-disconnected')).toHaveLength(1);
  });

  it('declares the camera gone at once when it refuses connections, and back when it returns', async () => {
    const statuses: Promise<CameraStatus[]> = firstValueFrom(sut.connection$.pipe(take(2), toArray()));
    await sut.check();
    await sim.close();
    await sut.check();
    expect(connected()).toBe(false);
    const [up, down] = await statuses;
    expect(up.connected).toBe(true);
    expect(down).toMatchObject({ id: SERIAL, state: 'disconnected', connected: false, lastError: expect.stringContaining('refused the connection') });
    expect(h.named('camera-disconnected')).toEqual([down]);
    expect(h.activity.entries().at(-1)).toEqual(expect.objectContaining({ type: 'camera', success: false, message: expect.stringContaining(`Camera ${SERIAL} disconnected`) }));
    await expect(syncClock('test')).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA });
  });

  it('syncs through Digest authentication', async () => {
    h.close();
    sim.setAuth({ user: 'operator', password: 'secret', algorithms: ['MD5'] });
    h = newService(cameraConfig({ CAMERA_URL: proto === 'http' ? sim.httpUrl : sim.httpsUrl!, CAMERA_USER: 'operator', CAMERA_PASSWORD: 'secret' }), { zone: 'Europe/Berlin' });
    sut = h.service;
    await sut.check();
    await expect(syncClock('test')).resolves.toMatchObject({ success: true, datetime: expect.stringMatching(/\+0100$/) });
    expect(Math.abs(sim.clock.errorMs())).toBeLessThan(50);
  });

  it('answers a stale Digest nonce on the PUT by sending it again on the next second boundary, not a round trip late', async () => {
    h.close();
    sim.setAuth({ user: 'operator', password: 'secret' });
    h = newService(cameraConfig({ CAMERA_URL: proto === 'http' ? sim.httpUrl : sim.httpsUrl!, CAMERA_USER: 'operator', CAMERA_PASSWORD: 'secret' }), { zone: 'UTC' });
    sut = h.service;
    await sut.check();
    sim.setFault({ kind: 'stale-nonce' }, { method: 'PUT', times: 1 });
    const result = await syncClock('test');
    const puts = sim.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.status)).toEqual([401, 200]);
    const [first, second] = puts.map((r) => parseSimDateTime(r.body)!.secondUtcMs);
    expect(second).toBe(first + 1000);
    expect(Date.parse(result.newTime)).toBe(second);
    if (result.verified) expect(Math.abs(result.residualMs! - sim.clock.errorMs())).toBeLessThanOrEqual(result.residualBoundMs! + 3);
  });

  it('runs the periodic check by itself once started', async () => {
    sut.start();
    await firstValueFrom(sut.connection$);
    expect(connected()).toBe(true);
  });
});
