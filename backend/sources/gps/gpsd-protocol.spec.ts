import { LineSplitter, parseGpsdLine, parseGpsdTime, WATCH_COMMAND } from './gpsd-protocol';

// Lines as gpsd 3.22 sent them, fed a generated NMEA log through a pty (test/support/gpsd-feeder.py).
const VERSION = '{"class":"VERSION","release":"3.22","rev":"3.22","proto_major":3,"proto_minor":14}';
const DEVICES = '{"class":"DEVICES","devices":[{"class":"DEVICE","path":"/dev/pts/0","activated":"2026-12-07T21:30:24.256Z","native":0,"bps":38400,"parity":"N","stopbits":1,"cycle":1.00}]}';
const TOFF = '{"class":"TOFF","device":"/dev/pts/0","real_sec":1796679025, "real_nsec":0,"clock_sec":1796679025,"clock_nsec":305618067}';
const TPV =
  '{"class":"TPV","device":"/dev/pts/0","mode":3,"time":"2026-12-07T21:30:26.000Z","ept":0.005,"lat":48.117300000,"lon":11.516666667,"altHAE":592.3000,"altMSL":545.4000,"alt":545.4000,"epv":34.500,"track":0.0000,"speed":0.000,"eph":19.000,"sep":34.200}';
const NO_FIX = '{"class":"TPV","device":"/dev/pts/0","mode":1,"time":"2026-12-07T21:31:13.000Z","ept":0.005}';
const GONE = '{"class":"DEVICE","path":"/dev/pts/0","activated":0}';

describe('gpsd protocol', () => {
  it('asks for JSON reports with TOFF and PPS, one line', () => {
    expect(WATCH_COMMAND).toBe('?WATCH={"enable":true,"json":true,"pps":true}\n');
    expect(JSON.parse(WATCH_COMMAND.slice('?WATCH='.length))).toEqual({ enable: true, json: true, pps: true });
  });

  describe(parseGpsdTime.name, () => {
    it.each([
      ['2026-12-07T21:30:26.000Z', Date.UTC(2026, 11, 7, 21, 30, 26)],
      ['2026-12-07T21:30:26Z', Date.UTC(2026, 11, 7, 21, 30, 26)],
      ['2026-12-07T21:30:26.5Z', Date.UTC(2026, 11, 7, 21, 30, 26, 500)],
      ['2026-12-07T21:30:26.123456Z', Date.UTC(2026, 11, 7, 21, 30, 26, 123) + 0.456],
      ['2007-04-23T21:31:17.000Z', Date.UTC(2007, 3, 23, 21, 31, 17)],
    ])('reads %s', (text, ms) => {
      expect(parseGpsdTime(text)).toBeCloseTo(ms, 6);
    });

    it.each(['2026-12-07 21:30:26Z', '2026-12-07T21:30:26+01:00', '2026-02-31T00:00:00Z', '2026-13-01T00:00:00Z', '0099-01-01T00:00:00Z', '', 'now', 1796679025])('refuses %p', (text) => {
      expect(parseGpsdTime(text)).toBeNull();
    });
  });

  describe(parseGpsdLine.name, () => {
    it('reads VERSION and DEVICES', () => {
      expect(parseGpsdLine(VERSION)).toEqual({ class: 'VERSION', release: '3.22', protoMajor: 3, protoMinor: 14 });
      expect(parseGpsdLine(DEVICES)).toEqual({ class: 'DEVICES', devices: [{ path: '/dev/pts/0', driver: null, active: true }] });
      expect(parseGpsdLine(GONE)).toEqual({ class: 'DEVICE', path: '/dev/pts/0', driver: null, active: false });
    });

    it('reads a TPV: mode, time (ms), ept (ms)', () => {
      expect(parseGpsdLine(TPV)).toEqual({ class: 'TPV', device: '/dev/pts/0', mode: 3, timeMs: Date.UTC(2026, 11, 7, 21, 30, 26), eptMs: 5 });
      expect(parseGpsdLine(NO_FIX)).toMatchObject({ mode: 1, timeMs: Date.UTC(2026, 11, 7, 21, 31, 13) });
      expect(parseGpsdLine('{"class":"TPV","device":"/dev/ttyACM0"}')).toEqual({ class: 'TPV', device: '/dev/ttyACM0', mode: 0, timeMs: null, eptMs: null });
    });

    it('reads TOFF and PPS to the microsecond', () => {
      const toff = parseGpsdLine(TOFF);
      expect(toff).toEqual({ class: 'TOFF', device: '/dev/pts/0', realMs: 1796679025000, clockMs: expect.any(Number) });
      // A double near 1.8e12 ms resolves 0.24 µs: ample.
      expect((toff as { clockMs: number }).clockMs).toBeCloseTo(1796679025305.618067, 3);
      const pps = parseGpsdLine('{"class":"PPS","device":"/dev/pps0","real_sec":1796679025,"real_nsec":0,"clock_sec":1796679024,"clock_nsec":999998765,"precision":-20}');
      expect(pps).toMatchObject({ class: 'PPS', realMs: 1796679025000 });
      expect((pps as { clockMs: number }).clockMs).toBeCloseTo(1796679024999.998765, 3);
    });

    it.each([
      ['not JSON', 'hello'],
      ['a JSON array', '[1,2]'],
      ['no class', '{"mode":3}'],
      ['a TPV with a bad mode', '{"class":"TPV","mode":7,"time":"2026-12-07T21:30:26.000Z"}'],
      ['a TPV with a bad time', '{"class":"TPV","mode":3,"time":"yesterday"}'],
      ['a TOFF without nanoseconds', '{"class":"TOFF","real_sec":1796679025,"clock_sec":1796679025}'],
      ['a TOFF with fractional seconds', '{"class":"TOFF","real_sec":1.5,"real_nsec":0,"clock_sec":1,"clock_nsec":0}'],
      ['a PPS with nanoseconds out of range', '{"class":"PPS","real_sec":1,"real_nsec":1000000000,"clock_sec":1,"clock_nsec":0}'],
      ['a truncated line', TPV.slice(0, 60)],
    ])('gives null for %s', (_what, line) => {
      expect(parseGpsdLine(line)).toBeNull();
    });

    it('passes other classes on by name only', () => {
      expect(parseGpsdLine('{"class":"SKY","satellites":[]}')).toEqual({ class: 'OTHER', name: 'SKY' });
      expect(parseGpsdLine('{"class":"ERROR","message":"Unrecognized request"}')).toEqual({ class: 'ERROR', message: 'Unrecognized request' });
    });
  });

  describe(LineSplitter.name, () => {
    it('splits across chunks, with or without CR', () => {
      const sut = new LineSplitter();
      expect(sut.push('{"a":1}\r\n{"b"')).toEqual(['{"a":1}']);
      expect(sut.push(':2}\n\n')).toEqual(['{"b":2}', '']);
    });

    it('drops a line longer than the cap, whole, and goes on after its newline', () => {
      const sut = new LineSplitter(16);
      expect(sut.push('x'.repeat(10))).toEqual([]);
      expect(sut.push('x'.repeat(10))).toEqual([]); // over 16 without a newline: dropped
      expect(sut.push('y'.repeat(100))).toEqual([]);
      expect(sut.push('tail\n{"ok":1}\n')).toEqual(['{"ok":1}']);
      expect(sut.push('z'.repeat(20) + '\nshort\n')).toEqual(['short']);
      expect(sut.dropped).toBe(2);
    });
  });
});
