import { Logger } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ClockSet, JournalEntries, lastClockSet } from '../../activity-log/journal-times';
import { messageOf } from '../../common/domain-error';
import { SyncSource } from '../../protocol/vocabulary';
import { SystemClock } from '../../system-clock/system-clock';
import { Clock } from '../../time/clock';
import { formatDuration, formatTimestamp, TimeFormat } from '../../time/format';
import { BUILD_DATE_MS, MAX_PLAUSIBLE_MS } from '../../time/validation';
import { SourceContext, SourceLoss, SourceReading, SourceSink, SourceStatus, TimeSourceAdapter } from '../source-port';

/** The RTC is read in whole seconds: the true time is within [s, s + 1) s, so s + 500 ms, ± 500 ms. */
export const RTC_READ_HALF_MS = 500;
/**
 * timedated writes the RTC with the whole seconds of the time it sets (systemd's method_set_time hands
 * `ts.tv_sec` to the RTC), so right after a step the RTC can be up to a second behind; a chip that does not
 * restart its second when written can as well be up to a second ahead.
 */
export const RTC_WRITE_ERROR_MS = 1000;

/** The codes of the losses this adapter reports. */
export const RtcLossCode = {
  /** Before the build date or the journal's last known time (a flat battery), or after 2100. */
  ImplausibleTime: 'IMPLAUSIBLE_TIME',
  /** The journal has no confirmed step (or cannot be read): how far the RTC drifted since it was set is unknown. */
  AgeUnknown: 'RTC_AGE_UNKNOWN',
  /** The RTC is there but gave no time: a read error (the kernel says EINVAL when the chip lost its time), garbage, timedated unreachable. */
  Unreadable: 'RTC_UNREADABLE',
} as const;
export type RtcLossCode = (typeof RtcLossCode)[keyof typeof RtcLossCode];

/** Who the RTC is when timedated was asked (its sysfs folder was not there). */
export const TIMEDATED_RTC = 'timedated RTC';

/**
 * The bound of a hardware clock reading, ms: the whole seconds read (500 ms), timedated's whole-second write
 * (1 s), the bound of the time it was set to, and `driftPpm` of the time since it was set.
 */
export function rtcErrorBoundMs(ageMs: number, driftPpm: number, setBoundMs: number | null = 0): number {
  return RTC_READ_HALF_MS + RTC_WRITE_ERROR_MS + (setBoundMs ?? 0) + (driftPpm * Math.max(0, ageMs)) / 1e6;
}

export interface RtcSettings {
  /** RTC_SYSFS: the RTC's sysfs folder (its `since_epoch`); null: no hardware clock is read at all (`off` says why). */
  sysfs: string | null;
  /** Why no hardware clock is read, for the one log line at start (sysfs null). */
  off?: string;
  /** RTC_DRIFT_PPM. */
  driftPpm: number;
}

/** One read of the RTC: what it said and when, on the monotonic clock. */
export interface RtcSample {
  who: string;
  via: 'sysfs' | 'timedated';
  /** ms since the epoch, whole seconds. */
  rtcMs: number;
  monoBefore: number;
  monoAfter: number;
  /** The driver's name, whether the kernel set the system clock from it at boot (sysfs `name`, `hctosys`). */
  device?: string | null;
  hctosys?: boolean | null;
}

/** What the journal says of the RTC's last setting: the last confirmed step, or why that is unknown. */
export type RtcHistory = { lastSet: ClockSet | null } | { journalError: string };

export type RtcJudgement =
  | { kind: 'reading'; reading: SourceReading; ageMs: number; lastSet: ClockSet }
  | { kind: 'refused'; loss: SourceLoss; state: string };

/**
 * Pure: a sample of the RTC, judged. Refused, in this order: a time after 2100; a time that even with its bound
 * is before the floor (the build date, the context's plausible-after time, the last time the clock was set): the
 * battery is probably flat; an RTC whose last setting the journal does not know (its drift since is unknown, and
 * a bound guessed for it could be a lie). Otherwise a reading: s + 500 ms, anchored in the middle of the read,
 * with the bound `rtcErrorBoundMs` plus half the read's duration.
 */
