/**
 * Pure arithmetic of a camera clock sync: how long a request takes to reach the camera, when to send the
 * PUT so that it lands on a second boundary, and where the camera's second ticked between two readings.
 * No clocks, no sockets: callers pass the times.
 */

/** One request seen from the Pi: wall time when it left and when its answer was complete. */
export interface Exchange {
  sentAtMs: number;
  receivedAtMs: number;
}

/** The estimated instant at which the camera handled a request (half way through), and how far off that can be. */
export function handledAt(exchange: Exchange): { atMs: number; boundMs: number } {
  const half = (exchange.receivedAtMs - exchange.sentAtMs) / 2;
  return { atMs: exchange.sentAtMs + half, boundMs: half };
}

/**
 * Median of the most recent round-trip times; one-way latency is half of it. A median rather than a mean
 * so that one slow answer (a TCP handshake, a Wi-Fi retry) does not move the next sync.
 */
export class LatencyEstimator {
  private samples: Array<{ rttMs: number; atMono: number }> = [];

  constructor(
    private readonly size = 15,
    private readonly maxAgeMs = 120_000,
  ) {}

  add(rttMs: number, atMono: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.samples.push({ rttMs, atMono });
    if (this.samples.length > this.size) this.samples.shift();
  }

  /** Samples younger than maxAgeMs at `nowMono`. */
  count(nowMono: number): number {
    return this.fresh(nowMono).length;
  }

  roundTripMs(nowMono: number): number | null {
    const rtts = this.fresh(nowMono)
      .map((s) => s.rttMs)
      .sort((a, b) => a - b);
    if (!rtts.length) return null;
    const mid = rtts.length >> 1;
    return rtts.length % 2 ? rtts[mid] : (rtts[mid - 1] + rtts[mid]) / 2;
  }

  oneWayMs(nowMono: number): number | null {
    const rtt = this.roundTripMs(nowMono);
    return rtt === null ? null : rtt / 2;
  }

  clear(): void {
    this.samples = [];
  }

  private fresh(nowMono: number) {
    return this.samples.filter((s) => nowMono - s.atMono <= this.maxAgeMs);
  }
}

/**
 * When to send the PUT: so that it reaches the camera (after `oneWayMs`) exactly on the next second
 * boundary that leaves at least `minLeadMs` to get ready.
 */
export function planSecondAlignedSend(nowMs: number, oneWayMs: number, minLeadMs = 30): { sendAtMs: number; boundaryMs: number } {
  let boundaryMs = Math.ceil((nowMs + oneWayMs + minLeadMs) / 1000) * 1000;
  if (boundaryMs - oneWayMs - nowMs < minLeadMs) boundaryMs += 1000;
  return { sendAtMs: boundaryMs - oneWayMs, boundaryMs };
}

/**
 * The second to write when the PUT leaves at `nowMs`: the boundary nearest to its arrival. If the timer fired
 * late this still picks the least wrong second; `missMs` says how far from the boundary it will land.
 */
export function secondToWrite(nowMs: number, oneWayMs: number): { secondMs: number; missMs: number } {
  const arrival = nowMs + oneWayMs;
  const secondMs = Math.round(arrival / 1000) * 1000;
  return { secondMs, missMs: arrival - secondMs };
}

/** A reading of the camera clock: the second it showed (UTC ms) and the exchange that fetched it. */
export interface ClockReading extends Exchange {
  cameraMs: number;
}

/**
 * The camera's clock error (camera minus Pi, ms) from readings of one setting of its clock. Each reading
 * says: at some instant t between sending and receiving, the camera showed second S, so the error lies in
 * [S - received, S + 1000 - sent). Intersecting them narrows the one-second uncertainty down to about one
 * round trip around a tick of the camera's second. `boundMs` is half the width of what is left.
 * Readings that contradict each other (a clock step in between) leave the last reading's ±500 ms.
 */
export function estimateClockError(readings: readonly ClockReading[]): { errorMs: number; boundMs: number; consistent: boolean } {
  if (!readings.length) throw new Error('no readings');
  let low = -Infinity;
  let high = Infinity;
  for (const r of readings) {
    low = Math.max(low, r.cameraMs - r.receivedAtMs);
    high = Math.min(high, r.cameraMs + 1000 - r.sentAtMs);
  }
  const consistent = low <= high;
  if (!consistent) {
    const last = readings[readings.length - 1];
    low = last.cameraMs - last.receivedAtMs;
    high = last.cameraMs + 1000 - last.sentAtMs;
  }
  return { errorMs: (low + high) / 2, boundMs: (high - low) / 2, consistent };
}

/**
 * One second boundary for several cameras written together. Each camera, once it has measured its latency,
 * `arrive`s with its one-way time; one that drops out (busy, gone) `leave`s. When every camera has done one
 * or the other, the boundary is planned once, for the slowest of them, and every arrival gets the same
 * boundary: each then sends its PUT at `boundary - its own one-way time`.
 */
export class SharedSecondBoundary {
  private readonly waiting: Array<(boundaryMs: number) => void> = [];
  private slowestOneWayMs = 0;
  private boundaryMs: number | null = null;

  constructor(
    private readonly now: () => number,
    private pending: number,
    private readonly minLeadMs = 30,
  ) {}

  arrive(oneWayMs: number): Promise<number> {
    this.slowestOneWayMs = Math.max(this.slowestOneWayMs, oneWayMs);
    const boundary = new Promise<number>((resolve) => this.waiting.push(resolve));
    this.settle();
    return boundary;
  }

  leave(): void {
    this.settle();
  }

  private settle(): void {
    this.pending -= 1;
    if (this.pending > 0) return;
    this.boundaryMs ??= planSecondAlignedSend(this.now(), this.slowestOneWayMs, this.minLeadMs).boundaryMs;
    for (const resolve of this.waiting.splice(0)) resolve(this.boundaryMs);
  }
}
