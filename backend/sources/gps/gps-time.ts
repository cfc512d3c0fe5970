/**
 * What a GPS receiver's time is worth, from plain values: samples (the time it said, anchored to the Pi's monotonic
 * clock), its fix, and what the Pi knows (a fresh reference, the plausible range). No socket, no timer, no clock:
 * `GpsSource` feeds it and passes on what it returns.
 *
 * The model. gpsd pairs each second the receiver names with the moment its serial data arrived. That data is late:
 * 10-700 ms after the second it names, with 100-300 ms of jitter (gpsd's docs); it is never early, and a receiver
 * sends each second's sentences before the next second's. So, uncalibrated, a sample's raw offset (GPS minus
 * monotonic at arrival) is low by 0-1000 ms: taken as 500 ± 500 ms late, or `nmeaDelayMs` ± 500 ms when the
 * receiver's delay is known (GPS_OFFSET_MS). While a better source (a phone) keeps the Pi's time fresh, each sample
 * also measures that delay (GPS minus Pi); the median of a window of those is the receiver's delay and their spread
 * (plus the reference's bound) the bound: "calibrated". A PPS pulse, timed by gpsd at the pulse, is good to about a
 * millisecond.
 *
 * A reading is the median of the recent raw offsets (so one late sentence moves nothing) plus the delay, at most one
 * every `reportEveryMs` and at once when its kind changes (first usable, PPS, calibrated, a confirmed jump).
 */
import { ErrorCode, SOURCE_LABELS, SyncSource } from '../../protocol/vocabulary';
import { formatDuration, formatTimestamp, TimeFormat } from '../../time/format';
import { MAX_PLAUSIBLE_MS } from '../../time/validation';

/** Why GPS stopped giving time, as `SourceLoss.code`. */
export const GpsLossCode = {
  /** The receiver reports no fix (TPV mode 0 or 1). */
  NoFix: 'GPS_NO_FIX',
  /** It had a fix and then gave no new time for `silenceMs` (unplugged, stuck). */
  Silent: 'GPS_SILENT',
  /** gpsd closed the connection (stopped, crashed, restarted). */
  Gone: 'GPS_GONE',
  /** Its time jumped against the monotonic clock and held there: its earlier readings no longer apply. */
  TimeJump: 'GPS_TIME_JUMP',
  /** It said a time a whole number of 1024 weeks before the Pi's: old firmware after a GPS week-number rollover. */
  WeekRollover: 'GPS_WEEK_ROLLOVER',
  /** It said a time before `plausibleAfterMs` or after 2099. */
  Implausible: ErrorCode.IMPLAUSIBLE_TIME,
} as const;
export type GpsLossCode = (typeof GpsLossCode)[keyof typeof GpsLossCode];

/** Every threshold of the GPS source, in one place (docs/configuration.md "GPS" says the same). */
export interface GpsSettings {
  /** GPS_OFFSET_MS: the receiver's known NMEA delay, ms; 0: not known (taken as `nmeaBoundMs` late). */
  nmeaDelayMs: number;
  /** Half-width of what uncalibrated NMEA time may be off: 500 ms (chrony's FAQ uses `offset 0.5` for NMEA). */
  nmeaBoundMs: number;
  /** What a PPS edge as gpsd timed it may be off, ms. */
  ppsBoundMs: number;
  /** gpsd's clock stamps are turned into monotonic time through the host's Date.now(), which has whole ms. */
  stampErrorMs: number;
  /** How far the Pi's monotonic clock may run off true time, ppm (a Pi's crystal: tens of ppm). */
  clockRatePpm: number;
  /** Consistent samples needed before the first reading, and to confirm a jump. */
  minSamples: number;
  /** Raw offsets kept for the median, and their longest age, ms. */
  windowSamples: number;
  windowAgeMs: number;
  /** Calibration samples kept, and how many make a calibration. */
  calibrationSamples: number;
  minCalibrationSamples: number;
  /** The smallest bound a calibrated NMEA reading claims, ms. */
  calibrationFloorMs: number;
  /**
   * How fast a calibration's bound grows once the reference is gone, ms per minute. A guess, not a measurement:
   * gpsd's HOWTO warns of NMEA "stable to 10 mSec for hours and then jump by 200 mSec"; a bound that reaches
   * ±500 ms within about an hour and a half keeps that honest without throwing away a fresh calibration.
   */
  calibrationGrowthMsPerMin: number;
  /** A reading at most this often while nothing changes, ms. */
  reportEveryMs: number;
  /** With a fix, no new time for this long is a loss, ms. */
  silenceMs: number;
  /** PPS counts while its last pulse is this recent, ms. */
  ppsFreshMs: number;
  /** How near to the Pi's time a rolled-over time must land (k × 1024 weeks later) to be called a rollover, ms. */
  rolloverSlackMs: number;
}

