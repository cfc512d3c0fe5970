import { ErrorCode } from '../common/domain-error';
import { assertPlausibleTime, BUILD_DATE_MS, isTimestampValid, MAX_PLAUSIBLE_MS } from './validation';
import { errorOf } from '../../test/support/domain-errors';

describe('plausibility bounds', () => {
  it('are the build date and the start of 2100', () => {
    expect(new Date(BUILD_DATE_MS).toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect(new Date(MAX_PLAUSIBLE_MS).toISOString()).toBe('2100-01-01T00:00:00.000Z');
  });
});

describe(isTimestampValid.name, () => {
  it.each([BUILD_DATE_MS, BUILD_DATE_MS + 0.5, Date.parse('2027-06-01T00:00:00Z'), MAX_PLAUSIBLE_MS - 1])('accepts %p', (ms) => {
    expect(isTimestampValid(ms)).toBe(true);
  });

  it.each([BUILD_DATE_MS - 1, 0, -1, Date.parse('2020-01-01T00:00:00Z'), MAX_PLAUSIBLE_MS, Number.NaN, Infinity, -Infinity, '1795594320000', null, undefined, true, {}])(
    'rejects %p',
    (ms) => {
      expect(isTimestampValid(ms)).toBe(false);
    },
  );
});

describe(assertPlausibleTime.name, () => {
  it('returns a plausible time unchanged', () => {
    const t = Date.parse('2026-12-01T10:00:00.123Z');
    expect(assertPlausibleTime(t)).toBe(t);
  });

  it('refuses a time before the build date, quoting it as ISO', () => {
    const error = errorOf(() => assertPlausibleTime(Date.parse('2020-01-01T00:00:00Z')));
    expect(error.code).toBe(ErrorCode.IMPLAUSIBLE_TIME);
    expect(error.message).toBe('time 2020-01-01T00:00:00.000Z is before the software build date 2026-11-25; refusing it');
    expect(error.details).toEqual({ epochMs: Date.parse('2020-01-01T00:00:00Z'), minMs: BUILD_DATE_MS, maxMs: MAX_PLAUSIBLE_MS });
  });

  it('names what was refused and refuses 2100 and later', () => {
    const error = errorOf(() => assertPlausibleTime(MAX_PLAUSIBLE_MS, 'client time'));
    expect(error.code).toBe(ErrorCode.IMPLAUSIBLE_TIME);
    expect(error.message).toMatch(/^client time 2100-01-01T00:00:00\.000Z is not before 2100-01-01T00:00:00\.000Z; refusing it$/);
  });

  it('copes with values beyond the range of a Date', () => {
    expect(errorOf(() => assertPlausibleTime(1e300)).message).toContain('1e+300 ms');
  });

  it('reports a non-number as an invalid timestamp', () => {
    expect(errorOf(() => assertPlausibleTime(Number.NaN)).code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(errorOf(() => assertPlausibleTime('2027' as unknown as number)).code).toBe(ErrorCode.INVALID_TIMESTAMP);
  });
});
