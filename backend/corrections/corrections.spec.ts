import { ClockStepRecord } from '../activity-log/clock-journal';
import { JournalEventRecord } from '../activity-log/journal-records';
import { buildModel, CameraCorrections, forSession, localText, normalizeSerial, offsetText, shiftAt } from './corrections';
import fc from 'fast-check';
import { HOSTILE } from '../../test/support/hostile-strings';
import { ClockJournal } from '../activity-log/clock-journal';
import { exiftoolComment } from '../common/escape';
import { DomainError } from '../common/domain-error';
import { Clock } from '../time/clock';
import { AppConfig } from '../config/app.config';
import { CorrectionsService } from './corrections.service';
import { exiftoolArgs, geosyncArgs } from './photo-files';

const T = Date.UTC(2026, 11, 2, 10, 0, 0);
const S = 1000;
const SERIAL = '083021000123';

type Line = ClockStepRecord | JournalEventRecord | string;
const base = (atMs: number, boot = 1) => ({ atMs, at: new Date(atMs).toISOString(), monotonicMs: 0, boot, bootId: `k${boot}` });
const journal = (...lines: Line[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const sync = (atMs: number, offsetMs = 0, boot = 1): JournalEventRecord => ({ kind: 'pi-sync', ...base(atMs, boot), source: 'client', offsetMs, errorBoundMs: 1, reliability: 'high' });
/** A camera write: camera minus Pi `before` it, `after` it; the Pi's zone UTC unless given. */
const write = (atMs: number, before: number, after: number, extra: Record<string, unknown> = {}): JournalEventRecord =>
  ({ kind: 'camera-write', ...base(atMs, (extra.boot as number) ?? 1), cameraId: SERIAL, serial: SERIAL, success: true, offsetMs: before, boundMs: 10, residualMs: after, residualBoundMs: 5, verified: true, writtenWallOffsetMinutes: 0, timezone: 'UTC', ...extra }) as JournalEventRecord;
const measure = (atMs: number, offset: number, extra: Record<string, unknown> = {}): JournalEventRecord =>
  ({ kind: 'camera-measure', ...base(atMs), cameraId: SERIAL, serial: SERIAL, success: true, offsetMs: offset, boundMs: 20, ...extra }) as JournalEventRecord;
const step = (atMs: number, stepMs: number, state: ClockStepRecord['state'] = 'confirmed', source: ClockStepRecord['source'] = 'client', boot = 1): ClockStepRecord => ({
  id: `s${atMs}`,
  state,
  beforeMs: atMs - stepMs,
  before: '',
  afterMs: atMs,
  after: new Date(atMs).toISOString(),
  stepMs,
  source,
  monotonicMs: 0,
  boot,
  bootId: `k${boot}`,
  errorBoundMs: 1,
});

describe('corrections', () => {
  describe('cameras measured from photos of the time slate', () => {
    const slate = (atMs: number, offset: number, serial = 'NIKON-3007742', extra: Record<string, unknown> = {}): JournalEventRecord =>
      ({ kind: 'camera-measure', method: 'slate', ...base(atMs), cameraId: serial, serial, success: true, offsetMs: offset, boundMs: 15, wallOffsetMinutes: 60, slate: { make: 'NIKON CORPORATION', model: 'NIKON Z 6_2', photos: 3, zoneFrom: 'exif', consistent: true, frameMs: 16.7, pageErrMs: 1 }, ...extra }) as JournalEventRecord;

    it('a camera the Pi never talked to: its photos get minus the measured offset (the Pi\'s error taken out), in its own zone', () => {
      const model = buildModel(journal(sync(T - 60 * S, 200), slate(T, 41_234)));
      const camera = model.cameras.find((c) => c.serial === 'NIKON-3007742')!;
      expect(camera.periods).toHaveLength(1);
      // Camera minus Pi 41 234 ms, the Pi 200 ms behind true time: camera minus true 41 034 ms.
      expect(camera.periods[0].segments).toEqual([expect.objectContaining({ shiftMs: -41_034, boundMs: 16, from: null, to: null })]);
      expect(camera.periods[0].zone).toMatchObject({ camera: 60, known: true, corrected: false });
      const args = exiftoolArgs(model.cameras, { generatedAt: '', scope: 'all', skipped: [], damaged: [] });
      expect(args).toContain("['NIKON-3007742',undef,undef,-41034,-41034,undef]"); // picked by its serial number
    });

    it('two slate measurements sent in the wrong order: the drift between them in true-time order', () => {
      const model = buildModel(journal(sync(T - 60 * S), slate(T + 3600 * S, 1036), slate(T, 1000)));
      const segments = model.cameras[0].periods[0].segments;
      // Sent last, measured first: the earliest photos get about -1000 ms, the latest about -1036 ms (in 20 ms steps).
      expect(segments.at(0)).toMatchObject({ from: null });
      expect(segments.at(0)!.shiftMs).toBeGreaterThanOrEqual(-1020);
      expect(segments.at(-1)).toMatchObject({ to: null });
      expect(segments.at(-1)!.shiftMs).toBeLessThanOrEqual(-1016);
    });

    it('a slate photo taken before a CCAPI write but sent after it: measured in the period before the write', () => {
      const model = buildModel(journal(sync(T - 60 * S), write(T, 3000, 5), slate(T - 30 * S, 2990, SERIAL)));
      const [camera] = model.cameras;
      expect(camera.periods[0].points.map((p) => [p.kind, p.offsetMs])).toEqual([
        ['measure', 2990],
        ['before-write', 3000],
      ]);
      expect(camera.periods[1].points.map((p) => p.kind)).toEqual(['after-write']);
    });

    it('a camera whose photos carry no serial number is never picked by one', () => {
      const model = buildModel(journal(sync(T - 60 * S), slate(T, 500, 'x', { cameraId: 'exif.Canon-EOS-5D-Mark-II', serial: null })));
      const args = exiftoolArgs(model.cameras, { generatedAt: '', scope: 'all', skipped: [], damaged: [] });
      expect(model.cameras[0].serial).toBe('exif.Canon-EOS-5D-Mark-II');
      expect(args).not.toMatch(/\['exif/);
      expect(args).toMatch(/# camera "exif\.Canon-EOS-5D-Mark-II" .* is left out/);
    });
  });

  it('one write: photos before it get minus the offset measured then, photos after it minus the residual; the camera set back leaves an ambiguous window', () => {
    const model = buildModel(journal(sync(T - 60 * S), write(T, 3000, 5)));
    const [camera] = model.cameras;
    expect(camera.serial).toBe(SERIAL);
    expect(camera.periods.map((p) => p.segments.map((s) => s.shiftMs))).toEqual([[-3000], [-5]]);
    // The overlap, widened by the larger bound of the two points (10 + 1 ms: the camera's and the Pi's).
    expect(camera.periods[0].segments[0]).toMatchObject({ from: null, to: localText(T + 5 - 11) });
    expect(camera.periods[1].segments[0]).toMatchObject({ from: localText(T + 3000 + 11), to: null });
    expect(camera.ambiguous).toEqual([expect.objectContaining({ fromLocalMs: T + 5 - 11, toLocalMs: T + 3000 + 11, reason: expect.stringMatching(/set back by 2995 ms/) })]);
  });

  it("takes the Pi's own error out: a confirmation 400 ms off, an outside step, a step the product made", () => {
    const model = buildModel(
      journal(
        sync(T - 10 * S, 400), // the Pi is 400 ms behind the phone
        write(T, 1000, 0), // camera +1000 against the Pi: +600 against true time; set to the Pi: -400
        { kind: 'external-step', ...base(T + 20 * S + 7500), stepMs: 7500, beforeMs: T + 20 * S, before: '' },
        write(T + 40 * S + 7500, -7500, 0), // unchanged camera against the moved Pi, then set to it
        step(T + 60 * S, -7100), // a phone puts the Pi back on true time (it was 7.5 s - 0.4 s ahead)
        measure(T + 80 * S, 7110), // the camera, against the good Pi: drifted 10 ms
      ),
    );
    const [camera] = model.cameras;
    const points = camera.periods.map((p) => p.points.map((x) => [x.kind, Math.round(x.offsetMs)]));
    expect(points).toEqual([
      [['before-write', 600]],
      [['after-write', -400], ['before-write', -400]],
      [['after-write', 7100], ['measure', 7110]],
    ]);
    // 10 ms in 20 s is within the two bounds: a drift, interpolated (one row), then the last offset beyond it.
    expect(camera.periods[2].segments.map((s) => [s.kind, s.shiftMs, s.shiftToMs])).toEqual([
      ['drift', -7100, -7110],
      ['constant', -7110, -7110],
    ]);
  });

  it('never mixes boots: a write in a boot with no accepted sync is not placed (and named); the periods around it are not corrected', () => {
    const model = buildModel(journal(sync(T - 10 * S), write(T, 2000, 0), write(T + 3600 * S, 5000, 0, { boot: 2 }), sync(T + 7200 * S, 0, 3), measure(T + 7300 * S, 0, { boot: 3 })));
    const [camera] = model.cameras;
    expect(model.skipped).toEqual([expect.objectContaining({ line: 3, reason: expect.stringMatching(/Pi's own time is not known/) })]);
    expect(camera.periods.map((p) => [p.index, p.unusable === null])).toEqual([
      [1, true],
      [2, false],
      [3, false],
    ]);
    expect(camera.periods[1].unusable).toMatch(/line 3/);
  });

  it('a boot with no accepted sync falls back on what the Pi said of its own time then', () => {
    const trusted = buildModel(journal(write(T, 2000, 0, { piSource: 'ntp', piReliability: 'high' })));
    expect(trusted.cameras[0].periods[0].segments[0].shiftMs).toBe(-2000);
    const untrusted = buildModel(journal(write(T, 2000, 0, { piSource: 'camera', piReliability: 'medium' })));
    expect(untrusted.cameras[0].periods.every((p) => p.unusable)).toBe(true);
  });

  it('a step never confirmed breaks the chain: syncs on one side say nothing of the other', () => {
    const model = buildModel(journal(sync(T - 10 * S), step(T + 10 * S, 50_000, 'pending'), write(T + 20 * S, 1000, 0)));
    expect(model.skipped.map((s) => s.line)).toEqual([3]);
  });

  it("corrects the zone too when the camera's was wrong all period long (OffsetTimeOriginal), not when the Pi travelled", () => {
    const wrongZone = buildModel(journal(sync(T - 10 * S), measure(T - 5 * S, 0, { wallOffsetMinutes: 0 }), write(T, 0, 0, { writtenWallOffsetMinutes: 60, timezone: 'Europe/Berlin' })));
    expect(wrongZone.cameras[0].periods[0].zone).toMatchObject({ camera: 0, target: 60, corrected: true });
    expect(wrongZone.cameras[0].periods[0].segments.at(-1)).toMatchObject({ shiftMs: 3600_000, offsetTime: '+01:00' });

    const travelled = buildModel(
      journal(
        sync(T - 10 * S),
        measure(T - 5 * S, 0, { wallOffsetMinutes: 60 }),
        { kind: 'zone', ...base(T - 2 * S), id: 'z', state: 'confirmed', from: 'Europe/Berlin', to: 'Asia/Tokyo', source: 'client' },
        write(T, 0, 0, { writtenWallOffsetMinutes: 540, timezone: 'Asia/Tokyo' }),
      ),
    );
    expect(travelled.cameras[0].periods[0].zone.corrected).toBe(false);
    expect(travelled.cameras[0].periods[0].segments.every((s) => s.offsetTime === null && Math.abs(s.shiftMs) < 1)).toBe(true);
  });

  it('a session: only the period the start opened, cut to the session', () => {
    const model = buildModel(
      journal(
        sync(T - 10 * S),
        write(T, 3000, 4),
        { kind: 'session-start', ...base(T + 1 * S), sessionId: 's-1', by: '10.42.0.23' },
        measure(T + 600 * S, 64),
        { kind: 'session-stop', ...base(T + 601 * S), sessionId: 's-1', by: '10.42.0.23' },
        write(T + 700 * S, 70, 0),
      ),
    );
    const [span] = model.sessions;
    expect(span).toMatchObject({ id: 's-1', startLine: 3, stopLine: 5 });
    const [camera] = forSession(model, span);
    expect(camera.periods.map((p) => p.index)).toEqual([2]);
    const segments = camera.periods[0].segments;
    expect(segments[0].trueFrom).toBe(new Date(T + S).toISOString());
    expect(segments.at(-1)!.trueTo).toBe(new Date(T + 601 * S).toISOString());
    // One straight line through the three points of the period (100 ppm, the measure within its bound): one drift, cut to the session.
    expect(segments.map((s) => [s.kind, s.shiftMs, s.shiftToMs])).toEqual([['drift', -4, -61]]);
  });

  it('damaged lines are named and never used; a journal with nothing but them holds no record', () => {
    const model = buildModel('{"kind":"camera-write","atMs":\nnot json\n{"kind":"pi-sync"');
    expect(model.records).toBe(0);
    expect(model.damaged.map((d) => d.line)).toEqual([1, 2, 3]);
  });

  it('serial numbers as photos carry them: leading zeros and spaces do not matter', () => {
    expect(normalizeSerial(' 083021000123 ')).toBe('83021000123');
    expect(normalizeSerial('000')).toBe('0');
    expect(offsetText(-210)).toBe('-03:30');
    expect(localText(T + 3250)).toBe('2026:12:02 10:00:03.250');
  });
});

/** The issue's camera: right after correction 1, it lost 2.41 s at once, then correction 2 found it 2410 ms behind, 10 s later. */
const lostAtOnce = () => journal(sync(T - 60 * S), write(T, -5000, 0), write(T + 10 * S, -2410, 0));
/** Three days of a time-lapse: a check every 10 minutes, 13 ppm of drift and ±5 ms of noise on ±21 ms measurements. */
const timeLapse = () =>
  journal(sync(T - 60 * S), write(T, 3000, 0), ...Array.from({ length: 3 * 144 }, (_, i) => measure(T + (i + 1) * 600 * S, 13e-6 * (i + 1) * 600 * S + ((i % 3) - 1) * 5)));
/** A camera that drifts, loses 5 s at once between two checks, and drifts on. */
const lostAmidDrift = () => journal(sync(T - 60 * S), write(T, 3000, 0), measure(T + 600 * S, 6), measure(T + 1200 * S, -4988), measure(T + 1800 * S, -4982));

describe('drift or jump', () => {
  it("the issue's camera: 2410 ms in 10 s (241 000 ppm) is a jump: its photos get the later measurement's shift, with a bound that covers the jump", () => {
    const period = buildModel(lostAtOnce()).cameras[0].periods[1];
    expect(period.intervals).toEqual([expect.objectContaining({ kind: 'jump', changeMs: -2410, ratePpm: -241000, leastRatePpm: 239300 })]);
    // Its range: every camera time a photo of the interval can carry (before the jump: T and on; after: T - 2.41 s and on),
    // cut where the writes' windows begin; the bound: the jump and the earlier bound, plus 200 ppm of 10 s.
    expect(period.segments).toEqual([
      expect.objectContaining({ kind: 'jump', fromLocalMs: T - 2410 + 11, toLocalMs: T + 10 * S - 11, shiftMs: 2410, shiftToMs: 2410, boundMs: 2410 + 6 + 2, fromLine: 2, toLine: 3 }),
    ]);
    expect(period.segments[0].note).toBe(
      "a jump between line 2 and line 3: the camera's clock moved -2410 ms (in 10 s, -241000 ppm; a quartz clock drifts at most 200 ppm) at a moment not known: shift of the later measurement, ±2418 ms",
    );
  });

  it('the limit is a setting: allowed 300 000 ppm, the same change is a drift, one segment interpolated from one end to the other', () => {
    const period = buildModel(lostAtOnce(), { maxDriftPpm: 300_000 }).cameras[0].periods[1];
    expect(period.intervals.map((i) => i.kind)).toEqual(['drift']);
    expect(period.segments).toHaveLength(1);
    const [drift] = period.segments;
    expect(drift).toMatchObject({ kind: 'drift', fromLocalMs: T + 11, toLocalMs: T + 10 * S - 2410 - 11, ratePpm: -241000 });
    // The ends cut by the writes' windows: the shift there is the line's.
    expect(drift.shiftMs).toBe(Math.round((11 / 7590) * 2410));
    expect(Math.abs(drift.shiftToMs - (7579 / 7590) * 2410)).toBeLessThanOrEqual(1);
    expect(shiftAt(drift, T + 3795)).toBeCloseTo(1205, -1);
  });

  it('a multi-day time-lapse drifting 13 ppm is one segment, not one per 20 ms of change', () => {
    const model = buildModel(timeLapse());
    const period = model.cameras[0].periods[1];
    expect(period.points).toHaveLength(1 + 432);
    expect(period.segments.map((s) => s.kind)).toEqual(['drift', 'constant']);
    expect(period.segments[0].ratePpm).toBeCloseTo(13, 0);
    // Every check within its bound of the line: the bound is the checks' own plus how far the line passes from them.
    expect(period.segments[0].boundMs).toBeLessThanOrEqual(21 + 10);
    const condition = exiftoolArgs(model.cameras, { generatedAt: 'now', scope: 'all', skipped: [], damaged: [] }).split('\n').find((l) => l.startsWith('${DateTimeOriginal#;'))!;
    expect(condition.match(/\['83021000123',/g)).toHaveLength(3); // period 1, then the drift and what follows it
  });

  it('a jump amid drift: drift, jump, drift, then the last offset; a camera set back shows some times twice, and the jump keeps them', () => {
    const period = buildModel(lostAmidDrift()).cameras[0].periods[1];
    expect(period.intervals.map((i) => i.kind)).toEqual(['drift', 'jump', 'drift']);
    const segments = period.segments;
    expect(segments.map((s) => [s.kind, s.shiftMs, s.shiftToMs])).toEqual([
      ['drift', 0, -6],
      ['jump', 4988, 4988],
      ['drift', 4988, 4982],
      ['constant', 4982, 4982],
    ]);
    // Before the jump the camera showed T + 600 s + 6 ms at the check; after it, T + 595 012 ms at that instant:
    // those 4994 ms of camera time may be from either side, so the jump's range reaches back over them (and on to
    // the check after it with the higher offset), and its neighbours give way.
    expect(segments.map((s) => [s.fromLocalMs, s.toLocalMs])).toEqual([
      [T + 3011, T + 600 * S - 4988],
      [T + 600 * S - 4988, T + 1200 * S + 6],
      [T + 1200 * S + 6, T + 1800 * S - 4982],
      [T + 1800 * S - 4982, null],
    ]);
    expect(segments[1].boundMs).toBe(4994 + 21 + 120);
  });

  it('a camera that jumped ahead: the jump covers the camera times between the two checks, nothing more', () => {
    const period = buildModel(journal(sync(T - 60 * S), write(T, 3000, 0), measure(T + 600 * S, 6), measure(T + 1200 * S, 5006))).cameras[0].periods[1];
    expect(period.segments.map((s) => [s.kind, s.fromLocalMs, s.toLocalMs, s.shiftMs])).toEqual([
      ['drift', T + 3011, T + 600 * S + 6, 0],
      ['jump', T + 600 * S + 6, T + 1200 * S + 5006, -5006],
      ['constant', T + 1200 * S + 5006, null, -5006],
    ]);
  });

  it('a session that starts between two checks with a jump keeps every photo that may be from it', () => {
    const model = buildModel(
      journal(
        sync(T - 60 * S),
        write(T, 3000, 0),
        measure(T + 600 * S, 6),
        { kind: 'session-start', ...base(T + 900 * S), sessionId: 's-1', by: '10.42.0.23' },
        measure(T + 1200 * S, -4988),
        { kind: 'session-stop', ...base(T + 1300 * S), sessionId: 's-1', by: '10.42.0.23' },
      ),
    );
    const [camera] = forSession(model, model.sessions[0]);
    const [first] = camera.periods[0].segments;
    // Taken at T + 900 s, a photo shows T + 900 s + 6 ms (before the jump) or T + 900 s - 4988 ms (after).
    expect(first).toMatchObject({ kind: 'jump', fromLocalMs: T + 900 * S - 4988, trueFrom: new Date(T + 900 * S).toISOString() });
  });

  it('any points: segments in camera-time order, never overlapping, at most one per interval, every jump bound at least the jump', () => {
    const interval = fc.record({ gapS: fc.integer({ min: 1, max: 86_400 }), ppm: fc.integer({ min: -50, max: 50 }), jumpMs: fc.oneof(fc.constant(0), fc.integer({ min: -20_000, max: 20_000 })), boundMs: fc.integer({ min: 1, max: 50 }) });
    fc.assert(
      fc.property(fc.array(interval, { minLength: 1, maxLength: 8 }), (steps) => {
        let at = T;
        let offset = 0;
        const lines: Line[] = [sync(T - 60 * S), write(T, 3000, 0)];
        for (const st of steps) {
          at += st.gapS * S;
          offset += st.ppm * 1e-6 * st.gapS * S + st.jumpMs;
          lines.push(measure(at, Math.round(offset), { boundMs: st.boundMs }));
        }
        const period = buildModel(journal(...lines)).cameras[0].periods[1];
        const segments = period.segments;
        expect(segments.length).toBeLessThanOrEqual(steps.length + 1);
        for (let i = 0; i + 1 < segments.length; i++) expect(segments[i].toLocalMs!).toBeLessThanOrEqual(segments[i + 1].fromLocalMs!);
        for (const s of segments) {
          expect(s.fromLocalMs === null || s.toLocalMs === null || s.fromLocalMs < s.toLocalMs).toBe(true);
          expect(Number.isFinite(s.shiftMs) && Number.isFinite(s.shiftToMs)).toBe(true);
          if (s.kind === 'jump') {
            const change = period.intervals.find((x) => x.fromLine === s.fromLine && x.toLine === s.toLine)!.changeMs;
            expect(s.boundMs!).toBeGreaterThanOrEqual(Math.abs(change));
          }
        }
        // A change no quartz makes is never interpolated.
        for (const x of period.intervals) if (x.leastRatePpm === null || x.leastRatePpm > 200) expect(x.kind).toBe('jump');
        // A drift's line passes within every measurement's bound between its ends.
        for (const s of segments.filter((x) => x.kind === 'drift')) {
          const pts = period.points.filter((p) => p.line >= s.fromLine! && p.line <= s.toLine!);
          const [a, b] = [pts[0], pts.at(-1)!];
          for (const p of pts) expect(Math.abs(p.offsetMs - (a.offsetMs + ((p.trueMs - a.trueMs) / (b.trueMs - a.trueMs)) * (b.offsetMs - a.offsetMs)))).toBeLessThanOrEqual(p.boundMs! + 0.5);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('photo files', () => {
  const ctx = { generatedAt: 'now', scope: 'all', skipped: [], damaged: [] };

  it('the argument file is one group: a -if and two assignments, no -execute; comments name every range', () => {
    const model = buildModel(journal(sync(T - 60 * S), write(T, 3000, 5)));
    const text = exiftoolArgs(model.cameras, ctx);
    const args = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(args.map((a) => a.split('<')[0].split('\n')[0].slice(0, 24))).toEqual(['-if', '${DateTimeOriginal#;my @', '-SubSecDateTimeOriginal', '-SubSecCreateDate']);
    expect(text).not.toMatch(/-execute/);
    expect(text).toMatch(/# {3}period 1: \(any earlier\) to 2026:12:02 09:59:59\.994: shift -3\.000 s \(±11 ms\)/);
    expect(text).toContain(`['83021000123',undef,${T - 6},-3000,-3000,undef]`);
  });

  it('a serial number that could break the file is left out, and no comment carries a line end', () => {
    const model = buildModel(journal(sync(T - 60 * S), write(T, 3000, 5, { serial: "1'\n-execute\n-rm" })));
    const text = exiftoolArgs(model.cameras, { ...ctx, skipped: [{ line: 9, reason: 'camera said\n-delete_original' }] });
    expect(text).toMatch(/is left out: its serial number is not one a photo could carry/);
    expect(text.split('\n').filter((l) => l.startsWith('-'))).toHaveLength(3);
    expect(text).not.toMatch(/^-execute|^-rm|^-delete_original/m);
  });

  /** Every line of the file is a comment ("# ...") or one of the three arguments the file is made of. */
  const wellFormed = (text: string) => {
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    const args = lines.filter((l) => !l.startsWith('# '));
    expect(args.map((a) => a.slice(0, 24))).toEqual(['-if', '${DateTimeOriginal#;my @', '-SubSecDateTimeOriginal<', '-SubSecCreateDate<${Date']);
    // eslint-disable-next-line no-control-regex
    expect(text.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
  };

  it.each(HOSTILE)('hostile %j as serial, camera id, reason and error: one clean comment each, the file still three arguments', (hostile) => {
    const model = buildModel(
      journal(
        sync(T - 60 * S),
        write(T - 30 * S, 1000, 5, { cameraId: `x${hostile}`, serial: hostile, reason: hostile }),
        write(T - 20 * S, 1000, 5, { cameraId: `y${hostile}`, serial: 'EXE2', reason: hostile }),
        measure(T - 10 * S, 900, { cameraId: hostile, serial: 'EXE2', success: false, offsetMs: null, error: hostile }),
        write(T, 3000, 5),
      ),
    );
    const text = exiftoolArgs(model.cameras, { ...ctx, scope: `camera ${hostile}`, skipped: model.skipped });
    wellFormed(text);
    expect(text).toMatch(/is left out: its serial number is not one a photo could carry/);
    // The journal's camera id with a line end (a hand-edited journal) reaches the file only escaped.
    expect(text).toContain(exiftoolComment(`camera EXE2 (y${hostile}, ${hostile}):`));
    expect(text).toContain(`['83021000123',`);
    expect(text).toContain(`['EXE2',`);
    expect(text).not.toContain(`'${hostile}'`);
  });

  it('any serial, camera id and reason: the file stays a comment block and three arguments; only scopable serials reach the -if', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), (serial, cameraId, reason) => {
        const model = buildModel(journal(sync(T - 60 * S), write(T, 3000, 5, { serial, cameraId: cameraId || 'c', reason })));
        const text = exiftoolArgs(model.cameras, { ...ctx, skipped: model.skipped });
        wellFormed(text);
        const rows = [...text.matchAll(/\['((?:[^'\\]|\\.)*)',/g)].map((m) => m[1]);
        for (const row of rows) expect(row).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
      }),
      { numRuns: 200 },
    );
  });

  it("a jump's row says so in words and has one shift; a drift's row has its two ends, and the expression interpolates", () => {
    const jump = exiftoolArgs(buildModel(lostAtOnce()).cameras, ctx);
    expect(jump).toContain(
      "#   period 2: 2026:12:02 09:59:57.601 to 2026:12:02 10:00:09.989: a jump between line 2 and line 3: the camera's clock moved -2410 ms " +
        '(in 10 s, -241000 ppm; a quartz clock drifts at most 200 ppm) at a moment not known: shift of the later measurement, ±2418 ms; shift +2.410 s\n',
    );
    expect(jump).toContain(`['83021000123',${T - 2399},${T + 9989},2410,2410,undef]`);
    const drift = exiftoolArgs(buildModel(lostAtOnce(), { maxDriftPpm: 300_000 }).cameras, ctx);
    expect(drift).toMatch(/# {3}period 2: 2026:12:02 10:00:00\.011 to 2026:12:02 10:00:07\.579: shift from \+0\.003 s to \+2\.407 s \(±11 ms\) \(drift of -241000 ppm from line 2 to line 3: the shift is interpolated on the photo's own time\)\n/);
    expect(drift).toMatch(new RegExp(`\\['83021000123',${T + 11},${T + 7579},3,240\\d,undef\\]`));
  });

  it('-geosync points follow the segments: a jump holds the later offset across its range (no ramp over the interval), a drift has a point at each end', () => {
    const jump = buildModel(lostAtOnce()).cameras[0];
    const jumpPoints = geosyncArgs(jump, jump.periods[1], ctx).split('\n').filter((l) => l.startsWith('-geosync='));
    // The camera 2.41 s behind: 2 s at whole seconds, at both ends of the range (ExifTool holds it in between).
    expect(jumpPoints).toEqual(['-geosync=2026:12:02 10:00:00Z@2026:12:02 09:59:58', '-geosync=2026:12:02 10:00:11Z@2026:12:02 10:00:09']);
    const drift = buildModel(lostAtOnce(), { maxDriftPpm: 300_000 }).cameras[0];
    expect(geosyncArgs(drift, drift.periods[1], ctx).split('\n').filter((l) => l.startsWith('-geosync='))).toEqual([
      '-geosync=2026:12:02 10:00:01Z@2026:12:02 10:00:01',
      '-geosync=2026:12:02 10:00:09Z@2026:12:02 10:00:07',
    ]);
    // Drift, jump, drift, then the last offset: the ramps at the jump's borders are inside its range, and beyond the last check the offset stays.
    const amid = buildModel(lostAmidDrift()).cameras[0];
    const text = geosyncArgs(amid, amid.periods[1], ctx);
    expect(text).toMatch(/^# {3}2026:12:02 10:09:55\.012 to 2026:12:02 10:20:00\.006: a jump between line 3 and line 4: .*shift of the later measurement/m);
    const points = text
      .split('\n')
      .filter((l) => l.startsWith('-geosync='))
      .map((l) => /^-geosync=(.+)Z@(.+)$/.exec(l)!.slice(1).map((t) => Date.parse(`${t.slice(0, 10).replace(/:/g, '-')}T${t.slice(11)}Z`)))
      .map(([truth, cam]) => ({ cam: cam - T, offset: truth - cam }));
    expect(points).toEqual([
      { cam: 4_000, offset: 0 },
      { cam: 596_000, offset: 0 },
      { cam: 597_000, offset: 5_000 },
      { cam: 1_199_000, offset: 5_000 },
      { cam: 1_200_000, offset: 5_000 },
      { cam: 1_795_000, offset: 5_000 },
      { cam: 1_796_000, offset: 5_000 },
      { cam: 1_797_000, offset: 5_000 },
    ]);
  });

  it('-geosync points are whole seconds, true time @ camera time', () => {
    const model = buildModel(journal(sync(T - 60 * S), write(T, 3000, 7500)));
    const text = geosyncArgs(model.cameras[0], model.cameras[0].periods[1], ctx);
    // The camera showed 10:00:08 at 10:00:00.5 true: to the second, half a second rounded away.
    expect(text).toMatch(/^-geosync=2026:12:02 10:00:01Z@2026:12:02 10:00:08$/m);
  });
});

describe(CorrectionsService.name, () => {
  const hostile = "EXE1\n-if\nsystem('touch /tmp/PWNED') || 1\n#";
  const sutFor = (text: string, maxDriftPpm = 200) =>
    new CorrectionsService({ text: async () => text } as unknown as ClockJournal, { now: () => T } as unknown as Clock, { CAMERA_MAX_DRIFT_PPM: maxDriftPpm } as AppConfig);
  const text = journal(sync(T - 60 * S), write(T, 3000, 5, { cameraId: 'EXE1--if-system', serial: hostile }), write(T + S, 1000, 5, { cameraId: 'OK1', serial: 'OK1' }));

  it.each([
    [{ format: 'geosync' as const, camera: 'EXE1--if-system' }, 'UNSAFE_CAMERA_SERIAL'],
    [{ format: 'exiftool' as const, camera: 'EXE1--if-system' }, 'UNSAFE_CAMERA_SERIAL'],
    [{ camera: 'EXE1--if-system' }, 'UNSAFE_CAMERA_SERIAL'],
    [{ format: 'geosync' as const, camera: 'EXE1\n-if' }, 'INVALID_CAMERA_ID'],
    [{ format: 'geosync' as const }, 'SELECTION_REQUIRED'],
  ])('%j is refused with %s, whose message holds no line end', async (query, code) => {
    const error = await sutFor(text).corrections(query).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).not.toMatch(/[\n\r\0]/);
  });

  it('takes the drift limit from CAMERA_MAX_DRIFT_PPM', async () => {
    const kinds = async (ppm: number) => ((await sutFor(lostAtOnce(), ppm).corrections({})).body as { cameras: CameraCorrections[] }).cameras[0].periods[1].segments.map((x) => x.kind);
    expect(await kinds(200)).toEqual(['jump']);
    expect(await kinds(300_000)).toEqual(['drift']);
  });

  it('a lone hostile camera: geosync refuses it; the argument file reports it in a comment and keeps the rest', async () => {
    const lone = journal(sync(T - 60 * S), write(T, 3000, 5, { cameraId: 'EXE1--if-system', serial: hostile }));
    await expect(sutFor(lone).corrections({ format: 'geosync' })).rejects.toMatchObject({ code: 'UNSAFE_CAMERA_SERIAL' });
    const args = await sutFor(text).corrections({ format: 'exiftool' });
    expect(args.filename).toBe('corrections.args');
    expect(args.body).toMatch(/^# camera "EXE1\\n-if\\nsystem\('touch \/tmp\/PWNED'\) \|\| 1\\n#" \(EXE1--if-system\) is left out/m);
    expect(args.body).toContain("['OK1',");
    const geosync = await sutFor(text).corrections({ format: 'geosync', camera: 'OK1', period: 2 });
    expect(geosync.filename).toBe('geosync-OK1-2.args');
  });
});
