import { ClockStepRecord, parseJournal } from './clock-journal';
import { JournalEventRecord } from './journal-records';
import { lastClockSet, lastKnownWallMs, lastSetWallMs } from './journal-times';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

const step = (beforeMs: number, afterMs: number, extra: Partial<ClockStepRecord> = {}): ClockStepRecord => ({
  beforeMs,
  before: iso(beforeMs),
  afterMs,
  after: iso(afterMs),
  stepMs: afterMs - beforeMs,
  source: 'client',
  monotonicMs: 1000,
  boot: 1,
  bootId: 'b1',
  errorBoundMs: 12,
  ...extra,
});
const base = (atMs: number) => ({ atMs, at: iso(atMs), monotonicMs: 1000, boot: 1, bootId: 'b1' });
const cameraMeasure = (atMs: number): JournalEventRecord => ({ kind: 'camera-measure', ...base(atMs), cameraId: 'c1', serial: null, success: true, offsetMs: 3, boundMs: 20 });
const externalStep = (beforeMs: number, atMs: number): JournalEventRecord => ({ kind: 'external-step', ...base(atMs), stepMs: atMs - beforeMs, beforeMs, before: iso(beforeMs) });
const zone = (atMs: number): JournalEventRecord => ({ kind: 'zone', ...base(atMs), from: 'UTC', to: 'Europe/Berlin', source: 'client', state: 'confirmed' });

/** The journal's text as it would be on disk, parsed the way the product reads it. */
const journal = (...records: Array<ClockStepRecord | JournalEventRecord | string>) =>
  parseJournal(records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r)) + '\n').join(''));

describe(lastClockSet.name, () => {
  it('is null for an empty journal, and for one with no confirmed step', () => {
    expect(lastClockSet(journal())).toBeNull();
    expect(lastSetWallMs(journal())).toBeNull();
    const unconfirmed = journal(
      step(T0, T0 + DAY, { id: 'a', state: 'pending' }),
      step(T0, T0 + 2 * DAY, { id: 'b', state: 'pending' }),
      { ...step(T0, T0 + 2 * DAY), id: 'b', state: 'unknown' } as ClockStepRecord,
      step(T0, T0 + 3 * DAY, { id: 'c', state: 'pending' }),
      { ...step(T0, T0 + 3 * DAY), id: 'c', state: 'failed' } as ClockStepRecord,
      externalStep(T0, T0 + 4 * DAY),
      cameraMeasure(T0 + 5 * DAY),
    );
    expect(lastClockSet(unconfirmed)).toBeNull();
  });

  it('is the latest confirmed step: where it set the clock, by which source, with its bound', () => {
    const entries = journal(
      step(T0, T0 + 1000, { source: 'client', errorBoundMs: 8 }),
      cameraMeasure(T0 + DAY),
      step(T0 + 2 * DAY, T0 + 2 * DAY + 40_000, { id: 'x', state: 'pending', source: 'manual', errorBoundMs: null }),
      step(T0 + 2 * DAY, T0 + 2 * DAY + 40_000, { id: 'x', state: 'confirmed', source: 'manual', errorBoundMs: null }),
      step(T0 + 3 * DAY, T0 + 3 * DAY + 5, { id: 'y', state: 'pending' }),
      externalStep(T0 + 4 * DAY, T0 + 4 * DAY + 60_000),
    );
    expect(lastClockSet(entries)).toEqual({ atMs: T0 + 2 * DAY + 40_000, source: 'manual', errorBoundMs: null, line: 3 });
    expect(lastSetWallMs(entries)).toBe(T0 + 2 * DAY + 40_000);
  });

  it('takes steps written before the write-ahead journal (no state) as confirmed', () => {
    const { state: _state, ...legacy } = step(T0, T0 + 5000);
    expect(lastSetWallMs(journal(legacy as ClockStepRecord))).toBe(T0 + 5000);
  });
});

describe(lastKnownWallMs.name, () => {
  it.each<[string, Array<ClockStepRecord | JournalEventRecord | string>, number | null]>([
    ['an empty journal', [], null],
    ['the latest time any record states', [cameraMeasure(T0), zone(T0 + 3 * DAY), cameraMeasure(T0 + DAY)], T0 + 3 * DAY],
    // A Pi that booted on a stale clock (fake-hwclock) writes earlier times after later ones: the later one stands.
    ['across a boot on a stale clock', [cameraMeasure(T0 + DAY), { ...cameraMeasure(T0 - 30 * DAY), boot: 2 } as JournalEventRecord], T0 + DAY],
    ['where a confirmed step set the clock forward', [cameraMeasure(T0), step(T0 + 10, T0 + DAY)], T0 + DAY],
    // Set a year ahead by mistake, corrected since: the wrong year is not a floor.
    ['where a confirmed step set the clock back', [step(T0, T0 + 365 * DAY), cameraMeasure(T0 + 366 * DAY), step(T0 + 366 * DAY, T0 + DAY, { source: 'manual' })], T0 + DAY],
    ['records after a step back', [step(T0 + 365 * DAY, T0), cameraMeasure(T0 + 60_000)], T0 + 60_000],
    ['where an external step moved the clock back', [cameraMeasure(T0 + 30 * DAY), externalStep(T0 + 30 * DAY, T0 + DAY)], T0 + DAY],
    // Pending or unknown: the clock may not have moved; the time before it was shown for sure.
    ['a pending step, by the time before it', [cameraMeasure(T0), step(T0 + DAY, T0 - DAY, { id: 'p', state: 'pending' })], T0 + DAY],
    ['a failed step, not at all', [cameraMeasure(T0), step(T0 + 10, T0 + 365 * DAY, { id: 'f', state: 'pending' }), step(T0 + 10, T0 + 365 * DAY, { id: 'f', state: 'failed' })], T0],
    ['damaged lines, not at all', [cameraMeasure(T0), '{"kind":"camera-measure","atMs":99999999999999', 'not json'], T0],
  ])('%s', (_name, records, expected) => {
    expect(lastKnownWallMs(journal(...records))).toBe(expected);
  });
});
