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

/** Round trips this many requests old and older do not time the next one. */
export const ROUND_TRIP_WINDOW = 9;

/**
 * The round trip to expect of the next request, from this sync's own latest round trips (oldest first): never
 * from minutes ago, so a changed Wi-Fi is followed at once.
 * - A level shift (the round trip went from 15 to 120 ms, or jitter of 40-250 ms calmed back to 15 ms): when
 *   the latest three or more agree with each other and every one before them lies beyond them on one side,
 *   only they count.
 * - Otherwise a median weighted gently towards the latest (from 1 for the oldest to 2 for the latest), so that
 *   one slow answer (a TCP handshake, a Wi-Fi retry) does not move it, a trend does, and plain jitter is averaged.
 * null with no samples.
 */
export function recentRoundTripMs(roundTrips: readonly number[], window = ROUND_TRIP_WINDOW): number | null {
  const recent = roundTrips.filter((r) => Number.isFinite(r) && r >= 0).slice(-window);
  if (!recent.length) return null;
  for (let m = recent.length - 1; m >= 3; m--) {
    const tail = recent.slice(-m);
    const head = recent.slice(0, -m);
    const tailMedian = median(tail);
    const spread = Math.max(...tail) - Math.min(...tail);
    if (spread > Math.max(4, 0.3 * tailMedian)) continue;
    // The tail agrees with itself; a shift if every earlier sample lies beyond it, on one side (on a link with
    // plain jitter three close samples are common, and the earlier ones then surround them).
    if (Math.min(...tail) > Math.max(...head) + 2 || Math.max(...tail) < Math.min(...head) - 2) return tailMedian;
    break;
  }
  return weightedMedian(recent.map((value, i) => ({ value, weight: 1 + i / Math.max(1, recent.length - 1) })));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function weightedMedian(items: Array<{ value: number; weight: number }>): number {
  const sorted = [...items].sort((a, b) => a.value - b.value);
  const half = sorted.reduce((a, x) => a + x.weight, 0) / 2;
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) {
    sum += sorted[i].weight;
    if (sum > half) return sorted[i].value;
    if (sum === half) return (sorted[i].value + sorted[i + 1].value) / 2;
  }
  return sorted[sorted.length - 1].value;
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
