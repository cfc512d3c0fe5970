import { Injectable } from '@nestjs/common';
import { Clock } from './clock';

export interface DurationStats {
  count: number;
  minMs: number;
  avgMs: number;
  maxMs: number;
  lastMs: number;
}

/** Named operations kept at most; past this the oldest name is forgotten, so memory stays bounded. */
export const MAX_TRACKED_OPERATIONS = 256;

/**
 * Times named operations on the monotonic clock (a wall-clock step during a sync must not produce a
 * negative or hour-long duration) and keeps count, min, mean, max and last per name.
 */
@Injectable()
export class DurationTracker {
  private readonly entries = new Map<string, { count: number; sum: number; min: number; max: number; last: number }>();

  constructor(private readonly clock: Clock) {}

  /** Starts timing `name`; the returned function stops it, records the duration once and returns it. */
  start(name: string): () => number {
    const startedAt = this.clock.monotonic();
    let duration: number | undefined;
    return () => {
      if (duration === undefined) {
        duration = Math.max(0, this.clock.monotonic() - startedAt);
        this.record(name, duration);
      }
      return duration;
    };
  }

  /** Runs `fn` and records how long it took, whether it resolved or rejected. */
  async track<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const stop = this.start(name);
    try {
      return await fn();
    } finally {
      stop();
    }
  }

  /** Adds one measured duration for `name`. */
  record(name: string, ms: number): void {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new RangeError(`duration of "${name}" must be a finite number >= 0, got ${ms}`);
    let entry = this.entries.get(name);
    if (!entry) {
      if (this.entries.size >= MAX_TRACKED_OPERATIONS) this.entries.delete(this.entries.keys().next().value as string);
      entry = { count: 0, sum: 0, min: Infinity, max: -Infinity, last: 0 };
      this.entries.set(name, entry);
    }
    entry.count += 1;
    entry.sum += ms;
    entry.min = Math.min(entry.min, ms);
    entry.max = Math.max(entry.max, ms);
    entry.last = ms;
  }

  /** Statistics of one operation (undefined if it never ran), or of all of them by name. */
  stats(name: string): DurationStats | undefined;
  stats(): Record<string, DurationStats>;
  stats(name?: string): DurationStats | undefined | Record<string, DurationStats> {
    if (name !== undefined) {
      const entry = this.entries.get(name);
      return entry && toStats(entry);
    }
    return Object.fromEntries([...this.entries].map(([key, entry]) => [key, toStats(entry)]));
  }

  /** Forgets one operation, or all. */
  reset(name?: string): void {
    if (name === undefined) this.entries.clear();
    else this.entries.delete(name);
  }
}

function toStats(entry: { count: number; sum: number; min: number; max: number; last: number }): DurationStats {
  return { count: entry.count, minMs: entry.min, avgMs: entry.sum / entry.count, maxMs: entry.max, lastMs: entry.last };
}
