import { Reliability, SyncSource } from '../protocol/messages';

export const HIGH_RELIABILITY_MS = 5 * 60_000;
export const MEDIUM_RELIABILITY_MS = 60 * 60_000;
const RANK: Record<Reliability, number> = { none: 0, low: 1, medium: 2, high: 3 };

/** Design, Reliability Levels: by the age of the last successful sync, on the monotonic clock. */
export function reliabilityForAge(ageMs: number | null): Reliability {
  if (ageMs === null) return 'none';
  if (ageMs < HIGH_RELIABILITY_MS) return 'high';
  if (ageMs < MEDIUM_RELIABILITY_MS) return 'medium';
  return 'low';
}

export function lowerOf(a: Reliability, b: Reliability): Reliability {
  return RANK[a] <= RANK[b] ? a : b;
}

export function isDrop(from: Reliability, to: Reliability): boolean {
  return RANK[to] < RANK[from] && (to === 'low' || to === 'none');
}

export interface SyncSuccess {
  monotonicMs: number;
  wallMs: number;
  source: SyncSource;
  offsetMs: number;
  errorBoundMs: number | null;
  client: string | null;
  /** A source that is never better than this (the camera's battery clock: medium). */
  cap?: Reliability;
}

/**
 * What the Pi knows about its own time. Only a confirmed write (or a measurement that needed none) makes it
 * synchronized; a failure makes it unreliable until the next success. Pure: time comes in as arguments.
 */
export class SyncState {
  private success: SyncSuccess | null = null;
  private failed = false;

  recordSuccess(success: SyncSuccess): void {
    this.success = success;
    this.failed = false;
  }

  /** Keeps the last offset for display, but the Pi's time is no longer trusted. */
  recordFailure(): void {
    this.failed = true;
  }

  /** A measurement while NTP keeps the clock: the offset is shown, the clock's trust comes from NTP. */
  recordMeasurement(offsetMs: number, errorBoundMs: number | null): void {
    if (this.success) this.success = { ...this.success, offsetMs, errorBoundMs };
  }

  get last(): SyncSuccess | null {
    return this.success;
  }

  ageMs(monotonicNow: number): number | null {
    return this.success ? monotonicNow - this.success.monotonicMs : null;
  }

  reliability(monotonicNow: number): Reliability {
    if (this.failed || !this.success) return 'none';
    const byAge = reliabilityForAge(this.ageMs(monotonicNow));
    return this.success.cap ? lowerOf(byAge, this.success.cap) : byAge;
  }

  isSynchronized(monotonicNow: number): boolean {
    return this.reliability(monotonicNow) !== 'none';
  }
}
