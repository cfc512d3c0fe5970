import { ErrorCode } from '../protocol/vocabulary';
import { formatSlateCode } from '../protocol/slate-code';
import { ManualClock } from '../time/clock';
import { piIdentity } from './pi-identity';
import { SlateClock } from './slate-clock';
import { ExifFacts, judgeSlatePhoto, parseExifDateTime, parseOffsetTime, parseSubSec } from './slate-photo';
import { readSlatePhoto } from './slate-reader';

const ctx = { piId: 'pi-a', piZone: 'Europe/Berlin', latencyFrames: 1 };
const slateMs = Date.UTC(2026, 11, 2, 9, 0, 0, 0); // 10:00:00.000 in Berlin
const code = formatSlateCode({ piId: 'pi-a', unixMs: slateMs, frame: 12, frameMs: 16.7, errMs: 1, clock: 'abcd.0' });
const exif = (change: Partial<ExifFacts> = {}): ExifFacts => ({
  dateTimeOriginal: '2026:12:02 10:00:01',
  subSecTimeOriginal: '23',
  offsetTimeOriginal: '+01:00',
  exposureTime: 0.004,
  make: 'Canon',
  model: 'Canon EOS R5',
  serial: '083021000123',
  ...change,
});

describe(judgeSlatePhoto.name, () => {
  it('camera minus Pi from the stamp (in OffsetTimeOriginal) and the code, with the camera as its EXIF names it', () => {
    const r = judgeSlatePhoto([code], exif(), ctx);
    if (!r.ok) throw new Error(r.message);
    // Stamp 10:00:01.23 +01:00 = slate + 1230 ms; the interval [1230 - 16.7 - 16.7 - 1, 1230 + 10 + 4 + 1].
    expect(r.lowMs).toBeCloseTo(1195.6, 6);
    expect(r.highMs).toBeCloseTo(1245, 6);
    expect(r.camera).toEqual({ make: 'Canon', model: 'Canon EOS R5', serial: '083021000123' });
    expect(r.exif).toMatchObject({ zoneFrom: 'exif', zoneOffsetMinutes: 60, cameraMs: slateMs + 1230 });
  });

  it("reads a stamp without OffsetTimeOriginal in the Pi's zone, and says so", () => {
    const r = judgeSlatePhoto([code], exif({ offsetTimeOriginal: null }), ctx);
    expect(r).toMatchObject({ ok: true, exif: { zoneFrom: 'pi-zone', zoneOffsetMinutes: 60, cameraMs: slateMs + 1230 } });
    const summer = judgeSlatePhoto([code], exif({ offsetTimeOriginal: null, dateTimeOriginal: '2026:07:02 10:00:01' }), ctx);
    expect(summer).toMatchObject({ ok: true, exif: { zoneOffsetMinutes: 120 } });
  });

  it.each([
    [[], exif(), ErrorCode.NO_SLATE_CODE, /no QR code could be read/],
    [[code, code.replace(';12;', ';13;')], exif(), ErrorCode.SEVERAL_CODES, /2 QR codes/],
    [['WIFI:T:WPA;S:TimeSync;P:x;;'], exif(), ErrorCode.NOT_A_SLATE_CODE, /not a time slate/],
    [['TS2;pi-a;1;2;3'], exif(), ErrorCode.NOT_A_SLATE_CODE, /another version/],
    [[code.replace('pi-a', 'pi-b')], exif(), ErrorCode.FOREIGN_SLATE, /another Pi's \("pi-b"\), not this one's \("pi-a"\)/],
    [[code.replace(';16.7;', ';66.7;')], exif(), ErrorCode.SLATE_TOO_SLOW, /every 66.7 ms/],
    [[code], exif({ dateTimeOriginal: null }), ErrorCode.NO_EXIF_TIME, /no DateTimeOriginal/],
    [[code], null, ErrorCode.NO_EXIF_TIME, /no DateTimeOriginal/],
    [[code], exif({ dateTimeOriginal: '0000:00:00 00:00:00' }), ErrorCode.NO_EXIF_TIME, /is not a date/],
  ])('refuses %p with %p', (codes, facts, expected, words) => {
    const r = judgeSlatePhoto(codes as string[], facts as ExifFacts | null, ctx);
    expect(r).toMatchObject({ ok: false, code: expected });
    expect(r.ok ? '' : r.message).toMatch(words);
  });

  it('takes the same code read twice as one', () => {
    expect(judgeSlatePhoto([code, code], exif(), ctx).ok).toBe(true);
  });
});

