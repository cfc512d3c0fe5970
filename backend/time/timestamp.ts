import { Reliability, SyncSource } from '../protocol/messages';
import { Clock } from './clock';
import { formatTimestamp, TimeFormat } from './format';

/** How far the clock can be trusted right now, as the time-sync policy sees it. */
export interface ClockAccuracy {
  source: SyncSource;
  reliability: Reliability;
  /** Bound on the clock's error in ms (half the best round trip, plus stamp resolution); null if unknown. */
  estimatedErrorMs: number | null;
}

/** A reading of the product clock together with what is known about its accuracy. */
export interface AccurateTimestamp {
  epochMs: number;
  /** `epochMs` as YYYY-MM-DDTHH:mm:ss.sssZ. */
  iso: string;
  source: SyncSource;
  reliability: Reliability;
  estimatedErrorMs: number | null;
  /** The clock was set from some source: neither the source nor the reliability is 'none'. */
  synchronized: boolean;
}

/** Reads `clock` once and stamps the reading with `accuracy`. */
export function makeTimestamp(clock: Clock, accuracy: ClockAccuracy): AccurateTimestamp {
  const epochMs = clock.now();
  return {
    epochMs,
    iso: formatTimestamp(epochMs, TimeFormat.ISO8601),
    source: accuracy.source,
    reliability: accuracy.reliability,
    estimatedErrorMs: accuracy.estimatedErrorMs,
    synchronized: accuracy.source !== 'none' && accuracy.reliability !== 'none',
  };
}
