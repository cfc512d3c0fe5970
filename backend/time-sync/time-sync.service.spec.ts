import { Subject } from 'rxjs';
import { AccessService } from '../access/access.service';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { ClockJournal } from '../activity-log/clock-journal';
import { DomainError } from '../common/domain-error';
import { DomainEvent, EventBus } from '../common/event-bus';
import { RefusalLog } from '../access/refusal-log';
import { AppConfig } from '../config/app.config';
import { CameraStatus, TimeSyncRequestFrame } from '../protocol/messages';
import { ClockStepService } from '../system-clock/clock-step.service';
import { SystemClock, SystemClockState } from '../system-clock/system-clock';
import { Clock } from '../time/clock';
import { DurationTracker } from '../time/duration-tracker';
import { AccessPointPolicy, NetworkInterfaces } from '../access/access-point';
import { KioskToken } from '../access/kiosk-token';
import { CameraClockPort } from '../camera/camera-port';
import { SyncConnection, TimeSyncService } from './time-sync.service';

/** Wall and monotonic time from jest's fake timers; `step` moves the wall clock only. */
class FakeTimersClock extends Clock {
  wallOffset = 0;
  now() {
    return Date.now() + this.wallOffset;
  }
  monotonic() {
    return globalThis.performance.now();
  }
}

/** The simulated Pi: its clock is the FakeTimersClock; writes step it (or fail on demand). */
class FakeSystemClock extends SystemClock {
  readonly backend = 'simulated' as const;
  zone = 'UTC';
  ntpSynchronized = false;
  failWith: Error | null = null;
  writes: number[] = [];
  constructor(private readonly clock: FakeTimersClock) {
    super();
  }
  async read(): Promise<SystemClockState> {
    return { epochMs: this.clock.now(), timezone: this.zone, ntpEnabled: this.ntpSynchronized, ntpSynchronized: this.ntpSynchronized, backend: 'simulated' };
  }
  async setTime(target: () => number) {
    if (this.failWith) throw this.failWith;
    const t = target();
    this.writes.push(t);
    this.clock.wallOffset += t - this.clock.now();
  }
  async setTimezone(zone: string) {
    this.zone = zone;
  }
}

class FakeCamera extends CameraClockPort {
  connected = false;
  readonly connection$ = new Subject<CameraStatus>();
  syncs: string[] = [];
  cameraEpoch = 0;
  status(): CameraStatus {
    const state = this.connected ? 'connected' : 'disconnected';
    return { id: 'SN1', state, connected: this.connected, baseUrl: null, info: null, lastSync: null, lastError: null };
  }
  statuses() {
    return [this.status()];
  }
  trusted = true;
  mayBeTimeSource() {
    return this.trusted;
  }
  async readClock(cameraId: string) {
    return { cameraId, epochMs: this.cameraEpoch, datetime: '', dst: false, piTimeMs: Date.now() };
  }
  async measure() {
    return { offsetMs: null, boundMs: null, uncertain: true, reason: 'fake', at: new Date().toISOString() };
  }
  async syncAll(reason: string) {
    this.syncs.push(reason);
    return [];
  }
  async syncOne(_id: string, reason: string) {
    this.syncs.push(reason);
    return {};
  }
}

/** A page: records what it was sent; can answer probes with its own clock after a delay. */
class FakePage implements SyncConnection {
  readonly frames: TimeSyncRequestFrame[] = [];
  /** Client clock minus true time. */
  clientOffsetMs = 0;
  answer = true;
  outMs = 2;
  backMs = 2;
  constructor(
    readonly id: string,
    readonly address: string,
    readonly trusted: boolean,
    private readonly service: () => TimeSyncService,
    private readonly clock: FakeTimersClock,
  ) {}
  sendProbe(serverTime: number, requestId: string): number {
    const frame: TimeSyncRequestFrame = { type: 'time-sync-request', serverTime, requestId };
    this.frames.push(frame);
    const sentMono = this.clock.monotonic();
    if (this.answer) {
      // True time when the client stamps = host time + out delay; the service sees it after out + back.
      const trueAtClient = Date.now() + this.outMs;
      const clientTime = trueAtClient + this.clientOffsetMs;
      setTimeout(() => this.service().handleResponse(this.id, { clientTime, serverTime: frame.serverTime, requestId: frame.requestId }, sentMono + this.outMs + this.backMs), this.outMs + this.backMs);
    }
    return sentMono;
  }
  requests() {
    return this.frames;
  }
}

