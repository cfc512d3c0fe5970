import { cameraErrors, FakeCamera, SimulatedTime } from '../../test/camera-sim/fake-ccapi';
import { parseSimDateTime } from '../../test/camera-sim/camera-clock';
import { DomainError, ErrorCode } from '../common/domain-error';
import { CameraState } from '../protocol/messages';
import { CameraSyncFailure, CameraSyncResult } from './camera-report';
import { CameraSession, CameraSessionOwner } from './camera-session';
import { SharedSecondBoundary } from './sync-timing';

const ONE_WAY_MS = 10;

describe(CameraSession.name, () => {
  let time: SimulatedTime;
  let camera: FakeCamera;
  let changes: Array<{ from: CameraState; to: CameraState; reason: string | null; id: string }>;
  let holder: CameraSession | null;
  let sut: CameraSession;

  const owner: CameraSessionOwner = {
    changed: (session, from, reason) => changes.push({ from, to: session.state, reason, id: session.id }),
    holderOf: () => holder,
  };
  const alone = () => new SharedSecondBoundary(() => time.clock.now(), 1);
  const sync = (zone = 'Australia/Sydney') => sut.sync('test', zone, alone());

  beforeEach(() => {
    time = new SimulatedTime();
    camera = new FakeCamera(time, { oneWayMs: ONE_WAY_MS, errorMs: 37_250, serialNumber: '42' });
    changes = [];
    holder = null;
    sut = new CameraSession({ url: 'http://10.0.0.2:8080/ccapi' }, camera.client(), time.clock, time.waiter, owner);
  });
  afterEach(() => expect(camera.unexpected).toEqual([]));

  it('is named by its address and disconnected before it has been seen', () => {
    expect(sut.status()).toEqual({ id: '10.0.0.2_8080', state: 'disconnected', connected: false, baseUrl: 'http://10.0.0.2:8080/ccapi', info: null, lastSync: null, lastError: null });
  });

  describe('connection', () => {
    it('connects: named by its serial number, with the device information and GUID, one change reported', async () => {
      await sut.check();
      expect(sut.status()).toEqual({
        id: '42',
        state: 'connected',
        connected: true,
        baseUrl: 'http://10.0.0.2:8080/ccapi',
        info: { productName: 'Canon EOS R50', serialNumber: '42', firmwareVersion: '1.2.0', manufacturer: 'Canon Inc.', guid: camera.guid },
        lastSync: null,
        lastError: null,
      });
      expect(changes).toEqual([{ from: 'disconnected', to: 'connected', reason: null, id: '42' }]);
    });

    it.each([
      ['busy', cameraErrors.busy],
      ['a garbled answer', cameraErrors.garbage],
      ['a refusal', () => new DomainError(ErrorCode.CAMERA_REJECTED, 'no')],
    ])('stays connected on %s', async (_what, error) => {
      await sut.check();
      camera.fail({ error });
      for (let i = 0; i < 3; i++) await sut.check();
      expect(sut.state).toBe('connected');
      expect(changes).toHaveLength(1);
    });

    it('counts the camera gone after two timeouts in a row, and keeps its id while it is away', async () => {
      await sut.check();
      camera.fail({ error: cameraErrors.timeout });
      await sut.check();
      expect(sut.state).toBe('connected');
      await sut.check();
      expect(sut.status()).toMatchObject({ id: '42', state: 'disconnected', connected: false, lastError: 'The camera did not answer GET deviceinformation within 5 s' });
      expect(changes.at(-1)).toEqual({ from: 'connected', to: 'disconnected', reason: 'The camera did not answer GET deviceinformation within 5 s', id: '42' });
    });

    it('counts the camera gone at once when it refuses connections', async () => {
      await sut.check();
      camera.fail({ error: cameraErrors.refused });
      await sut.check();
      expect(sut.state).toBe('disconnected');
    });

    it('connects a busy camera (it is there) and reports the details when they come', async () => {
      camera.fail({ name: 'deviceinformation', error: cameraErrors.busy, times: 1 });
      await sut.check();
      expect(sut.status()).toMatchObject({ state: 'connected', info: null, id: '10.0.0.2_8080' });
      await sut.check();
      expect(sut.status().info).toMatchObject({ productName: 'Canon EOS R50' });
      expect(changes.at(-1)).toEqual({ from: 'connected', to: 'connected', reason: null, id: '10.0.0.2_8080' });
    });

    it('says another camera answers at the address: gone under the old id, back under the new one', async () => {
      await sut.check();
      camera.serialNumber = '43';
      await sut.check();
      expect(changes.slice(1)).toEqual([
        { from: 'connected', to: 'disconnected', reason: 'another camera (Canon EOS R50 43) answers at this address', id: '42' },
        { from: 'disconnected', to: 'connected', reason: null, id: '43' },
      ]);
    });

    it('stays away when the same camera is already connected at another address', async () => {
      holder = new CameraSession({ url: 'http://10.0.0.9' }, new FakeCamera(time).client(), time.clock, time.waiter, owner);
      await sut.check();
      expect(sut.status()).toMatchObject({ state: 'disconnected', lastError: 'the same camera as the one at http://10.0.0.9' });
      expect(changes).toEqual([]);
    });
  });

  describe('a camera that answers 401', () => {
    beforeEach(() => camera.fail({ error: cameraErrors.auth }));

    it('is present and needs credentials, reported once however often it is checked', async () => {
      await sut.check();
      await sut.check();
      expect(sut.status()).toMatchObject({ state: 'needs-credentials', connected: false, lastError: expect.stringContaining('refused the user name and password') });
      expect(changes).toEqual([{ from: 'disconnected', to: 'needs-credentials', reason: expect.stringContaining('refused the user name and password'), id: '10.0.0.2_8080' }]);
    });

    it('connects once the credentials are right', async () => {
      await sut.check();
      camera.faults.length = 0;
      await sut.check();
      expect(changes.map((c) => c.to)).toEqual(['needs-credentials', 'connected']);
    });

    it('answers a sync or a read with CAMERA_AUTH_REQUIRED, not NO_CAMERA, and writes nothing', async () => {
      await sut.check();
      await expect(sync()).resolves.toMatchObject({ success: false, code: ErrorCode.CAMERA_AUTH_REQUIRED, error: expect.stringContaining('refuses the user name and password') });
      await expect(sut.readClock()).rejects.toMatchObject({ code: ErrorCode.CAMERA_AUTH_REQUIRED });
      expect(camera.puts).toEqual([]);
    });

    it('is noticed when a connected camera starts asking', async () => {
      camera.faults.length = 0;
      await sut.check();
      camera.fail({ error: cameraErrors.auth });
      await sut.check();
      expect(changes.map((c) => c.to)).toEqual(['connected', 'needs-credentials']);
    });
  });

  describe('sync', () => {
    beforeEach(() => sut.check());

    it('tells the owner what it learnt of the clock together with the outcome, once, however many asked', async () => {
      const told: Array<{ atMono: number; what: string }> = [];
      const tell = (what: string) => told.push({ atMono: time.clock.monotonic(), what });
      sut = new CameraSession({ url: 'http://10.0.0.2:8080/ccapi' }, camera.client(), time.clock, time.waiter, {
        ...owner,
        measured: (_s, m) => tell(`measured ${m.kind}`),
        wrote: () => tell('wrote'),
        synced: (_s, r) => tell(`synced ${r.outcome}`),
      });
      await sut.check();
      const boundary = new SharedSecondBoundary(() => time.clock.now(), 2);
      const [first, second] = await Promise.all([sut.sync('test', 'UTC', boundary), sut.sync('again', 'UTC', boundary)]);
      expect(second).toBe(first);
      expect(told.map((t) => t.what)).toEqual(['measured before-write', 'measured after-write', 'wrote', 'synced written-verified']);
      // Held while the sync ran (no status per measurement): all at its end.
      expect(told.every((t) => t.atMono === time.clock.monotonic())).toBe(true);
    });

    it('times the PUT to arrive on a second boundary, with the body for that second in the Pi zone; verified', async () => {
      const result = (await sync()) as CameraSyncResult;
      expect(camera.puts).toHaveLength(1);
      const [{ atMs, secondUtcMs, body }] = camera.puts;
      expect(atMs % 1000).toBe(0);
      expect(secondUtcMs).toBe(atMs);
      expect(body).toEqual({ datetime: expect.stringMatching(/ \+1000$/), dst: true });
      expect(camera.errorMs()).toBe(0);
      expect(result).toMatchObject({ cameraId: '42', success: true, reason: 'test', newTime: new Date(atMs).toISOString(), timezone: 'Australia/Sydney', latencyMs: ONE_WAY_MS, verified: true });
      expect(Math.abs(result.residualMs!)).toBeLessThanOrEqual(result.residualBoundMs!);
      expect(result.residualBoundMs).toBeLessThanOrEqual(2 * ONE_WAY_MS);
      // The old error (Pi minus camera = -37 250 ms) comes out to about a round trip, not ±500 ms.
      expect(Math.abs(result.offset + 37_250)).toBeLessThanOrEqual(result.offsetBoundMs);
      expect(result.offsetBoundMs).toBeLessThanOrEqual(2 * ONE_WAY_MS + 25);
      expect(sut.status().lastSync).toEqual({ success: true, outcome: 'written-verified', at: expect.any(String), offsetMs: result.offset, residualMs: result.residualMs, residualBoundMs: result.residualBoundMs, verified: true, written: true });
    });

    it('writes the wall offset in Casablanca during Ramadan', async () => {
      time.clock.step(Date.UTC(2026, 2, 1, 12, 0, 0, 400));
      await sync('Africa/Casablanca');
      expect(camera.puts[0].body).toEqual({ datetime: expect.stringMatching(/^Sun, 01 Mar 2026 12:00:0\d \+0000$/), dst: false });
      expect(camera.errorMs()).toBe(0);
    });

    it('measures the latency afresh: the PUT is timed with the round trip of now, not of minutes ago', async () => {
      camera.oneWayMs = 60;
      await sync();
      expect(camera.puts[0].atMs % 1000).toBe(0);
    });

    it('reads the camera first, then writes, then reads back: previousTime is from before the write (pitfall 11)', async () => {
      const result = (await sync()) as CameraSyncResult;
      // The camera was 37 s ahead when first read; the write came a few seconds later (measuring, then the boundary).
      expect(Date.parse(result.previousTime) - Date.parse(result.newTime)).toBeGreaterThan(30_000);
      const names = camera.requests.filter((r) => r.name === 'functions/datetime').map((r) => r.method);
      expect(names[0]).toBe('GET');
      expect(names.indexOf('PUT')).toBeGreaterThan(0);
      expect(names.at(-1)).toBe('GET');
    });

    it('returns a failed write as a failure with the old offset, without retrying', async () => {
      camera.fail({ method: 'PUT', error: cameraErrors.busy });
      const failure = (await sync()) as CameraSyncFailure;
      expect(failure).toEqual({ cameraId: '42', success: false, outcome: 'failed', reason: 'test', code: ErrorCode.CAMERA_BUSY, error: 'Camera is busy: Device busy', previousTime: expect.any(String), offset: expect.any(Number) });
      expect(Math.abs(failure.offset! + 37_250)).toBeLessThanOrEqual(500);
      expect(camera.requests.filter((r) => r.method === 'PUT')).toHaveLength(1);
      expect(sut.status()).toMatchObject({ state: 'connected', lastError: 'Camera is busy: Device busy', lastSync: { success: false, verified: false, residualMs: null, error: 'Camera is busy: Device busy' } });
    });

    it('fails when the camera does not keep the time it was given', async () => {
      camera.ignorePut = true;
      await expect(sync()).resolves.toMatchObject({ success: false, code: ErrorCode.CAMERA_REJECTED, error: expect.stringContaining('reads back') });
    });

    it('is set but not verified when the read-back fails', async () => {
      camera.faultsAfterPut.push({ method: 'GET', name: 'functions/datetime', error: cameraErrors.timeout });
      await expect(sync()).resolves.toMatchObject({ success: true, verified: false, residualMs: null, residualBoundMs: null, unverifiedBecause: expect.stringContaining('read-back failed') });
      expect(camera.errorMs()).toBe(0);
    });

    it('reports no residual when it can be measured only loosely (a slow link): set, not verified', async () => {
      camera.oneWayMs = 150;
      const result = (await sync()) as CameraSyncResult;
      expect(result).toMatchObject({ success: true, residualMs: null, residualBoundMs: null, verified: false, unverifiedBecause: expect.stringMatching(/known only to ±\d+ ms/) });
      expect(camera.errorMs()).toBe(0);
    });

    it('claims no residual when the Pi clock is stepped during the sync', async () => {
      camera.stepPiDuringPutMs = 300;
      await expect(sync()).resolves.toMatchObject({ success: true, residualMs: null, residualBoundMs: null, verified: false, unverifiedBecause: 'the Pi clock was stepped during the sync' });
    });

    it('a stale Digest nonce on the write: not resent at once (a round trip late) but on the next boundary', async () => {
      camera.fail({ method: 'PUT', times: 1, error: () => new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, 'asked again', { status: 401, challengeRenewed: true }) });
      const result = (await sync()) as CameraSyncResult;
      const attempts = camera.requests.filter((r) => r.method === 'PUT');
      expect(attempts).toHaveLength(2);
      expect(attempts[0].atMs % 1000).toBe(0);
      expect(camera.puts).toEqual([expect.objectContaining({ atMs: attempts[0].atMs + 1000, secondUtcMs: attempts[0].atMs + 1000 })]);
      expect(result).toMatchObject({ success: true, verified: true, newTime: new Date(attempts[0].atMs + 1000).toISOString() });
      expect(camera.errorMs()).toBe(0);
      expect(sut.state).toBe('connected');
    });

    it('a 401 on the write makes the camera need credentials', async () => {
      camera.fail({ method: 'PUT', error: cameraErrors.auth });
      await expect(sync()).resolves.toMatchObject({ success: false, code: ErrorCode.CAMERA_AUTH_REQUIRED });
      expect(sut.state).toBe('needs-credentials');
    });

    it('says NO_CAMERA for a camera that is not connected, and leaves the shared boundary to the others', async () => {
      camera.fail({ error: cameraErrors.refused });
      await sut.check();
      const boundary = new SharedSecondBoundary(() => time.clock.now(), 2);
      const other = boundary.arrive(5);
      await expect(sut.sync('test', 'UTC', boundary)).resolves.toMatchObject({ success: false, code: ErrorCode.NO_CAMERA });
      await expect(other).resolves.toEqual(expect.any(Number));
    });

    it('writes what a parse of the camera gives back', async () => {
      await sync('Europe/Berlin');
      const parsed = parseSimDateTime(camera.puts[0].body)!;
      expect(parsed.secondUtcMs).toBe(camera.puts[0].atMs);
    });
  });

  it('readClock gives the true instant, DST taken off, with the Pi time of the reading', async () => {
    camera.dst = true;
    await sut.check();
    const reading = await sut.readClock();
    expect(reading).toMatchObject({ cameraId: '42', datetime: expect.stringMatching(/\+0100$/), dst: true, roundTripMs: 2 * ONE_WAY_MS });
    expect(reading.epochMs).toBe(Math.floor((reading.piTimeMs + 37_250) / 1000) * 1000);
  });

  it('readClock says NO_CAMERA when the camera is not connected', async () => {
    await expect(sut.readClock()).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA, message: 'camera 10.0.0.2_8080 is not connected' });
  });
});