export const DEFAULT_GPS_SETTINGS: Readonly<GpsSettings> = {
  nmeaDelayMs: 0,
  nmeaBoundMs: 500,
  ppsBoundMs: 1,
  stampErrorMs: 1,
  clockRatePpm: 100,
  minSamples: 3,
  windowSamples: 30,
  windowAgeMs: 60_000,
  calibrationSamples: 60,
  minCalibrationSamples: 10,
  calibrationFloorMs: 20,
  calibrationGrowthMsPerMin: 5,
  reportEveryMs: 5000,
  silenceMs: 5000,
  ppsFreshMs: 3000,
  rolloverSlackMs: 86_400_000,
};

/** 1024 weeks: the GPS week number's 10-bit period. */
export const GPS_ROLLOVER_MS = 1024 * 7 * 86_400_000;

/** What the Pi knows when a sample arrives, as plain values (from `SourceContext`). */
export interface GpsEnvironment {
  reference: { source: SyncSource; errorBoundMs: number } | null;
  wallMinusMonoMs: number;
  plausibleAfterMs: number;
}

export interface GpsSample {
  /** `nmea`: the serial data's time (TOFF, or the TPV's arrival); `pps`: a pulse. */
  kind: 'nmea' | 'pps';
  /** The time the receiver said, ms since the epoch. */
  gpsMs: number;
  /** The monotonic time at which that was true (nmea: when the data arrived, hence late). */
  monoMs: number;
  eptMs?: number | null;
}

export type GpsEvent =
  | {
      kind: 'reading';
      sourceMinusMonoMs: number;
      errorBoundMs: number;
      fine: boolean;
      facts: Record<string, string | number | boolean | null>;
    }
  | { kind: 'lost'; code: GpsLossCode; why: string }
  | { kind: 'info'; message: string };

interface Raw {
  raw: number;
  mono: number;
  gpsMs: number;
}

interface CalSample {
  value: number;
  refBoundMs: number;
}

interface Calibration {
  samples: CalSample[];
  lastWallMinusMonoMs: number | null;
  /** When the reference was last fresh, monotonic ms. */
  freshAtMono: number;
  source: SyncSource;
}

interface Window {
  samples: Raw[];
  /** Samples inconsistent with the window, consistent with each other: a jump waiting to be confirmed. */
  pending: Raw[];
}

export const FIX_WORDS: Readonly<Record<0 | 1 | 2 | 3, string>> = { 0: 'no fix', 1: 'no fix', 2: '2D fix', 3: '3D fix' };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const human = (ms: number) => (Math.abs(ms) < 8.64e15 ? formatTimestamp(ms, TimeFormat.HUMAN) : `${ms} ms`);
const signed = (ms: number) => `${ms < 0 ? '-' : '+'}${formatDuration(Math.abs(ms))}`;

/** The GPS receiver's time, judged. One per receiver (gpsd may serve several; the source follows one). */
export class GpsTimeKeeper {
  readonly settings: GpsSettings;
  private mode: 0 | 1 | 2 | 3 = 0;
  private sawFix = false;
  private noFixTold = false;
  private readonly nmea: Window = { samples: [], pending: [] };
  private readonly pps: Window = { samples: [], pending: [] };
  private calibration: Calibration | null = null;
  private lastSampleMono: number | null = null;
  private lastPpsMono: number | null = null;
  private silentTold = false;
  private refused: { code: GpsLossCode; gpsMs: number; words: string } | null = null;
  private maxEptMs = 0;
  /** Bumped by each confirmed jump: a reading after one is reported at once. */
  private generation = 0;
  private lastReportMono: number | null = null;
  private lastReportKey = 'none';

  constructor(settings: Partial<GpsSettings> = {}) {
    this.settings = { ...DEFAULT_GPS_SETTINGS, ...settings };
  }

  /** The fix of the latest TPV. */
  fix(mode: 0 | 1 | 2 | 3): GpsEvent[] {
    this.mode = mode;
    if (mode < 2) {
      if (this.noFixTold) return [];
      this.noFixTold = true;
      return [{ kind: 'lost', code: GpsLossCode.NoFix, why: this.sawFix ? 'GPS lost its fix: no time from it until the receiver sees enough satellites' : 'GPS has no fix yet: no time from it until the receiver sees enough satellites' }];
    }
    this.sawFix = true;
    if (this.noFixTold) {
      this.noFixTold = false;
      return [{ kind: 'info', message: `GPS has a ${FIX_WORDS[mode]} again` }];
    }
    return [];
  }

