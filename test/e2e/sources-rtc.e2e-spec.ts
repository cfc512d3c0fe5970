import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { Clock } from '../../backend/time/clock';
import { BUILD_DATE_MS } from '../../backend/time/validation';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { until } from '../support/until';
import { ClientPool } from '../support/ws-client';

jest.setTimeout(30_000);

const H = 3_600_000;
const DAY = 24 * H;

/** The product's own clock minus the host's (the truth here), ms: the app runs in this process. */
const piMinusHost = (app: StartedApp) => app.app.get(Clock, { strict: false }).now() - Date.now();

/** A confirmed step of the Pi's clock `agoMs` before now, from a phone: the last time the RTC was set. */
function journalWithStepAgo(dataDir: string, agoMs: number): void {
  const after = Date.now() - agoMs;
  const record = { id: 'step-1', state: 'confirmed', beforeMs: after - 40 * DAY, before: new Date(after - 40 * DAY).toISOString(), afterMs: after, after: new Date(after).toISOString(), stepMs: 40 * DAY, source: 'client', errorBoundMs: 3, monotonicMs: 1000, boot: 1, bootId: 'previous-boot' };
  writeFileSync(join(dataDir, 'clock-journal.jsonl'), JSON.stringify(record) + '\n');
}

/** A fake `/sys/class/rtc/rtc0` whose `since_epoch` says `epochMs` (whole seconds, as the kernel writes it). */
function fakeRtc(epochMs: number): string {
  const root = mkdtempSync(join(tmpdir(), 'timesync-rtc-'));
  const dir = join(root, 'rtc0');
  mkdirSync(dir);
  writeFileSync(join(dir, 'since_epoch'), `${Math.floor(epochMs / 1000)}\n`);
  writeFileSync(join(dir, 'name'), 'rtc-rpi\n');
  return dir;
}

describe('The hardware clock as a time source, through the whole app (e2e)', () => {
  let app: StartedApp | undefined;
  let rtc: string | undefined;
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    app = undefined;
    if (rtc) rmSync(join(rtc, '..'), { recursive: true, force: true });
  });

  it('at boot, before any phone, a Pi 2 h off is set from its RTC within the declared bound; a phone then takes over', async () => {
    rtc = fakeRtc(Date.now());
    app = await startApp({ RTC_SYSFS: rtc, RTC_DRIFT_PPM: '20', SIMULATED_CLOCK_OFFSET_MS: String(2 * H) }, 0, (dir) => journalWithStepAgo(dir, DAY));
    const status = await statusWhen(app, (s) => s.syncSource === 'rtc');
    // Never better than medium: a battery clock drifts.
    expect(status).toMatchObject({ sourceLabel: "the Pi's hardware clock", reliability: 'medium' });
    const source = status.sources.find((s: { source: string }) => s.source === 'rtc');
    expect(source).toMatchObject({ who: 'rtc0', active: true });
    // One day at 20 ppm is 1.7 s, plus the whole seconds of reading and writing it.
    expect(status.errorBoundMs).toBeGreaterThan(1700);
    expect(Math.abs(piMinusHost(app))).toBeLessThanOrEqual(status.errorBoundMs);
    const log = (await request(app.url).get('/api/activity').expect(200)).body as { message: string }[];
    expect(log.map((e) => e.message)).toContainEqual(expect.stringMatching(/^Time synchronized from the Pi's hardware clock \(rtc0\)/));
    const clock = (await request(app.url).get('/api/system/time').expect(200)).body;
    expect(clock).toMatchObject({ source: 'rtc', reliability: 'medium' });

    // A phone ranks above the hardware clock: it takes over at once and steps the Pi, although the hardware clock left
    // it within the 1 s threshold, since it is surely off by more than the phone's millisecond bound.
    await clients.connect(app.wsUrl, { offsetMs: 0 });
    const fromPhone = await statusWhen(app, (s) => s.syncSource === 'client');
    expect(fromPhone.errorBoundMs).toBeLessThan(50);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(50);
  });

  /** The activity log's messages once one mentions the hardware clock. */
  async function rtcLines(started: StartedApp): Promise<string[]> {
    return until('a line about the hardware clock', async () => {
      const lines = ((await request(started.url).get('/api/activity').expect(200)).body as { message: string }[]).map((e) => e.message).filter((m) => /hardware clock/.test(m));
      return lines.length ? lines : null;
    });
  }

  it.each([
    { name: 'before the build date (never set, a flat battery)', rtcMs: BUILD_DATE_MS - 400 * DAY, journal: false, words: /^The Pi's hardware clock rtc0 says .*, before this software was built .*battery is probably flat.*not used$/ },
    { name: 'before the last time the journal knew', rtcMs: Date.now() - 3 * DAY, journal: true, words: /^The Pi's hardware clock rtc0 says .*, before the last time this Pi knew \(.*\): its battery is probably flat; not used$/ },
  ])('an RTC $name is refused in plain words and nothing is set', async ({ rtcMs, journal, words }) => {
    rtc = fakeRtc(rtcMs);
    app = await startApp({ RTC_SYSFS: rtc, SIMULATED_CLOCK_OFFSET_MS: String(2 * H) }, 0, (dir) => journal && journalWithStepAgo(dir, DAY));
    expect(await rtcLines(app)).toEqual([expect.stringMatching(words)]);
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status).toMatchObject({ syncSource: 'none', reliability: 'none' });
    expect(status.sources).toContainEqual(expect.objectContaining({ source: 'rtc', active: false }));
    expect(Math.abs(piMinusHost(app) - 2 * H)).toBeLessThan(100);
  });
});