export function judgeRtc(sample: RtcSample, history: RtcHistory, plausibleAfterMs: number, driftPpm: number): RtcJudgement {
  const label = rtcLabel(sample.who);
  const says = `The Pi's ${label} says ${humanUtc(sample.rtcMs)}`;
  const refuse = (code: RtcLossCode, why: string, state: string): RtcJudgement => ({ kind: 'refused', loss: { source: SyncSource.Rtc, who: sample.who, code, why }, state: `${label} ${state}` });
  if (sample.rtcMs >= MAX_PLAUSIBLE_MS) return refuse(RtcLossCode.ImplausibleTime, `${says}, after 2100: it cannot be right; not used`, `says ${humanUtc(sample.rtcMs)}: impossible, not used`);

  const lastSet = 'lastSet' in history ? history.lastSet : null;
  const centerMs = sample.rtcMs + RTC_READ_HALF_MS;
  const ageMs = lastSet ? Math.max(0, centerMs - lastSet.atMs) : 0;
  const boundMs = round3(rtcErrorBoundMs(ageMs, driftPpm, lastSet?.errorBoundMs) + (sample.monoAfter - sample.monoBefore) / 2);

  // The latest the RTC could mean is before a time the Pi already knew.
  const knownFloor = Math.max(plausibleAfterMs, lastSet?.atMs ?? -Infinity);
  if (centerMs + boundMs < Math.max(BUILD_DATE_MS, knownFloor)) {
    if (knownFloor <= BUILD_DATE_MS) {
      const built = humanUtc(BUILD_DATE_MS).replace(/, .*$/, '');
      return refuse(RtcLossCode.ImplausibleTime, `${says}, before this software was built (${built}): its battery is probably flat or it was never set; not used`, `says ${humanUtc(sample.rtcMs)}, before the build date: not used`);
    }
    return refuse(RtcLossCode.ImplausibleTime, `${says}, before the last time this Pi knew (${humanUtc(knownFloor)}): its battery is probably flat; not used`, `says ${humanUtc(sample.rtcMs)}, before the last time this Pi knew: not used`);
  }

  if ('journalError' in history) {
    return refuse(RtcLossCode.AgeUnknown, `${says}, but when it was last set is unknown (${history.journalError}), so how far it has drifted is unknown; not used`, 'last set: unknown (the journal cannot be read); not used');
  }
  if (!lastSet) {
    return refuse(
      RtcLossCode.AgeUnknown,
      `${says}, but the journal has no record of the clock being set, so how far it has drifted is unknown; not used until the Pi's clock has been set once`,
      'last set: unknown; not used until the clock has been set once',
    );
  }

  const atMono = (sample.monoBefore + sample.monoAfter) / 2;
  const reading: SourceReading = {
    source: SyncSource.Rtc,
    who: sample.who,
    sourceMinusMonoMs: centerMs - atMono,
    errorBoundMs: boundMs,
    atMono,
    facts: {
      via: sample.via,
      rtcTime: new Date(sample.rtcMs).toISOString(),
      lastSetAt: new Date(lastSet.atMs).toISOString(),
      lastSetBy: lastSet.source,
      lastSetAgoMs: Math.round(ageMs),
      driftPpm,
      ...(sample.device ? { device: sample.device } : {}),
      ...(typeof sample.hctosys === 'boolean' ? { hctosys: sample.hctosys } : {}),
    },
  };
  return { kind: 'reading', reading, ageMs, lastSet };
}

/** "hardware clock rtc0", "hardware clock (through timedated)". */
export function rtcLabel(who: string): string {
  return who === TIMEDATED_RTC ? 'hardware clock (through timedated)' : `hardware clock ${who}`;
}

type State =
  | { kind: 'idle' }
  | { kind: 'off' }
  | { kind: 'none'; who: string }
  | { kind: 'reading'; reading: SourceReading; ageMs: number }
  | { kind: 'refused'; loss: SourceLoss; state: string };

/** What reading the RTC found: a sample, none at all, or an RTC that gave no time. */
type Found = { kind: 'sample'; sample: RtcSample } | { kind: 'none'; who: string; why: string } | { kind: 'unreadable'; who: string; why: string };

/**
 * The Pi's hardware clock as a time source (`rtc`, ranked low): read once at start (and again on `readNow()`), from
 * `<RTC_SYSFS>/since_epoch`, or from timedated's RTCTimeUSec where that file is not there. Its bound grows with
 * the time since the clock was last set (the journal's last confirmed step) at RTC_DRIFT_PPM. Judged by
 * `judgeRtc`; this class only reads files, asks timedated and reports.
 *
 * No polling for the second's edge: it could take the read from ±500 ms to a few ms, but timedated's whole-second
 * write leaves the RTC itself up to a second off, which no read can see.
 */
export class RtcSource extends TimeSourceAdapter {
  readonly source = SyncSource.Rtc;
  private sink: SourceSink | null = null;
  private context: SourceContext | null = null;
  private state: State = { kind: 'idle' };
  private inFlight: Promise<SourceReading | null> | null = null;

  constructor(
    private readonly settings: RtcSettings,
    private readonly clock: Clock,
    private readonly systemClock: SystemClock,
    /** The journal as parsed (`parseJournal(await journal.text())`); it may throw (JOURNAL_UNREADABLE). */
    private readonly readJournal: () => Promise<JournalEntries>,
  ) {
    super();
  }

  private readonly logger = new Logger(RtcSource.name);

  async start(sink: SourceSink, context: SourceContext): Promise<void> {
    this.sink = sink;
    this.context = context;
    if (this.settings.sysfs === null) {
      this.state = { kind: 'off' };
      // A setting, not news for the operator: the server's log says it once, the activity log does not.
      this.logger.log(this.settings.off ?? 'The hardware clock is not read');
      return;
    }
    await this.readNow();
  }

