import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClockStepRecord, parseJournal } from '../../activity-log/clock-journal';
import { JournalEventRecord } from '../../activity-log/journal-records';
import { JournalEntries } from '../../activity-log/journal-times';
import { DomainError, ErrorCode } from '../../common/domain-error';
import { SystemClock } from '../../system-clock/system-clock';
import { ManualClock } from '../../time/clock';
import { BUILD_DATE_MS } from '../../time/validation';
import { SourceContext, SourceLoss, SourceReading, SourceSink } from '../source-port';
import { judgeRtc, RTC_READ_HALF_MS, RTC_WRITE_ERROR_MS, rtcErrorBoundMs, RtcSample, RtcSource, TIMEDATED_RTC } from './rtc-source';

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 10, 12, 0, 0);
/** The last confirmed step: three days before NOW, from a phone, ±12 ms. */
const SET_AT = NOW - 3 * DAY;
const SET_BOUND = 12;
const iso = (ms: number) => new Date(ms).toISOString();

const confirmedStep = (afterMs: number, errorBoundMs: number | null = SET_BOUND): ClockStepRecord => ({
  id: `s${afterMs}`,
  state: 'confirmed',
  beforeMs: afterMs - 40 * DAY,
  before: iso(afterMs - 40 * DAY),
  afterMs,
  after: iso(afterMs),
  stepMs: 40 * DAY,
  source: 'client',
  monotonicMs: 5000,
  boot: 1,
  bootId: 'b1',
  errorBoundMs,
});
const cameraMeasure = (atMs: number): JournalEventRecord => ({ kind: 'camera-measure', atMs, at: iso(atMs), monotonicMs: 9000, boot: 1, bootId: 'b1', cameraId: 'c1', serial: null, success: true, offsetMs: 4, boundMs: 20 });
const journalOf = (...records: Array<ClockStepRecord | JournalEventRecord>): JournalEntries => parseJournal(records.map((r) => JSON.stringify(r) + '\n').join(''));

type SinkCall = ['reading', SourceReading] | ['lost', SourceLoss] | ['info', string, string];

/** Every report, in order: a test asserts the whole list, so a report it did not expect fails it. */
class RecordingSink implements SourceSink {
  readonly calls: SinkCall[] = [];
  reading(r: SourceReading): void {
    this.calls.push(['reading', r]);
  }
  lost(l: SourceLoss): void {
    this.calls.push(['lost', l]);
  }
  info(source: string, message: string): void {
    this.calls.push(['info', source, message]);
  }
}

/** timedated's side of the Pi, asked only when a test says it may be. */
class FakeSystemClock extends SystemClock {
  readonly backend = 'system' as const;
  rtc: number | null | Error = null;
  asked = 0;
  read = jest.fn(() => Promise.reject(new Error('not expected')));
  setTime = jest.fn(() => Promise.reject(new Error('not expected')));
  setTimezone = jest.fn(() => Promise.reject(new Error('not expected')));
  override async readRtcMs(): Promise<number | null> {
    this.asked++;
    if (this.rtc instanceof Error) throw this.rtc;
    return this.rtc;
  }
}

