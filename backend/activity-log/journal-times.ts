import type { SyncSource } from '../protocol/messages';
import type { JournalReport, JournalStep } from './clock-journal';
import type { JournalEvent } from './journal-records';

/**
 * What the clock-change journal knows of the Pi's wall time, read from its records (pure: `parseJournal(text)` or
 * `ClockJournal.report()` in, plain values out). The journal's line order is the time order whatever the clocks
 * did, so these walk the records by line.
 */

/** The journal as `parseJournal` and `ClockJournal.report()` give it: steps (failed ones left out) and the other records. */
export type JournalEntries = Pick<JournalReport, 'steps' | 'events'>;

/** The last time this product set the Pi's clock (timedated's SetTime writes the hardware clock with it). */
export interface ClockSet {
  /** The wall time the clock was set to, ms since the epoch. */
  atMs: number;
  source: SyncSource;
  /** The bound of the time it was set to, as the step recorded it; null when it recorded none (a time set by hand). */
  errorBoundMs: number | null;
  /** Where the step's first line is. */
  line: number;
}

/**
 * The latest confirmed step: the last time the clock (and with it the RTC) was certainly set. Pending and unknown
 * steps may or may not have moved it, so they are passed over: an older setting gives an older age and a wider
 * bound, never a narrower one. External steps are passed over too: `date` does not write the RTC, and whatever
 * moved the clock without this product said nothing of its own error.
 */
export function lastClockSet(entries: JournalEntries): ClockSet | null {
  let last: JournalStep | null = null;
  for (const step of entries.steps) if (step.state === 'confirmed' && (!last || step.line > last.line)) last = step;
  return last ? { atMs: last.afterMs, source: last.source, errorBoundMs: last.errorBoundMs ?? null, line: last.line } : null;
}

/** The wall time of the latest confirmed step, null if the journal has none. */
export function lastSetWallMs(entries: JournalEntries): number | null {
  return lastClockSet(entries)?.atMs ?? null;
}

/**
 * The latest wall time the journal states: a floor for any time a source may say (a flat RTC battery, a GPS week
 * rollover). Record by record in line order, the latest stated time, except that a step that moved the clock (a
 * confirmed step, or an external step) starts afresh from where it set the clock: every earlier record happened
 * before it, and their wall times were on the clock it corrected. A Pi once set a year ahead by mistake and
 * corrected since is not held to that year. Null for an empty journal.
 */
export function lastKnownWallMs(entries: JournalEntries): number | null {
  let known: number | null = null;
  const later = (ms: number) => (known === null ? ms : Math.max(known, ms));
  for (const entry of inLineOrder(entries)) {
    if (isStep(entry)) {
      // A pending or unknown step may not have moved the clock: only the time before it is certain to have been shown.
      known = entry.state === 'confirmed' ? entry.afterMs : later(entry.beforeMs);
    } else if (entry.kind === 'external-step') known = entry.atMs;
    else known = later(entry.atMs);
  }
  return known;
}

function isStep(entry: JournalStep | JournalEvent): entry is JournalStep {
  return entry.kind === undefined || entry.kind === 'step';
}

function inLineOrder(entries: JournalEntries): Array<JournalStep | JournalEvent> {
  return [...entries.steps, ...entries.events].sort((a, b) => a.line - b.line);
}
