import { DomainError, ErrorCode } from '../common/domain-error';
import {
  applyProcessTimezone,
  assertValidTimezone,
  hostTimezone,
  isDst,
  isValidTimezone,
  LocalDateTimeParts,
  localToUtc,
  quoteValue,
  restoreProcessTimezone,
  standardOffsetMinutes,
  utcOffsetMinutes,
  utcToLocal,
} from './timezone';

// Every expectation is in UTC or in a named zone: the machine running the tests may be in any zone.
const utc = (iso: string) => Date.parse(iso);
const wall = (year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): LocalDateTimeParts => ({
  year,
  month,
  day,
  hour,
  minute,
  second,
  millisecond,
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof DomainError ? error.code : `not a DomainError: ${String(error)}`;
  }
  return undefined;
}

describe(isValidTimezone.name, () => {
  it.each(['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/Los_Angeles', 'Australia/Sydney', 'Asia/Kolkata', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5', 'America/Port-au-Prince'])(
    'accepts %s',
    (zone) => expect(isValidTimezone(zone)).toBe(true),
  );

  it.each([
    ['an unknown zone', 'Mars/Base'],
    ['a path', '../../etc/passwd'],
    ['an absolute path', '/usr/share/zoneinfo/UTC'],
    ['shell text', '$(reboot)'],
    ['shell text after a zone', 'UTC;reboot'],
    ['the empty string', ''],
    ['spaces', ' UTC'],
    ['a numeric offset', '+01:00'],
    ['a POSIX TZ string', 'CET-1CEST,M3.5.0,M10.5.0/3'],
    ['a lower-cased name', 'europe/berlin'],
    ['a lower-cased UTC', 'utc'],
    ['a long string', `Europe/${'A'.repeat(100)}`],
  ])('rejects %s', (_why, zone) => expect(isValidTimezone(zone)).toBe(false));

  it.each([undefined, null, 42, true, {}, ['UTC']])('rejects the non-string %p', (zone) => expect(isValidTimezone(zone)).toBe(false));
});

describe(assertValidTimezone.name, () => {
  it('returns a valid zone unchanged', () => {
    expect(assertValidTimezone('Europe/Berlin')).toBe('Europe/Berlin');
  });

  it('throws INVALID_TIMEZONE quoting the bad value', () => {
    expect(() => assertValidTimezone('Mars/Base')).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_TIMEZONE, message: expect.stringContaining('"Mars/Base"') }));
    expect(() => assertValidTimezone(42)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_TIMEZONE, message: expect.stringContaining('42') }));
  });

  it('truncates a huge value in the message', () => {
    let message = '';
    try {
      assertValidTimezone('x'.repeat(10_000));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.length).toBeLessThan(200);
  });
});

describe(hostTimezone.name, () => {
  it('returns a valid IANA zone', () => {
    expect(isValidTimezone(hostTimezone())).toBe(true);
  });
});

describe(utcOffsetMinutes.name, () => {
  it.each([
    ['UTC', '2026-07-01T00:00:00Z', 0],
    ['Asia/Kolkata', '2026-01-15T00:00:00Z', 330],
    ['Asia/Kolkata', '2026-07-15T00:00:00Z', 330],
    ['Australia/Sydney', '2026-11-25T08:12:00Z', 660],
    ['Australia/Sydney', '2026-07-01T00:00:00Z', 600],
    ['Europe/Berlin', '2026-01-15T00:00:00Z', 60],
    ['Europe/Berlin', '2026-07-15T00:00:00Z', 120],
    ['America/Los_Angeles', '2026-01-15T00:00:00Z', -480],
    ['America/Los_Angeles', '2026-07-15T00:00:00Z', -420],
  ])('%s at %s is %i', (zone, iso, offset) => {
    expect(utcOffsetMinutes(zone, utc(iso))).toBe(offset);
  });

  it.each([
    // [zone, last instant of the old offset, old, new]
    ['America/Los_Angeles', '2026-03-08T10:00:00Z', -480, -420], // 02:00 PST -> 03:00 PDT
    ['America/Los_Angeles', '2026-11-01T09:00:00Z', -420, -480], // 02:00 PDT -> 01:00 PST
    ['Europe/Berlin', '2026-03-29T01:00:00Z', 60, 120], // 02:00 CET -> 03:00 CEST
    ['Europe/Berlin', '2026-10-25T01:00:00Z', 120, 60], // 03:00 CEST -> 02:00 CET
    ['Australia/Sydney', '2026-04-04T16:00:00Z', 660, 600], // 03:00 AEDT -> 02:00 AEST
    ['Australia/Sydney', '2026-10-03T16:00:00Z', 600, 660], // 02:00 AEST -> 03:00 AEDT
  ])('%s changes at %s from %i to %i', (zone, iso, from, to) => {
    expect(utcOffsetMinutes(zone, utc(iso) - 1)).toBe(from);
    expect(utcOffsetMinutes(zone, utc(iso))).toBe(to);
  });

  it('rejects a bad zone and a non-time', () => {
    expect(codeOf(() => utcOffsetMinutes('Mars/Base', 0))).toBe(ErrorCode.INVALID_TIMEZONE);
    expect(codeOf(() => utcOffsetMinutes('UTC', Number.NaN))).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(codeOf(() => utcOffsetMinutes('UTC', Infinity))).toBe(ErrorCode.INVALID_TIMESTAMP);
  });
});