  /** One time from the receiver. */
  sample(s: GpsSample, env: GpsEnvironment, now: number): GpsEvent[] {
    const events: GpsEvent[] = [];
    this.lastSampleMono = now;
    if (s.kind === 'pps') this.lastPpsMono = now;
    if (s.eptMs != null && s.kind === 'nmea') this.maxEptMs = Math.max(this.maxEptMs, s.eptMs);
    if (this.silentTold) {
      this.silentTold = false;
      events.push({ kind: 'info', message: 'GPS gives time again' });
    }

    const refusal = this.implausible(s, env);
    if (refusal) {
      if (!this.refused || this.refused.code !== refusal.code) events.push({ kind: 'lost', code: refusal.code, why: refusal.words });
      this.refused = refusal;
      return events;
    }
    if (this.refused) {
      events.push({ kind: 'info', message: `GPS time is plausible again: ${human(s.gpsMs)}` });
      this.refused = null;
    }

    const window = s.kind === 'pps' ? this.pps : this.nmea;
    const tolerance = this.tolerance(s.kind, now);
    const sample: Raw = { raw: s.gpsMs - s.monoMs, mono: s.monoMs, gpsMs: s.gpsMs };
    this.evictOld(window, now);
    if (!window.samples.length) {
      window.samples.push(sample);
      this.calibrate(sample, s.kind, env, now);
      return events;
    }
    const centre = median(window.samples.map((x) => x.raw));
    if (Math.abs(sample.raw - centre) <= tolerance) {
      if (window.pending.length) {
        const off = window.pending[0].raw - centre;
        events.push({
          kind: 'info',
          message: `GPS said ${human(window.pending[0].gpsMs)} ${window.pending.length === 1 ? 'once' : `${window.pending.length} times`}, ${signed(off)} off its own time: ignored`,
        });
        window.pending = [];
      }
      window.samples.push(sample);
      if (window.samples.length > this.settings.windowSamples) window.samples.shift();
      this.calibrate(sample, s.kind, env, now);
      return events;
    }
    // Inconsistent: the start of a jump, or a glitch. Held back until `minSamples` agree.
    if (window.pending.length && Math.abs(sample.raw - median(window.pending.map((x) => x.raw))) > tolerance) window.pending = [];
    window.pending.push(sample);
    if (window.pending.length < this.settings.minSamples) return events;
    const jump = median(window.pending.map((x) => x.raw)) - centre;
    const before = window.samples[window.samples.length - 1];
    const from = before.gpsMs + (window.pending[0].mono - before.mono);
    events.push({
      kind: 'lost',
      code: GpsLossCode.TimeJump,
      why: `GPS time jumped by ${signed(jump)} (${human(from)} became ${human(window.pending[0].gpsMs)}) and held for ${window.pending.length} s: its earlier time is dropped, the new one used`,
    });
    window.samples = window.pending;
    window.pending = [];
    this.generation++;
    // The receiver's delay after a jump is not the one measured before it.
    if (s.kind === 'nmea' && this.calibration) this.calibration = null;
    return events;
  }

  /** The periodic part: a reading when one is due, silence, calibration ageing. Call after samples and every second. */
  tick(env: GpsEnvironment, now: number): GpsEvent[] {
    const events: GpsEvent[] = [];
    const cal = this.calibration;
    if (cal && this.calibrated() && !this.referenceUsable(env)) {
      if (this.calibratedBound(now) >= this.settings.nmeaBoundMs) {
        this.calibration = null;
        events.push({ kind: 'info', message: `GPS calibration against ${SOURCE_LABELS[cal.source]} has aged out (${formatDuration(now - cal.freshAtMono)} without it): back to ±${this.settings.nmeaBoundMs} ms` });
      }
    } else if (cal && !this.calibrated() && !this.referenceUsable(env)) {
      this.calibration = null; // too few samples to be worth keeping
    }
    if (this.mode >= 2 && this.lastSampleMono !== null && now - this.lastSampleMono > this.settings.silenceMs && !this.silentTold) {
      this.silentTold = true;
      events.push({ kind: 'lost', code: GpsLossCode.Silent, why: `GPS gave no time for ${formatDuration(now - this.lastSampleMono)} though it had a fix (receiver unplugged or stuck?)` });
    }
    const reading = this.reading(now);
    const key = reading ? `${reading.fine}|${this.calibrated()}|${this.generation}` : 'none';
    if (reading && (key !== this.lastReportKey || this.lastReportMono === null || now - this.lastReportMono >= this.settings.reportEveryMs)) {
      this.lastReportMono = now;
      events.push(reading);
    }
    this.lastReportKey = key;
    return events;
  }