  stop(): void {
    this.sink = null;
    this.context = null;
  }

  /** Reads the RTC now and reports what it found; the reading, or null if it gave none. One read at a time. */
  readNow(): Promise<SourceReading | null> {
    if (!this.sink || this.settings.sysfs === null) return Promise.resolve(null);
    this.inFlight ??= this.readAndReport().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  status(): SourceStatus | null {
    const s = this.state;
    switch (s.kind) {
      case 'idle':
      case 'off':
        return null;
      case 'none':
        return { source: this.source, who: s.who, state: 'no hardware clock', active: false, absent: true, errorBoundMs: null };
      case 'refused':
        return { source: this.source, who: s.loss.who, state: s.state, active: false, errorBoundMs: null };
      case 'reading':
        return {
          source: this.source,
          who: s.reading.who,
          state: `${rtcLabel(s.reading.who)}, last set ${formatDuration(s.ageMs)} ago, ±${formatDuration(s.reading.errorBoundMs)}`,
          active: true,
          errorBoundMs: s.reading.errorBoundMs,
          facts: s.reading.facts,
        };
    }
  }

  private async readAndReport(): Promise<SourceReading | null> {
    const found = await this.find();
    const sink = this.sink;
    const context = this.context;
    if (!sink || !context) return null; // stopped meanwhile
    if (found.kind === 'none') {
      this.state = { kind: 'none', who: found.who };
      sink.info(this.source, found.why);
      return null;
    }
    if (found.kind === 'unreadable') return this.refuse(sink, { kind: 'refused', loss: { source: this.source, who: found.who, code: RtcLossCode.Unreadable, why: found.why }, state: `${rtcLabel(found.who)} could not be read; not used` });

    const judged = judgeRtc(found.sample, await this.history(), context.plausibleAfterMs(), this.settings.driftPpm);
    if (!this.sink) return null;
    if (judged.kind === 'refused') return this.refuse(sink, judged);
    const reading = { ...judged.reading, facts: { ...judged.reading.facts, minusPiMs: round3(judged.reading.sourceMinusMonoMs - context.wallMinusMonoMs()) } };
    this.state = { kind: 'reading', reading, ageMs: judged.ageMs };
    sink.reading(reading);
    return reading;
  }

  private refuse(sink: SourceSink, refused: Extract<RtcJudgement, { kind: 'refused' }>): null {
    this.state = refused;
    sink.lost(refused.loss);
    return null;
  }

  private async history(): Promise<RtcHistory> {
    try {
      return { lastSet: lastClockSet(await this.readJournal()) };
    } catch (error) {
      return { journalError: messageOf(error) };
    }
  }

  /** sysfs first; where its `since_epoch` is not there, timedated. */
  private async find(): Promise<Found> {
    const folder = this.settings.sysfs!;
    const file = join(folder, 'since_epoch');
    const who = basename(folder) || folder;
    const monoBefore = this.clock.monotonic();
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return this.askTimedated(file);
      const cause = code === 'EINVAL' ? 'it holds no valid time (EINVAL): its battery is probably flat' : messageOf(error);
      return { kind: 'unreadable', who, why: `The Pi's hardware clock ${who} could not be read (${file}): ${cause}; not used` };
    }
    const monoAfter = this.clock.monotonic();
    const seconds = text.trim();
    if (!/^\d{1,12}$/.test(seconds)) {
      return { kind: 'unreadable', who, why: `The Pi's hardware clock ${who} gave ${JSON.stringify(seconds.slice(0, 40))} in ${file}, not a number of seconds; not used` };
    }
    const [device, hctosys] = await Promise.all([readText(join(folder, 'name')), readText(join(folder, 'hctosys'))]);
    return {
      kind: 'sample',
      sample: { who, via: 'sysfs', rtcMs: Number(seconds) * 1000, monoBefore, monoAfter, device: device || null, hctosys: hctosys === '1' ? true : hctosys === '0' ? false : null },
    };
  }

  private async askTimedated(file: string): Promise<Found> {
    const who = TIMEDATED_RTC;
    const monoBefore = this.clock.monotonic();
    let rtcMs: number | null;
    try {
      rtcMs = await this.systemClock.readRtcMs();
    } catch (error) {
      return { kind: 'unreadable', who, why: `There is no ${file}, and timedated could not be asked for the hardware clock (${messageOf(error)}); not used` };
    }
    const monoAfter = this.clock.monotonic();
    if (rtcMs === null || rtcMs <= 0) return { kind: 'none', who, why: `This Pi has no hardware clock (no ${file}, and timedated reports none): the RTC is not a time source here` };
    return { kind: 'sample', sample: { who, via: 'timedated', rtcMs, monoBefore, monoAfter } };
  }
}

async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** "1 Mar 2024, 10:00:00 UTC" */
function humanUtc(ms: number): string {
  try {
    return formatTimestamp(ms, TimeFormat.HUMAN, 'UTC');
  } catch {
    return `${ms} ms after 1970`;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