describe(standardOffsetMinutes.name, () => {
  it.each([
    ['Australia/Sydney', '2026-11-25T08:12:00Z', 600], // southern summer: DST, standard is still +10
    ['Australia/Sydney', '2026-07-01T00:00:00Z', 600],
    ['America/Los_Angeles', '2026-07-15T00:00:00Z', -480],
    ['America/Los_Angeles', '2026-01-15T00:00:00Z', -480],
    ['Europe/Berlin', '2026-07-15T00:00:00Z', 60],
    ['Asia/Kolkata', '2026-07-15T00:00:00Z', 330],
    ['UTC', '2026-07-15T00:00:00Z', 0],
  ])('%s at %s is %i', (zone, iso, offset) => {
    expect(standardOffsetMinutes(zone, utc(iso))).toBe(offset);
  });
});

describe(isDst.name, () => {
  it.each([
    ['Australia/Sydney', '2026-11-25T08:12:00Z', true],
    ['Australia/Sydney', '2026-07-01T00:00:00Z', false],
    ['Australia/Sydney', '2026-04-04T15:59:59.999Z', true],
    ['Australia/Sydney', '2026-04-04T16:00:00Z', false],
    ['Australia/Sydney', '2026-10-03T15:59:59.999Z', false],
    ['Australia/Sydney', '2026-10-03T16:00:00Z', true],
    ['America/Los_Angeles', '2026-07-15T00:00:00Z', true],
    ['America/Los_Angeles', '2026-03-08T09:59:59.999Z', false],
    ['America/Los_Angeles', '2026-03-08T10:00:00Z', true],
    ['America/Los_Angeles', '2026-11-01T08:59:59.999Z', true],
    ['America/Los_Angeles', '2026-11-01T09:00:00Z', false],
    ['Europe/Berlin', '2026-03-29T01:00:00Z', true],
    ['Europe/Berlin', '2026-10-25T01:00:00Z', false],
    ['Asia/Kolkata', '2026-07-15T00:00:00Z', false],
    ['Asia/Kolkata', '2026-01-15T00:00:00Z', false],
    ['UTC', '2026-07-15T00:00:00Z', false],
  ])('%s at %s: %p', (zone, iso, dst) => {
    expect(isDst(zone, utc(iso))).toBe(dst);
  });
});

