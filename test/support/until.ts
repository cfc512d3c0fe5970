/**
 * Waits for a condition instead of a fixed sleep: polls `probe` until it gives a value (anything but false, null or
 * undefined) and returns it, or fails after `timeoutMs` naming what it waited for (and `log()`, when given).
 */
export async function until<T>(what: string, probe: () => T | false | null | undefined | Promise<T | false | null | undefined>, timeoutMs = 10_000, log?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== false && value !== null && value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${log ? `\n${log()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
