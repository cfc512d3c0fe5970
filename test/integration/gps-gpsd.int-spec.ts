/**
 * GpsSource against the real gpsd (3.22 here), fed through a pty by test/support/gpsd-feeder.py (gpsfake's engine)
 * with NMEA logs generated with known times: each second's sentences say that second's true time and are written
 * when it comes, plus the receiver's lateness. Truth is the host's clock; the Pi's is a SimulatedWallClock set an
 * hour wrong, so a reading's error against the truth is measured, never assumed.
 *
 * gpsd facts these runs pin (they shape the adapter): gpsd sends TOFF just before each second's TPV; after its time
 * jumps forward it sends no more TOFF (its "last shipped" time is in the future), so TPVs are then stamped on
 * arrival; and gpsd 3.22 itself adds 1024 weeks to a time before 2017 (its "WKRO bug" check, applied twice per
 * sentence: a receiver two rollovers back came out mended too, or as a few seconds of no time), so a rollover year
 * does not reach the adapter through this gpsd: GPS_WEEK_ROLLOVER is tested in the unit specs, and here a stale
 * year that gpsd passes on (after 2017, before the build date) is refused as IMPLAUSIBLE_TIME.
 */
import { GpsSource, GpsSourceOptions } from '../../backend/sources/gps/gps-source';
import { SourceContext, SourceLoss, SourceReading, SourceSink } from '../../backend/sources/source-port';
import { mulberry32 } from '../../backend/common/prng';
import { HostClock, SimulatedWallClock } from '../../backend/time/clock';
import { BUILD_DATE_MS } from '../../backend/time/validation';
import { GpsdFeeder, gpsdMissing } from '../support/gpsd-harness';
import { Fix, nextSecond, receiverEpochs } from '../support/nmea';
import { until } from '../support/until';

const missing = gpsdMissing();
if (missing.length) {
  // eslint-disable-next-line no-console
  console.warn(`gpsd integration test SKIPPED: missing ${missing.join(', ')} (Debian: apt-get install gpsd python3-gps)`);
}
const describeIfGpsd = missing.length ? describe.skip : describe;

const GPS_ROLLOVER_MS = 1024 * 7 * 86_400_000;
const HOUR = 3_600_000;
const host = new HostClock();

interface Seen {
  readings: Array<SourceReading & { errorMs: number }>;
  losses: Array<SourceLoss & { atMono: number }>;
  infos: Array<{ message: string; atMono: number }>;
}

function recordingSink(): { sink: SourceSink; seen: Seen } {
  const seen: Seen = { readings: [], losses: [], infos: [] };
  const sink: SourceSink = {
    // The truth when the reading is made: the host's wall clock minus its monotonic clock.
    reading: (r) => seen.readings.push({ ...r, errorMs: r.sourceMinusMonoMs - host.epochOfMonotonic() }),
    lost: (l) => seen.losses.push({ ...l, atMono: host.monotonic() }),
    info: (_s, message) => seen.infos.push({ message, atMono: host.monotonic() }),
  };
  return { sink, seen };
}


/** A receiver 150-450 ms late (seeded), as NMEA receivers are. */
const late = (seed: number) => {
  const rng = mulberry32(seed);
  return () => 150 + rng() * 300;
};

