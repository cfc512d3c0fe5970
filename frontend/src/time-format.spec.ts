import { epochOfWall, formatAge, formatAheadBehind, formatAmount, formatBound, formatDateTime, formatDifference, formatOffset, formatUtcOffset, stepWall, wallFields, zoneOffsetMs } from './time-format';

describe('time-format', () => {
  it('reads wall fields in a zone', () => {
    expect(wallFields(Date.parse('2026-07-01T12:00:00Z'), 'Europe/Berlin')).toEqual({ year: 2026, month: 7, day: 1, hour: 14, minute: 0, second: 0 });
    expect(formatDateTime(Date.parse('2026-01-01T00:30:05Z'), 'Asia/Kolkata')).toBe('2026-01-01 06:00:05');
  });

  it('gives zone offsets east and west of UTC, with and without DST', () => {
    expect(zoneOffsetMs(Date.parse('2026-01-15T00:00:00Z'), 'Europe/Berlin')).toBe(3_600_000);
    expect(zoneOffsetMs(Date.parse('2026-07-15T00:00:00Z'), 'Europe/Berlin')).toBe(7_200_000);
    expect(zoneOffsetMs(Date.parse('2026-01-15T00:00:00Z'), 'Australia/Sydney')).toBe(11 * 3_600_000);
    expect(formatUtcOffset(zoneOffsetMs(0, 'Asia/Kolkata'))).toBe('UTC+05:30');
    expect(formatUtcOffset(-9.5 * 3_600_000)).toBe('UTC-09:30');
    expect(formatUtcOffset(0)).toBe('UTC');
  });

  it('turns wall fields back into the instant, across DST changes', () => {
    for (const zone of ['Europe/Berlin', 'America/Los_Angeles', 'Australia/Sydney', 'Asia/Kolkata', 'UTC']) {
      for (const iso of ['2026-03-29T00:30:00Z', '2026-03-29T01:30:00Z', '2026-10-25T00:30:00Z', '2026-10-04T16:30:00Z', '2026-11-01T09:30:00Z']) {
        const t = Date.parse(iso);
        expect(epochOfWall(wallFields(t, zone), zone, 0, t)).toBe(t);
      }
    }
  });

  it('resolves an ambiguous wall time without a hint to one of its instants', () => {
    // 02:30 happens twice in Berlin on 2026-10-25.
    const t = epochOfWall({ year: 2026, month: 10, day: 25, hour: 2, minute: 30, second: 0 }, 'Europe/Berlin');
    expect([Date.parse('2026-10-25T00:30:00Z'), Date.parse('2026-10-25T01:30:00Z')]).toContain(t);
  });

  it('steps fields like a calendar', () => {
    const f = { year: 2024, month: 1, day: 31, hour: 23, minute: 59, second: 59 };
    expect(stepWall(f, 'month', 1)).toEqual({ ...f, month: 2, day: 29 });
    expect(stepWall(f, 'second', 1)).toEqual({ year: 2024, month: 2, day: 1, hour: 0, minute: 0, second: 0 });
    expect(stepWall(f, 'month', -1)).toEqual({ ...f, year: 2023, month: 12 });
    expect(stepWall(f, 'year', 1)).toEqual({ ...f, year: 2025 });
    expect(stepWall({ ...f, month: 2, day: 29 }, 'year', 1)).toEqual({ ...f, year: 2025, month: 2, day: 28 });
    expect(stepWall(f, 'day', -31)).toEqual({ ...f, year: 2023, month: 12, day: 31 });
  });

  it('formats ages, offsets and differences in plain words', () => {
    expect(formatAge(2000)).toBe('just now');
    expect(formatAge(40_000)).toBe('40 s ago');
    expect(formatAge(125_000)).toBe('2 min ago');
    expect(formatAge(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 5 min ago');
    expect(formatAge(50 * 3_600_000)).toBe('2 days ago');
    expect(formatOffset(1502.4)).toBe('+1.502 s');
    expect(formatOffset(-3.24)).toBe('-3.2 ms');
    expect(formatOffset(-42)).toBe('-42 ms');
    expect(formatOffset(3 * 3_600_000 + 3000)).toBe('+3 h 0 min 3 s');
    expect(formatBound(0.4)).toBe('0.4 ms');
    expect(formatBound(3)).toBe('3 ms');
    expect(formatAheadBehind(-2400)).toBe('2.4 s behind');
    expect(formatAheadBehind(150)).toBe('150 ms ahead');
    expect(formatAheadBehind(0.2)).toBe('in step');
    expect(formatAmount(5 * 3_600_000 + 2000)).toBe('5 h 0 min 2 s');
    expect(formatDifference(40)).toBe('in step (within 0.1 s)');
    expect(formatDifference(2300)).toBe('Pi is 2.3 s ahead');
    expect(formatDifference(-3 * 86_400_000)).toBe('Pi is 3 d 0 h 0 min behind');
  });
});
