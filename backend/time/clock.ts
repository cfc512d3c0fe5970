import { performance } from 'node:perf_hooks';

/**
 * The only source of "now" in the backend.
 *
 * `now()` is the wall clock of the machine as the product sees it (ms since the epoch); it can be
 * stepped. `monotonic()` never jumps and is what ages, intervals and probe stamps are measured with.
 */
export abstract class Clock {
  abstract now(): number;
  abstract monotonic(): number;

  /** The wall clock to the microsecond where the platform knows it (for offsets, not for display). */
  preciseNow(): number {
    return this.now();
  }

  /** Wall minus monotonic: constant while the clock runs freely, changes only when the wall clock is stepped. */
  epochOfMonotonic(): number {
    return this.now() - this.monotonic();
  }
}

/** The host's clocks, as they are. */
export class HostClock extends Clock {
  now(): number {
    return Date.now();
  }
  override preciseNow(): number {
    return performance.timeOrigin + performance.now();
  }
  monotonic(): number {
    return performance.now();
  }
}

/**
 * The clock of the `simulated` SystemClock backend: the host's time plus an offset that a step changes.
 * The host clock itself is never touched.
 */
export class SimulatedWallClock extends Clock {
  constructor(
    private offsetMs = 0,
    private readonly host: Clock = new HostClock(),
  ) {
    super();
  }
  now(): number {
    return this.host.now() + this.offsetMs;
  }
  override preciseNow(): number {
    return this.host.preciseNow() + this.offsetMs;
  }
  monotonic(): number {
    return this.host.monotonic();
  }
  get offset(): number {
    return this.offsetMs;
  }
  /**
   * Steps the wall clock so that it reads `epochMs` now. The offset is taken against the host's time to the
   * microsecond (Date.now() truncates to whole ms, which would add up to 1 ms the error bound does not cover);
   * what goes on the wire is rounded to whole ms where it is sent.
   */
  stepTo(epochMs: number): void {
    this.offsetMs = epochMs - this.host.preciseNow();
  }
}

/** A hand-driven clock for unit tests. */
export class ManualClock extends Clock {
  constructor(
    public wallMs = Date.UTC(2026, 10, 25, 12, 0, 0),
    public monoMs = 1_000,
  ) {
    super();
  }
  now(): number {
    return this.wallMs;
  }
  monotonic(): number {
    return this.monoMs;
  }
  /** Lets time pass: both clocks move together. */
  advance(ms: number): void {
    this.wallMs += ms;
    this.monoMs += ms;
  }
  /** Steps the wall clock only, as settimeofday would. */
  step(toWallMs: number): void {
    this.wallMs = toWallMs;
  }
}
