/**
 * A per-second budget as a token bucket: it holds up to one second's worth, refills continuously, and each
 * use takes from it. Pure: the caller passes the monotonic time, so tests need no timers.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly perSecond: number,
    now: number,
    private readonly capacity = perSecond,
  ) {
    this.tokens = capacity;
    this.at = now;
  }

  /** Takes `cost` if the bucket holds it; false (and nothing taken) when over budget. */
  take(cost: number, now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1000) * this.perSecond);
    this.at = now;
    if (cost > this.tokens) return false;
    this.tokens -= cost;
    return true;
  }
}

/** Frames and bytes per second of one WebSocket connection. */
export class ConnectionBudget {
  private readonly frames: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(
    readonly limits: { framesPerSecond: number; bytesPerSecond: number },
    now: number,
  ) {
    this.frames = new TokenBucket(limits.framesPerSecond, now);
    this.bytes = new TokenBucket(limits.bytesPerSecond, now);
  }

  /** Null while within budget, else which budget the frame broke. */
  admit(byteLength: number, now: number): 'frames' | 'bytes' | null {
    if (!this.frames.take(1, now)) return 'frames';
    if (!this.bytes.take(byteLength, now)) return 'bytes';
    return null;
  }
}

/** One bucket per key (an address), forgotten once it is full again so the map stays small. */
export class KeyedBudget {
  private readonly buckets = new Map<string, { bucket: TokenBucket; last: number }>();

  constructor(private readonly perSecond: number) {}

  take(key: string, now: number): boolean {
    if (this.buckets.size > 1000) this.prune(now);
    let entry = this.buckets.get(key);
    if (!entry) this.buckets.set(key, (entry = { bucket: new TokenBucket(this.perSecond, now), last: now }));
    entry.last = now;
    return entry.bucket.take(1, now);
  }

  private prune(now: number): void {
    // A bucket idle for a second is full: forgetting it changes nothing.
    for (const [key, entry] of this.buckets) if (now - entry.last > 1000) this.buckets.delete(key);
  }
}
