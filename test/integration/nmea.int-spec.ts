/**
 * The NMEA generator (test/support/nmea.ts): checksums that parse, times that round-trip, and logs that gpsd's own
 * packet reader (python3-gps's `gps.packet`, the lexer gpsd and gpsfake use) takes sentence by sentence.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpsdMissing } from '../support/gpsd-harness';
import { epochSentences, nmeaChecksum, nmeaLog, nmeaSentence, parseNmea, receiverEpochs, rmcTimeMs } from '../support/nmea';

const GPS_ROLLOVER_MS = 1024 * 7 * 86_400_000;
const T = Date.UTC(2026, 11, 7, 21, 30, 25);

describe('NMEA logs with known times', () => {
  it('gives the checksum of the textbook GGA sentence', () => {
    expect(nmeaChecksum('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toBe('47');
    expect(nmeaSentence('GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,')).toBe('$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n');
  });

  it.each(['3d', '2d', 'none'] as const)('writes RMC, GGA and GSA with good checksums (%s fix)', (fix) => {
    const lines = epochSentences(T, fix).split('\r\n').filter(Boolean);
    expect(lines.map((l) => parseNmea(l)?.type)).toEqual(['RMC', 'GGA', 'GSA']);
    for (const l of lines) expect(parseNmea(l)!.checksumOk).toBe(true);
    expect(parseNmea(lines[0])!.fields[1]).toBe(fix === 'none' ? 'V' : 'A');
    expect(parseNmea(lines[2])!.fields[1]).toBe({ '3d': '3', '2d': '2', none: '1' }[fix]);
  });

  it.each([
    ['now', T],
    ['with centiseconds', T + 370],
    ['one week rollover back (2007)', T - GPS_ROLLOVER_MS],
    ['two back (1987)', T - 2 * GPS_ROLLOVER_MS],
    ['the last second of a year', Date.UTC(2026, 11, 31, 23, 59, 59)],
  ])('says the time it was given, as gpsd reads it back: %s', (_what, ms) => {
    const rmc = parseNmea(epochSentences(ms, '3d').split('\r\n')[0])!;
    expect(rmcTimeMs(rmc)).toBe(ms);
  });

  it('notices a corrupted sentence', () => {
    const line = epochSentences(T, '3d').split('\r\n')[0].replace('A,4807', 'A,4808');
    expect(parseNmea(line)!.checksumOk).toBe(false);
  });

  it('schedules each second at its true time plus the lateness, saying the truth plus any error', () => {
    const epochs = receiverEpochs({ startMs: T, seconds: 3, lateMs: (k) => 100 * (k + 1), errorMs: (k) => (k === 2 ? 3_600_000 : 0), fix: (k) => (k === 1 ? 'none' : '3d') });
    expect(epochs).toEqual([
      { saysMs: T, sendAtMs: T + 100, fix: '3d' },
      { saysMs: T + 1000, sendAtMs: T + 1200, fix: 'none' },
      { saysMs: T + 2000 + 3_600_000, sendAtMs: T + 2300, fix: '3d' },
    ]);
  });

  const missing = gpsdMissing();
  (missing.length ? it.skip : it)("is read by gpsd's packet lexer and by gpsfake's loader, its comments skipped", () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmea-'));
    try {
      const file = join(dir, 'log.nmea');
      writeFileSync(file, nmeaLog(receiverEpochs({ startMs: T, seconds: 5, lateMs: () => 250, fix: (k) => (k === 3 ? 'none' : '3d') })));
      const script = [
        'import sys, json',
        'from gps import packet, fake',
        'g = packet.new()',
        'kinds = {}',
        'with open(sys.argv[1], "rb") as f:',
        '    while True:',
        '        (n, t, data, _c) = g.get(f.fileno())',
        '        if n <= 0: break',
        '        kinds[t] = kinds.get(t, 0) + 1',
        'load = fake.TestLoad(sys.argv[1])',
        'print(json.dumps({"nmea": kinds.get(packet.NMEA_PACKET, 0), "other": sum(v for k, v in kinds.items() if k not in (packet.NMEA_PACKET, packet.COMMENT_PACKET)), "gpsfake": len(load.sentences), "textual": load.textual}))',
      ].join('\n');
      const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, file], { encoding: 'utf8' }));
      // Every sentence an NMEA packet, the comments (header, send-at) skipped, nothing else.
      expect(out).toEqual({ nmea: 15, other: 0, gpsfake: 15, textual: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
