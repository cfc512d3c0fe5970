import { Test } from '@nestjs/testing';
import * as net from 'node:net';
import { AppConfig, validateConfig } from '../../config/app.config';
import { AppConfigModule } from '../../config/config.module';
import { Clock, ManualClock, SimulatedWallClock } from '../../time/clock';
import { TimeModule } from '../../time/time.module';
import { BUILD_DATE_MS } from '../../time/validation';
import { SourceContext, SourceLoss, SourceReading, SourceSink } from '../source-port';
import { GpsModule } from './gps.module';
import { GpsSource, isLocalGpsd } from './gps-source';
import { until } from '../../../test/support/until';
import { freePort } from '../../../test/support/ports';

const VERSION = '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}';
const T0 = Date.UTC(2026, 11, 7, 12, 0, 10);

const iso = (ms: number) => new Date(ms).toISOString();
const tpv = (ms: number, mode = 3, device = '/dev/ttyACM0') => JSON.stringify({ class: 'TPV', device, mode, time: iso(ms), ept: 0.005 });
const stamp = (cls: 'TOFF' | 'PPS', realMs: number, clockMs: number, device = '/dev/ttyACM0') =>
  JSON.stringify({ class: cls, device, real_sec: Math.floor(realMs / 1000), real_nsec: Math.round((realMs % 1000) * 1e6), clock_sec: Math.floor(clockMs / 1000), clock_nsec: Math.round((clockMs % 1000) * 1e6) });