  /** Forget the samples (gpsd went away): the calibration stays and ages. */
  reset(): void {
    this.mode = 0;
    this.nmea.samples = [];
    this.nmea.pending = [];
    this.pps.samples = [];
    this.pps.pending = [];
    this.lastSampleMono = null;
    this.lastPpsMono = null;
    this.silentTold = false;
    this.noFixTold = false;
    this.refused = null;
    this.lastReportKey = 'none';
  }

  /** The reading the time is worth now, or null when it gives none (no fix, silent, refused, a jump pending). */
  reading(now: number): Extract<GpsEvent, { kind: 'reading' }> | null {
    if (this.mode < 2 || this.refused || this.lastSampleMono === null || now - this.lastSampleMono > this.settings.silenceMs) return null;
    const st = this.settings;
    const drift = (w: Window) => (st.clockRatePpm * 1e-6) * (now - Math.min(...w.samples.map((x) => x.mono)));
    const ppsFresh = this.lastPpsMono !== null && now - this.lastPpsMono <= st.ppsFreshMs && this.pps.samples.length >= st.minSamples && !this.pps.pending.length;
    const facts = this.facts(now, ppsFresh);
    if (ppsFresh) {
      const recent = this.pps.samples.slice(-10);
      return { kind: 'reading', sourceMinusMonoMs: median(recent.map((x) => x.raw)), errorBoundMs: st.ppsBoundMs + st.stampErrorMs + drift(this.pps), fine: true, facts };
    }
    if (this.nmea.samples.length < st.minSamples || this.nmea.pending.length) return null;
    const raw = median(this.nmea.samples.map((x) => x.raw));
    if (this.calibrated()) {
      return { kind: 'reading', sourceMinusMonoMs: raw + this.measuredDelay()!, errorBoundMs: this.calibratedBound(now) + drift(this.nmea), fine: false, facts };
    }
    const bound = Math.max(st.nmeaBoundMs, this.maxEptMs) + st.stampErrorMs + drift(this.nmea);
    return { kind: 'reading', sourceMinusMonoMs: raw + this.assumedDelay(), errorBoundMs: bound, fine: false, facts };
  }

