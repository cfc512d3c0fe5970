import { firstValueFrom, Subject, take, toArray } from 'rxjs';
import { cameraErrors, FakeCamera, SimulatedTime } from '../../test/camera-sim/fake-ccapi';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { ErrorCode } from '../common/domain-error';
import { CameraMeasuredEvent, CameraWrittenEvent, DomainEvent, EventBus } from '../common/event-bus';
import { AppConfig } from '../config/app.config';
import { ActivityEntry, CameraStatus } from '../protocol/messages';
import { SystemClock } from '../system-clock/system-clock';
import { CameraSyncFailure, CameraSyncResult } from './camera-report';
import { CameraSession, CameraSessionOwner, CameraSource } from './camera-session';
import { CameraSessionFactory } from './camera-session.factory';
import { CameraService } from './camera.service';
import { DiscoveredCamera, SsdpDiscovery, SsdpEvent } from './ssdp';

type Entry = Pick<ActivityEntry, 'type' | 'message' | 'success' | 'details'>;

/** A camera SSDP would describe. */
const discovered = (camera: FakeCamera, host: string): DiscoveredCamera => ({
  address: host,
  accessUrl: `http://${host}:8080/ccapi`,
  usn: `uuid:${camera.guid}::urn:schemas-canon-com:service:ICPO-CameraControlAPIService:1`,
  location: `http://${host}:49152/upnp/CameraDevDesc.xml`,
  serialNumber: camera.serialNumber,
  udn: `uuid:${camera.guid}`,
});

