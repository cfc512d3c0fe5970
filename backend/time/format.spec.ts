import { ErrorCode } from '../common/domain-error';
import { formatDuration, formatTimestamp, parseClientTime, parseTimestamp, TimeFormat } from './format';
import { errorOf } from '../../test/support/domain-errors';

const T = Date.parse('2026-11-25T08:12:00Z'); // 19:12 AEDT, 09:12 CET, 00:12 PST, 13:42 IST
const ZONES = ['UTC', 'Australia/Sydney', 'Europe/Berlin', 'America/Los_Angeles', 'Asia/Kolkata'];

describe(formatTimestamp.name, () => {
  it.each([
    [TimeFormat.UNIX_MS, 'UTC', '1795594320000'],
    [TimeFormat.UNIX_US, 'UTC', '1795594320000000'],
    [TimeFormat.ISO8601, 'Australia/Sydney', '2026-11-25T08:12:00.000Z'],
    [TimeFormat.RFC3339, 'UTC', '2026-11-25T08:12:00.000+00:00'],
    [TimeFormat.RFC3339, 'Australia/Sydney', '2026-11-25T19:12:00.000+11:00'],
    [TimeFormat.RFC3339, 'America/Los_Angeles', '2026-11-25T00:12:00.000-08:00'],
    [TimeFormat.RFC3339, 'Asia/Kolkata', '2026-11-25T13:42:00.000+05:30'],
    [TimeFormat.CAMERA, 'Australia/Sydney', 'Wed, 25 Nov 2026 19:12:00 +1100'],
    [TimeFormat.CAMERA, 'Europe/Berlin', 'Wed, 25 Nov 2026 09:12:00 +0100'],
    [TimeFormat.CAMERA, 'America/Los_Angeles', 'Wed, 25 Nov 2026 00:12:00 -0800'],
    [TimeFormat.CAMERA, 'Asia/Kolkata', 'Wed, 25 Nov 2026 13:42:00 +0530'],
    [TimeFormat.CAMERA, 'UTC', 'Wed, 25 Nov 2026 08:12:00 +0000'],
    [TimeFormat.HUMAN, 'Australia/Sydney', '25 Nov 2026, 19:12:00 AEDT (UTC+11:00)'],
    [TimeFormat.HUMAN, 'Europe/Berlin', '25 Nov 2026, 09:12:00 CET (UTC+01:00)'],
    [TimeFormat.HUMAN, 'America/Los_Angeles', '25 Nov 2026, 00:12:00 PST (UTC-08:00)'],
    [TimeFormat.HUMAN, 'UTC', '25 Nov 2026, 08:12:00 UTC'],
    [TimeFormat.COMPACT, 'Australia/Sydney', '20261125T081200Z'],
  ])('%s in %s', (format, zone, text) => {
    expect(formatTimestamp(T, format, zone)).toBe(text);
  });

  it('defaults to UTC', () => {
    expect(formatTimestamp(T, TimeFormat.RFC3339)).toBe('2026-11-25T08:12:00.000+00:00');
  });

  it('pads the day of the camera form and follows the zone across DST', () => {
    expect(formatTimestamp(Date.parse('2026-07-04T12:00:00Z'), TimeFormat.CAMERA, 'Australia/Sydney')).toBe('Sat, 04 Jul 2026 22:00:00 +1000');
    expect(formatTimestamp(Date.parse('2026-07-04T12:00:00Z'), TimeFormat.CAMERA, 'Europe/Berlin')).toBe('Sat, 04 Jul 2026 14:00:00 +0200');
    expect(formatTimestamp(Date.parse('2026-03-08T10:00:00Z'), TimeFormat.RFC3339, 'America/Los_Angeles')).toBe('2026-03-08T03:00:00.000-07:00');
    expect(formatTimestamp(Date.parse('2026-03-08T09:59:59Z'), TimeFormat.RFC3339, 'America/Los_Angeles')).toBe('2026-03-08T01:59:59.000-08:00');
  });

  it('never writes GMT in the camera form', () => {
    expect(formatTimestamp(Date.parse('2026-01-15T12:00:00Z'), TimeFormat.CAMERA, 'Europe/London')).toBe('Thu, 15 Jan 2026 12:00:00 +0000');
  });

  it('floors sub-unit precision instead of rounding up into the next second', () => {
    const t = Date.parse('2026-11-25T08:12:59.999Z') + 0.7;
    expect(formatTimestamp(t, TimeFormat.ISO8601)).toBe('2026-11-25T08:12:59.999Z');
    expect(formatTimestamp(t, TimeFormat.COMPACT)).toBe('20261125T081259Z');
    expect(formatTimestamp(t, TimeFormat.UNIX_MS)).toBe('1795594379999');
    expect(formatTimestamp(t, TimeFormat.UNIX_US)).toBe('1795594379999700');
  });

  it('rejects non-times and bad zones', () => {
    expect(errorOf(() => formatTimestamp(Number.NaN, TimeFormat.ISO8601)).code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(errorOf(() => formatTimestamp(Infinity, TimeFormat.UNIX_MS)).code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(errorOf(() => formatTimestamp(T, TimeFormat.RFC3339, 'Mars/Base')).code).toBe(ErrorCode.INVALID_TIMEZONE);
    expect(errorOf(() => formatTimestamp(T, 'rfc822' as TimeFormat)).code).toBe(ErrorCode.BAD_REQUEST);
  });
});

describe(parseTimestamp.name, () => {
  // The camera, human and compact forms have whole seconds; the others keep milliseconds.
  const instants = [T, Date.parse('2026-03-08T10:00:00Z'), Date.parse('2026-11-01T08:30:00Z'), Date.parse('2026-11-01T09:30:00Z'), Date.parse('2026-04-04T15:30:00Z'), Date.parse('2026-10-03T16:00:00Z'), Date.parse('2028-02-29T23:59:59Z'), 0];
  const lossless = [TimeFormat.UNIX_MS, TimeFormat.UNIX_US, TimeFormat.ISO8601, TimeFormat.RFC3339];

  it.each(Object.values(TimeFormat))('round-trips %s in every zone, across DST transitions', (format) => {
    for (const zone of ZONES) {
      for (const t of instants) {
        const exact = (lossless as string[]).includes(format) ? t + 456 : t;
        const text = formatTimestamp(exact, format, zone);
        expect({ text, back: parseTimestamp(text, format) }).toEqual({ text, back: exact });
      }
    }
  });

  it('reads both instants of a repeated local hour apart by their offsets', () => {
    const first = parseTimestamp('2026-11-01T01:30:00.000-07:00', TimeFormat.RFC3339);
    const second = parseTimestamp('2026-11-01T01:30:00.000-08:00', TimeFormat.RFC3339);
    expect(second - first).toBe(3_600_000);
    expect(parseTimestamp('Sun, 05 Apr 2026 02:30:00 +1100', TimeFormat.CAMERA)).toBe(Date.parse('2026-04-04T15:30:00Z'));
    expect(parseTimestamp('Sun, 05 Apr 2026 02:30:00 +1000', TimeFormat.CAMERA)).toBe(Date.parse('2026-04-04T16:30:00Z'));
  });

  it('keeps fractions of a millisecond', () => {
    expect(parseTimestamp('2026-11-25T08:12:00.0071Z', TimeFormat.ISO8601) - T).toBeCloseTo(7.1, 3);
    expect(parseTimestamp('2026-11-25T08:12:00.007Z', TimeFormat.ISO8601) - T).toBe(7);
    expect(parseTimestamp('1795594320000250', TimeFormat.UNIX_US) - T).toBe(0.25);
    expect(parseTimestamp('1795594320000.5', TimeFormat.UNIX_MS) - T).toBe(0.5);
  });

  it('accepts RFC 3339 lower-case t and z and whole seconds', () => {
    expect(parseTimestamp('2026-11-25t08:12:00z', TimeFormat.RFC3339)).toBe(T);
    expect(parseTimestamp('2026-11-25T19:12:00+11:00', TimeFormat.RFC3339)).toBe(T);
  });

  it.each([
    [TimeFormat.ISO8601, '2024-13-01T00:00:00.000Z'],
    [TimeFormat.ISO8601, '2024-02-30T00:00:00.000Z'],
    [TimeFormat.ISO8601, '2026-02-29T00:00:00.000Z'],
    [TimeFormat.ISO8601, '2024-00-10T00:00:00.000Z'],
    [TimeFormat.ISO8601, '2024-01-00T00:00:00.000Z'],
    [TimeFormat.ISO8601, '2024-01-01T24:00:00.000Z'],
    [TimeFormat.ISO8601, '2024-01-01T23:60:00.000Z'],
    [TimeFormat.ISO8601, '2024-01-01T23:59:60.000Z'],
    [TimeFormat.ISO8601, '2024-01-01T00:00:00.000+01:00'],
    [TimeFormat.ISO8601, '2024-01-01T00:00:00.000'],
    [TimeFormat.ISO8601, '2024-01-01'],
    [TimeFormat.ISO8601, ' 2024-01-01T00:00:00.000Z'],
    [TimeFormat.ISO8601, 'yesterday'],
    [TimeFormat.ISO8601, ''],
    [TimeFormat.RFC3339, '2024-02-30T00:00:00+01:00'],
    [TimeFormat.RFC3339, '2024-01-01T00:00:00'],
    [TimeFormat.RFC3339, '2024-01-01T00:00+01:00'],
    [TimeFormat.RFC3339, '2024-01-01T00:00:00+24:00'],
    [TimeFormat.RFC3339, '2024-01-01T00:00:00+0100'],
    [TimeFormat.RFC3339, '2024-01-01 00:00:00Z'],
    [TimeFormat.CAMERA, 'Tue, 25 Nov 2026 19:12:00 +1100'],
    [TimeFormat.CAMERA, 'Wed, 25 Nov 2026 19:12:00 GMT'],
    [TimeFormat.CAMERA, 'Wed, 25 Nov 2026 19:12:00 +11:00'],
    [TimeFormat.CAMERA, 'Wed, 31 Nov 2026 19:12:00 +1100'],
    [TimeFormat.CAMERA, 'wed, 25 nov 2026 19:12:00 +1100'],
    [TimeFormat.HUMAN, '25 Nov 2026, 19:12:00 AEDT'],
    [TimeFormat.HUMAN, '25 Nov 2026, 19:12:00 AEDT (UTC+11:00'],
    [TimeFormat.HUMAN, '25 Nov 2026, 19:12:00 UTC+11:00)'],
    [TimeFormat.HUMAN, '25 Foo 2026, 19:12:00 UTC'],
    [TimeFormat.COMPACT, '20261325T081200Z'],
    [TimeFormat.COMPACT, '20261125T081200'],
    [TimeFormat.COMPACT, '2026-11-25T08:12:00Z'],
    [TimeFormat.UNIX_MS, '-1000'],
    [TimeFormat.UNIX_MS, '1e12'],
    [TimeFormat.UNIX_MS, '0x10'],
    [TimeFormat.UNIX_MS, '99999999999999999'],
    [TimeFormat.UNIX_MS, '8640000000000001'],
    [TimeFormat.UNIX_US, '1795594320000000.5'],
    [TimeFormat.UNIX_US, 'yesterday'],
  ])('%s rejects %p', (format, text) => {
    const error = errorOf(() => parseTimestamp(text, format));
    expect(error.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(error.message).toContain(JSON.stringify(text));
  });

  it('rejects a non-string', () => {
    expect(errorOf(() => parseTimestamp(42 as unknown as string, TimeFormat.ISO8601)).code).toBe(ErrorCode.INVALID_TIMESTAMP);
  });
});

describe(parseClientTime.name, () => {
  it.each([
    [T, T],
    [T + 0.25, T + 0.25],
    [0, 0],
    ['2026-11-25T08:12:00.000Z', T],
    ['2026-11-25T08:12:00Z', T],
    ['2026-11-25T19:12:00.000+11:00', T],
    ['2026-11-24T22:12:00-10:00', T],
    ['2026-11-25T13:42:00.000+05:30', T],
    ['2026-11-25T08:12Z', T],
    ['2026-11-25T08:12:00.500Z', T + 500],
  ])('reads %p', (value, ms) => {
    expect(parseClientTime(value)).toBe(ms);
  });

  it('keeps sub-millisecond digits of a string', () => {
    expect(parseClientTime('2026-11-25T08:12:00.000250Z') - T).toBeCloseTo(0.25, 3);
  });

  it.each([
    Number.NaN,
    Infinity,
    -Infinity,
    -1,
    9e15,
    true,
    false,
    null,
    undefined,
    {},
    { epochMs: T },
    [T],
    '',
    'yesterday',
    'now',
    '1795594320000',
    '2026-11-25T08:12:00', // no zone: would be read in whatever zone the Pi is in
    '2026-11-25 08:12:00Z',
    '2026-11-25',
    '2024-02-30T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '+275760-09-13T00:00:00.000Z',
    'Wed, 25 Nov 2026 19:12:00 +1100',
  ])('rejects %p', (value) => {
    const error = errorOf(() => parseClientTime(value));
    expect(error.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    const quoted = typeof value === 'number' ? String(value) : value === undefined ? 'undefined' : JSON.stringify(value);
    expect(error.message).toContain(quoted);
  });

  it('truncates a long value in the message', () => {
    const error = errorOf(() => parseClientTime('x'.repeat(5000)));
    expect(error.message).toContain(`"${'x'.repeat(40)}`);
    expect(error.message.length).toBeLessThan(200);
  });
});

describe(formatDuration.name, () => {
  it.each([
    [0, '0 ms'],
    [0.31, '0.31 ms'],
    [2.5, '2.5 ms'],
    [350, '350 ms'],
    [999.4, '999 ms'],
    [999.6, '1 s'],
    [1500, '1.5 s'],
    [9_940, '9.9 s'],
    [45_000, '45 s'],
    [59_600, '1 min'],
    [120_000, '2 min'],
    [125_000, '2 min 5 s'],
    [3_599_999, '1 h'],
    [3_900_000, '1 h 5 min'],
    [7_200_000, '2 h'],
    [90_000_000, '1 d 1 h'],
    [3 * 86_400_000, '3 d'],
    [-350, '-350 ms'],
  ])('%p ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('refuses non-finite values', () => {
    expect(() => formatDuration(Number.NaN)).toThrow(RangeError);
    expect(() => formatDuration(Infinity)).toThrow(RangeError);
  });
});
