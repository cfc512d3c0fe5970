export * from './camera-datetime';
export { Clock, HostClock, ManualClock, SimulatedWallClock } from './clock';
export { DurationTracker, MAX_TRACKED_OPERATIONS } from './duration-tracker';
export type { DurationStats } from './duration-tracker';
export { formatDuration, formatTimestamp, parseClientTime, parseTimestamp, TimeFormat } from './format';
export { TimeModule } from './time.module';
export { makeTimestamp } from './timestamp';
export type { AccurateTimestamp, ClockAccuracy } from './timestamp';
export {
  applyProcessTimezone,
  assertValidTimezone,
  hostTimezone,
  isDst,
  isValidTimezone,
  localToUtc,
  restoreProcessTimezone,
  standardOffsetMinutes,
  utcOffsetMinutes,
  utcToLocal,
} from './timezone';
export type { Disambiguation, LocalDateTimeParts } from './timezone';
export { bootTimeMs, processUptimeMs, systemUptimeMs } from './uptime';
export { assertPlausibleTime, BUILD_DATE_MS, isTimestampValid, MAX_PLAUSIBLE_MS } from './validation';