  /** The state in words, for the status. */
  describe(now: number): { state: string; active: boolean; errorBoundMs: number | null; facts: Record<string, string | number | boolean | null> } {
    const reading = this.reading(now);
    const ppsFresh = reading?.fine ?? false;
    const facts = this.facts(now, ppsFresh);
    if (this.refused) return { state: `refusing its time: ${this.refused.words}`, active: false, errorBoundMs: null, facts };
    if (this.mode < 2) return { state: this.lastSampleMono === null && !this.sawFix && this.mode === 0 ? "waiting for the receiver's time" : 'no fix', active: false, errorBoundMs: null, facts };
    if (this.lastSampleMono === null) return { state: `${FIX_WORDS[this.mode]}, waiting for its time`, active: false, errorBoundMs: null, facts };
    if (now - this.lastSampleMono > this.settings.silenceMs) return { state: `${FIX_WORDS[this.mode]}, but no time from it for ${formatDuration(now - this.lastSampleMono)}`, active: false, errorBoundMs: null, facts };
    if (this.nmea.pending.length && !ppsFresh) return { state: `${FIX_WORDS[this.mode]}, its time jumped: waiting for it to hold`, active: false, errorBoundMs: null, facts };
    const words = [FIX_WORDS[this.mode]];
    if (ppsFresh) words.push('PPS');
    else if (this.calibrated()) words.push(`calibrated against ${SOURCE_LABELS[this.calibration!.source]} (NMEA ${Math.round(this.measuredDelay()!)} ms late)`);
    else words.push('not calibrated');
    if (!reading) words.push(`waiting for ${this.settings.minSamples} consistent seconds`);
    return { state: words.join(', '), active: reading !== null, errorBoundMs: reading?.errorBoundMs ?? null, facts };
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private facts(now: number, ppsFresh: boolean): Record<string, string | number | boolean | null> {
    const calibrated = this.calibrated();
    return {
      fix: FIX_WORDS[this.mode],
      pps: ppsFresh,
      calibrated,
      nmeaDelayMs: calibrated ? Math.round(this.measuredDelay()!) : this.assumedDelay(),
      nmeaDelayFrom: calibrated ? 'measured' : this.settings.nmeaDelayMs ? 'GPS_OFFSET_MS' : 'assumed',
      calibratedAgainst: calibrated ? this.calibration!.source : null,
      calibrationAgeMs: calibrated && this.calibration ? Math.round(now - this.calibration.freshAtMono) : null,
    };
  }

  private assumedDelay(): number {
    return this.settings.nmeaDelayMs || this.settings.nmeaBoundMs;
  }

  private calibrated(): boolean {
    return this.calibration !== null && this.calibration.samples.length >= this.settings.minCalibrationSamples;
  }

  /** The receiver's NMEA delay as measured: median of (Pi minus GPS at arrival). */
  private measuredDelay(): number | null {
    return this.calibration ? -median(this.calibration.samples.map((c) => c.value)) : null;
  }

  private calibratedBound(now: number): number {
    const cal = this.calibration!;
    const centre = median(cal.samples.map((c) => c.value));
    const spread = Math.max(...cal.samples.map((c) => Math.abs(c.value - centre)));
    const refBound = Math.max(...cal.samples.map((c) => c.refBoundMs));
    const grown = (this.settings.calibrationGrowthMsPerMin * Math.max(0, now - cal.freshAtMono)) / 60_000;
    return Math.max(this.settings.calibrationFloorMs, spread + refBound + this.settings.stampErrorMs) + grown;
  }

  private referenceUsable(env: GpsEnvironment): boolean {
    return env.reference !== null && env.reference.source !== 'gps' && Number.isFinite(env.reference.errorBoundMs);
  }

  /** While a better source keeps the Pi's time, each consistent NMEA sample measures the receiver's delay. */
  private calibrate(sample: Raw, kind: GpsSample['kind'], env: GpsEnvironment, now: number): void {
    if (kind !== 'nmea' || !this.referenceUsable(env)) return;
    const ref = env.reference!;
    let cal = this.calibration;
    // The Pi's clock was stepped since the last sample: what was measured was against another time.
    if (!cal || cal.source !== ref.source || (cal.lastWallMinusMonoMs !== null && Math.abs(env.wallMinusMonoMs - cal.lastWallMinusMonoMs) > 5)) {
      cal = this.calibration = { samples: [], lastWallMinusMonoMs: null, freshAtMono: now, source: ref.source };
    }
    cal.samples.push({ value: sample.raw - env.wallMinusMonoMs, refBoundMs: ref.errorBoundMs });
    if (cal.samples.length > this.settings.calibrationSamples) cal.samples.shift();
    cal.lastWallMinusMonoMs = env.wallMinusMonoMs;
    cal.freshAtMono = now;
  }

  private tolerance(kind: GpsSample['kind'], now: number): number {
    // The whole width a consistent sample may take: twice the bound (lateness from 0 to 2 × bound).
    if (kind === 'pps') return Math.max(5, 2 * (this.settings.ppsBoundMs + this.settings.stampErrorMs));
    const bound = this.calibrated() ? this.calibratedBound(now) : Math.max(this.settings.nmeaBoundMs, this.maxEptMs);
    return Math.max(50, 2 * bound);
  }

  private evictOld(window: Window, now: number): void {
    const oldest = now - this.settings.windowAgeMs;
    window.samples = window.samples.filter((x) => x.mono >= oldest);
    window.pending = window.pending.filter((x) => x.mono >= oldest);
  }

  private implausible(s: GpsSample, env: GpsEnvironment): { code: GpsLossCode; gpsMs: number; words: string } | null {
    if (s.gpsMs >= env.plausibleAfterMs && s.gpsMs < MAX_PLAUSIBLE_MS) return null;
    const said = human(s.gpsMs);
    if (s.gpsMs >= MAX_PLAUSIBLE_MS) return { code: GpsLossCode.Implausible, gpsMs: s.gpsMs, words: `GPS says ${said}, not before 2100: its time is refused` };
    const pi = s.monoMs + env.wallMinusMonoMs;
    for (let k = 1; k <= 3; k++) {
      if (Math.abs(s.gpsMs + k * GPS_ROLLOVER_MS - pi) <= this.settings.rolloverSlackMs) {
        return {
          code: GpsLossCode.WeekRollover,
          gpsMs: s.gpsMs,
          words: `GPS says ${said}, ${k === 1 ? '1024 weeks' : `${k} × 1024 weeks`} before the Pi's time: a receiver whose firmware missed a GPS week-number rollover; its time is refused`,
        };
      }
    }
    return { code: GpsLossCode.Implausible, gpsMs: s.gpsMs, words: `GPS says ${said}, before ${human(env.plausibleAfterMs)} (the earliest time this Pi may have): its time is refused` };
  }
}