describe(utcToLocal.name, () => {
  it('gives the wall clock of each zone', () => {
    const t = utc('2026-11-25T08:12:34.567Z');
    expect(utcToLocal(t, 'Australia/Sydney')).toEqual(wall(2026, 11, 25, 19, 12, 34, 567));
    expect(utcToLocal(t, 'Asia/Kolkata')).toEqual(wall(2026, 11, 25, 13, 42, 34, 567));
    expect(utcToLocal(t, 'America/Los_Angeles')).toEqual(wall(2026, 11, 25, 0, 12, 34, 567));
    expect(utcToLocal(t, 'UTC')).toEqual(wall(2026, 11, 25, 8, 12, 34, 567));
  });

  it('crosses the date line and the year', () => {
    expect(utcToLocal(utc('2026-12-31T20:00:00Z'), 'Australia/Sydney')).toEqual(wall(2027, 1, 1, 7, 0, 0, 0));
    expect(utcToLocal(utc('2027-01-01T03:00:00Z'), 'America/Los_Angeles')).toEqual(wall(2026, 12, 31, 19, 0, 0, 0));
  });

  it('jumps over the skipped hour and repeats the doubled one', () => {
    expect(utcToLocal(utc('2026-03-08T09:59:59Z'), 'America/Los_Angeles')).toEqual(wall(2026, 3, 8, 1, 59, 59));
    expect(utcToLocal(utc('2026-03-08T10:00:00Z'), 'America/Los_Angeles')).toEqual(wall(2026, 3, 8, 3, 0, 0));
    expect(utcToLocal(utc('2026-11-01T08:30:00Z'), 'America/Los_Angeles')).toEqual(wall(2026, 11, 1, 1, 30));
    expect(utcToLocal(utc('2026-11-01T09:30:00Z'), 'America/Los_Angeles')).toEqual(wall(2026, 11, 1, 1, 30));
    expect(utcToLocal(utc('2026-10-03T16:00:00Z'), 'Australia/Sydney')).toEqual(wall(2026, 10, 4, 3, 0));
  });

  it('drops fractions of a millisecond', () => {
    expect(utcToLocal(utc('2026-11-25T08:12:00.005Z') + 0.9, 'UTC').millisecond).toBe(5);
  });
});

