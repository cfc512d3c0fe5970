import { mulberry32 } from '../../common/prng';
import { BUILD_DATE_MS } from '../../time/validation';
import { GPS_ROLLOVER_MS, GpsEnvironment, GpsEvent, GpsLossCode, GpsSample, GpsTimeKeeper } from './gps-time';

/** The truth: wall time minus monotonic time. The Pi's own clock is an hour ahead of it unless a test says otherwise. */
const TRUTH = Date.UTC(2026, 11, 7, 12, 0, 0) - 5_000;
const PI_AHEAD = 3_600_000;
const T0 = Date.UTC(2026, 11, 7, 12, 0, 10);

const env = (over: Partial<GpsEnvironment> = {}): GpsEnvironment => ({ reference: null, wallMinusMonoMs: TRUTH + PI_AHEAD, plausibleAfterMs: BUILD_DATE_MS, ...over });
const phone = (errorBoundMs = 1) => ({ source: 'client' as const, errorBoundMs });

type Reading = Extract<GpsEvent, { kind: 'reading' }>;
const readings = (events: GpsEvent[]) => events.filter((e): e is Reading => e.kind === 'reading');
const losses = (events: GpsEvent[]) => events.filter((e) => e.kind === 'lost') as Array<Extract<GpsEvent, { kind: 'lost' }>>;
const infos = (events: GpsEvent[]) => events.filter((e) => e.kind === 'info').map((e) => (e as { message: string }).message);

/**
 * A receiver: second k (true time T0 + k s) arrives `lateMs` after it was true, and says `says(k)` (its true time
 * unless a test makes it lie). Each call feeds one second and ticks; it returns what the keeper said.
 */
class Receiver {
  k = 0;
  now = 0;
  constructor(
    readonly sut: GpsTimeKeeper,
    public environment: GpsEnvironment = env(),
  ) {
    sut.fix(3);
  }
  second(lateMs: number, shiftMs = 0, kind: GpsSample['kind'] = 'nmea'): GpsEvent[] {
    const trueMs = T0 + this.k * 1000;
    this.k++;
    const monoMs = trueMs - TRUTH + lateMs;
    this.now = monoMs + 1;
    return [...this.sut.sample({ kind, gpsMs: trueMs + shiftMs, monoMs, eptMs: 5 }, this.environment, this.now), ...this.sut.tick(this.environment, this.now)];
  }
  seconds(n: number, late: (k: number) => number): GpsEvent[] {
    const out: GpsEvent[] = [];
    for (let i = 0; i < n; i++) out.push(...this.second(late(this.k)));
    return out;
  }
  /** Time passes with nothing from the receiver. */
  idle(ms: number): GpsEvent[] {
    this.k += Math.round(ms / 1000);
    this.now += ms;
    return this.sut.tick(this.environment, this.now);
  }
}

const within = (r: Reading) => Math.abs(r.sourceMinusMonoMs - TRUTH) <= r.errorBoundMs;

