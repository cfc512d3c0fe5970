import { decodeReply, decodeRequest, encodeReply, encodeRequest, fromShortFormat, NtpLeap, readTimestamp, refIdNumber, toShortFormat, writeTimestamp } from './ntp-packet';

const T = Date.UTC(2026, 10, 25, 12, 0, 0) + 0.123456;

describe('NTP timestamps', () => {
  it('round-trip Unix ms to well under a microsecond', () => {
    const buf = Buffer.alloc(8);
    for (const ms of [T, 0.5, Date.UTC(2035, 11, 31, 23, 59, 59, 999), Date.UTC(2037, 0, 1)]) {
      writeTimestamp(buf, 0, ms);
      expect(Math.abs(readTimestamp(buf, 0) - ms)).toBeLessThan(1e-3);
    }
  });

  it('puts 2026-11-25 12:00:00 UTC at its era-0 seconds (1900 epoch)', () => {
    const buf = Buffer.alloc(8);
    writeTimestamp(buf, 0, Date.UTC(2026, 10, 25, 12, 0, 0));
    expect(buf.readUInt32BE(0)).toBe(Date.UTC(2026, 10, 25, 12, 0, 0) / 1000 + 2_208_988_800);
    expect(buf.readUInt32BE(4)).toBe(0);
  });

  it('writes a bound as 16.16 rounded up, never smaller', () => {
    expect(toShortFormat(0.0015)).toBe(Math.ceil(0.0015 * 65536));
    expect(fromShortFormat(toShortFormat(0.0015))).toBeGreaterThanOrEqual(0.0015);
    expect(toShortFormat(0)).toBe(0);
    expect(toShortFormat(-1)).toBe(0);
    expect(toShortFormat(1e9)).toBe(0xffffffff);
  });
});

describe(decodeRequest.name, () => {
  it('reads a client request and keeps its transmit timestamp byte for byte', () => {
    const raw = encodeRequest(T, 4, -4);
    const request = decodeRequest(raw)!;
    expect(request).toMatchObject({ version: 4, mode: 3, poll: -4 });
    expect(request.transmitRaw.equals(raw.subarray(40, 48))).toBe(true);
  });

  it.each([
    ['a short datagram', Buffer.alloc(47)],
    ['a server reply (mode 4)', Buffer.from([0x24, ...Buffer.alloc(47)])],
    ['version 0', Buffer.from([0x03, ...Buffer.alloc(47)])],
    ['a control message (mode 6)', Buffer.from([0x26, ...Buffer.alloc(47)])],
  ])('refuses %s', (_what, buf) => {
    expect(decodeRequest(buf)).toBeNull();
  });
});

describe(encodeReply.name, () => {
  it('answers with mode 4, the request version and poll, the origin echoed, and the server state as given', () => {
    const request = decodeRequest(encodeRequest(T - 5, 3, 0))!;
    const reply = decodeReply(encodeReply(request, { leap: NtpLeap.None, stratum: 2, precision: -20, rootDelayS: 0, rootDispersionS: 0.004, refId: 'PHON', referenceMs: T - 1000, receiveMs: T, transmitMs: T + 0.05 }))!;
    expect(reply).toMatchObject({ leap: 0, version: 3, mode: 4, stratum: 2, precision: -20, rootDelayS: 0, refId: refIdNumber('PHON') });
    expect(reply.rootDispersionS).toBeCloseTo(0.004, 4);
    expect(reply.originRaw.equals(request.transmitRaw)).toBe(true);
    expect(reply.receiveMs).toBeCloseTo(T, 4);
    expect(reply.transmitMs).toBeCloseTo(T + 0.05, 4);
    expect(reply.referenceMs).toBeCloseTo(T - 1000, 4);
  });

  it('says "no time" as leap 3 with no reference time; a stratum-1 code reads as text', () => {
    const request = decodeRequest(encodeRequest(T))!;
    const none = decodeReply(encodeReply(request, { leap: NtpLeap.Unsynchronised, stratum: 0, precision: -20, rootDelayS: 0, rootDispersionS: 0, refId: 'INIT', referenceMs: null, receiveMs: T, transmitMs: T }))!;
    expect(none).toMatchObject({ leap: 3, stratum: 0, referenceMs: null, refId: 'INIT' });
    const gps = decodeReply(encodeReply(request, { leap: NtpLeap.None, stratum: 1, precision: -20, rootDelayS: 0, rootDispersionS: 0.002, refId: 'GPS', referenceMs: T, receiveMs: T, transmitMs: T }))!;
    expect(gps.refId).toBe('GPS');
  });
});