describe(RtcSource.name, () => {
  let tree: string;
  let rtc0: string;
  let clock: ManualClock;
  let systemClock: FakeSystemClock;
  let sink: RecordingSink;
  let journal: JournalEntries | Error;
  let plausibleAfterMs: number;
  let context: SourceContext;

  /** A fake /sys/class/rtc/rtc0: since_epoch (omitted: null), name and hctosys. */
  function rtcFiles(sinceEpoch: string | null, extra: { name?: string; hctosys?: string } = { name: 'rtc-ds1307 1-0068', hctosys: '1' }): void {
    rmSync(rtc0, { recursive: true, force: true });
    mkdirSync(rtc0, { recursive: true });
    if (sinceEpoch !== null) writeFileSync(join(rtc0, 'since_epoch'), sinceEpoch);
    if (extra.name !== undefined) writeFileSync(join(rtc0, 'name'), extra.name + '\n');
    if (extra.hctosys !== undefined) writeFileSync(join(rtc0, 'hctosys'), extra.hctosys + '\n');
  }
  const seconds = (ms: number) => `${Math.floor(ms / 1000)}\n`;
  const newSut = (driftPpm = 20, sysfs: string | null = rtc0) =>
    new RtcSource({ sysfs, driftPpm, off: sysfs === null ? 'RTC_SYSFS is empty: the hardware clock is not read' : undefined }, clock, systemClock, async () => {
      if (journal instanceof Error) throw journal;
      return journal;
    });

  beforeEach(() => {
    tree = mkdtempSync(join(tmpdir(), 'rtc-sysfs-'));
    rtc0 = join(tree, 'class', 'rtc', 'rtc0');
    clock = new ManualClock(NOW, 1000);
    systemClock = new FakeSystemClock();
    sink = new RecordingSink();
    journal = journalOf(confirmedStep(SET_AT), cameraMeasure(NOW - 20 * HOUR));
    plausibleAfterMs = NOW - 20 * HOUR;
    context = { reference: () => null, plausibleAfterMs: () => plausibleAfterMs, wallMinusMonoMs: () => clock.epochOfMonotonic() };
  });

  afterEach(() => {
    rmSync(tree, { recursive: true, force: true });
  });

  it('reads since_epoch at start: whole seconds + 500 ms, bound 1.5 s + the step\'s bound + 20 ppm of the time since it', async () => {
    rtcFiles(seconds(NOW + 300));
    const sut = newSut();
    await sut.start(sink, context);
    const ageMs = NOW + RTC_READ_HALF_MS - SET_AT;
    const bound = RTC_READ_HALF_MS + RTC_WRITE_ERROR_MS + SET_BOUND + (20 * ageMs) / 1e6; // 6696.01 ms
    expect(sink.calls).toEqual([
      [
        'reading',
        {
          source: 'rtc',
          who: 'rtc0',
          sourceMinusMonoMs: NOW + 500 - 1000,
          errorBoundMs: bound,
          atMono: 1000,
          facts: {
            via: 'sysfs',
            rtcTime: iso(NOW),
            lastSetAt: iso(SET_AT),
            lastSetBy: 'client',
            lastSetAgoMs: ageMs,
            driftPpm: 20,
            device: 'rtc-ds1307 1-0068',
            hctosys: true,
            minusPiMs: 500,
          },
        },
      ],
    ]);
    expect(bound).toBeCloseTo(6696.01, 6);
    expect(sut.status()).toEqual({
      source: 'rtc',
      who: 'rtc0',
      state: 'hardware clock rtc0, last set 3 d ago, ±6.7 s',
      active: true,
      errorBoundMs: bound,
      facts: expect.objectContaining({ via: 'sysfs', lastSetAt: iso(SET_AT) }),
    });
    expect(systemClock.asked).toBe(0);
  });

  it('anchors the reading in the middle of the read and adds half its duration to the bound', async () => {
    rtcFiles(seconds(NOW));
    // Each look at the monotonic clock finds it 8 ms later: the read took 8 ms.
    const ticking = new (class extends ManualClock {
      override monotonic(): number {
        this.monoMs += 8;
        return this.monoMs;
      }
    })(NOW, 1000);
    clock = ticking;
    await newSut().start(sink, context);
    const [, reading] = sink.calls[0] as ['reading', SourceReading];
    expect(reading.atMono).toBe(1012);
    expect(reading.sourceMinusMonoMs).toBe(NOW + 500 - 1012);
    expect(reading.errorBoundMs).toBeCloseTo(rtcErrorBoundMs(NOW + 500 - SET_AT, 20, SET_BOUND) + 4, 3);
  });

  it('without since_epoch asks timedated (RTCTimeUSec) and says so', async () => {
    rtcFiles(null);
    systemClock.rtc = NOW - 2 * SECOND;
    await newSut().start(sink, context);
    expect(systemClock.asked).toBe(1);
    expect(sink.calls).toEqual([['reading', expect.objectContaining({ source: 'rtc', who: TIMEDATED_RTC, sourceMinusMonoMs: NOW - 2000 + 500 - 1000, facts: expect.objectContaining({ via: 'timedated', rtcTime: iso(NOW - 2000) }) })]]);
  });

  it('without the sysfs folder at all asks timedated too', async () => {
    systemClock.rtc = NOW;
    const sut = newSut(20, join(tree, 'nothing', 'rtc0'));
    await sut.start(sink, context);
    expect(sink.calls.map((c) => c[0])).toEqual(['reading']);
    expect(sut.status()?.state).toMatch(/^hardware clock \(through timedated\), last set 3 d ago, ±6\.7 s$/);
  });

  it('with no since_epoch and none from timedated (RTCTimeUSec 0): one info line, "no hardware clock"', async () => {
    rtcFiles(null);
    systemClock.rtc = null;
    const sut = newSut();
    await sut.start(sink, context);
    expect(sink.calls).toEqual([['info', 'rtc', `This Pi has no hardware clock (no ${join(rtc0, 'since_epoch')}, and timedated reports none): the RTC is not a time source here`]]);
    expect(sut.status()).toEqual({ source: 'rtc', who: TIMEDATED_RTC, state: 'no hardware clock', active: false, absent: true, errorBoundMs: null });
  });

  it('when timedated cannot be asked: lost, RTC_UNREADABLE, in plain words', async () => {
    systemClock.rtc = new DomainError(ErrorCode.INTERNAL, 'Could not ask timedated for the hardware clock: timedatectl is not installed (CLOCK_BACKEND=system needs systemd)');
    const sut = newSut();
    await sut.start(sink, context);
    expect(sink.calls).toEqual([
      [
        'lost',
        {
          source: 'rtc',
          who: TIMEDATED_RTC,
          code: 'RTC_UNREADABLE',
          why: `There is no ${join(rtc0, 'since_epoch')}, and timedated could not be asked for the hardware clock (Could not ask timedated for the hardware clock: timedatectl is not installed (CLOCK_BACKEND=system needs systemd)); not used`,
        },
      ],
    ]);
    expect(sut.status()).toMatchObject({ active: false, state: 'hardware clock (through timedated) could not be read; not used' });
  });

  it.each([['garbage\n'], [''], ['-5\n'], ['1796990400.5\n'], ['99999999999999999999\n']])('refuses since_epoch %p as unreadable, without asking timedated', async (content) => {
    rtcFiles(content);
    const sut = newSut();
    await sut.start(sink, context);
    expect(sink.calls).toEqual([['lost', { source: 'rtc', who: 'rtc0', code: 'RTC_UNREADABLE', why: `The Pi's hardware clock rtc0 gave ${JSON.stringify(content.trim())} in ${join(rtc0, 'since_epoch')}, not a number of seconds; not used` }]]);
    expect(sut.status()).toMatchObject({ active: false, state: 'hardware clock rtc0 could not be read; not used' });
    expect(systemClock.asked).toBe(0);
  });

  it('refuses a since_epoch that cannot be read (not ENOENT) as unreadable', async () => {
    rtcFiles(null);
    mkdirSync(join(rtc0, 'since_epoch'));
    await newSut().start(sink, context);
    expect(sink.calls).toEqual([['lost', expect.objectContaining({ code: 'RTC_UNREADABLE', why: expect.stringMatching(/^The Pi's hardware clock rtc0 could not be read \(.*since_epoch\): .*EISDIR.*; not used$/) })]]);
    expect(systemClock.asked).toBe(0);
  });

  it('refuses an RTC before the build date (a flat battery: 2000-01-01), in plain words', async () => {
    rtcFiles(seconds(Date.UTC(2000, 0, 1, 0, 0, 12)));
    journal = journalOf();
    plausibleAfterMs = BUILD_DATE_MS;
    const sut = newSut();
    await sut.start(sink, context);
    expect(sink.calls).toEqual([
      [
        'lost',
        {
          source: 'rtc',
          who: 'rtc0',
          code: 'IMPLAUSIBLE_TIME',
          why: "The Pi's hardware clock rtc0 says 1 Jan 2000, 00:00:12 UTC, before this software was built (25 Nov 2026): its battery is probably flat or it was never set; not used",
        },
      ],
    ]);
    expect(sut.status()).toEqual({ source: 'rtc', who: 'rtc0', state: 'hardware clock rtc0 says 1 Jan 2000, 00:00:12 UTC, before the build date: not used', active: false, errorBoundMs: null });
  });

  it("refuses an RTC earlier than the journal's last known time, naming that time", async () => {
    rtcFiles(seconds(Date.UTC(2026, 11, 8, 10, 0, 0)));
    plausibleAfterMs = Date.UTC(2026, 11, 9, 16, 0, 0);
    const sut = newSut();
    await sut.start(sink, context);
    expect(sink.calls).toEqual([
      [
        'lost',
        {
          source: 'rtc',
          who: 'rtc0',
          code: 'IMPLAUSIBLE_TIME',
          why: "The Pi's hardware clock rtc0 says 8 Dec 2026, 10:00:00 UTC, before the last time this Pi knew (9 Dec 2026, 16:00:00 UTC): its battery is probably flat; not used",
        },
      ],
    ]);
    expect(sut.status()).toMatchObject({ active: false, state: 'hardware clock rtc0 says 8 Dec 2026, 10:00:00 UTC, before the last time this Pi knew: not used' });
  });

  it('refuses an RTC earlier than the last time the clock was set, even when the context knows less', async () => {
    rtcFiles(seconds(SET_AT - HOUR));
    plausibleAfterMs = BUILD_DATE_MS;
    await newSut().start(sink, context);
    expect(sink.calls).toEqual([['lost', expect.objectContaining({ code: 'IMPLAUSIBLE_TIME', why: expect.stringContaining(`before the last time this Pi knew (7 Dec 2026, 12:00:00 UTC)`) })]]);
  });

  it("takes an RTC a little before the journal's last known time when its bound reaches it (a slow RTC, a quick reboot)", async () => {
    // 6.7 s of bound: an RTC 5 s behind the last record is still possible.
    rtcFiles(seconds(plausibleAfterMs - 5 * SECOND));
    await newSut().start(sink, context);
    expect(sink.calls.map((c) => c[0])).toEqual(['reading']);
  });

  it('refuses an RTC after 2100', async () => {
    rtcFiles(seconds(Date.UTC(2150, 0, 1)));
    await newSut().start(sink, context);
    expect(sink.calls).toEqual([['lost', expect.objectContaining({ code: 'IMPLAUSIBLE_TIME', why: "The Pi's hardware clock rtc0 says 1 Jan 2150, 00:00:00 UTC, after 2100: it cannot be right; not used" })]]);
  });

  it('refuses an RTC whose last setting the journal does not know: its drift is unknown', async () => {
    rtcFiles(seconds(NOW));
    journal = journalOf(cameraMeasure(NOW - 20 * HOUR));
    const sut = newSut();
    await sut.start(sink, context);
    expect(sink.calls).toEqual([
      [
        'lost',
        {
          source: 'rtc',
          who: 'rtc0',
          code: 'RTC_AGE_UNKNOWN',
          why: "The Pi's hardware clock rtc0 says 10 Dec 2026, 12:00:00 UTC, but the journal has no record of the clock being set, so how far it has drifted is unknown; not used until the Pi's clock has been set once",
        },
      ],
    ]);
    expect(sut.status()).toMatchObject({ active: false, state: 'hardware clock rtc0 last set: unknown; not used until the clock has been set once' });
  });

  it('refuses an RTC when the journal cannot be read, with the journal\'s words', async () => {
    rtcFiles(seconds(NOW));
    journal = new DomainError(ErrorCode.JOURNAL_UNREADABLE, 'The clock-change journal /data/clock-journal.jsonl cannot be read: it is a folder, not a file (EISDIR)');
    await newSut().start(sink, context);
    expect(sink.calls).toEqual([
      [
        'lost',
        expect.objectContaining({
          code: 'RTC_AGE_UNKNOWN',
          why: "The Pi's hardware clock rtc0 says 10 Dec 2026, 12:00:00 UTC, but when it was last set is unknown (The clock-change journal /data/clock-journal.jsonl cannot be read: it is a folder, not a file (EISDIR)), so how far it has drifted is unknown; not used",
        }),
      ],
    ]);
  });

  it('says the time and the age in the status as the bound grows with the age, at the configured drift', async () => {
    rtcFiles(seconds(NOW));
    journal = journalOf(confirmedStep(NOW - 30 * DAY, null));
    plausibleAfterMs = BUILD_DATE_MS;
    const sut = newSut(2);
    await sut.start(sink, context);
    // 30 days at 2 ppm: 5.18 s, plus 1.5 s.
    expect(sut.status()).toMatchObject({ active: true, state: 'hardware clock rtc0, last set 30 d ago, ±6.7 s' });
    expect((sink.calls[0][1] as SourceReading).errorBoundMs).toBeCloseTo(1500 + 2 * (30 * DAY + 500) / 1e6, 3);
  });

  it('reads again on readNow (one read at a time), and reports a loss when a later read is refused', async () => {
    rtcFiles(seconds(NOW));
    const sut = newSut();
    await sut.start(sink, context);
    clock.advance(HOUR);
    rtcFiles(seconds(NOW + HOUR));
    const [a, b] = await Promise.all([sut.readNow(), sut.readNow()]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ atMono: 1000 + HOUR, sourceMinusMonoMs: NOW + 500 - 1000 });
    rtcFiles(seconds(Date.UTC(2000, 0, 1)));
    await expect(sut.readNow()).resolves.toBeNull();
    expect(sink.calls.map((c) => c[0])).toEqual(['reading', 'reading', 'lost']);
    expect(sut.status()).toMatchObject({ active: false });
  });

  it('reports nothing once stopped, not even a read that was under way', async () => {
    rtcFiles(null);
    let answer!: (ms: number) => void;
    let asked!: () => void;
    const wasAsked = new Promise<void>((resolve) => (asked = resolve));
    systemClock.readRtcMs = () => {
      asked();
      return new Promise<number>((resolve) => (answer = resolve));
    };
    const sut = newSut();
    const started = sut.start(sink, context);
    await wasAsked;
    sut.stop();
    answer(NOW);
    await started;
    await expect(sut.readNow()).resolves.toBeNull();
    expect(sink.calls).toEqual([]);
  });

  it('with RTC_SYSFS off: nothing for the activity log, no status, nothing read', async () => {
    const sut = newSut(20, null);
    await sut.start(sink, context);
    await expect(sut.readNow()).resolves.toBeNull();
    expect(sink.calls).toEqual([]);
    expect(sut.status()).toBeNull();
    expect(systemClock.asked).toBe(0);
  });

  it('has no status before it is started', () => {
    expect(newSut().status()).toBeNull();
  });
});

describe(judgeRtc.name, () => {
  const sample = (rtcMs: number): RtcSample => ({ who: 'rtc0', via: 'sysfs', rtcMs, monoBefore: 50, monoAfter: 50 });
  const history = (ageMs: number) => ({ lastSet: { atMs: NOW - ageMs, source: 'client' as const, errorBoundMs: 0, line: 1 } });

  it.each([
    ['1 h', 1572, HOUR],
    ['1 day', 3228, DAY],
    ['1 week', 13_596, 7 * DAY],
    ['30 days', 53_340, 30 * DAY],
  ])('at 20 ppm, %s after the clock was set: ±%d ms', (_label, expectedMs, ageMs) => {
    const judged = judgeRtc(sample(NOW - 500), history(ageMs), BUILD_DATE_MS, 20);
    expect(judged.kind).toBe('reading');
    expect(judged.kind === 'reading' && Math.round(judged.reading.errorBoundMs)).toBe(expectedMs);
  });

  it('grows linearly with the configured drift', () => {
    const at = (ppm: number) => judgeRtc(sample(NOW - 500), history(10 * DAY), BUILD_DATE_MS, ppm);
    const bound = (ppm: number) => {
      const j = at(ppm);
      return j.kind === 'reading' ? j.reading.errorBoundMs : NaN;
    };
    expect(bound(0.1)).toBeCloseTo(1500 + 86.4, 3);
    expect(bound(1000)).toBeCloseTo(1500 + 864_000, 3);
  });
});
