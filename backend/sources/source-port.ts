/**
 * The source port: what every time source adapter (GPS through gpsd, the hardware clock, NTP, a camera's
 * clock, the phone) reports to the source policy, and what it may ask of the Pi. An adapter owns its device or
 * connection; it never steps the clock, writes the log or talks to pages: it reports readings and losses, and
 * the policy (the same for every source, ranked by `ranking.ts`) decides.
 */
import type { SourceStatus } from '../protocol/messages';
import { SyncSource } from '../protocol/vocabulary';

export type { SourceStatus };

/** One measurement of a source against the Pi's monotonic clock (so a step of the Pi's clock does not move it). */
export interface SourceReading {
  source: SyncSource;
  /** Which one, for the log: a gpsd device ("/dev/ttyACM0"), an RTC ("rtc0"), a camera id, a phone's address. */
  who: string;
  /** The source's time minus the Pi's monotonic clock (`Clock.monotonic()`), ms: the time it says, anchored. */
  sourceMinusMonoMs: number;
  /** The source's true time lies within ± this of what it says, ms. */
  errorBoundMs: number;
  /** When it was read, on the monotonic clock. */
  atMono: number;
  /** A fine reading ranks higher (GPS disciplined by PPS): see `SourceRule.fineRank`. */
  fine?: boolean;
  /** The IANA zone the source lives in, when it says one (a phone does; GPS and clocks keep UTC). */
  zone?: string;
  /** Plain facts for the status and the log (fix state, calibrated, satellites...). */
  facts?: Readonly<Record<string, string | number | boolean | null>>;
}

/** The source stopped giving time (gpsd went away, fix lost, a reading refused as implausible). */
export interface SourceLoss {
  source: SyncSource;
  who: string;
  /** Plain words for the operator: "GPS lost its fix", "gpsd at 127.0.0.1:2947 went away". */
  why: string;
  /** A coded reason: GPS_NO_FIX, GPS_GONE, IMPLAUSIBLE_TIME... */
  code: string;
}

/** What an adapter may know of the Pi, without reaching into the policy. */
export interface SourceContext {
  /**
   * The Pi's time as a reference for calibration: set from a better source (a phone) recently enough to be
   * trusted now, with its bound at this moment; null when there is none.
   */
  reference(): { source: SyncSource; errorBoundMs: number } | null;
  /** The earliest time a source may say: the build date, or the last time the journal knew, whichever is later. */
  plausibleAfterMs(): number;
  /** The Pi's wall clock minus its monotonic clock now (to turn a reading into an offset in words). */
  wallMinusMonoMs(): number;
}

/** Where an adapter reports. */
export interface SourceSink {
  reading(r: SourceReading): void;
  lost(l: SourceLoss): void;
  /** One plain line for the activity log, not an error (e.g. "no gpsd at 127.0.0.1:2947: GPS off"). */
  info(source: SyncSource, message: string): void;
  /**
   * A source that keeps the Pi's clock itself (NTP) started or stopped doing so: it gives no reading to step to.
   * `who`: the server it follows, when it names one (chrony following a leader Pi).
   */
  keeping?(source: SyncSource, keeps: boolean, who?: string): void;
}


/**
 * A time source adapter: started once at boot with the sink and the context, stopped at shutdown.
 * Nest providers that implement this are collected by the TimeSync module (`TIME_SOURCE_ADAPTERS`).
 */
export abstract class TimeSourceAdapter {
  abstract readonly source: SyncSource;
  abstract start(sink: SourceSink, context: SourceContext): void | Promise<void>;
  abstract stop(): void | Promise<void>;
  abstract status(): SourceStatus | null;
}