describe(CameraService.name, () => {
  let time: SimulatedTime;
  /** The fake cameras by the host of their URL. */
  let cameras: Map<string, FakeCamera>;
  let entries: Entry[];
  let events: DomainEvent[];
  let ssdpEvents: Subject<SsdpEvent>;
  let ssdp: { events$: Subject<SsdpEvent>; listen: jest.Mock; search: jest.Mock; close: jest.Mock };
  let created: CameraSource[];
  let sut: CameraService;

  const named = (name: DomainEvent['name']) => events.filter((e) => e.name === name).map((e) => e.data);
  const cameraAt = (host: string, options: ConstructorParameters<typeof FakeCamera>[1] = {}) => {
    const camera = new FakeCamera(time, options);
    cameras.set(host, camera);
    return camera;
  };

  function build(config: Partial<AppConfig>): CameraService {
    const bus = new EventBus();
    bus.events$.subscribe((e) => events.push(e));
    const factory = {
      create: (source: CameraSource, owner: CameraSessionOwner) => {
        created.push(source);
        const camera = cameras.get(new URL(source.url).hostname);
        if (!camera) throw new Error(`no fake camera at ${source.url}`);
        return new CameraSession(source, camera.client(), time.clock, time.waiter, owner);
      },
    };
    const activity = {
      add: (type: Entry['type'], message: string, success: boolean, details: Entry['details'] = {}) => {
        entries.push({ type, message, success, details });
        return { seq: entries.length, timestamp: '', type, message, success, details };
      },
    };
    const systemClock = { read: async () => ({ epochMs: time.clock.now(), timezone: 'Europe/Berlin', ntpEnabled: false, ntpSynchronized: false, backend: 'simulated' }) };
    return new CameraService(
      Object.assign(new AppConfig(), { CAMERA_DISCOVERY: false, CAMERA_POLL_INTERVAL: 5000 }, config),
      factory as unknown as CameraSessionFactory,
      time.clock,
      systemClock as unknown as SystemClock,
      activity as unknown as ActivityLogService,
      bus,
      ssdp as unknown as SsdpDiscovery,
    );
  }

  beforeEach(() => {
    time = new SimulatedTime();
    cameras = new Map();
    entries = [];
    events = [];
    created = [];
    ssdpEvents = new Subject();
    ssdp = { events$: ssdpEvents, listen: jest.fn(async () => true), search: jest.fn(async () => [] as DiscoveredCamera[]), close: jest.fn() };
  });
  afterEach(() => {
    sut?.stop();
    for (const camera of cameras.values()) expect(camera.unexpected).toEqual([]);
  });

  describe('with two cameras in CAMERA_URL', () => {
    let a: FakeCamera;
    let b: FakeCamera;

    beforeEach(() => {
      a = cameraAt('10.0.0.2', { serialNumber: 'AAA1', oneWayMs: 8, errorMs: 37_250 });
      b = cameraAt('10.0.0.3', { serialNumber: 'BBB2', oneWayMs: 60, errorMs: -4_321 });
      sut = build({ CAMERA_URL: 'http://10.0.0.2:8080, https://10.0.0.3/ccapi' });
    });

    it('knows both before they answer, named by address, and nothing else stores a camera', () => {
      expect(sut.statuses().map((s) => [s.id, s.state])).toEqual([
        ['10.0.0.2_8080', 'disconnected'],
        ['10.0.0.3_443', 'disconnected'],
      ]);
      expect(created).toEqual([{ url: 'http://10.0.0.2:8080' }, { url: 'https://10.0.0.3/ccapi' }]);
    });

    it('connects each: statuses, events and activity keyed by serial number', async () => {
      const emitted = firstValueFrom(sut.connection$.pipe(take(2), toArray()));
      await sut.check();
      expect(sut.statuses().map((s) => [s.id, s.state, s.baseUrl])).toEqual([
        ['AAA1', 'connected', 'http://10.0.0.2:8080/ccapi'],
        ['BBB2', 'connected', 'https://10.0.0.3/ccapi'],
      ]);
      expect(sut.status().id).toBe('AAA1');
      expect((await emitted).map((s) => s.id).sort()).toEqual(['AAA1', 'BBB2']);
      expect(named('camera-connected').map((s) => (s as CameraStatus).id).sort()).toEqual(['AAA1', 'BBB2']);
      expect(entries.map((e) => e.message).sort()).toEqual([
        'Camera connected: Canon EOS R50 (serial AAA1) at http://10.0.0.2:8080',
        'Camera connected: Canon EOS R50 (serial BBB2) at https://10.0.0.3',
      ]);
    });

    it('syncAll writes both on the same second boundary, each PUT sent its own latency ahead, and verifies each', async () => {
      await sut.check();
      // Start late in a second: the quick camera alone would take the next boundary, the slow one cannot make it.
      await time.sleep((1700 - (time.clock.now() % 1000)) % 1000);
      const outcomes = (await sut.syncAll('test')) as CameraSyncResult[];
      expect(a.puts).toHaveLength(1);
      expect(b.puts).toHaveLength(1);
      // Both cameras handled their PUT at the very same Pi instant, a whole second, and took that second.
      expect(a.puts[0].atMs).toBe(b.puts[0].atMs);
      expect(a.puts[0].atMs % 1000).toBe(0);
      expect(a.puts[0].secondUtcMs).toBe(a.puts[0].atMs);
      expect(b.puts[0].secondUtcMs).toBe(b.puts[0].atMs);
      expect([a.errorMs(), b.errorMs()]).toEqual([0, 0]);
      expect(outcomes.map((o) => [o.cameraId, o.success, o.verified, o.newTime])).toEqual([
        ['AAA1', true, true, new Date(a.puts[0].atMs).toISOString()],
        ['BBB2', true, true, new Date(a.puts[0].atMs).toISOString()],
      ]);
      for (const o of outcomes) expect(Math.abs(o.residualMs!)).toBeLessThanOrEqual(o.residualBoundMs!);
      expect(Math.abs(outcomes[0].offset + 37_250)).toBeLessThanOrEqual(outcomes[0].offsetBoundMs);
      expect(Math.abs(outcomes[1].offset - 4_321)).toBeLessThanOrEqual(outcomes[1].offsetBoundMs);
      const byCamera = (x: unknown, y: unknown) => ((x as { cameraId: string }).cameraId < (y as { cameraId: string }).cameraId ? -1 : 1);
      expect(named('camera-sync').sort(byCamera)).toEqual([
        ...outcomes.map((o) => ({
          cameraId: o.cameraId,
          success: true,
          outcome: 'written-verified',
          previousTime: o.previousTime,
          newTime: o.newTime,
          offset: o.offset,
          offsetBoundMs: o.offsetBoundMs,
          residualMs: o.residualMs,
          written: true,
          residualBoundMs: o.residualBoundMs,
          verified: true,
          at: o.newTime,
        })),
      ]);
      expect(entries.filter((e) => /clock set and verified/.test(e.message) && e.details.outcome === 'written-verified').map((e) => [e.details.cameraId, e.success]).sort()).toEqual([
        ['AAA1', true],
        ['BBB2', true],
      ]);
      expect(sut.statuses().map((s) => s.lastSync?.verified)).toEqual([true, true]);
    });

    it('one busy camera does not stop the other: its failure is its own outcome, entry and event', async () => {
      await sut.check();
      b.fail({ method: 'PUT', error: cameraErrors.busy });
      const [ok, busy] = await sut.syncAll('test');
      expect(ok).toMatchObject({ cameraId: 'AAA1', success: true, verified: true });
      expect(busy).toEqual({ cameraId: 'BBB2', success: false, outcome: 'failed', reason: 'test', code: ErrorCode.CAMERA_BUSY, error: 'Camera is busy: Device busy', previousTime: expect.any(String), offset: expect.any(Number) });
      expect(a.errorMs()).toBe(0);
      expect(named('camera-sync').sort((x, y) => ((x as { cameraId: string }).cameraId < (y as { cameraId: string }).cameraId ? -1 : 1))).toEqual([
        expect.objectContaining({ cameraId: 'AAA1', success: true }),
        { cameraId: 'BBB2', success: false, outcome: 'failed', previousTime: (busy as CameraSyncFailure).previousTime, newTime: null, offset: (busy as CameraSyncFailure).offset, residualMs: null, error: 'Camera is busy: Device busy', at: expect.any(String) },
      ]);
      expect(entries).toContainEqual({
        type: 'error',
        success: false,
        message: 'Camera BBB2 clock not set, the sync failed (test): Camera is busy: Device busy',
        details: expect.objectContaining({ cameraId: 'BBB2', code: ErrorCode.CAMERA_BUSY, outcome: 'failed' }),
      });
      expect(sut.statuses().map((s) => s.state)).toEqual(['connected', 'connected']);
    });

    it('a camera busy before the write leaves the boundary to the other, which still lands on a second', async () => {
      await sut.check();
      b.fail({ method: 'GET', name: 'functions/datetime', error: cameraErrors.busy });
      const [ok, busy] = await sut.syncAll('test');
      expect([ok.success, busy.success]).toEqual([true, false]);
      expect(a.puts[0].atMs % 1000).toBe(0);
      expect(b.puts).toEqual([]);
    });

    it('syncs only the connected cameras, and none at all gives no outcome and says nothing', async () => {
      a.fail({ error: cameraErrors.refused });
      await sut.check();
      await expect(sut.syncAll('test')).resolves.toEqual([expect.objectContaining({ cameraId: 'BBB2', success: true })]);
      b.fail({ error: cameraErrors.refused });
      await sut.check();
      events = [];
      entries = [];
      await expect(sut.syncAll('test')).resolves.toEqual([]);
      expect([events, entries]).toEqual([[], []]);
    });

    it('runs one sync for calls that overlap, reported once', async () => {
      await sut.check();
      const [first, second, one] = await Promise.all([sut.syncAll('one'), sut.syncAll('two'), sut.syncOne('BBB2', 'three')]);
      expect(second).toBe(first);
      expect(one).toBe(first[1]);
      expect([a.puts.length, b.puts.length]).toEqual([1, 1]);
      expect(named('camera-sync')).toHaveLength(2);
    });

    it('syncOne syncs that camera only', async () => {
      await sut.check();
      await expect(sut.syncOne('BBB2', 'test')).resolves.toMatchObject({ cameraId: 'BBB2', success: true, verified: true });
      expect([a.puts.length, b.puts.length]).toEqual([0, 1]);
    });

    it.each([
      ['../etc', ErrorCode.INVALID_CAMERA_ID, '"/" is not allowed'],
      ['<script>', ErrorCode.INVALID_CAMERA_ID, '"<" is not allowed'],
      ['CCC3', ErrorCode.UNKNOWN_CAMERA, 'There is no camera "CCC3"; known: AAA1, BBB2'],
    ])('syncOne(%j) is %s, naming the problem, and touches nothing', async (id, code, words) => {
      await sut.check();
      const before = [a.requests.length, b.requests.length];
      await expect(sut.syncOne(id, 'test')).rejects.toMatchObject({ code, message: expect.stringContaining(words) });
      expect([a.requests.length, b.requests.length]).toEqual(before);
      expect(named('camera-sync')).toEqual([]);
    });

    it('syncOne of a camera that is away is NO_CAMERA, readClock too', async () => {
      a.fail({ error: cameraErrors.refused });
      await sut.check();
      await expect(sut.syncOne('10.0.0.2_8080', 'test')).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA });
      await expect(sut.readClock('10.0.0.2_8080')).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA });
    });

    it('syncOne re-throws the camera error after logging it', async () => {
      await sut.check();
      a.fail({ method: 'PUT', error: cameraErrors.busy });
      await expect(sut.syncOne('AAA1', 'test')).rejects.toMatchObject({ code: ErrorCode.CAMERA_BUSY, message: 'Camera is busy: Device busy' });
      expect(named('camera-sync')).toEqual([expect.objectContaining({ cameraId: 'AAA1', success: false })]);
    });

    it('readClock reads one camera by id', async () => {
      await sut.check();
      const reading = await sut.readClock('BBB2');
      expect(reading.cameraId).toBe('BBB2');
      expect(Math.abs(reading.epochMs - reading.piTimeMs + 4_321)).toBeLessThanOrEqual(1000);
    });

    it('a camera that goes away: camera-disconnected with its id, listed last', async () => {
      await sut.check();
      a.fail({ error: cameraErrors.refused });
      await sut.check();
      expect(named('camera-disconnected')).toEqual([expect.objectContaining({ id: 'AAA1', state: 'disconnected', connected: false })]);
      expect(entries.at(-1)).toMatchObject({ type: 'camera', success: false, message: expect.stringContaining('Camera AAA1 disconnected: The camera at') });
      expect(sut.statuses().map((s) => s.id)).toEqual(['BBB2', 'AAA1']);
      expect(sut.status().id).toBe('BBB2');
    });
  });

  describe('a camera that refuses the user name and password', () => {
    let camera: FakeCamera;

    beforeEach(() => {
      camera = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
      camera.fail({ error: cameraErrors.auth });
      sut = build({ CAMERA_URL: 'http://10.0.0.2:8080', CAMERA_USER: 'operator', CAMERA_PASSWORD: 'wrong' });
    });

    it('is present and needs credentials: said once in plain words, camera-changed and connection$', async () => {
      const emitted = firstValueFrom(sut.connection$);
      await sut.check();
      await sut.check();
      await expect(emitted).resolves.toMatchObject({ state: 'needs-credentials', connected: false });
      expect(sut.status()).toMatchObject({ state: 'needs-credentials', baseUrl: 'http://10.0.0.2:8080/ccapi' });
      expect(entries).toEqual([
        {
          type: 'camera',
          success: false,
          message: 'Camera at http://10.0.0.2:8080 refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD',
          details: expect.objectContaining({ cameraId: '10.0.0.2_8080', userSet: true }),
        },
      ]);
      expect(named('camera-changed')).toEqual([expect.objectContaining({ id: '10.0.0.2_8080', state: 'needs-credentials' })]);
      expect(named('camera-connected')).toEqual([]);
    });

    it('a sync answers CAMERA_AUTH_REQUIRED, not NO_CAMERA', async () => {
      await sut.check();
      await expect(sut.syncOne('10.0.0.2_8080', 'test')).rejects.toMatchObject({ code: ErrorCode.CAMERA_AUTH_REQUIRED, message: expect.stringContaining('CAMERA_USER') });
      await expect(sut.syncAll('test')).resolves.toEqual([expect.objectContaining({ success: false, code: ErrorCode.CAMERA_AUTH_REQUIRED })]);
      expect(camera.puts).toEqual([]);
    });

    it('connects once the camera takes them', async () => {
      await sut.check();
      camera.faults.length = 0;
      await sut.check();
      expect(named('camera-connected')).toEqual([expect.objectContaining({ id: 'AAA1', state: 'connected' })]);
    });
  });

  it('keeps two addresses of the same camera as one: the second stays away and says why', async () => {
    const camera = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
    cameras.set('cam.local', camera);
    sut = build({ CAMERA_URL: 'http://10.0.0.2:8080,http://cam.local:8080' });
    await sut.check();
    expect(sut.statuses().map((s) => [s.id, s.state, s.lastError])).toEqual([
      ['AAA1', 'connected', null],
      ['cam.local_8080', 'disconnected', 'the same camera as the one at http://10.0.0.2:8080'],
    ]);
  });

  it('gives a disconnected placeholder as "the" camera when there is none', () => {
    sut = build({ CAMERA_URL: '' });
    expect(sut.statuses()).toEqual([]);
    expect(sut.status()).toEqual({ id: 'none', state: 'disconnected', connected: false, baseUrl: null, info: null, lastSync: null, lastError: null });
  });

  describe('with SSDP discovery', () => {
    beforeEach(() => {
      sut = build({ CAMERA_URL: '', CAMERA_DISCOVERY: true, CAMERA_POLL_INTERVAL: 600_000 });
    });

    it('adopts every camera that answers a search, as it answers', async () => {
      const a = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
      const b = cameraAt('10.0.0.3', { serialNumber: 'BBB2' });
      ssdp.search.mockReturnValue(new Promise(() => undefined));
      sut.start();
      void sut.check();
      const connected = firstValueFrom(sut.connection$.pipe(take(2), toArray()));
      ssdpEvents.next({ type: 'found', camera: discovered(a, '10.0.0.2') });
      ssdpEvents.next({ type: 'found', camera: discovered(b, '10.0.0.3') });
      expect((await connected).map((s) => [s.id, s.state])).toEqual([
        ['AAA1', 'connected'],
        ['BBB2', 'connected'],
      ]);
      // The search that found them never ended.
      expect(ssdp.search).toHaveBeenCalledTimes(1);
    });

    it('adopts a camera announcing itself at once, while a search runs', async () => {
      const a = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
      let searchEnded = false;
      ssdp.search.mockReturnValue(new Promise(() => undefined).finally(() => (searchEnded = true)));
      sut.start();
      void sut.check();
      const connected = firstValueFrom(sut.connection$);
      ssdpEvents.next({ type: 'alive', camera: discovered(a, '10.0.0.2') });
      await expect(connected).resolves.toMatchObject({ id: 'AAA1', state: 'connected', baseUrl: 'http://10.0.0.2:8080/ccapi' });
      expect(ssdp.search).toHaveBeenCalledTimes(1);
      expect(searchEnded).toBe(false);
    });

    it("adopts what a check's search finds as it answers, checked before the check resolves", async () => {
      const a = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
      ssdp.search.mockImplementation(async () => {
        ssdpEvents.next({ type: 'found', camera: discovered(a, '10.0.0.2') });
        return [discovered(a, '10.0.0.2')];
      });
      await sut.check();
      expect(sut.statuses().map((s) => [s.id, s.state])).toEqual([['AAA1', 'connected']]);
    });

    it('follows ssdp:byebye from its own address: disconnected, not polled, back when it announces itself there again', async () => {
      const a = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
      sut.start();
      let next = firstValueFrom(sut.connection$);
      ssdpEvents.next({ type: 'alive', camera: discovered(a, '10.0.0.2') });
      await next;
      next = firstValueFrom(sut.connection$);
      ssdpEvents.next({ type: 'byebye', usn: discovered(a, '10.0.0.2').usn, from: '10.0.0.2' });
      await expect(next).resolves.toMatchObject({ id: 'AAA1', state: 'disconnected', lastError: 'the camera signed off the network' });
      const requests = a.requests.length;
      await sut.check();
      expect(a.requests.length).toBe(requests);
      next = firstValueFrom(sut.connection$);
      ssdpEvents.next({ type: 'alive', camera: discovered(a, '10.0.0.2') });
      await expect(next).resolves.toMatchObject({ id: 'AAA1', state: 'connected', baseUrl: 'http://10.0.0.2:8080/ccapi' });
      expect(sut.statuses()).toHaveLength(1);
      expect(sut.mayBeTimeSource('AAA1')).toBe(true);
    });

    it('ignores ssdp:byebye naming a camera from any other address', async () => {
      const a = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
      sut.start();
      const next = firstValueFrom(sut.connection$);
      ssdpEvents.next({ type: 'alive', camera: discovered(a, '10.0.0.2') });
      await next;
      const warn = jest.spyOn((sut as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn').mockImplementation(() => undefined);
      for (let i = 0; i < 5; i++) ssdpEvents.next({ type: 'byebye', usn: discovered(a, '10.0.0.2').usn, from: '10.0.0.66' });
      await sut.check();
      expect(sut.statuses().map((s) => [s.id, s.state])).toEqual([['AAA1', 'connected']]);
      // One line, however many datagrams.
      expect(warn.mock.calls.map(([m]) => m)).toEqual([expect.stringContaining('SSDP_FOREIGN_BYEBYE')]);
    });

    it('a known serial number from a new address is a new, unverified camera (never a time source), not a move', async () => {
      const a = cameraAt('10.0.0.2', { serialNumber: 'AAA1' });
      cameras.set('10.0.0.7', a);
      sut.start();
      let next = firstValueFrom(sut.connection$);
      ssdpEvents.next({ type: 'alive', camera: discovered(a, '10.0.0.2') });
      await next;
      expect(sut.mayBeTimeSource('AAA1')).toBe(true);
      const warn = jest.spyOn((sut as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn').mockImplementation(() => undefined);
      ssdpEvents.next({ type: 'alive', camera: discovered(a, '10.0.0.7') });
      await sut.check();
      // The camera stays at the address it was adopted at; the newcomer is a session of its own, kept apart while the first is there.
      expect(sut.statuses().map((s) => [s.id, s.state, s.baseUrl])).toEqual([
        ['AAA1', 'connected', 'http://10.0.0.2:8080/ccapi'],
        ['AAA1', 'disconnected', 'http://10.0.0.7:8080/ccapi'],
      ]);
      expect(warn.mock.calls.map(([m]) => m)).toEqual([expect.stringContaining('SSDP_KNOWN_SERIAL_NEW_ADDRESS')]);
      // The first signs off (from its own address): the newcomer connects, but is not trusted as a time source.
      next = firstValueFrom(sut.connection$.pipe(take(2), toArray())).then((all) => all[1]);
      ssdpEvents.next({ type: 'byebye', usn: discovered(a, '10.0.0.2').usn, from: '10.0.0.2' });
      ssdpEvents.next({ type: 'alive', camera: discovered(a, '10.0.0.7') });
      await expect(next).resolves.toMatchObject({ id: 'AAA1', state: 'connected', baseUrl: 'http://10.0.0.7:8080/ccapi' });
      expect(sut.get('AAA1').unverified).toBe(true);
      expect(sut.mayBeTimeSource('AAA1')).toBe(false);
    });

    it(`adopts at most CAMERA_MAX cameras; over it, ignored with one log line; one that signed off makes room`, async () => {
      sut.stop();
      sut = build({ CAMERA_URL: '', CAMERA_DISCOVERY: true, CAMERA_POLL_INTERVAL: 600_000, CAMERA_MAX: 2 });
      const hosts = ['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'];
      const all = hosts.map((h, i) => cameraAt(h, { serialNumber: `CAM${i}` }));
      sut.start();
      const warn = jest.spyOn((sut as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn').mockImplementation(() => undefined);
      for (let round = 0; round < 3; round++) hosts.forEach((h, i) => ssdpEvents.next({ type: 'alive', camera: discovered(all[i], h) }));
      await sut.check();
      expect(sut.statuses().map((s) => s.id)).toEqual(['CAM0', 'CAM1']);
      expect(created).toHaveLength(2);
      expect(warn.mock.calls.map(([m]) => m)).toEqual([expect.stringContaining('(CAMERA_MAX)'), expect.stringContaining('(CAMERA_MAX)')]);
      ssdpEvents.next({ type: 'byebye', usn: discovered(all[0], hosts[0]).usn, from: hosts[0] });
      ssdpEvents.next({ type: 'alive', camera: discovered(all[2], hosts[2]) });
      await sut.check();
      expect(sut.statuses().map((s) => s.id)).toEqual(['CAM1', 'CAM2']);
    });

    it('does not search when CAMERA_URL names the cameras', async () => {
      cameraAt('10.0.0.2');
      sut.stop();
      sut = build({ CAMERA_URL: 'http://10.0.0.2:8080', CAMERA_DISCOVERY: true });
      await sut.check();
      expect(ssdp.search).not.toHaveBeenCalled();
    });
  });

  describe('measuring, checks and drift', () => {
    let a: FakeCamera;
    let b: FakeCamera;
    const datetimeGets = (camera: FakeCamera) => camera.requests.filter((r) => r.method === 'GET' && r.name === 'functions/datetime').length;

    beforeEach(async () => {
      a = cameraAt('10.0.0.2', { serialNumber: 'AAA1', oneWayMs: 5, errorMs: 40, driftPpm: 20 });
      b = cameraAt('10.0.0.3', { serialNumber: 'BBB2', oneWayMs: 10, errorMs: -2500 });
      sut = build({ CAMERA_URL: 'http://10.0.0.2:8080,http://10.0.0.3:8080', CAMERA_CHECK_INTERVAL: 600_000, CAMERA_SYNC_THRESHOLD: 100 });
      await sut.check();
    });

    it('measures one camera without writing it: camera-measured with its serial, camera-changed, the status', async () => {
      const m = await sut.measure('AAA1');
      expect(Math.abs(m.offsetMs! - a.errorMs())).toBeLessThanOrEqual(m.boundMs!);
      expect(named('camera-measured')).toEqual([{ ...m, serial: 'AAA1' }]);
      expect(a.puts).toEqual([]);
      expect(named('camera-changed')).toEqual([expect.objectContaining({ id: 'AAA1', clock: expect.objectContaining({ offsetMs: m.offsetMs, boundMs: m.boundMs }) })]);
      await expect(sut.measure('ZZZ9')).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_CAMERA });
    });

    it('measureAll: every connected camera; one that cannot be measured is uncertain with its code', async () => {
      b.fail({ name: 'functions/datetime', error: cameraErrors.busy });
      const [ma, mb] = await sut.measureAll();
      expect(ma).toMatchObject({ cameraId: 'AAA1', uncertain: false });
      expect(mb).toMatchObject({ cameraId: 'BBB2', uncertain: true, offsetMs: null, boundMs: null, code: ErrorCode.CAMERA_BUSY, reason: 'Camera is busy: Device busy', samples: 0 });
    });

    it('checks each connected camera every CAMERA_CHECK_INTERVAL, read-only, and estimates its drift', async () => {
      await sut.runDueChecks();
      expect(datetimeGets(a) + datetimeGets(b)).toBe(0);
      for (let i = 0; i < 6; i++) {
        await time.sleep(600_000);
        await sut.runDueChecks();
      }
      const seen = named('camera-measured') as CameraMeasuredEvent[];
      expect(seen.filter((m) => m.cameraId === 'AAA1').map((m) => m.kind)).toEqual(Array(6).fill('check'));
      expect(a.puts).toEqual([]);
      expect(b.puts).toEqual([]);
      const clock = sut.get('AAA1').status().clock!;
      expect(Math.abs(clock.drift!.ppm - 20)).toBeLessThanOrEqual(clock.drift!.boundPpm);
      expect(named('camera-changed').length).toBeGreaterThanOrEqual(12);
      // Not due again until an interval after the last.
      const before = datetimeGets(a);
      await sut.runDueChecks();
      expect(datetimeGets(a)).toBe(before);
    });

    it('keeps checks off a paused camera (or all), and a check in progress stops', async () => {
      await time.sleep(600_000);
      sut.pauseChecks('AAA1');
      await sut.runDueChecks();
      expect(datetimeGets(a)).toBe(0);
      expect(datetimeGets(b)).toBeGreaterThan(0);
      sut.pauseChecks();
      await time.sleep(600_000);
      const bGets = datetimeGets(b);
      await sut.runDueChecks();
      expect(datetimeGets(b)).toBe(bGets);
      sut.resumeChecks();
      const running = sut.runDueChecks();
      await time.sleep(300);
      sut.pauseChecks();
      await running;
      expect(sut.get('AAA1').status().clock).toBeUndefined();
      sut.resumeChecks();
      await sut.runDueChecks();
      expect(sut.get('AAA1').status().clock).toEqual(expect.objectContaining({ boundMs: expect.any(Number) }));
      expect(() => sut.pauseChecks('not an id!')).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_CAMERA_ID }));
    });

    it('leaves a busy camera alone for a while, longer each time, then checks it again', async () => {
      b.fail({ name: 'functions/datetime', error: cameraErrors.busy });
      await time.sleep(600_000);
      await sut.runDueChecks();
      expect(datetimeGets(b)).toBe(1);
      await time.sleep(20_000);
      await sut.runDueChecks();
      expect(datetimeGets(b)).toBe(1);
      await time.sleep(15_000);
      await sut.runDueChecks();
      expect(datetimeGets(b)).toBe(2);
      await time.sleep(35_000);
      await sut.runDueChecks();
      expect(datetimeGets(b)).toBe(2);
      b.faults.length = 0;
      await time.sleep(30_000);
      await sut.runDueChecks();
      expect(sut.get('BBB2').status().clock).toEqual(expect.objectContaining({ boundMs: expect.any(Number) }));
    });

    it('never checks a camera a sync runs on', async () => {
      const kinds = () => (named('camera-measured') as CameraMeasuredEvent[]).map((m) => `${m.cameraId} ${m.kind}`);
      await time.sleep(600_000);
      const sync = sut.syncAll('test');
      await sut.runDueChecks();
      await sync;
      expect(kinds().sort()).toEqual(['AAA1 before-write', 'BBB2 after-write', 'BBB2 before-write']);
      // Once it is over, the checks are due again.
      await sut.runDueChecks();
      expect(kinds().filter((k) => k.endsWith('check'))).toEqual([]);
      await time.sleep(600_000);
      await sut.runDueChecks();
      expect(kinds().filter((k) => k.endsWith('check')).sort()).toEqual(['AAA1 check', 'BBB2 check']);
    });

    it('does not check at all with CAMERA_CHECK_INTERVAL=0', async () => {
      sut.stop();
      sut = build({ CAMERA_URL: 'http://10.0.0.2:8080', CAMERA_CHECK_INTERVAL: 0 });
      await sut.check();
      const gets = datetimeGets(a);
      await time.sleep(86_400_000);
      await sut.runDueChecks();
      expect(datetimeGets(a)).toBe(gets);
    });

    it('syncAll writes only the camera beyond CAMERA_SYNC_THRESHOLD; the other is reported within it, not written', async () => {
      const from = events.length;
      const [ka, wb] = await sut.syncAll('test');
      const writes = named('camera-written') as CameraWrittenEvent[];
      // B's facts went on the bus with its outcome (one status frame per sync): its measurements and write, then its camera-sync.
      const cameraOf = (e: DomainEvent) => (e.data as { cameraId?: string }).cameraId;
      expect(events.slice(from).filter((e) => cameraOf(e) === 'BBB2').map((e) => e.name)).toEqual(['camera-measured', 'camera-measured', 'camera-written', 'camera-sync']);
      expect(a.puts).toEqual([]);
      expect(b.puts).toHaveLength(1);
      expect(ka).toMatchObject({ cameraId: 'AAA1', success: true, outcome: 'measured-kept', written: false, verified: true, thresholdMs: 100 });
      expect(wb).toMatchObject({ cameraId: 'BBB2', success: true, written: true, verified: true });
      expect(named('camera-sync')).toEqual(
        expect.arrayContaining([
          {
            cameraId: 'AAA1',
            success: true,
            outcome: 'measured-kept',
            previousTime: expect.any(String),
            newTime: null,
            offset: expect.any(Number),
            offsetBoundMs: expect.any(Number),
            residualMs: expect.any(Number),
            written: false,
            residualBoundMs: expect.any(Number),
            verified: true,
            thresholdMs: 100,
            at: expect.any(String),
          },
          expect.objectContaining({ cameraId: 'BBB2', success: true, written: true }),
        ]),
      );
      expect(entries.find((e) => e.details.cameraId === 'AAA1' && e.type === 'camera' && /kept, not written/.test(e.message))).toMatchObject({
        success: true,
        message: expect.stringMatching(/^Camera AAA1 clock kept, not written \(test\): within 100 ms of the Pi's \(\d+ ms ahead, ±\d+ ms\)$/),
        details: expect.objectContaining({ outcome: 'measured-kept', written: false, thresholdMs: 100 }),
      });
      expect(writes).toEqual([expect.objectContaining({ cameraId: 'BBB2', serial: 'BBB2', beforeOffsetMs: expect.any(Number), afterOffsetMs: expect.any(Number) })]);
      expect(Math.abs(writes[0].beforeOffsetMs! + 2500)).toBeLessThan(30);
    });
  });
});
