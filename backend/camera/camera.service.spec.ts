import { Logger } from '@nestjs/common';
import { NEVER, firstValueFrom } from 'rxjs';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { AppConfig } from '../config/app.config';
import { ServerFrame } from '../protocol/messages';
import { SystemClock } from '../system-clock/system-clock';
import { formatCameraDateTime, parseCameraDateTime } from '../time/camera-datetime';
import { ManualClock } from '../time/clock';
import { CameraService } from './camera.service';
import { CcapiClient, CcapiResponse } from './ccapi-client';
import { SsdpDiscovery } from './ssdp';
import { LatencyEstimator } from './sync-timing';
import { Waiter } from './waiter';

const ONE_WAY_MS = 10;

/**
 * A camera and a CCAPI client in one strict fake, on a hand-driven clock: every request takes ONE_WAY_MS
 * each way, the camera keeps `errorMs` (camera minus Pi) with one-second resolution. Methods the service
 * is not expected to call are absent, so calling them fails.
 */
function fakeCamera(clock: ManualClock) {
  const camera = { errorMs: 37_250, ignorePut: false, stepPiDuringPutMs: 0, failPut: null as DomainError | null, failInfo: null as DomainError | null };
  const latency = new LatencyEstimator();
  const puts: Array<{ atMs: number; body: { datetime: string; dst: boolean } }> = [];
  const exchange = async <T>(handle: () => T): Promise<CcapiResponse<T>> => {
    const sentAtMs = clock.now();
    clock.advance(ONE_WAY_MS);
    const data = handle();
    clock.advance(ONE_WAY_MS);
    latency.add(2 * ONE_WAY_MS, clock.monotonic());
    return { status: 200, data, sentAtMs, receivedAtMs: clock.now() };
  };
  const readDatetime = () => formatCameraDateTime(Math.floor((clock.now() + camera.errorMs) / 1000) * 1000, 'Europe/Berlin');
  const session = {
    get: jest.fn(async (name: string) => {
      if (name !== 'functions/datetime') throw new Error(`unexpected GET ${name}`);
      return exchange(readDatetime);
    }),
    put: jest.fn(async (name: string, options: { body?: () => unknown }) => {
      if (name !== 'functions/datetime') throw new Error(`unexpected PUT ${name}`);
      const body = options.body!() as { datetime: string; dst: boolean };
      puts.push({ atMs: clock.now(), body });
      return exchange(() => {
        if (camera.failPut) throw camera.failPut;
        if (!camera.ignorePut) camera.errorMs = parseCameraDateTime(body).epochMs - clock.now();
        if (camera.stepPiDuringPutMs) {
          clock.step(clock.now() + camera.stepPiDuringPutMs);
          camera.errorMs -= camera.stepPiDuringPutMs;
        }
        return {};
      });
    }),
    post: jest.fn(async () => {
      throw new Error('unexpected POST');
    }),
  };
  const client = {
    latency,
    baseUrl: 'http://camera:8080',
    use: jest.fn(),
    close: jest.fn(),
    loadEndpoints: jest.fn(async () => new Map()),
    endpoint: jest.fn(() => null),
    get: jest.fn(async (name: string) => {
      if (name === 'deviceinformation') {
        return exchange(() => {
          if (camera.failInfo) throw camera.failInfo;
          return { manufacturer: 'Canon Inc.', productname: 'Canon EOS RP', serialnumber: '42', firmwareversion: '1.6.0' };
        });
      }
      return session.get(name);
    }),
    exclusive: jest.fn((fn: (s: typeof session) => Promise<unknown>) => fn(session)),
  };
  return { camera, client, session, puts };
}

