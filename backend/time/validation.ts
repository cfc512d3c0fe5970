import { DomainError, ErrorCode } from '../common/domain-error';

/**
 * The build date of this software, a floor for any time it is asked to believe: a Pi without an RTC boots
 * with a stale but plausible-looking clock, and a phone can send nonsense. Bumped at each release, exactly as
 * systemd uses its own build time as the earliest possible clock.
 */
export const BUILD_DATE_MS = Date.UTC(2026, 10, 25); // 2026-11-25T00:00:00Z (months count from 0)

/** Times at or after this are refused as well: 2100-01-01T00:00:00Z. */
export const MAX_PLAUSIBLE_MS = Date.UTC(2100, 0, 1);

/** Whether `ms` is a time this product may believe: a finite number in [BUILD_DATE_MS, MAX_PLAUSIBLE_MS). */
export function isTimestampValid(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= BUILD_DATE_MS && ms < MAX_PLAUSIBLE_MS;
}

/**
 * Returns `ms` if it is plausible; throws DomainError(IMPLAUSIBLE_TIME) naming `what` and the time in ISO form
 * otherwise (INVALID_TIMESTAMP if it is not a finite number at all).
 */
export function assertPlausibleTime(ms: number, what = 'time'): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${what} ${String(ms)} is not a number of milliseconds`);
  }
  const details = { epochMs: ms, minMs: BUILD_DATE_MS, maxMs: MAX_PLAUSIBLE_MS };
  if (ms < BUILD_DATE_MS) {
    const floor = new Date(BUILD_DATE_MS).toISOString().slice(0, 10);
    throw new DomainError(ErrorCode.IMPLAUSIBLE_TIME, `${what} ${isoOrNumber(ms)} is before the software build date ${floor}; refusing it`, details);
  }
  if (ms >= MAX_PLAUSIBLE_MS) {
    const ceiling = new Date(MAX_PLAUSIBLE_MS).toISOString();
    throw new DomainError(ErrorCode.IMPLAUSIBLE_TIME, `${what} ${isoOrNumber(ms)} is not before ${ceiling}; refusing it`, details);
  }
  return ms;
}

function isoOrNumber(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}