describe('EXIF fields', () => {
  it('dates, sub-seconds and zones as cameras write them', () => {
    expect(parseExifDateTime('2026:12:02 10:00:03')).toBe(Date.UTC(2026, 11, 2, 10, 0, 3));
    expect(parseExifDateTime('2026:02:30 10:00:03')).toBeNull();
    expect(parseExifDateTime('    :  :     :  :  ')).toBeNull();
    expect(parseSubSec('25')).toEqual({ ms: 250, digits: 2 });
    expect(parseSubSec('025')).toEqual({ ms: 25, digits: 3 });
    expect(parseSubSec(null)).toEqual({ ms: 0, digits: 0 });
    expect(parseOffsetTime('+05:30')).toBe(330);
    expect(parseOffsetTime('-03:00')).toBe(-180);
    expect(parseOffsetTime('   :  ')).toBeNull();
  });
});

describe(readSlatePhoto.name, () => {
  const never = async () => {
    throw new Error('not called');
  };
  it('refuses an empty file and a file that is not a JPEG before decoding anything', async () => {
    expect(await readSlatePhoto(Buffer.alloc(0), ctx, { decoder: never, exif: never })).toMatchObject({ ok: false, code: ErrorCode.EMPTY_PHOTO });
    expect(await readSlatePhoto(Buffer.from('\x89PNG\r\n\x1a\n'), ctx, { decoder: never, exif: never })).toMatchObject({ ok: false, code: ErrorCode.NOT_A_JPEG });
  });

  it('decodes with zxing-wasm from node_modules, never from the network', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockRejectedValue(new Error('no network on the Pi'));
    try {
      const QR = await import('qrcode');
      const png = await QR.toBuffer(code, { errorCorrectionLevel: 'M', margin: 4, scale: 6 });
      const { decodeQrCodes } = await import('./slate-reader');
      expect(await decodeQrCodes(new Uint8Array(png))).toEqual([code]);
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
  });
});

describe(SlateClock.name, () => {
  it('tags the setting of the Pi clock, and moves an older setting\'s time onto the clock of now', () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 2, 9), 1000);
    const sut = new SlateClock(clock, 'abcd');
    expect(sut.tag()).toBe('abcd.0');
    clock.advance(60_000);
    expect(sut.tag()).toBe('abcd.0');
    clock.step(clock.wallMs + 7500);
    expect(sut.tag()).toBe('abcd.1');
    expect(sut.movedSince('abcd.0')).toBe(7500);
    expect(sut.movedSince('abcd.1')).toBe(0);
    expect(sut.movedSince('ffff.0')).toBeNull();
    expect(sut.movedSince('abcd.9')).toBeNull();
  });
});

describe(piIdentity.name, () => {
  it('PI_NAME, else a stable hash of the machine id that does not show it', () => {
    expect(piIdentity('field-pi')).toBe('field-pi');
    const id = piIdentity(undefined, () => '0123456789abcdef0123456789abcdef\n');
    expect(id).toMatch(/^pi-[0-9a-f]{8}$/);
    expect(piIdentity(undefined, () => '0123456789abcdef0123456789abcdef')).toBe(id);
    expect(id).not.toContain('01234567');
    expect(piIdentity(undefined, () => 'fedcba9876543210fedcba9876543210')).not.toBe(id);
  });
});
