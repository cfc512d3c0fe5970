import { DomainError, ErrorCode } from '../common/domain-error';
import { cameraZoneSetting, formatCameraDateTime, formatOffset, parseCameraDateTime } from './camera-datetime';
import { utcOffsetMinutes } from './timezone';

const at = (iso: string) => Date.parse(iso);

describe('camera date and time', () => {
  // instant (UTC), zone -> what the camera must be sent
  const table: Array<[string, string, string, boolean]> = [
    ['2026-07-04T19:30:15Z', 'America/Los_Angeles', 'Sat, 04 Jul 2026 12:30:15 -0800', true],
    ['2026-01-15T20:00:00Z', 'America/Los_Angeles', 'Thu, 15 Jan 2026 12:00:00 -0800', false],
    ['2026-07-04T19:30:15Z', 'Europe/Berlin', 'Sat, 04 Jul 2026 21:30:15 +0100', true],
    ['2026-01-15T20:00:00Z', 'Europe/Berlin', 'Thu, 15 Jan 2026 21:00:00 +0100', false],
    ['2026-11-25T08:12:00Z', 'Australia/Sydney', 'Wed, 25 Nov 2026 19:12:00 +1000', true],
    ['2026-07-04T19:30:15Z', 'Australia/Sydney', 'Sun, 05 Jul 2026 05:30:15 +1000', false],
    ['2026-11-25T08:12:00Z', 'Asia/Kolkata', 'Wed, 25 Nov 2026 13:42:00 +0530', false],
    ['2026-11-25T08:12:00Z', 'UTC', 'Wed, 25 Nov 2026 08:12:00 +0000', false],
    ['2026-01-15T20:00:00Z', 'America/St_Johns', 'Thu, 15 Jan 2026 16:30:00 -0330', false],
    ['2026-07-04T19:30:15Z', 'America/St_Johns', 'Sat, 04 Jul 2026 17:00:15 -0330', true],
    ['2026-11-25T08:12:00Z', 'Pacific/Kiritimati', 'Wed, 25 Nov 2026 22:12:00 +1400', false],
    // Los Angeles around the spring-forward and fall-back transitions of 2026
    ['2026-03-08T09:59:59Z', 'America/Los_Angeles', 'Sun, 08 Mar 2026 01:59:59 -0800', false],
    ['2026-03-08T10:00:00Z', 'America/Los_Angeles', 'Sun, 08 Mar 2026 03:00:00 -0800', true],
    ['2026-11-01T08:30:00Z', 'America/Los_Angeles', 'Sun, 01 Nov 2026 01:30:00 -0800', true],
    ['2026-11-01T09:30:00Z', 'America/Los_Angeles', 'Sun, 01 Nov 2026 01:30:00 -0800', false],
    // Berlin around its 2026 transitions, the hour after each (the repeated hour after fall-back twice)
    ['2026-03-29T01:00:00Z', 'Europe/Berlin', 'Sun, 29 Mar 2026 03:00:00 +0100', true],
    ['2026-10-25T00:30:00Z', 'Europe/Berlin', 'Sun, 25 Oct 2026 02:30:00 +0100', true],
    ['2026-10-25T01:30:00Z', 'Europe/Berlin', 'Sun, 25 Oct 2026 02:30:00 +0100', false],
    // Casablanca: +01 all year except Ramadan (2026: 15 Feb to 22 Mar), when it drops to +00. That is not
    // DST: with DST off the zone setting is the WALL offset, so +0000 in Ramadan (issue 8, defect 7).
    ['2026-01-15T12:00:00Z', 'Africa/Casablanca', 'Thu, 15 Jan 2026 13:00:00 +0100', false],
    ['2026-02-15T01:59:59Z', 'Africa/Casablanca', 'Sun, 15 Feb 2026 02:59:59 +0100', false],
    ['2026-02-15T02:00:00Z', 'Africa/Casablanca', 'Sun, 15 Feb 2026 02:00:00 +0000', false],
    ['2026-03-01T12:00:00Z', 'Africa/Casablanca', 'Sun, 01 Mar 2026 12:00:00 +0000', false],
    ['2026-03-22T02:00:00Z', 'Africa/Casablanca', 'Sun, 22 Mar 2026 03:00:00 +0100', false],
    ['2026-07-04T19:30:15Z', 'Africa/Casablanca', 'Sat, 04 Jul 2026 20:30:15 +0100', false],
    // Chatham (+12:45 / +13:45 in the southern summer), and the hour after each 2026 transition
    ['2026-11-25T08:12:00Z', 'Pacific/Chatham', 'Wed, 25 Nov 2026 21:57:00 +1245', true],
    ['2026-07-04T08:12:00Z', 'Pacific/Chatham', 'Sat, 04 Jul 2026 20:57:00 +1245', false],
    ['2026-04-04T13:30:00Z', 'Pacific/Chatham', 'Sun, 05 Apr 2026 03:15:00 +1245', true],
    ['2026-04-04T14:30:00Z', 'Pacific/Chatham', 'Sun, 05 Apr 2026 03:15:00 +1245', false],
    ['2026-09-26T14:00:00Z', 'Pacific/Chatham', 'Sun, 27 Sep 2026 03:45:00 +1245', true],
    // Lord Howe's DST is 30 min (+10:30 / +11:00): in summer "wall offset - 1 h" with dst true, so time and
    // instant stay right and only the camera's zone menu reads +10:00; in winter the wall offset +10:30
    ['2026-11-25T08:12:00Z', 'Australia/Lord_Howe', 'Wed, 25 Nov 2026 19:12:00 +1000', true],
    ['2026-07-04T08:12:00Z', 'Australia/Lord_Howe', 'Sat, 04 Jul 2026 18:42:00 +1030', false],
    ['2026-04-04T14:45:00Z', 'Australia/Lord_Howe', 'Sun, 05 Apr 2026 01:45:00 +1000', true],
    ['2026-04-04T15:15:00Z', 'Australia/Lord_Howe', 'Sun, 05 Apr 2026 01:45:00 +1030', false],
    ['2026-10-03T15:30:00Z', 'Australia/Lord_Howe', 'Sun, 04 Oct 2026 02:30:00 +1000', true],
  ];

  describe(formatCameraDateTime.name, () => {
    it.each(table)('%s in %s is %s (dst %s)', (iso, zone, datetime, dst) => {
      expect(formatCameraDateTime(at(iso), zone)).toEqual({ datetime, dst });
    });

    it('writes the wall offset when DST is off: Casablanca in Ramadan is +0000, not its usual +0100', () => {
      // The camera shows 12:00 and computes 12:00 - 0 h = 12:00 UTC; "+0100" would have made it 11:00 UTC.
      const written = formatCameraDateTime(at('2026-03-01T12:00:00Z'), 'Africa/Casablanca');
      expect(written).toEqual({ datetime: 'Sun, 01 Mar 2026 12:00:00 +0000', dst: false });
      expect(parseCameraDateTime(written).epochMs).toBe(at('2026-03-01T12:00:00Z'));
    });

    it('drops the fraction of the second rather than rounding up', () => {
      expect(formatCameraDateTime(at('2026-11-25T08:12:00.999Z'), 'UTC').datetime).toBe('Wed, 25 Nov 2026 08:12:00 +0000');
    });

    it('never writes the broken offsets of the prior art (pitfall 6)', () => {
      for (const [iso, zone] of table) {
        const { datetime } = formatCameraDateTime(at(iso), zone);
        expect(datetime).toMatch(/ [+-]\d{4}$/);
        expect(datetime).not.toMatch(/\+-|-0000|GMT/);
      }
    });

    it('gives the southern hemisphere its DST in November and not in July (pitfall 6)', () => {
      expect(formatCameraDateTime(at('2026-11-25T08:12:00Z'), 'Australia/Sydney').dst).toBe(true);
      expect(formatCameraDateTime(at('2026-07-04T08:12:00Z'), 'Australia/Sydney').dst).toBe(false);
    });

    it('refuses an unknown zone', () => {
      expect(() => formatCameraDateTime(0, 'Mars/Olympus')).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_TIMEZONE }));
    });
  });

  describe(parseCameraDateTime.name, () => {
    it.each(table)('reads %s in %s back from %s (dst %s), with the wall offset of the zone', (iso, zone, datetime, dst) => {
      expect(parseCameraDateTime({ datetime, dst })).toEqual({ epochMs: at(iso), datetime, dst, wallOffsetMinutes: utcOffsetMinutes(zone, at(iso)) });
    });

    it('takes the hour of DST off: Sydney in November is 08:12 UTC, not 09:12 (pitfall 7)', () => {
      const { epochMs } = parseCameraDateTime({ datetime: 'Wed, 25 Nov 2026 19:12:00 +1000', dst: true });
      expect(new Date(epochMs).toISOString()).toBe('2026-11-25T08:12:00.000Z');
    });

    it('reads the example of a real EOS RP log', () => {
      const { epochMs } = parseCameraDateTime({ datetime: 'Sat, 29 Aug 2020 17:46:19 -0800', dst: true });
      expect(new Date(epochMs).toISOString()).toBe('2020-08-30T00:46:19.000Z');
    });

    it('round-trips instants spread over a year in several zones', () => {
      const zones = [
        'America/Los_Angeles', 'Europe/Berlin', 'Australia/Sydney', 'Asia/Kolkata', 'UTC', 'America/Sao_Paulo', 'Pacific/Auckland',
        'Africa/Casablanca', 'Pacific/Chatham', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'America/St_Johns',
      ];
      for (const zone of zones) {
        for (let t = at('2026-01-01T00:00:00Z'); t < at('2027-01-01T00:00:00Z'); t += 21_599_993) {
          const whole = Math.floor(t / 1000) * 1000;
          const read = parseCameraDateTime(formatCameraDateTime(t, zone));
          expect([zone, read.epochMs, read.wallOffsetMinutes]).toEqual([zone, whole, utcOffsetMinutes(zone, whole)]);
        }
      }
    });

    const bad: Array<[string, unknown]> = [
      ['an impossible offset hour', { datetime: 'Wed, 25 Nov 2026 19:12:00 +2500', dst: false }],
      ['impossible offset minutes', { datetime: 'Wed, 25 Nov 2026 19:12:00 +0099', dst: false }],
      ['an offset beyond -12 h', { datetime: 'Wed, 25 Nov 2026 19:12:00 -1300', dst: false }],
      ['the prior art offset', { datetime: 'Wed, 25 Nov 2026 19:12:00 +-100', dst: false }],
      ['GMT', { datetime: 'Wed, 25 Nov 2026 19:12:00 GMT', dst: false }],
      ['the wrong day name', { datetime: 'Thu, 25 Nov 2026 19:12:00 +1000', dst: true }],
      ['31 November', { datetime: 'Tue, 31 Nov 2026 19:12:00 +1000', dst: true }],
      ['29 February of a common year', { datetime: 'Sun, 29 Feb 2026 10:00:00 +0000', dst: false }],
      ['hour 24', { datetime: 'Wed, 25 Nov 2026 24:00:00 +1000', dst: true }],
      ['a leap second', { datetime: 'Wed, 25 Nov 2026 19:12:60 +1000', dst: true }],
      ['no seconds', { datetime: 'Wed, 25 Nov 2026 19:12 +1000', dst: true }],
      ['a one-digit day', { datetime: 'Wed, 5 Nov 2026 19:12:00 +1000', dst: true }],
      ['an ISO string', { datetime: '2026-11-25T19:12:00+10:00', dst: true }],
      ['lower-case names', { datetime: 'wed, 25 nov 2026 19:12:00 +1000', dst: true }],
      ['trailing text', { datetime: 'Wed, 25 Nov 2026 19:12:00 +1000 ', dst: true }],
      ['a missing dst', { datetime: 'Wed, 25 Nov 2026 19:12:00 +1000' }],
      ['dst as text', { datetime: 'Wed, 25 Nov 2026 19:12:00 +1000', dst: 'true' }],
      ['a missing datetime', { dst: true }],
      ['a number', { datetime: 1795594320000, dst: false }],
      ['null', null],
      ['an array', [{ datetime: 'Wed, 25 Nov 2026 19:12:00 +1000', dst: true }]],
      ['a bare string', 'Wed, 25 Nov 2026 19:12:00 +1000'],
    ];

    it.each(bad)('refuses %s as a bad camera answer that it quotes', (_what, body) => {
      let error: unknown;
      try {
        parseCameraDateTime(body);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe(ErrorCode.CAMERA_BAD_ANSWER);
      const quoted = typeof body === 'object' && body && 'datetime' in body ? String((body as { datetime: unknown }).datetime) : JSON.stringify(body);
      expect((error as DomainError).message).toContain(quoted.slice(0, 20));
    });
  });

  describe(cameraZoneSetting.name, () => {
    it.each([
      [60, false, 60],
      [120, true, 60],
      [0, false, 0],
      [660, true, 600],
      [690, true, 630],
    ])('wall offset %i with dst %s is zone setting %i', (wall, dst, setting) => {
      expect(cameraZoneSetting(wall, dst)).toBe(setting);
    });
  });

  describe(formatOffset.name, () => {
    it.each([
      [0, '+0000'],
      [330, '+0530'],
      [600, '+1000'],
      [-480, '-0800'],
      [-210, '-0330'],
      [840, '+1400'],
    ])('%i minutes is %s', (minutes, text) => {
      expect(formatOffset(minutes)).toBe(text);
    });
  });
});