/** A loopback server that speaks as gpsd would; `send` goes to every client. */
class FakeGpsd {
  readonly sockets: net.Socket[] = [];
  private server: net.Server | null = null;
  constructor(private readonly devices: string[] = ['/dev/ttyACM0']) {}
  async listen(port = 0): Promise<number> {
    this.server = net.createServer((socket) => {
      this.sockets.push(socket);
      socket.on('error', () => undefined);
      socket.write(`${VERSION}\n`);
      socket.once('data', () => socket.write(`${JSON.stringify({ class: 'DEVICES', devices: this.devices.map((path) => ({ class: 'DEVICE', path, activated: '2026-12-07T12:00:00.000Z' })) })}\n`));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
    return (this.server.address() as net.AddressInfo).port;
  }
  send(...lines: string[]): void {
    for (const s of this.sockets) if (!s.destroyed) s.write(lines.map((l) => `${l}\n`).join(''));
  }
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.length = 0;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}


/** Waits for `n` connection attempts at `port` (each closed at once, as a port with no gpsd would), then stops listening. */
async function attemptsAt(port: number, n: number): Promise<void> {
  let seen = 0;
  const server = net.createServer((socket) => {
    seen++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  try {
    await until(`${n} attempts`, () => seen >= n);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}


function recordingSink() {
  const readings: SourceReading[] = [];
  const losses: SourceLoss[] = [];
  const infos: string[] = [];
  const sink: SourceSink = { reading: (r) => readings.push(r), lost: (l) => losses.push(l), info: (_s, m) => infos.push(m) };
  return { sink, readings, losses, infos };
}

const contextOf = (clock: Clock): SourceContext => ({ reference: () => null, plausibleAfterMs: () => BUILD_DATE_MS, wallMinusMonoMs: () => clock.now() - clock.monotonic() });

describe(GpsSource.name, () => {
  let gpsd: FakeGpsd | null = null;
  let sut: GpsSource | null = null;
  // The host's clock, driven by hand; the product's is an hour ahead of it (the simulated backend, set wrong).
  let host: ManualClock;
  let pi: SimulatedWallClock;

  beforeEach(() => {
    host = new ManualClock(T0 - 10_000, 50_000);
    pi = new SimulatedWallClock(3_600_000, host);
  });

  afterEach(async () => {
    sut?.stop();
    await gpsd?.close();
    sut = gpsd = null;
  });

  const start = (port: number, extra: Partial<ConstructorParameters<typeof GpsSource>[0]> = {}) => {
    const rec = recordingSink();
    sut = new GpsSource({ address: { host: '127.0.0.1', port }, offsetMs: 0, client: { firstRetryMs: 20, maxRetryMs: 40 }, ...extra }, pi, host);
    sut.start(rec.sink, contextOf(pi));
    return rec;
  };

  /**
   * Second k of the receiver: the host clock set to `lateMs` after it, then what gpsd would send, then a wait until
   * the source has read it (its status says the time the receiver last said).
   */
  const second = async (k: number, lateMs: number, lines: (t: number) => string[]) => {
    const t = T0 + k * 1000;
    host.wallMs = t + lateMs;
    host.monoMs = 50_000 + (t + lateMs - (T0 - 10_000));
    gpsd!.send(...lines(t));
    await until(`second ${k} read`, () => sut!.status()?.facts?.said === iso(t));
  };

  it('does nothing and has no status with GPSD_ADDRESS empty', () => {
    const rec = recordingSink();
    sut = new GpsSource({ address: null, offsetMs: 0 }, pi, host);
    sut.start(rec.sink, contextOf(pi));
    expect(sut.status()).toBeNull();
    expect(rec.infos).toEqual([]);
  });

  it('says once that there is no gpsd, tries again quietly, and says when it appears', async () => {
    const port = await freePort();
    const rec = start(port);
    await until('the first attempt', () => rec.infos.length === 1);
    expect(rec.infos).toEqual([`no gpsd at 127.0.0.1:${port}: GPS off until it appears`]);
    expect(sut!.status()).toMatchObject({ source: 'gps', state: `gpsd not running at 127.0.0.1:${port}`, active: false, errorBoundMs: null });
    await attemptsAt(port, 3);
    expect(rec.infos).toHaveLength(1);
    gpsd = new FakeGpsd([]);
    await gpsd.listen(port);
    await until('connected', () => rec.infos.length === 2);
    expect(rec.infos[1]).toBe(`gpsd 3.22 at 127.0.0.1:${port} appeared: GPS on`);
    await until('no receiver', () => sut!.status()?.state === 'gpsd running, no receiver');
    expect(rec.losses).toEqual([]);
  });

  it('reads NMEA time stamped by TOFF through the host clock, not the product clock; coarse until calibrated', async () => {
    gpsd = new FakeGpsd();
    const rec = start(await gpsd.listen());
    await until('connected', () => rec.infos.length === 1);
    expect(rec.infos[0]).toMatch(/^GPS through gpsd 3\.22 at 127\.0\.0\.1:\d+$/);
    for (let k = 0; k < 3; k++) await second(k, 300, (t) => [stamp('TOFF', t, t + 250), tpv(t)]);
    expect(rec.readings).toHaveLength(1);
    const [r] = rec.readings;
    // The serial data arrived 250 ms after the second it names (gpsd's stamp), taken as 500 ± 500 ms late.
    const truth = host.now() - host.monotonic();
    expect(r).toMatchObject({ source: 'gps', who: '/dev/ttyACM0', fine: false, atMono: host.monotonic(), facts: { fix: '3D fix', calibrated: false, device: '/dev/ttyACM0' } });
    expect(r.sourceMinusMonoMs - truth).toBeCloseTo(250, 6);
    expect(r.errorBoundMs).toBeGreaterThanOrEqual(500);
    expect(sut!.status()).toMatchObject({ state: '3D fix, not calibrated', active: true, who: '/dev/ttyACM0' });
  });

  it('stamps a TPV without its TOFF when its chunk was read', async () => {
    gpsd = new FakeGpsd();
    const rec = start(await gpsd.listen());
    await until('connected', () => rec.infos.length === 1);
    // A TOFF of another second is not this one's.
    for (let k = 0; k < 3; k++) await second(k, 300, (t) => [stamp('TOFF', t - 5000, t + 250), tpv(t)]);
    expect(rec.readings[0].sourceMinusMonoMs - (host.now() - host.monotonic())).toBeCloseTo(200, 6);
  });

  it('takes PPS as a fine source', async () => {
    gpsd = new FakeGpsd();
    const rec = start(await gpsd.listen());
    await until('connected', () => rec.infos.length === 1);
    // The pulse of second t, timed by gpsd 2 µs after it; its report comes with the second's sentences.
    for (let k = 0; k < 4; k++) await second(k, 300, (t) => [stamp('TOFF', t, t + 250), tpv(t), stamp('PPS', t, t + 0.002)]);
    await until('a fine reading', () => rec.readings.some((x) => x.fine));
    const fine = rec.readings.find((x) => x.fine)!;
    expect(fine.sourceMinusMonoMs - (host.now() - host.monotonic())).toBeCloseTo(-0.002, 3);
    expect(fine.errorBoundMs).toBeLessThan(3);
    expect(sut!.status()!.state).toBe('3D fix, PPS');
  });

  it('follows one receiver when gpsd serves two', async () => {
    gpsd = new FakeGpsd(['/dev/ttyACM0', '/dev/ttyUSB0']);
    const rec = start(await gpsd.listen());
    await until('connected', () => rec.infos.length === 1);
    for (let k = 0; k < 3; k++) await second(k, 300, (t) => [tpv(t), tpv(t + 7_000, 3, '/dev/ttyUSB0')]);
    expect(rec.readings[0].who).toBe('/dev/ttyACM0');
    expect(rec.losses).toEqual([]);
  });

  it('tells the loss in words when gpsd goes away, reconnects quietly, and says when it is back', async () => {
    gpsd = new FakeGpsd();
    const port = await gpsd.listen();
    const rec = start(port);
    await until('connected', () => rec.infos.length === 1);
    await second(0, 300, (t) => [tpv(t)]);
    await gpsd.close();
    await until('the loss', () => rec.losses.length === 1);
    expect(rec.losses).toEqual([{ source: 'gps', who: '/dev/ttyACM0', code: 'GPS_GONE', why: `gpsd at 127.0.0.1:${port} went away: GPS off until it comes back` }]);
    expect(sut!.status()).toMatchObject({ state: `gpsd at 127.0.0.1:${port} went away; trying again`, active: false });
    await attemptsAt(port, 3);
    expect(rec.infos).toHaveLength(1);
    await gpsd.listen(port);
    await until('back', () => rec.infos.length === 2);
    expect(rec.infos[1]).toBe(`gpsd at 127.0.0.1:${port} is back`);
    expect(rec.losses).toHaveLength(1);
  });

  it('tells a lost fix once, in words', async () => {
    gpsd = new FakeGpsd();
    const rec = start(await gpsd.listen());
    await until('connected', () => rec.infos.length === 1);
    await second(0, 300, (t) => [tpv(t)]);
    host.monoMs += 1000;
    gpsd.send(tpv(T0 + 1000, 1), tpv(T0 + 2000, 1));
    await until('the loss', () => rec.losses.length === 1);
    await second(3, 300, (t) => [tpv(t, 3)]);
    expect(rec.infos).toHaveLength(2);
    expect(rec.losses).toEqual([{ source: 'gps', who: '/dev/ttyACM0', code: 'GPS_NO_FIX', why: 'GPS lost its fix: no time from it until the receiver sees enough satellites' }]);
    expect(rec.infos[1]).toBe('GPS has a 3D fix again');
  });

  it('refuses a receiver 1024 weeks back in words (a gpsd without its own rollover check passes it on)', async () => {
    gpsd = new FakeGpsd();
    const rec = start(await gpsd.listen());
    await until('connected', () => rec.infos.length === 1);
    const rollover = 1024 * 7 * 86_400_000;
    gpsd.send(tpv(T0 - rollover), tpv(T0 + 1000 - rollover));
    await until('said', () => sut!.status()?.facts?.said === iso(T0 + 1000 - rollover));
    expect(rec.losses).toEqual([
      {
        source: 'gps',
        who: '/dev/ttyACM0',
        code: 'GPS_WEEK_ROLLOVER',
        why: "GPS says 23 Apr 2007, 12:00:10 UTC, 1024 weeks before the Pi's time: a receiver whose firmware missed a GPS week-number rollover; its time is refused",
      },
    ]);
    expect(sut!.status()).toMatchObject({ active: false, state: expect.stringMatching(/^refusing its time: GPS says 23 Apr 2007/) });
    expect(rec.readings).toEqual([]);
  });

  it('uses gpsd clock stamps only from this machine', () => {
    expect(['127.0.0.1', '127.0.1.1', '::1', 'localhost'].map(isLocalGpsd)).toEqual([true, true, true, true]);
    expect(['192.168.4.1', 'gps.lan', '::ffff:10.0.0.1'].map(isLocalGpsd)).toEqual([false, false, false]);
  });
});

describe(GpsModule.name, () => {
  it('provides GpsSource from GPSD_ADDRESS and GPS_OFFSET_MS, off when the address is empty', async () => {
    const build = async (env: Record<string, string>) => {
      const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, TimeModule, GpsModule] })
        .overrideProvider(AppConfig)
        .useValue(validateConfig({ DEMO: 'false', ...env }))
        .compile();
      return moduleRef;
    };
    const on = await build({ GPSD_ADDRESS: '127.0.0.1:12947', GPS_OFFSET_MS: '150' });
    const gps = on.get(GpsSource);
    expect(gps).toBeInstanceOf(GpsSource);
    expect(gps.source).toBe('gps');
    expect(gps.address).toBe('127.0.0.1:12947');
    expect(gps.status()).toMatchObject({ state: 'connecting to gpsd at 127.0.0.1:12947', active: false });
    await on.close();
    const off = await build({ GPSD_ADDRESS: '' });
    expect(off.get(GpsSource).status()).toBeNull();
    await off.close();
  });
});