describeIfGpsd('GpsSource with the real gpsd', () => {
  jest.setTimeout(60_000);
  let feeder: GpsdFeeder | null = null;
  let sut: GpsSource | null = null;

  afterEach(async () => {
    sut?.stop();
    sut = null;
    await feeder?.close();
    feeder = null;
  });

  function startSource(pi: SimulatedWallClock, over: Partial<SourceContext> = {}, options: Partial<GpsSourceOptions> = {}) {
    const { sink, seen } = recordingSink();
    const context: SourceContext = { reference: () => null, plausibleAfterMs: () => BUILD_DATE_MS, wallMinusMonoMs: () => pi.now() - pi.monotonic(), ...over };
    sut = new GpsSource({ address: { host: '127.0.0.1', port: feeder!.port }, offsetMs: 0, ...options }, pi);
    sut.start(sink, context);
    return seen;
  }

  const dump = (seen: Seen) => () => JSON.stringify({ seen, status: sut?.status() }, null, 1) + `\ngpsd:\n${feeder?.log}`;

  it('gives readings whose bound holds the true time, and sets a Pi an hour off to within that bound', async () => {
    feeder = await GpsdFeeder.start();
    const pi = new SimulatedWallClock(HOUR);
    const seen = startSource(pi);
    const played = feeder.play(receiverEpochs({ startMs: nextSecond(), seconds: 9, lateMs: late(1) }));
    await until('two readings', () => seen.readings.length >= 2, 20_000, dump(seen));
    expect((await played).lateMaxMs).toBeLessThan(100);

    expect(seen.infos.map((i) => i.message)).toEqual([`GPS through gpsd 3.22 at 127.0.0.1:${feeder.port}`]);
    expect(seen.losses).toEqual([]);
    for (const r of seen.readings) {
      expect(r).toMatchObject({ source: 'gps', who: feeder.device, fine: false, facts: { fix: '3D fix', calibrated: false } });
      expect(r.errorBoundMs).toBeGreaterThanOrEqual(500);
      expect(Math.abs(r.errorMs)).toBeLessThanOrEqual(r.errorBoundMs);
    }
    // What the policy would do with the last one: the Pi, an hour ahead, stepped to the GPS time.
    const r = seen.readings[seen.readings.length - 1];
    expect(Math.abs(pi.now() - pi.monotonic() - r.sourceMinusMonoMs - HOUR)).toBeLessThanOrEqual(r.errorBoundMs);
    pi.stepTo(r.sourceMinusMonoMs + pi.monotonic());
    expect(Math.abs(pi.now() - Date.now())).toBeLessThanOrEqual(r.errorBoundMs + 1);
    expect(sut!.status()).toMatchObject({ source: 'gps', who: feeder.device, state: '3D fix, not calibrated', active: true });
  });

  it('calibrates against a phone while one keeps the Pi right, and stays within 50 ms of the truth after it goes', async () => {
    feeder = await GpsdFeeder.start();
    const pi = new SimulatedWallClock(0);
    let phone: { source: 'client'; errorBoundMs: number } | null = { source: 'client', errorBoundMs: 1 };
    const seen = startSource(pi, { reference: () => phone });
    const start = nextSecond();
    const rng = mulberry32(2);
    const played = feeder.play(receiverEpochs({ startMs: start, seconds: 20, lateMs: () => 330 + (rng() * 2 - 1) * 60 }));
    await until('a calibrated reading', () => seen.readings.some((r) => r.facts?.calibrated), 20_000, dump(seen));
    phone = null;
    pi.stepTo(Date.now() + 300); // the Pi wanders once the phone is gone: calibration is against the receiver, kept
    const since = seen.readings.length;
    await played;
    const after = seen.readings.slice(since);
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const r of seen.readings.filter((x) => x.facts?.calibrated)) {
      expect(r.facts).toMatchObject({ calibrated: true, nmeaDelayFrom: 'measured', calibratedAgainst: 'client' });
      expect(Math.abs(Number(r.facts!.nmeaDelayMs) - 330)).toBeLessThan(40);
      expect(r.errorBoundMs).toBeLessThan(100);
      expect(Math.abs(r.errorMs)).toBeLessThanOrEqual(r.errorBoundMs);
      expect(Math.abs(r.errorMs)).toBeLessThan(50);
    }
    expect(after.every((r) => r.facts?.calibrated)).toBe(true);
    expect(sut!.status()!.state).toBe('3D fix, calibrated against a phone (NMEA ' + sut!.status()!.facts!.nmeaDelayMs + ' ms late)');
  });

  it('tells a lost fix in words, gives no time without one, and says when a fix is back', async () => {
    feeder = await GpsdFeeder.start();
    const seen = startSource(new SimulatedWallClock(HOUR));
    const fix = (k: number): Fix => (k < 4 ? '3d' : k < 8 ? 'none' : '2d');
    const played = feeder.play(receiverEpochs({ startMs: nextSecond(), seconds: 12, lateMs: late(3), fix }));
    await until('the loss', () => seen.losses.length === 1, 20_000, dump(seen));
    expect(seen.losses[0]).toMatchObject({ source: 'gps', who: feeder.device, code: 'GPS_NO_FIX', why: 'GPS lost its fix: no time from it until the receiver sees enough satellites' });
    expect(sut!.status()).toMatchObject({ state: 'no fix', active: false, errorBoundMs: null });
    await until('the fix back', () => seen.infos.length === 2, 20_000, dump(seen));
    expect(seen.infos[1].message).toBe('GPS has a 2D fix again');
    await played;
    await until('a reading with the 2D fix', () => seen.readings.some((r) => r.facts?.fix === '2D fix'), 5000, dump(seen));
    const lostAt = seen.losses[0].atMono;
    const backAt = seen.infos[1].atMono;
    expect(seen.readings.filter((r) => r.atMono > lostAt && r.atMono < backAt)).toEqual([]);
    expect(seen.losses).toHaveLength(1);
    for (const r of seen.readings) expect(Math.abs(r.errorMs)).toBeLessThanOrEqual(r.errorBoundMs);
  });

  it('ignores a one-second glitch with a line; holds a time jump until it is confirmed, then tells it once', async () => {
    feeder = await GpsdFeeder.start();
    const seen = startSource(new SimulatedWallClock(HOUR));
    const errorMs = (k: number) => (k === 4 ? -7000 : k >= 8 ? HOUR : 0);
    const played = feeder.play(receiverEpochs({ startMs: nextSecond(), seconds: 14, lateMs: late(4), errorMs }));
    await until('the jump', () => seen.losses.length === 1, 25_000, dump(seen));
    await played;
    expect(seen.infos.map((i) => i.message)).toEqual([expect.stringMatching(/^GPS through gpsd/), expect.stringMatching(/^GPS said .* once, -7 s off its own time: ignored$/)]);
    expect(seen.losses).toEqual([
      expect.objectContaining({ code: 'GPS_TIME_JUMP', why: expect.stringMatching(/^GPS time jumped by \+1 h \(.* became .*\) and held for 3 s: its earlier time is dropped, the new one used$/) }),
    ]);
    const jumpAt = seen.losses[0].atMono;
    const before = seen.readings.filter((r) => r.atMono < jumpAt);
    const after = seen.readings.filter((r) => r.atMono >= jumpAt);
    expect(before.length).toBeGreaterThanOrEqual(1);
    for (const r of before) expect(Math.abs(r.errorMs)).toBeLessThanOrEqual(r.errorBoundMs); // the glitch moved nothing
    // Nothing an hour off was reported before the jump was confirmed; after, the receiver's new time.
    expect(after.length).toBeGreaterThanOrEqual(1);
    for (const r of after) expect(Math.abs(r.errorMs - HOUR)).toBeLessThanOrEqual(r.errorBoundMs);
  });

  it('gets a one-rollover-back year mended by gpsd, and refuses a year before the build date in words', async () => {
    feeder = await GpsdFeeder.start();
    const pi = new SimulatedWallClock(HOUR);
    const seen = startSource(pi);
    // Seconds 0-3: 1024 weeks back (2007), which gpsd 3.22 mends itself; 4-7: a stale date three years back (a cold
    // receiver's default, after 2017 so gpsd passes it); then the truth again.
    const stale = 3 * 365 * 86_400_000;
    const errorMs = (k: number) => (k < 4 ? -GPS_ROLLOVER_MS : k < 8 ? -stale : 0);
    const start = nextSecond();
    const played = feeder.play(receiverEpochs({ startMs: start, seconds: 11, lateMs: late(5), errorMs }));
    await until('the refusal', () => seen.losses.length === 1, 20_000, dump(seen));
    expect(feeder.log).toMatch(/WKRO bug: leap second \d+ inconsistent with \d+, corrected to/);
    expect(seen.readings.length).toBeGreaterThanOrEqual(1);
    for (const r of seen.readings) expect(Math.abs(r.errorMs)).toBeLessThanOrEqual(r.errorBoundMs);
    const refusedAt = seen.losses[0].atMono;
    const staleYear = new Date(start - stale).getUTCFullYear();
    expect(seen.losses[0]).toMatchObject({
      code: 'IMPLAUSIBLE_TIME',
      why: expect.stringMatching(new RegExp(`^GPS says \\d+ \\w+ ${staleYear}, [\\d:]+ UTC, before 25 Nov 2026, 00:00:00 UTC \\(the earliest time this Pi may have\\): its time is refused$`)),
    });
    expect(sut!.status()).toMatchObject({ active: false, state: expect.stringMatching(/^refusing its time: GPS says/) });
    await until('plausible again', () => seen.infos.some((i) => i.message.startsWith('GPS time is plausible again')), 20_000, dump(seen));
    await played;
    expect(seen.losses).toHaveLength(1);
    const backAt = seen.infos.find((i) => i.message.startsWith('GPS time is plausible again'))!.atMono;
    expect(seen.readings.filter((r) => r.atMono > refusedAt && r.atMono < backAt)).toEqual([]);
  });

  it('tells gpsd going away once, reconnects quietly, and says when it is back', async () => {
    feeder = await GpsdFeeder.start();
    const seen = startSource(new SimulatedWallClock(HOUR));
    const played = feeder.play(receiverEpochs({ startMs: nextSecond(), seconds: 13, lateMs: late(6) }));
    await until('a reading', () => seen.readings.length === 1, 20_000, dump(seen));
    await feeder.stopGpsd('KILL');
    await until('the loss', () => seen.losses.length === 1, 10_000, dump(seen));
    expect(seen.losses[0]).toEqual(expect.objectContaining({ source: 'gps', who: feeder.device, code: 'GPS_GONE', why: `gpsd at 127.0.0.1:${feeder.port} went away: GPS off until it comes back` }));
    expect(sut!.status()).toMatchObject({ state: `gpsd at 127.0.0.1:${feeder.port} went away; trying again`, active: false });
    await feeder.startGpsd();
    await until('back', () => seen.infos.length === 2, 10_000, dump(seen));
    expect(seen.infos[1].message).toBe(`gpsd at 127.0.0.1:${feeder.port} is back`);
    const backAt = seen.infos[1].atMono;
    await until('a reading after', () => seen.readings.some((r) => r.atMono > backAt), 15_000, dump(seen));
    await played;
    expect(seen.losses).toHaveLength(1);
    expect(seen.infos).toHaveLength(2);
    for (const r of seen.readings) expect(Math.abs(r.errorMs)).toBeLessThanOrEqual(r.errorBoundMs);
  });

  it('says once that there is no gpsd, and comes on when it appears', async () => {
    feeder = await GpsdFeeder.start({ gpsd: false });
    const seen = startSource(new SimulatedWallClock(HOUR));
    await until('the line', () => seen.infos.length === 1, 5000, dump(seen));
    expect(seen.infos[0].message).toBe(`no gpsd at 127.0.0.1:${feeder.port}: GPS off until it appears`);
    expect(sut!.status()).toMatchObject({ state: `gpsd not running at 127.0.0.1:${feeder.port}`, active: false });
    await feeder.startGpsd();
    await until('it appears', () => seen.infos.length === 2, 10_000, dump(seen));
    expect(seen.infos[1].message).toBe(`gpsd 3.22 at 127.0.0.1:${feeder.port} appeared: GPS on`);
    const played = feeder.play(receiverEpochs({ startMs: nextSecond(), seconds: 5, lateMs: late(7) }));
    await until('a reading', () => seen.readings.length === 1, 15_000, dump(seen));
    await played;
    expect(seen.losses).toEqual([]);
    expect(Math.abs(seen.readings[0].errorMs)).toBeLessThanOrEqual(seen.readings[0].errorBoundMs);
  });
});
