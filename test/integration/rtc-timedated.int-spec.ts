/**
 * The hardware clock through timedated: the real RtcSource, TimedatectlClock and CommandRunner, the real
 * `timedatectl show`, against python3-dbusmock's `timedated` template on a private system bus
 * (test/integration/dbus-sandbox.sh) with `RTCTimeUSec` added to the mock object (the template lacks it). The
 * RTC's sysfs folder is a temporary one without `since_epoch`, so the adapter has to ask timedated. Nothing here
 * sets a clock: the mock's call log must show no setter.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClockStepRecord, parseJournal } from '../../backend/activity-log/clock-journal';
import { RtcSource, TIMEDATED_RTC } from '../../backend/sources/rtc/rtc-source';
import { SourceContext, SourceLoss, SourceReading, SourceSink } from '../../backend/sources/source-port';
import { TimedatectlClock } from '../../backend/system-clock/timedatectl-clock';
import { HostClock } from '../../backend/time/clock';
import { BUILD_DATE_MS } from '../../backend/time/validation';
import { DbusSandbox, missingTools } from './dbus-sandbox';

const missing = missingTools();
if (missing.length) {
  // eslint-disable-next-line no-console
  console.warn(`RTC through timedated integration test SKIPPED: missing ${missing.join(', ')} (Debian: apt-get install dbus python3-dbusmock util-linux systemd)`);
}
const describeIfTools = missing.length ? describe.skip : describe;

const DAY = 86_400_000;
/** What the mock's RTC says: 2026-12-20 10:00:07.654321 UTC (timedated's are whole seconds; timedatectl prints whole seconds either way). */
const RTC_USEC = Date.UTC(2026, 11, 20, 10, 0, 7) * 1000 + 654_321;
const RTC_MS = Date.UTC(2026, 11, 20, 10, 0, 7);
/** The journal's one confirmed step: two days before the RTC's time, ±20 ms. */
const SET_AT = RTC_MS - 2 * DAY;

const journal = parseJournal(
  JSON.stringify({ id: 'a', state: 'confirmed', beforeMs: SET_AT - 9000, before: '', afterMs: SET_AT, after: '', stepMs: 9000, source: 'client', monotonicMs: 1, boot: 1, bootId: null, errorBoundMs: 20 } satisfies ClockStepRecord) + '\n',
);

describeIfTools('RtcSource through the real timedatectl and a timedated mock with RTCTimeUSec', () => {
  jest.setTimeout(30_000);
  let sandbox: DbusSandbox;
  let dir: string;
  let rtc0: string;
  let mark: number;
  let sink: SourceSink & { calls: Array<[string, unknown]> };
  const context: SourceContext = { reference: () => null, plausibleAfterMs: () => BUILD_DATE_MS, wallMinusMonoMs: () => new HostClock().epochOfMonotonic() };

  const newSut = () => new RtcSource({ sysfs: rtc0, driftPpm: 20 }, new HostClock(), new TimedatectlClock(sandbox.runner, new HostClock()), async () => journal);

  beforeAll(async () => {
    sandbox = await DbusSandbox.start();
    await sandbox.prepare({ ntp: false, ntpSynchronized: false, timezone: 'UTC' });
  });

  afterAll(async () => {
    await sandbox?.stop();
  });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtc-int-'));
    // The RTC's sysfs folder is there, its since_epoch is not: the adapter must ask timedated.
    rtc0 = join(dir, 'rtc0');
    mkdirSync(rtc0);
    mark = sandbox.mark();
    const calls: Array<[string, unknown]> = [];
    sink = { calls, reading: (r: SourceReading) => calls.push(['reading', r]), lost: (l: SourceLoss) => calls.push(['lost', l]), info: (_s, m: string) => calls.push(['info', m]) };
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    expect(sandbox.callsSince(mark)).toEqual([]);
  });

  it("with no since_epoch, reports the RTC time timedated gives (RTCTimeUSec), in whole seconds, + 500 ms", async () => {
    await sandbox.setRtcTimeUsec(RTC_USEC);
    const sut = newSut();
    const monoBefore = performance.now();
    await sut.start(sink, context);
    const monoAfter = performance.now();
    expect(sink.calls.map(([kind]) => kind)).toEqual(['reading']);
    const reading = sink.calls[0][1] as SourceReading;
    expect(reading).toMatchObject({ source: 'rtc', who: TIMEDATED_RTC, facts: expect.objectContaining({ via: 'timedated', rtcTime: '2026-12-20T10:00:07.000Z', lastSetAt: new Date(SET_AT).toISOString() }) });
    // The time it says: whole seconds + 500 ms, anchored within the read on this process's monotonic clock.
    expect(reading.sourceMinusMonoMs + reading.atMono).toBeCloseTo(RTC_MS + 500, 6);
    expect(reading.atMono).toBeGreaterThanOrEqual(monoBefore);
    expect(reading.atMono).toBeLessThanOrEqual(monoAfter);
    // 1.5 s, the step's 20 ms, 20 ppm of two days (3.456 s), and half of the timedatectl round trip.
    const base = 1500 + 20 + (20 * (2 * DAY + 500)) / 1e6;
    expect(reading.errorBoundMs).toBeGreaterThanOrEqual(base);
    expect(reading.errorBoundMs).toBeLessThan(base + (monoAfter - monoBefore) / 2 + 1);
    expect(sut.status()).toMatchObject({ active: true, state: expect.stringMatching(/^hardware clock \(through timedated\), last set 2 d ago, ±5(\.\d)? s$/) });
  });

  it('RTCTimeUSec 0 means no hardware clock: one info line, "no hardware clock"', async () => {
    await sandbox.setRtcTimeUsec(0);
    const sut = newSut();
    await sut.start(sink, context);
    expect(sink.calls).toEqual([['info', `This Pi has no hardware clock (no ${join(rtc0, 'since_epoch')}, and timedated reports none): the RTC is not a time source here`]]);
    expect(sut.status()).toEqual({ source: 'rtc', who: TIMEDATED_RTC, state: 'no hardware clock', active: false, absent: true, errorBoundMs: null });
  });

  it('a flat battery as timedated reports it (2000-01-01), before the journal\'s last step: refused in plain words', async () => {
    await sandbox.setRtcTimeUsec(Date.UTC(2000, 0, 1, 0, 1, 40) * 1000);
    await newSut().start(sink, context);
    expect(sink.calls).toEqual([
      [
        'lost',
        {
          source: 'rtc',
          who: TIMEDATED_RTC,
          code: 'IMPLAUSIBLE_TIME',
          why: "The Pi's hardware clock (through timedated) says 1 Jan 2000, 00:01:40 UTC, before the last time this Pi knew (18 Dec 2026, 10:00:07 UTC): its battery is probably flat; not used",
        },
      ],
    ]);
  });
});
