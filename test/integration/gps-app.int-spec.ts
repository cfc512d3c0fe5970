/**
 * GPS through the whole app: the real gpsd, fed generated NMEA with known times (test/support/gpsd-harness.ts), and
 * the app booted with GPSD_ADDRESS pointing at it and its simulated clock an hour wrong. Truth is the host's clock.
 */
import request from 'supertest';
import { Clock } from '../../backend/time/clock';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { GpsdFeeder, gpsdMissing } from '../support/gpsd-harness';
import { nextSecond, receiverEpochs } from '../support/nmea';
import { until } from '../support/until';
import { ClientPool } from '../support/ws-client';

jest.setTimeout(60_000);

const missing = gpsdMissing();
const describeIfGpsd = missing.length ? describe.skip : describe;
const H = 3_600_000;

/** The product's own clock minus the host's (the truth here), ms: the app runs in this process. */
const piMinusHost = (app: StartedApp) => app.app.get(Clock, { strict: false }).now() - Date.now();
const messages = async (app: StartedApp) => ((await request(app.url).get('/api/activity').expect(200)).body as { message: string }[]).map((e) => e.message);

describeIfGpsd('GPS as the Pi time source, through the whole app and the real gpsd', () => {
  let feeder: GpsdFeeder | undefined;
  let app: StartedApp | undefined;
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    await feeder?.close();
    app = undefined;
    feeder = undefined;
  });

  it('sets a Pi an hour off within the bound it declares, says so everywhere, keeps its time when GPS goes quiet, and gives way to a phone', async () => {
    feeder = await GpsdFeeder.start();
    app = await startApp({ GPSD_ADDRESS: `127.0.0.1:${feeder.port}`, SIMULATED_CLOCK_OFFSET_MS: String(H) });
    // A receiver 250-350 ms late: NMEA as it comes.
    const played = feeder.play(receiverEpochs({ startMs: nextSecond(), seconds: 10, lateMs: (i) => 250 + ((i * 37) % 100) }));

    const status = await statusWhen(app, (s) => s.syncSource === 'gps', 20_000);
    expect(status).toMatchObject({ sourceLabel: 'GPS', isSynchronized: true });
    // Uncalibrated NMEA is a coarse source: at least ±500 ms, and the Pi is within it.
    expect(status.errorBoundMs).toBeGreaterThanOrEqual(500);
    expect(Math.abs(piMinusHost(app))).toBeLessThanOrEqual(status.errorBoundMs);
    expect(status.sources).toContainEqual(expect.objectContaining({ source: 'gps', who: feeder.device, active: true, state: expect.stringMatching(/fix/) }));
    const clock = (await request(app.url).get('/api/system/time').expect(200)).body;
    expect(clock).toMatchObject({ source: 'gps' });
    expect(await messages(app)).toContainEqual(expect.stringMatching(/^Time synchronized from GPS \(\/dev\/pts\/\d+\)/));

    // The receiver stops: said in words, and the Pi keeps the time it had from GPS.
    await played;
    const keeps = /; the Pi keeps the time it had from GPS \(\/dev\/pts\/\d+\) .* ago \(reliability high\)$/;
    await until('the loss, told', async () => (await messages(app!)).some((m) => keeps.test(m)), 15_000);
    expect((await request(app.url).get('/api/timesync/status').expect(200)).body.sources).toContainEqual(expect.objectContaining({ source: 'gps', active: false }));
    expect((await request(app.url).get('/api/timesync/status').expect(200)).body.syncSource).toBe('gps');

    // A phone ranks above NMEA time: it takes over and steps the Pi to its millisecond bound.
    await clients.connect(app.wsUrl, { offsetMs: 0 });
    const phone = await statusWhen(app, (s) => s.syncSource === 'client');
    expect(phone.errorBoundMs).toBeLessThan(50);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(50);
  });
});