describe(localToUtc.name, () => {
  it('converts an ordinary wall time', () => {
    expect(localToUtc(wall(2026, 11, 25, 19, 12), 'Australia/Sydney')).toBe(utc('2026-11-25T08:12:00Z'));
    expect(localToUtc(wall(2026, 6, 15, 12, 0), 'Australia/Sydney')).toBe(utc('2026-06-15T02:00:00Z'));
    expect(localToUtc(wall(2026, 7, 1, 5, 30), 'Asia/Kolkata')).toBe(utc('2026-07-01T00:00:00Z'));
    expect(localToUtc(wall(2026, 7, 1, 0, 0), 'UTC')).toBe(utc('2026-07-01T00:00:00Z'));
  });

  describe('skipped wall times (clocks go forward)', () => {
    it.each([
      // [zone, wall time, compatible (moved forward), earlier (moved back)]
      ['America/Los_Angeles', wall(2026, 3, 8, 2, 30), '2026-03-08T10:30:00Z', '2026-03-08T09:30:00Z'],
      ['Europe/Berlin', wall(2026, 3, 29, 2, 30), '2026-03-29T01:30:00Z', '2026-03-29T00:30:00Z'],
      ['Australia/Sydney', wall(2026, 10, 4, 2, 30), '2026-10-03T16:30:00Z', '2026-10-03T15:30:00Z'],
    ])('%s', (zone, parts, forward, back) => {
      expect(localToUtc(parts, zone)).toBe(utc(forward));
      expect(localToUtc(parts, zone, 'compatible')).toBe(utc(forward));
      expect(localToUtc(parts, zone, 'later')).toBe(utc(forward));
      expect(localToUtc(parts, zone, 'earlier')).toBe(utc(back));
      expect(codeOf(() => localToUtc(parts, zone, 'reject'))).toBe(ErrorCode.INVALID_TIMESTAMP);
      // Moved forward by the gap: 02:30 reads 03:30 once the clocks have gone forward.
      expect(utcToLocal(localToUtc(parts, zone), zone)).toEqual({ ...parts, hour: 3 });
    });
  });

  describe('repeated wall times (clocks go back)', () => {
    it.each([
      // [zone, wall time, first instant (daylight time), second instant (standard time)]
      ['America/Los_Angeles', wall(2026, 11, 1, 1, 30), '2026-11-01T08:30:00Z', '2026-11-01T09:30:00Z'],
      ['Europe/Berlin', wall(2026, 10, 25, 2, 30), '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z'],
      ['Australia/Sydney', wall(2026, 4, 5, 2, 30), '2026-04-04T15:30:00Z', '2026-04-04T16:30:00Z'],
    ])('%s', (zone, parts, first, second) => {
      expect(localToUtc(parts, zone)).toBe(utc(first));
      expect(localToUtc(parts, zone, 'earlier')).toBe(utc(first));
      expect(localToUtc(parts, zone, 'later')).toBe(utc(second));
      expect(codeOf(() => localToUtc(parts, zone, 'reject'))).toBe(ErrorCode.INVALID_TIMESTAMP);
      expect(utcToLocal(utc(first), zone)).toEqual(parts);
      expect(utcToLocal(utc(second), zone)).toEqual(parts);
    });
  });

  it('round-trips every quarter hour around each transition, both hemispheres', () => {
    const cases: Array<[string, string]> = [
      ['America/Los_Angeles', '2026-03-08T10:00:00Z'],
      ['America/Los_Angeles', '2026-11-01T09:00:00Z'],
      ['Europe/Berlin', '2026-03-29T01:00:00Z'],
      ['Europe/Berlin', '2026-10-25T01:00:00Z'],
      ['Australia/Sydney', '2026-04-04T16:00:00Z'],
      ['Australia/Sydney', '2026-10-03T16:00:00Z'],
      ['Asia/Kolkata', '2026-03-08T10:00:00Z'],
      ['UTC', '2026-03-08T10:00:00Z'],
    ];
    const failures: string[] = [];
    for (const [zone, iso] of cases) {
      for (let step = -12; step <= 12; step++) {
        const t = utc(iso) + step * 15 * 60_000 + 123;
        const local = utcToLocal(t, zone);
        const earlier = localToUtc(local, zone, 'earlier');
        const later = localToUtc(local, zone, 'later');
        // In a repeated hour the second instant reads like the first: `later` recovers it. Elsewhere the
        // choice does not matter and the default gives the instant back.
        const ok = earlier === later ? localToUtc(local, zone) === t : earlier === t || later === t;
        if (!ok) failures.push(`${zone} ${new Date(t).toISOString()}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it.each([
    ['month 13', wall(2026, 13, 1)],
    ['30 February', wall(2024, 2, 30)],
    ['29 February of a common year', wall(2026, 2, 29)],
    ['31 April', wall(2026, 4, 31)],
    ['hour 24', wall(2026, 1, 1, 24)],
    ['minute 60', wall(2026, 1, 1, 0, 60)],
    ['a fractional day', wall(2026, 1, 1.5)],
    ['year 0', wall(0, 1, 1)],
  ])('rejects %s', (_why, parts) => {
    expect(codeOf(() => localToUtc(parts, 'UTC'))).toBe(ErrorCode.INVALID_TIMESTAMP);
  });

  it('accepts 29 February of a leap year', () => {
    expect(localToUtc(wall(2028, 2, 29, 12), 'UTC')).toBe(utc('2028-02-29T12:00:00Z'));
  });

  it('rejects a bad zone', () => {
    expect(codeOf(() => localToUtc(wall(2026, 1, 1), 'Mars/Base'))).toBe(ErrorCode.INVALID_TIMEZONE);
  });
});

describe(applyProcessTimezone.name, () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.TZ;
  });
  afterEach(() => {
    restoreProcessTimezone(saved);
    expect(process.env.TZ).toBe(saved);
  });

  // Jest gives each test file a copy of process.env, so only the assignment is observable here; that
  // Node re-reads the zone when TZ is assigned is Node's documented behaviour, exercised in production.
  it('sets TZ and returns the previous value', () => {
    process.env.TZ = 'Europe/Berlin';
    expect(applyProcessTimezone('Australia/Sydney')).toBe('Europe/Berlin');
    expect(process.env.TZ).toBe('Australia/Sydney');
  });

  it('restores an unset TZ by removing it', () => {
    delete process.env.TZ;
    const previous = applyProcessTimezone('Asia/Kolkata');
    expect(previous).toBeUndefined();
    restoreProcessTimezone(previous);
    expect('TZ' in process.env).toBe(false);
  });

  it('refuses an invalid zone and leaves TZ alone', () => {
    process.env.TZ = 'UTC';
    expect(codeOf(() => applyProcessTimezone('../../etc/passwd'))).toBe(ErrorCode.INVALID_TIMEZONE);
    expect(process.env.TZ).toBe('UTC');
  });
});

describe(quoteValue.name, () => {
  it.each([
    [Number.NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [undefined, 'undefined'],
    [10n, '10n'],
    ['a"b', '"a\\"b"'],
    [{ a: 1 }, '{"a":1}'],
  ])('quotes %p as %s', (value, text) => expect(quoteValue(value)).toBe(text));

  it('truncates to the limit and survives cycles', () => {
    expect(quoteValue('x'.repeat(500))).toHaveLength(60);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(quoteValue(cyclic)).toBe('[object Object]');
  });
});
