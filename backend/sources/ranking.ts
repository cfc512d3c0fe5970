/**
 * Every time source, ranked in one table: the source policy treats them all alike (measure, step, hold,
 * guard, hand over, degrade) and asks this table only how good each one is. Adding a source: its value and
 * label in `protocol/vocabulary.ts`, one entry here, and its adapter module under `backend/sources/`.
 */
import { Reliability, SyncSource } from '../protocol/vocabulary';

export interface SourceRule {
  source: SyncSource;
  /** Higher wins. A lower-ranked source steps the clock only when the Pi has no reliable time. */
  rank: number;
  /** The rank of a fine reading (`SourceReading.fine`: GPS disciplined by PPS), when it differs. */
  fineRank?: number;
  /** False: it measures and reports but never steps (NTP keeps the clock itself). */
  steps: boolean;
  /** Its time is never better than this. */
  cap?: Reliability;
  /** Its error bound when it gives none itself, ms. */
  errorBoundMs?: number;
  /** Once it set the clock, nothing lower steps it until the operator releases it. */
  holds?: boolean;
  /** Automatic sources are checked by the zone guard; the operator is not. */
  automatic: boolean;
}

/** Best first (by `rank`; a fine GPS reading ranks between the operator and a phone). */
export const SOURCE_RANKING: readonly SourceRule[] = [
  { source: 'ntp', rank: 50, steps: false, automatic: true },
  { source: 'manual', rank: 40, steps: true, holds: true, automatic: false },
  { source: 'client', rank: 30, steps: true, automatic: true },
  // NMEA time is late by 10-700 ms and jitters by hundreds: below a phone. With PPS it is better than a phone's burst.
  { source: 'gps', rank: 20, fineRank: 35, steps: true, automatic: true },
  { source: 'camera', rank: 10, steps: true, cap: 'medium', errorBoundMs: 500, automatic: true },
  // A battery-backed clock drifts by its ppm since it was last set: the last resort before nothing.
  { source: 'rtc', rank: 5, steps: true, cap: 'medium', automatic: true },
  { source: 'none', rank: 0, steps: false, automatic: true },
];

export function ruleOf(source: SyncSource): SourceRule {
  return SOURCE_RANKING.find((r) => r.source === source) ?? SOURCE_RANKING[SOURCE_RANKING.length - 1];
}

/** How a reading ranks: a fine reading of a source with a `fineRank` ranks by it. */
export function rankOf(source: SyncSource, fine = false): number {
  const rule = ruleOf(source);
  return fine && rule.fineRank !== undefined ? rule.fineRank : rule.rank;
}