describe(CameraService.name, () => {
  let clock: ManualClock;
  let fake: ReturnType<typeof fakeCamera>;
  let frames: ServerFrame[];
  let activity: ActivityLogService;
  let sut: CameraService;

  const events = (type: string) => frames.filter((f) => f.type === 'event' && f.eventType === type);

  beforeAll(() => Logger.overrideLogger(false));
  afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));

  beforeEach(() => {
    clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 12, 0, 123));
    fake = fakeCamera(clock);
    const bus = new EventBus();
    frames = [];
    bus.frames$.subscribe((f) => frames.push(f));
    activity = new ActivityLogService(clock, bus);
    const config = Object.assign(new AppConfig(), { CAMERA_URL: 'http://camera:8080', CAMERA_DISCOVERY: false });
    const systemClock = { read: jest.fn(async () => ({ epochMs: clock.now(), timezone: 'Australia/Sydney', ntpEnabled: false, ntpSynchronized: false, backend: 'simulated' })) };
    const ssdp = { events$: NEVER, listen: jest.fn(), searchFirst: jest.fn(), close: jest.fn() };
    const waiter = {
      until: jest.fn(async (mono: number) => {
        if (mono > clock.monotonic()) clock.advance(mono - clock.monotonic());
      }),
    };
    sut = new CameraService(
      config,
      fake.client as unknown as CcapiClient,
      clock,
      systemClock as unknown as SystemClock,
      activity,
      bus,
      ssdp as unknown as SsdpDiscovery,
      waiter as unknown as Waiter,
    );
  });

  it('points the client at CAMERA_URL', () => {
    expect(fake.client.use).toHaveBeenCalledWith('http://camera:8080');
  });

  it('refuses to sync without a camera, touching nothing', async () => {
    await expect(sut.syncClock('test')).rejects.toEqual(new DomainError(ErrorCode.NO_CAMERA, 'no camera connected'));
    expect(fake.client.exclusive).not.toHaveBeenCalled();
    expect(frames).toEqual([]);
  });

  describe('connection', () => {
    it('connects: status, camera-connected event, activity entry, connection$', async () => {
      const emitted = firstValueFrom(sut.connection$);
      await sut.check();
      const status = { connected: true, baseUrl: 'http://camera:8080/ccapi', info: { productName: 'Canon EOS RP', serialNumber: '42', firmwareVersion: '1.6.0', manufacturer: 'Canon Inc.' }, lastSync: null, lastError: null };
      expect(sut.status()).toEqual(status);
      await expect(emitted).resolves.toEqual(status);
      expect(events('camera-connected')).toEqual([{ type: 'event', eventType: 'camera-connected', timestamp: '2026-11-25T08:12:00.143Z', data: status }]);
      expect(activity.entries()).toEqual([expect.objectContaining({ type: 'camera', success: true, message: 'Camera connected: Canon EOS RP (serial 42) at http://camera:8080' })]);
    });

    it.each([ErrorCode.CAMERA_BUSY, ErrorCode.CAMERA_BAD_ANSWER, ErrorCode.CAMERA_REJECTED])('stays connected on %s', async (code) => {
      await sut.check();
      fake.camera.failInfo = new DomainError(code, 'no');
      for (let i = 0; i < 3; i++) await sut.check();
      expect(sut.isConnected()).toBe(true);
      expect(events('camera-disconnected')).toEqual([]);
    });

    it('counts the camera gone after two timeouts in a row', async () => {
      await sut.check();
      fake.camera.failInfo = new DomainError(ErrorCode.CAMERA_TIMEOUT, 'The camera did not answer');
      await sut.check();
      expect(sut.isConnected()).toBe(true);
      await sut.check();
      expect(sut.status()).toMatchObject({ connected: false, lastError: 'The camera did not answer' });
      expect(events('camera-disconnected')).toHaveLength(1);
      expect(activity.entries().at(-1)).toEqual(expect.objectContaining({ type: 'camera', success: false, message: 'Camera disconnected: The camera did not answer' }));
    });

    it('counts the camera gone at once when it refuses connections', async () => {
      await sut.check();
      fake.camera.failInfo = new DomainError(ErrorCode.CAMERA_UNREACHABLE, 'refused');
      await sut.check();
      expect(sut.isConnected()).toBe(false);
    });

    it('connects a busy camera (it is there) and fills in the details later', async () => {
      fake.camera.failInfo = new DomainError(ErrorCode.CAMERA_BUSY, 'Camera is busy: Device busy');
      await sut.check();
      expect(sut.status()).toMatchObject({ connected: true, info: null });
      fake.camera.failInfo = null;
      await sut.check();
      expect(sut.status().info).toMatchObject({ productName: 'Canon EOS RP' });
    });
  });

  describe('syncClock', () => {
    beforeEach(() => sut.check());

    it('times the PUT to arrive on a second boundary, with the body for that second in the Pi zone', async () => {
      const result = await sut.syncClock('test');
      expect(fake.puts).toHaveLength(1);
      const [{ atMs, body }] = fake.puts;
      expect((atMs + ONE_WAY_MS) % 1000).toBe(0);
      expect(body).toEqual(formatCameraDateTime(atMs + ONE_WAY_MS, 'Australia/Sydney'));
      expect(body).toEqual({ datetime: expect.stringMatching(/ \+1000$/), dst: true });
      expect(fake.camera.errorMs).toBe(0);
      expect(result).toMatchObject({ success: true, reason: 'test', newTime: new Date(atMs + ONE_WAY_MS).toISOString(), timezone: 'Australia/Sydney', latencyMs: ONE_WAY_MS });
      expect(Math.abs(result.residualMs!)).toBeLessThanOrEqual(result.residualBoundMs!);
      expect(result.residualBoundMs).toBeLessThanOrEqual(2 * ONE_WAY_MS);
      // The old error (Pi minus camera = -37 250 ms) comes out to about a round trip, not ±500 ms.
      expect(Math.abs(result.offset + 37_250)).toBeLessThanOrEqual(result.offsetBoundMs);
      expect(result.offsetBoundMs).toBeLessThanOrEqual(2 * ONE_WAY_MS + 25);
    });

    it('reads the camera first, then writes, then reads back: previousTime is from before the write (pitfall 11)', async () => {
      const result = await sut.syncClock('test');
      expect(Date.parse(result.previousTime) - Date.parse(result.newTime)).toBeGreaterThan(35_000);
      const order = [...fake.session.get.mock.invocationCallOrder, ...fake.session.put.mock.invocationCallOrder].sort((a, b) => a - b);
      expect(order[0]).toBe(fake.session.get.mock.invocationCallOrder[0]);
      expect(fake.session.put.mock.invocationCallOrder[0]).toBeLessThan(Math.max(...fake.session.get.mock.invocationCallOrder));
    });

    it('publishes and logs the success', async () => {
      const result = await sut.syncClock('test');
      expect(events('camera-sync')).toEqual([
        { type: 'event', eventType: 'camera-sync', timestamp: expect.any(String), data: { success: true, previousTime: result.previousTime, newTime: result.newTime, offset: result.offset, residualMs: result.residualMs } },
      ]);
      expect(activity.entries().at(-1)).toEqual(expect.objectContaining({ type: 'camera', success: true, message: expect.stringContaining('Camera clock set (test): it was 37 s ahead (±') }));
      expect(sut.status().lastSync).toEqual({ success: true, at: expect.any(String), offsetMs: result.offset, residualMs: result.residualMs });
    });

    it('reports a failed write everywhere and re-throws it, without retrying', async () => {
      const busy = new DomainError(ErrorCode.CAMERA_BUSY, 'Camera is busy: Device busy');
      fake.camera.failPut = busy;
      await expect(sut.syncClock('test')).rejects.toBe(busy);
      expect(fake.session.put).toHaveBeenCalledTimes(1);
      expect(events('camera-sync')).toEqual([
        { type: 'event', eventType: 'camera-sync', timestamp: expect.any(String), data: { success: false, previousTime: expect.any(String), newTime: null, offset: expect.any(Number), residualMs: null, error: 'Camera is busy: Device busy' } },
      ]);
      expect(activity.entries().at(-1)).toEqual(
        expect.objectContaining({ type: 'error', success: false, message: 'Camera clock sync failed (test): Camera is busy: Device busy', details: expect.objectContaining({ code: ErrorCode.CAMERA_BUSY }) }),
      );
      expect(sut.status()).toMatchObject({ connected: true, lastError: 'Camera is busy: Device busy', lastSync: { success: false, error: 'Camera is busy: Device busy' } });
    });

    it('fails when the camera does not keep the time it was given', async () => {
      fake.camera.ignorePut = true;
      await expect(sut.syncClock('test')).rejects.toMatchObject({ code: ErrorCode.CAMERA_REJECTED, message: expect.stringContaining('reads back') });
    });

    it('claims no residual when the Pi clock is stepped during the sync', async () => {
      fake.camera.stepPiDuringPutMs = 300;
      await expect(sut.syncClock('test')).resolves.toMatchObject({ success: true, residualMs: null, residualBoundMs: null });
    });

    it('runs one sync for calls that overlap', async () => {
      const [a, b] = await Promise.all([sut.syncClock('one'), sut.syncClock('two')]);
      expect(b).toBe(a);
      expect(fake.session.put).toHaveBeenCalledTimes(1);
    });

    it('syncBeforeSession syncs "before session"', async () => {
      await expect(sut.syncBeforeSession()).resolves.toMatchObject({ reason: 'before session' });
    });
  });

  it('readClock gives the true instant, DST taken off, with the Pi time of the reading', async () => {
    await sut.check();
    const reading = await sut.readClock();
    expect(reading.datetime).toMatch(/\+0100$/);
    expect(reading.epochMs).toBe(Math.floor((reading.piTimeMs + 37_250) / 1000) * 1000);
    expect(reading.roundTripMs).toBe(2 * ONE_WAY_MS);
  });
});
