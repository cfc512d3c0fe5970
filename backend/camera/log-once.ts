/**
 * Says whether a log line about `key` is the first in `windowMs`: one line per sender and reason, however many
 * datagrams a flood sends. Keeps at most `maxKeys` keys (a flood of spoofed senders cannot grow it without bound).
 */
export class LogOnce {
  private readonly lastAt = new Map<string, number>();

  constructor(
    private readonly windowMs = 10 * 60_000,
    private readonly now: () => number = () => performance.now(),
    private readonly maxKeys = 256,
  ) {}

  first(key: string): boolean {
    const now = this.now();
    const last = this.lastAt.get(key);
    if (last !== undefined && now - last < this.windowMs) return false;
    if (this.lastAt.size >= this.maxKeys) {
      for (const [k, at] of this.lastAt) if (now - at >= this.windowMs) this.lastAt.delete(k);
      // Still full of recent keys: a flood; stay quiet until they age.
      if (this.lastAt.size >= this.maxKeys) return false;
    }
    this.lastAt.set(key, now);
    return true;
  }
}