describe(TimeSyncService.name, () => {
  let clock: FakeTimersClock;
  let system: FakeSystemClock;
  let camera: FakeCamera;
  let bus: EventBus;
  let published: DomainEvent[];
  let activity: ActivityLogService;
  let journal: { append: jest.Mock };
  let sut: TimeSyncService;
  let config: AppConfig;
  /** The kiosk secret is "kiosk-secret". */
  const kiosk = { verify: (t: unknown) => t === 'kiosk-secret' } as unknown as KioskToken;
  const from = (address: string, kioskToken: string | null = null) => ({ address, kioskToken });

  const page = (id: string, address = '10.42.0.2', trusted = true) => new FakePage(id, address, trusted, () => sut, clock);
  const events = (name: string) => published.filter((e) => e.name === name) as any[];
  /** Successful syncs (failures are pi-sync events too, with synchronized: false). */
  const syncs = () => events('pi-sync').filter((e) => e.data.synchronized);
  const settle = () => jest.advanceTimersByTimeAsync(1500);

  beforeEach(async () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 10, 25, 12) });
    clock = new FakeTimersClock();
    system = new FakeSystemClock(clock);
    camera = new FakeCamera();
    bus = new EventBus();
    published = [];
    bus.events$.subscribe((e) => published.push(e));
    activity = new ActivityLogService(clock, bus);
    journal = { append: jest.fn().mockResolvedValue(undefined) };
    await build({});
  });

  /** A fresh service on the shared fakes, with these settings over the defaults. */
  async function build(over: Partial<AppConfig>): Promise<void> {
    sut?.onModuleDestroy();
    config = Object.assign(new AppConfig(), { AP_SUBNETS: '10.42.0.0/24' }, over);
    const shellJournal = { health: () => ({ writable: true, path: '/data/clock-journal.jsonl', error: null }), bootInfo: () => ({ boot: 1, bootId: 'k' }), append: journal.append };
    const stepper = new ClockStepService(clock, system, shellJournal as any, new DurationTracker(clock));
    const ap = new AccessPointPolicy(config, { list: () => ({}) } as unknown as NetworkInterfaces);
    sut = new TimeSyncService(clock, config, system, stepper, activity, bus, ap, new DurationTracker(clock), shellJournal as unknown as ClockJournal, new AccessService(ap, kiosk, new RefusalLog(clock, activity)), camera);
    await sut.onModuleInit();
  }

  afterEach(() => {
    sut.onModuleDestroy();
    jest.useRealTimers();
  });

  it('probes a new access-point client at once and handles its very first answer (pitfall 1)', async () => {
    const p = page('a');
    p.clientOffsetMs = 5000;
    sut.connect(p);
    expect(p.requests()).toHaveLength(1);
    await settle();
    expect(p.requests().length).toBeGreaterThanOrEqual(8);
    expect(p.requests().length).toBeLessThanOrEqual(32);
    expect(events('pi-sync')).toHaveLength(1);
    expect(activity.entries().filter((e) => e.type === 'error')).toEqual([]);
  });

  it('is not synchronized until an answer arrives, and a silent client never makes it so (pitfall 2)', async () => {
    const p = page('a');
    p.answer = false;
    sut.connect(p);
    expect((await sut.status()).isSynchronized).toBe(false);
    await settle();
    const status = await sut.status();
    expect(status).toMatchObject({ isSynchronized: false, reliability: 'none', syncSource: 'none' });
    expect(syncs()).toHaveLength(0);
    expect(events('pi-sync')[0].data).toMatchObject({ synchronized: false, offset: null, error: expect.stringMatching(/0 of 32/) });
    expect(camera.syncs).toEqual([]);
    expect(activity.entries().at(-1)).toMatchObject({ type: 'error', success: false });
  });

  it('steps the clock to the client with round-trip compensation and keeps fractional ms (pitfall 5)', async () => {
    const p = page('a');
    p.clientOffsetMs = 3 * 3600_000 + 0.25;
    p.outMs = 20;
    p.backMs = 20;
    sut.connect(p);
    await settle();
    const [event] = events('pi-sync');
    expect(event.data).toMatchObject({ synchronized: true, source: 'client', stepped: true });
    // 40 ms round trips, yet the error is well under a millisecond and within the reported bound.
    const error = Math.abs(event.data.offset - (3 * 3600_000 + 0.25));
    expect(error).toBeLessThan(1);
    expect(error).toBeLessThanOrEqual(event.data.errorBoundMs);
    expect(event.data.offset % 1).not.toBe(0);
    // The Pi now reads the client's clock.
    expect(Math.abs(clock.now() - (Date.now() + p.clientOffsetMs))).toBeLessThan(1);
    expect(journal.append).toHaveBeenCalledWith(expect.objectContaining({ source: 'client' }));
  });

  it('does not step under TIME_SYNC_THRESHOLD but records the sync', async () => {
    const p = page('a');
    p.clientOffsetMs = 400;
    sut.connect(p);
    await settle();
    expect(system.writes).toEqual([]);
    expect(await sut.status()).toMatchObject({ isSynchronized: true, syncSource: 'client', reliability: 'high' });
    const status = await sut.status();
    // Date.now() stamps are whole ms (floored): the client's clock is up to 1 ms past its stamp.
    expect(Math.abs(status.lastOffsetMs! - 400)).toBeLessThanOrEqual(status.errorBoundMs!);
    expect(status.errorBoundMs).toBeLessThan(5);
  });

  it('treats a failed clock write as a failure, not a sync (pitfall 3)', async () => {
    system.failWith = new DomainError('CLOCK_PERMISSION_DENIED', 'not allowed: install the polkit rule');
    camera.connected = true;
    const p = page('a');
    p.clientOffsetMs = 60_000;
    sut.connect(p);
    await settle();
    expect(await sut.status()).toMatchObject({ isSynchronized: false, reliability: 'none' });
    expect(events('pi-sync')[0].data.synchronized).toBe(false);
    expect(activity.entries().some((e) => e.type === 'sync' && e.success)).toBe(false);
    expect(activity.entries().at(-1)?.message).toMatch(/polkit/);
    expect(camera.syncs).toEqual([]);
  });

  it('fails over at once when the source leaves, and tracks connections, not addresses (pitfalls 4, 9)', async () => {
    const tab1 = page('tab1', '10.42.0.2');
    const tab2 = page('tab2', '10.42.0.2');
    sut.connect(tab1);
    sut.connect(tab2);
    await settle();
    expect(tab2.requests()).toHaveLength(0);
    sut.disconnect('tab1');
    expect(tab2.requests()).toHaveLength(1);
    await settle();
    expect((await sut.status()).sourceClient).toBe('10.42.0.2');
    expect(events('pi-sync')).toHaveLength(2);
  });

  it('hands the source to another access-point page when the source answers nothing (a phone in a pocket)', async () => {
    const asleep = page('asleep');
    asleep.answer = false;
    const awake = page('awake', '10.42.0.3');
    sut.connect(asleep);
    sut.connect(awake);
    await settle();
    expect(awake.requests().length).toBeGreaterThan(0);
    await settle();
    expect((await sut.status()).sourceClient).toBe('10.42.0.3');
    expect(syncs()).toHaveLength(1);
  });

  it('re-syncs every TIME_SYNC_INTERVAL while the source is connected', async () => {
    const p = page('a');
    sut.connect(p);
    await settle();
    const first = p.requests().length;
    await jest.advanceTimersByTimeAsync(config.TIME_SYNC_INTERVAL);
    await settle();
    expect(p.requests().length).toBeGreaterThan(first);
    expect(events('pi-sync')).toHaveLength(2);
  });

  describe('with TIME_SYNC_INTERVAL=60000 and TIME_SYNC_RETRY_DELAY=7000 configured', () => {
    beforeEach(() => build({ TIME_SYNC_INTERVAL: 60_000, TIME_SYNC_RETRY_DELAY: 7000 }));

    /** The page's probes after `ms` more of fake time, counting from now. */
    async function probesAfter(p: FakePage, ms: number): Promise<number> {
      const before = p.requests().length;
      await jest.advanceTimersByTimeAsync(ms);
      return p.requests().length - before;
    }

    it.each([
      ['a step', 3 * 3600_000],
      ['a confirmation', 40],
    ])('after %s the next sync is 60 s later, not at the default 30 min', async (_name, clientOffsetMs) => {
      const p = page('a');
      p.clientOffsetMs = clientOffsetMs;
      sut.connect(p);
      await settle();
      expect(syncs()).toHaveLength(1);
      expect(syncs()[0].data.stepped).toBe(clientOffsetMs > 1000);
      // The burst ended within settle(); nothing until the interval, then a new burst.
      expect(await probesAfter(p, 55_000)).toBe(0);
      expect(await probesAfter(p, 6_000)).toBeGreaterThan(0);
      await settle();
      expect(syncs()).toHaveLength(2);
    });

    it('after a failure the retry is 7 s later, and after a failed clock write too', async () => {
      const p = page('a');
      p.answer = false;
      sut.connect(p);
      await settle();
      expect(events('pi-sync')[0].data.synchronized).toBe(false);
      expect(await probesAfter(p, 4_000)).toBe(0);
      expect(await probesAfter(p, 4_000)).toBeGreaterThan(0);
      // A clock write that fails is the same failure: retried at the configured delay.
      await settle();
      p.answer = true;
      p.clientOffsetMs = 60_000;
      system.failWith = new DomainError('CLOCK_WRITE_FAILED', 'timedated did not answer');
      await jest.advanceTimersByTimeAsync(7_000);
      await settle();
      expect(events('pi-sync').at(-1).data).toMatchObject({ synchronized: false, error: expect.stringMatching(/timedated/) });
      expect(await probesAfter(p, 4_000)).toBe(0);
      expect(await probesAfter(p, 4_000)).toBeGreaterThan(0);
    });
  });

  it('refuses a non-access-point client on every path and logs it (pitfall 10)', async () => {
    const outsider = page('x', '192.168.1.50', false);
    outsider.clientOffsetMs = 3600_000;
    sut.connect(outsider);
    await settle();
    expect(outsider.requests()).toHaveLength(0);
    expect(() => sut.handleResponse('x', { clientTime: Date.now(), serverTime: 1, requestId: 'sync-1' }, clock.monotonic())).toThrow(expect.objectContaining({ code: 'NOT_ACCESS_POINT_CLIENT' }));
    await expect(sut.setManually(from('192.168.1.50'), { timestamp: new Date().toISOString() }, clock.monotonic())).rejects.toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect(system.writes).toEqual([]);
    // One activity line per client per interval, however often it tries; the next interval gets its own.
    const refusals = () => activity.entries().filter((e) => e.details.error === 'NOT_ACCESS_POINT_CLIENT');
    expect(refusals()).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(sut.setManually(from('192.168.1.50'), { timestamp: new Date().toISOString() }, clock.monotonic())).rejects.toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect(refusals()).toHaveLength(2);
  });

  describe("the Pi's own screen", () => {
    it('may set the time by hand, logged in words', async () => {
      const kioskCaller = from('127.0.0.1', 'kiosk-secret');
      const target = Date.now() + 3600_000;
      await sut.setManually(kioskCaller, { timestamp: new Date(target).toISOString() }, clock.monotonic());
      expect(system.writes).toHaveLength(1);
      expect(activity.entries().at(-1)?.message).toMatch(/^Time set by hand on the Pi's screen \(offset: \+1 h/);
      expect(await sut.status(kioskCaller)).toMatchObject({ canSetTime: true, screen: 'kiosk', syncSource: 'manual' });
    });

    it('refuses plain loopback and a wrong secret through the one check, logged in words', async () => {
      for (const caller of [from('127.0.0.1'), from('127.0.0.1', 'guessed')]) {
        await expect(sut.setManually(caller, { timestamp: new Date().toISOString() }, clock.monotonic())).rejects.toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
        await expect(sut.useClientTime(caller, null)).rejects.toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
      }
      expect(system.writes).toEqual([]);
      // Four refusals of one client within the interval: its first is the one activity line (RefusalLog).
      expect(activity.entries().filter((e) => e.details.client === '127.0.0.1').map((e) => e.message)).toEqual([
        "Refused: 127.0.0.1 may not set the time. Only the Pi's own screen and phones on the Pi's Wi-Fi may",
      ]);
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(sut.useClientTime(from('127.0.0.1', 'guessed'), null)).rejects.toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
      expect(activity.entries().at(-1)?.message).toBe(
        "Refused: 127.0.0.1 (its kiosk secret is not this Pi's, or it is not on the Pi itself) may not choose a phone's time. Only the Pi's own screen and phones on the Pi's Wi-Fi may",
      );
      expect((await sut.status(from('127.0.0.1'))).canSetTime).toBe(false);
    });

    it('counts the phones connected from the access point and maps monotonic times to the wall clock', async () => {
      expect((await sut.status()).accessPointClients).toBe(0);
      sut.connect(page('a'));
      sut.connect(page('x', '192.168.1.50', false));
      const status = await sut.status();
      expect(status.accessPointClients).toBe(1);
      expect(status.piWallMinusMonotonicMs).toBe(Math.round(clock.now() - clock.monotonic()));
    });
  });

  it('matches responses to requests: unknown, duplicate, foreign and late answers change nothing (pitfall 10)', async () => {
    const a = page('a');
    const b = page('b', '10.42.0.3');
    a.answer = false;
    sut.connect(a);
    sut.connect(b);
    const [req] = a.requests();
    const answer = (id: string, requestId: string, receivedMono: number) => () => sut.handleResponse(id, { clientTime: Date.now(), serverTime: req.serverTime, requestId }, receivedMono);
    expect(answer('a', 'sync-made-up', clock.monotonic())).toThrow(expect.objectContaining({ code: 'UNKNOWN_REQUEST_ID' }));
    expect(answer('b', req.requestId, clock.monotonic())).toThrow(expect.objectContaining({ code: 'UNKNOWN_REQUEST_ID' }));
    expect(answer('a', req.requestId, clock.monotonic() + 6000)).toThrow(expect.objectContaining({ code: 'LATE_RESPONSE' }));
    const [req2] = a.requests().slice(0, 1);
    expect(req2).toBe(req);
    await jest.advanceTimersByTimeAsync(30);
    const next = a.requests()[1];
    sut.handleResponse('a', { clientTime: Date.now(), serverTime: next.serverTime, requestId: next.requestId }, clock.monotonic());
    expect(() => sut.handleResponse('a', { clientTime: Date.now(), serverTime: next.serverTime, requestId: next.requestId }, clock.monotonic())).toThrow(expect.objectContaining({ code: 'DUPLICATE_RESPONSE' }));
  });

  it('drops a slow answer to a closed burst quietly, and calls one over 5 s late', async () => {
    const a = page('a');
    a.answer = false;
    sut.connect(a);
    await settle();
    const [first, second] = a.requests();
    const answer = (req: typeof first) => () => sut.handleResponse('a', { clientTime: Date.now(), serverTime: req.serverTime, requestId: req.requestId }, clock.monotonic());
    expect(answer(first)).not.toThrow();
    await jest.advanceTimersByTimeAsync(4000);
    expect(answer(second)).toThrow(expect.objectContaining({ code: 'LATE_RESPONSE' }));
    expect(await sut.status()).toMatchObject({ isSynchronized: false, syncSource: 'none' });
  });

  it('refuses implausible client times, quoting them (pitfall 10)', () => {
    const a = page('a');
    a.answer = false;
    sut.connect(a);
    const [req] = a.requests();
    expect(() => sut.handleResponse('a', { clientTime: Date.UTC(2001, 0, 1), serverTime: req.serverTime, requestId: req.requestId }, clock.monotonic())).toThrow(/2001-01-01/);
    expect(() => sut.handleResponse('a', { clientTime: Date.UTC(2100, 0, 2), serverTime: req.serverTime, requestId: req.requestId }, clock.monotonic())).toThrow(/2100-01-02/);
    expect(() => sut.handleResponse('a', { clientTime: 'NaN', serverTime: req.serverTime, requestId: req.requestId }, clock.monotonic())).toThrow(expect.objectContaining({ code: 'INVALID_TIMESTAMP' }));
  });

  it('sets the time by hand through the sync state, with the time before the write (pitfall 11)', async () => {
    const target = Date.now() + 86400_000;
    const receivedMono = clock.monotonic();
    await jest.advanceTimersByTimeAsync(50);
    const result = await sut.setManually(from('10.42.0.2'), { timestamp: new Date(target).toISOString(), timezone: 'Europe/Berlin' }, receivedMono);
    expect(result.offsetMs).toBeCloseTo(86400_000, 0);
    // The 50 ms between arrival and the write are added to the operator's time.
    expect(system.writes[0]).toBe(target + 50);
    expect(system.zone).toBe('Europe/Berlin');
    expect(await sut.status()).toMatchObject({ isSynchronized: true, syncSource: 'manual', reliability: 'high' });
    const record = journal.append.mock.calls[0][0];
    expect(record.beforeMs).toBeLessThan(record.afterMs - 86400_000 + 1);
  });

  it('ages reliability on the monotonic clock: a wall-clock step changes nothing (pitfall 13)', async () => {
    const p = page('a');
    sut.connect(p);
    await settle();
    sut.disconnect('a');
    clock.wallOffset -= 2 * 3600_000;
    expect(sut.reliability()).toBe('high');
    await jest.advanceTimersByTimeAsync(5 * 60_000);
    expect(sut.reliability()).toBe('medium');
    expect(events('reliability-lost')).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(55 * 60_000);
    expect(sut.reliability()).toBe('low');
    // The next reliability check (every 10 s) announces it.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(events('reliability-lost')).toHaveLength(1);
    expect(events('reliability-lost')[0].data.reliability).toBe('low');
    await jest.advanceTimersByTimeAsync(60 * 60_000);
    expect(events('reliability-lost')).toHaveLength(1);
  });

  it('measures but never steps while NTP keeps the clock', async () => {
    system.ntpSynchronized = true;
    const p = page('a');
    p.clientOffsetMs = 3600_000;
    sut.connect(p);
    await settle();
    expect(system.writes).toEqual([]);
    expect(events('pi-sync')[0].data).toMatchObject({ source: 'ntp', stepped: false });
    expect(await sut.status()).toMatchObject({ syncSource: 'ntp', reliability: 'high' });
  });

  it('discards a burst during which the Pi clock was stepped', async () => {
    const p = page('a');
    sut.connect(p);
    await jest.advanceTimersByTimeAsync(100);
    clock.wallOffset += 10_000;
    await settle();
    expect(syncs()).toHaveLength(0);
    expect(activity.entries()).toContainEqual(expect.objectContaining({ type: 'error', message: expect.stringMatching(/discarded/) }));
    // The step was not the product's: it is logged (and journaled) as such too.
    expect(activity.entries()).toContainEqual(expect.objectContaining({ type: 'error', message: expect.stringMatching(/by something other than this product/) }));
  });

  describe("the Pi's drift", () => {
    /** The phone's clock against the Pi's: the Pi gains `ppm` (client minus Pi falls), from 400 ms. */
    const phoneAt = (p: FakePage, ppm: number, sinceMs: number, extraMs = 0) => {
      p.clientOffsetMs = 400 - (ppm / 1e6) * sinceMs + extraMs;
    };

    it('is estimated from client syncs that did not step, with a bound that holds, and the error now grows with it', async () => {
      const p = page('a');
      phoneAt(p, 20, 0);
      sut.connect(p);
      await settle();
      expect((await sut.piClock()).drift).toBeNull();
      for (let k = 1; k <= 6; k++) {
        phoneAt(p, 20, k * config.TIME_SYNC_INTERVAL);
        await jest.advanceTimersByTimeAsync(config.TIME_SYNC_INTERVAL);
        await settle();
      }
      expect(system.writes).toEqual([]);
      const pi = await sut.piClock();
      expect(pi.drift).toMatchObject({ samples: 7 });
      expect(Math.abs(pi.drift!.ppm - 20)).toBeLessThanOrEqual(pi.drift!.boundPpm);
      expect(Math.abs(pi.drift!.ppm - 20)).toBeLessThan(2);
      expect(pi.drift!.sPerDay).toBeCloseTo(pi.drift!.ppm * 0.0864, 2);
      // Right after the last sync: about that sync's offset; a day later, about 1.7 s more.
      const trueNow = () => 400 - 20e-6 * (6 * config.TIME_SYNC_INTERVAL + (Date.now() - syncedAt));
      const syncedAt = Date.now();
      expect(pi.errorNowMs).toBeGreaterThanOrEqual(Math.abs(trueNow()));
      p.answer = false;
      await jest.advanceTimersByTimeAsync(86_400_000);
      const later = (await sut.status()).pi;
      expect(later.errorNowMs).toBeGreaterThanOrEqual(Math.abs(trueNow()));
      expect(later.errorNowMs).toBeLessThan(Math.abs(trueNow()) + 200);
    });

    it('keeps its series across a step of the Pi clock (someone ran date): the samples run on the monotonic clock', async () => {
      const p = page('a');
      phoneAt(p, -10, 0);
      sut.connect(p);
      await settle();
      for (let k = 1; k <= 6; k++) {
        if (k === 3) clock.wallOffset += 3000;
        phoneAt(p, -10, k * config.TIME_SYNC_INTERVAL);
        await jest.advanceTimersByTimeAsync(config.TIME_SYNC_INTERVAL);
        await settle();
      }
      expect(system.writes).toHaveLength(1);
      const { drift } = await sut.piClock();
      expect(drift!.samples).toBe(6);
      expect(Math.abs(drift!.ppm + 10)).toBeLessThanOrEqual(drift!.boundPpm);
    });

    it('says nothing of the error now without a client sync', async () => {
      expect(await sut.piClock()).toMatchObject({ drift: null, errorNowMs: null });
    });
  });

  describe('the camera', () => {
    it('follows every step of the Pi clock while connected', async () => {
      camera.connected = true;
      const p = page('a');
      p.clientOffsetMs = 60_000;
      sut.connect(p);
      await settle();
      expect(camera.syncs).toEqual(['the Pi clock was set']);
    });

    it('is synced when it connects and the Pi is reliable', async () => {
      sut.connect(page('a'));
      await settle();
      camera.connected = true;
      camera.connection$.next(camera.status());
      await jest.advanceTimersByTimeAsync(10);
      expect(camera.syncs).toContain('camera connected');
    });

    it('sets the Pi when the Pi has no reliable time, as a medium-reliability source', async () => {
      camera.connected = true;
      camera.cameraEpoch = Date.UTC(2026, 10, 26, 8, 0, 0);
      camera.connection$.next(camera.status());
      await jest.advanceTimersByTimeAsync(10);
      expect(system.writes).toHaveLength(1);
      // The middle of the camera's displayed second.
      expect(Math.abs(clock.now() - (camera.cameraEpoch + 500))).toBeLessThan(20);
      expect(await sut.status()).toMatchObject({ syncSource: 'camera', reliability: 'medium', isSynchronized: true });
      expect(camera.syncs).toEqual([]);
    });
  });

  describe('steps the product did not make', () => {
    it('are journaled and logged when the wall clock jumps against the monotonic clock (someone ran date)', async () => {
      await jest.advanceTimersByTimeAsync(1000);
      clock.wallOffset += 90_000;
      await jest.advanceTimersByTimeAsync(1000);
      expect(journal.append).toHaveBeenCalledWith(expect.objectContaining({ kind: 'external-step', stepMs: 90_000, boot: 1 }));
      expect(activity.entries().at(-1)).toMatchObject({ type: 'error', success: false, message: expect.stringMatching(/moved by \+1 min 30 s by something other than this product/) });
      await jest.advanceTimersByTimeAsync(5000);
      expect(journal.append.mock.calls.filter(([r]) => r.kind === 'external-step')).toHaveLength(1);
    });

    it("are not the product's own steps", async () => {
      const p = page('a');
      p.clientOffsetMs = 3 * 3600_000;
      sut.connect(p);
      await settle();
      await jest.advanceTimersByTimeAsync(3000);
      expect(system.writes).toHaveLength(1);
      expect(journal.append.mock.calls.filter(([r]) => r.kind === 'external-step')).toEqual([]);
    });
  });

  it('steady() waits for a camera read and the step it leads to (a camera write must not straddle them)', async () => {
    camera.connected = true;
    camera.cameraEpoch = Date.UTC(2026, 10, 26, 8, 0, 0);
    const read = camera.readClock.bind(camera);
    jest.spyOn(camera, 'readClock').mockImplementation(async (id: string) => {
      await new Promise((r) => setTimeout(r, 500));
      return read(id);
    });
    camera.connection$.next(camera.status());
    let steady = false;
    void sut.steady().then(() => (steady = true));
    await jest.advanceTimersByTimeAsync(400);
    expect(steady).toBe(false);
    await jest.advanceTimersByTimeAsync(200);
    expect(system.writes).toHaveLength(1);
    expect(steady).toBe(true);
  });

  it('never takes the time of a camera the camera module does not trust as a source', async () => {
    camera.connected = true;
    camera.trusted = false;
    camera.cameraEpoch = Date.UTC(2026, 10, 26, 8, 0, 0);
    const reads = jest.spyOn(camera, 'readClock');
    camera.connection$.next(camera.status());
    await jest.advanceTimersByTimeAsync(1000);
    expect(reads).not.toHaveBeenCalled();
    expect(system.writes).toHaveLength(0);
  });

  it('journals a zone change write-ahead, and refuses it when the journal cannot be written', async () => {
    const p = page('a');
    (p as unknown as { timezone: string }).timezone = 'Asia/Tokyo';
    await sut.setManually({ address: '10.42.0.2', kioskToken: null }, { timestamp: new Date(Date.now() + 5000).toISOString(), timezone: 'Asia/Tokyo' }, clock.monotonic());
    const zones = journal.append.mock.calls.map(([r]) => r).filter((r) => r.kind === 'zone');
    expect(zones.map((r) => [r.state, r.from, r.to])).toEqual([
      ['pending', 'UTC', 'Asia/Tokyo'],
      ['confirmed', 'UTC', 'Asia/Tokyo'],
    ]);
    expect(zones[0].id).toBe(zones[1].id);
    journal.append.mockImplementation(async (r: { kind?: string }) => {
      if (r.kind === 'zone') throw new DomainError('JOURNAL_UNWRITABLE', 'the disk is full');
    });
    await expect(sut.setManually({ address: '10.42.0.2', kioskToken: null }, { timestamp: new Date(Date.now()).toISOString(), timezone: 'Europe/Berlin' }, clock.monotonic())).rejects.toMatchObject({ code: 'JOURNAL_UNWRITABLE', message: expect.stringMatching(/time zone was left alone/) });
    expect(system.zone).toBe('Asia/Tokyo');
  });

  it('in a capture session a client 2 s away is not stepped and no camera is set; after it, both follow', async () => {
    camera.connected = true;
    sut.connect(page('a'));
    await settle();
    camera.syncs = [];
    await sut.sessionStarted({ id: 's-1', startedAt: '' });
    sut.disconnect('a');
    const far = page('b');
    far.clientOffsetMs = 2000;
    sut.connect(far);
    await settle();
    expect(system.writes).toEqual([]);
    expect(camera.syncs).toEqual([]);
    expect(await sut.status()).toMatchObject({ session: { id: 's-1' }, decision: { kind: 'session-running' } });
    await sut.sessionStopped();
    await settle();
    expect(system.writes).toHaveLength(1);
    expect(camera.syncs).toEqual(['the Pi clock was set']);
    expect((await sut.status()).session).toBeNull();
  });
});