describe(GpsTimeKeeper.name, () => {
  describe('uncalibrated NMEA', () => {
    it('gives a first reading after three consistent seconds, coarse: 500 ± 500 ms late', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      expect(readings(rx.seconds(2, () => 300))).toEqual([]);
      const [first] = readings(rx.second(300));
      expect(first).toMatchObject({ fine: false, facts: { fix: '3D fix', calibrated: false, pps: false, nmeaDelayMs: 500, nmeaDelayFrom: 'assumed' } });
      expect(first.sourceMinusMonoMs).toBeCloseTo(TRUTH - 300 + 500, 6);
      expect(first.errorBoundMs).toBeGreaterThanOrEqual(500);
      expect(first.errorBoundMs).toBeLessThan(502);
      expect(within(first)).toBe(true);
    });

    it('is within its bound for any delay from 10 to 700 ms with jitter (200 receivers)', () => {
      const rng = mulberry32(7);
      let worst = 0;
      for (let run = 0; run < 200; run++) {
        const base = 10 + rng() * 600;
        const jitter = rng() * 150;
        const rx = new Receiver(new GpsTimeKeeper());
        for (const r of readings(rx.seconds(40, () => Math.min(700, Math.max(10, base + (rng() * 2 - 1) * jitter))))) {
          expect(within(r)).toBe(true);
          worst = Math.max(worst, Math.abs(r.sourceMinusMonoMs - TRUTH) / r.errorBoundMs);
        }
      }
      expect(worst).toBeLessThan(1);
    });

    it('takes a known receiver delay (GPS_OFFSET_MS) in place of the assumed 500 ms, bound still ±500', () => {
      const rx = new Receiver(new GpsTimeKeeper({ nmeaDelayMs: 120 }));
      const [r] = readings(rx.seconds(3, () => 130));
      expect(r.sourceMinusMonoMs).toBeCloseTo(TRUTH - 10, 6);
      expect(r.facts).toMatchObject({ nmeaDelayMs: 120, nmeaDelayFrom: 'GPS_OFFSET_MS' });
      expect(r.errorBoundMs).toBeGreaterThanOrEqual(500);
    });

    it('reports at most every 5 s while nothing changes; one late sentence does not move the median', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      const events = rx.seconds(16, (k) => (k === 8 ? 950 : 200));
      const rs = readings(events);
      expect(rs).toHaveLength(3); // seconds 3, 8 and 13 (5 s apart)
      for (const r of rs) expect(r.sourceMinusMonoMs).toBeCloseTo(TRUTH - 200 + 500, 6);
    });
  });

  describe('calibration against a fresher source', () => {
    const jittered = (seed: number, base: number, jitter: number) => {
      const rng = mulberry32(seed);
      return () => base + (rng() * 2 - 1) * jitter;
    };

    it('measures the delay while a phone keeps the Pi right, and shrinks the bound to the spread', () => {
      const rx = new Receiver(new GpsTimeKeeper(), env({ reference: phone(1), wallMinusMonoMs: TRUTH }));
      const events = rx.seconds(30, jittered(1, 350, 60));
      const rs = readings(events);
      const calibrated = rs.filter((r) => r.facts.calibrated);
      // Reported at once when the tenth sample makes it calibrated, not 5 s later.
      expect(calibrated[0]).toBeDefined();
      expect(rs.indexOf(calibrated[0])).toBe(2);
      const last = calibrated[calibrated.length - 1];
      expect(last.facts).toMatchObject({ calibrated: true, nmeaDelayFrom: 'measured', calibratedAgainst: 'client' });
      expect(Number(last.facts.nmeaDelayMs)).toBeGreaterThan(330);
      expect(Number(last.facts.nmeaDelayMs)).toBeLessThan(370);
      // ±60 ms of jitter: the spread around the median, plus the phone's 1 ms, the stamp's 1 ms and 100 ppm of drift.
      expect(last.errorBoundMs).toBeGreaterThan(50);
      expect(last.errorBoundMs).toBeLessThan(80);
      for (const r of rs) expect(within(r)).toBe(true);
    });

    it('keeps the calibration after the phone goes: within 50 ms of the truth on fresh seconds, its bound growing 5 ms a minute until it ages out', () => {
      const rx = new Receiver(new GpsTimeKeeper(), env({ reference: phone(1), wallMinusMonoMs: TRUTH }));
      const late = jittered(2, 420, 80);
      rx.seconds(60, late);
      rx.environment = env({ reference: null, wallMinusMonoMs: TRUTH + 250 }); // the Pi drifts off once the phone is gone
      const after = readings(rx.seconds(60, late));
      expect(after.length).toBeGreaterThanOrEqual(10);
      for (const r of after) {
        expect(r.facts.calibrated).toBe(true);
        expect(Math.abs(r.sourceMinusMonoMs - TRUTH)).toBeLessThan(50);
        expect(within(r)).toBe(true);
      }
      expect(after[after.length - 1].errorBoundMs - after[0].errorBoundMs).toBeCloseTo((5 * 50) / 60, 0);
      // Ninety minutes later (+450 ms of bound) it is no better than uncalibrated: dropped, in words.
      const aged = rx.idle(95 * 60_000);
      expect(infos(aged)).toEqual([expect.stringMatching(/^GPS calibration against a phone has aged out \(1 h 3\d min without it\): back to ±500 ms$/)]);
      const [r] = readings(rx.seconds(3, late).concat(rx.idle(5000)));
      expect(r.facts).toMatchObject({ calibrated: false, nmeaDelayFrom: 'assumed' });
    });

    it('starts the calibration again when the Pi is stepped, never mixing two times', () => {
      const sut = new GpsTimeKeeper();
      const rx = new Receiver(sut, env({ reference: phone(1), wallMinusMonoMs: TRUTH + 800 }));
      rx.seconds(8, () => 300);
      rx.environment = env({ reference: phone(1), wallMinusMonoMs: TRUTH });
      const rs = readings(rx.seconds(10, () => 300));
      const cal = rs.filter((r) => r.facts.calibrated);
      expect(cal).toHaveLength(1);
      expect(cal[0].facts.nmeaDelayMs).toBe(300);
      expect(cal[0].sourceMinusMonoMs).toBeCloseTo(TRUTH, 6);
    });

    it('does not calibrate against GPS itself', () => {
      const rx = new Receiver(new GpsTimeKeeper(), env({ reference: { source: 'gps', errorBoundMs: 500 }, wallMinusMonoMs: TRUTH }));
      expect(readings(rx.seconds(20, () => 300)).every((r) => r.facts.calibrated === false)).toBe(true);
    });
  });

  describe('PPS', () => {
    it('is a fine source (±2 ms) while pulses come, and falls back to NMEA when they stop', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      rx.seconds(3, () => 250);
      const fine: Reading[] = [];
      for (let i = 0; i < 4; i++) {
        rx.k--; // the pulse of the second whose sentence follows
        fine.push(...readings(rx.second(0.004, 0, 'pps')));
        fine.push(...readings(rx.second(250)));
      }
      expect(fine[0]).toMatchObject({ fine: true, facts: { pps: true } });
      expect(fine[0].sourceMinusMonoMs).toBeCloseTo(TRUTH - 0.004, 6);
      expect(fine[0].errorBoundMs).toBeLessThan(2.5); // 1 ms edge, 1 ms stamp, 100 ppm over the window
      expect(rx.sut.describe(rx.now).state).toBe('3D fix, PPS');
      // No pulse for over 3 s: NMEA again, reported at once.
      const back = readings(rx.seconds(4, () => 250));
      expect(back[0]).toMatchObject({ fine: false, facts: { pps: false } });
    });
  });

  describe('faults, told once in words', () => {
    it('fix lost: GPS_NO_FIX once, no readings, a line when it is back', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      rx.seconds(5, () => 200);
      expect(rx.sut.fix(1)).toEqual([{ kind: 'lost', code: GpsLossCode.NoFix, why: 'GPS lost its fix: no time from it until the receiver sees enough satellites' }]);
      expect(rx.sut.fix(1)).toEqual([]);
      expect(readings(rx.idle(6000))).toEqual([]);
      expect(rx.sut.describe(rx.now)).toMatchObject({ state: 'no fix', active: false, errorBoundMs: null });
      expect(rx.sut.fix(2)).toEqual([{ kind: 'info', message: 'GPS has a 2D fix again' }]);
      expect(readings(rx.seconds(1, () => 200))).toHaveLength(1);
    });

    it('no fix from the start says "yet"', () => {
      const sut = new GpsTimeKeeper();
      expect(losses(sut.fix(0))[0].why).toMatch(/^GPS has no fix yet/);
      expect(sut.describe(0).state).toBe("waiting for the receiver's time");
    });

    it('silence with a fix: GPS_SILENT once, then a line when time comes again', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      rx.seconds(4, () => 200);
      expect(losses(rx.idle(3000))).toEqual([]);
      const silent = losses(rx.idle(3000));
      expect(silent).toEqual([{ kind: 'lost', code: GpsLossCode.Silent, why: 'GPS gave no time for 6 s though it had a fix (receiver unplugged or stuck?)' }]);
      expect(losses(rx.idle(3000))).toEqual([]);
      expect(infos(rx.second(200))).toEqual(['GPS gives time again']);
    });

    it('a time jump is held back until three consistent seconds confirm it, then told once and used', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      expect(readings(rx.seconds(6, () => 200))).toHaveLength(1); // at the third second; the next is due at the eighth
      const held = [...rx.second(200, 3_600_000), ...rx.second(200, 3_600_000)];
      expect(held).toEqual([]);
      expect(rx.sut.reading(rx.now)).toBeNull();
      expect(rx.sut.describe(rx.now).state).toBe('3D fix, its time jumped: waiting for it to hold');
      const confirmed = rx.second(200, 3_600_000);
      expect(losses(confirmed)).toEqual([
        {
          kind: 'lost',
          code: GpsLossCode.TimeJump,
          why: 'GPS time jumped by +1 h (7 Dec 2026, 12:00:16 UTC became 7 Dec 2026, 13:00:16 UTC) and held for 3 s: its earlier time is dropped, the new one used',
        },
      ]);
      const [r] = readings(confirmed);
      expect(r.sourceMinusMonoMs).toBeCloseTo(TRUTH + 3_600_000 - 200 + 500, 6);
      const after: GpsEvent[] = [];
      for (let i = 0; i < 5; i++) after.push(...rx.second(200, 3_600_000));
      expect(losses(after)).toEqual([]);
    });

    it('one wrong second is a glitch: ignored, told in a line, no loss', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      rx.seconds(5, () => 200);
      expect(rx.second(200, -7_000)).toEqual([]);
      const back = rx.second(200);
      expect(losses(back)).toEqual([]);
      expect(infos(back)).toEqual(['GPS said 7 Dec 2026, 12:00:08 UTC once, -7 s off its own time: ignored']);
    });

    it('refuses a week-rollover year, naming the time it said and why, once', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      const first = rx.second(200, -GPS_ROLLOVER_MS);
      expect(losses(first)).toEqual([
        {
          kind: 'lost',
          code: GpsLossCode.WeekRollover,
          why: "GPS says 23 Apr 2007, 12:00:10 UTC, 1024 weeks before the Pi's time: a receiver whose firmware missed a GPS week-number rollover; its time is refused",
        },
      ]);
      const more: GpsEvent[] = [];
      for (let i = 0; i < 5; i++) more.push(...rx.second(200, -GPS_ROLLOVER_MS));
      expect(more).toEqual([]);
      expect(rx.sut.describe(rx.now)).toMatchObject({ state: expect.stringMatching(/^refusing its time: GPS says 23 Apr 2007/), active: false });
    });

    it('names two rollovers, and calls anything else before the build date implausible', () => {
      const two = new Receiver(new GpsTimeKeeper());
      expect(losses(two.second(200, -2 * GPS_ROLLOVER_MS))[0]).toMatchObject({ code: GpsLossCode.WeekRollover, why: expect.stringContaining('2 × 1024 weeks before') });
      const stale = new Receiver(new GpsTimeKeeper());
      expect(losses(stale.second(200, -400 * 86_400_000))[0]).toEqual({
        kind: 'lost',
        code: 'IMPLAUSIBLE_TIME',
        why: "GPS says 2 Nov 2025, 12:00:10 UTC, before 25 Nov 2026, 00:00:00 UTC (the earliest time this Pi may have): its time is refused",
      });
      const future = new Receiver(new GpsTimeKeeper());
      expect(losses(future.second(200, Date.UTC(2100, 0, 1) - T0))[0]).toMatchObject({ code: 'IMPLAUSIBLE_TIME', why: expect.stringContaining('not before 2100') });
    });

    it('a plausible time after refused ones is used again, with a line', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      rx.seconds(2, () => 200).concat(rx.second(200, -GPS_ROLLOVER_MS));
      const again = rx.second(200);
      expect(infos(again)).toEqual(['GPS time is plausible again: 7 Dec 2026, 12:00:13 UTC']);
      expect(readings(again)).toHaveLength(1);
    });
  });

  describe('status words', () => {
    it.each([
      [2, 'not calibrated', '2D fix, not calibrated'],
      [3, 'calibrated', '3D fix, calibrated against a phone (NMEA 300 ms late)'],
    ] as const)('mode %s, %s', (mode, how, words) => {
      const sut = new GpsTimeKeeper();
      const rx = new Receiver(sut, how === 'calibrated' ? env({ reference: phone(), wallMinusMonoMs: TRUTH }) : env());
      sut.fix(mode);
      rx.seconds(12, () => 300);
      expect(sut.describe(rx.now)).toMatchObject({ state: words, active: true, errorBoundMs: expect.any(Number) });
    });

    it('says what it waits for', () => {
      const rx = new Receiver(new GpsTimeKeeper());
      rx.second(300);
      expect(rx.sut.describe(rx.now)).toMatchObject({ state: '3D fix, not calibrated, waiting for 3 consistent seconds', active: false });
    });
  });
});
