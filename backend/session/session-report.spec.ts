import { buildModel } from '../corrections/corrections';
import { sessionReport } from './session-report';

const T = Date.UTC(2026, 11, 2, 20, 0, 0);
const S = 1000;
const H = 3600 * S;
const base = (atMs: number) => ({ atMs, at: new Date(atMs).toISOString(), monotonicMs: 0, boot: 1, bootId: 'k' });
const cam = (extra: object) => ({ cameraId: 'SN1', serial: 'SN1', success: true, ...extra });
const lines = [
  { kind: 'pi-sync', ...base(T - 60 * S), source: 'client', offsetMs: 0, errorBoundMs: 1, reliability: 'high' },
  { kind: 'camera-write', ...base(T), ...cam({ offsetMs: 3012, boundMs: 8, residualMs: 4, residualBoundMs: 6, verified: true, writtenWallOffsetMinutes: 0 }) },
  { kind: 'session-start', ...base(T + S), sessionId: 's-20261202-200001-abcdef', by: '10.42.0.23', label: 'stars', cameras: [cam({ correctedFromMs: 3012, offsetMs: 4, boundMs: 6, verified: true })] },
  { kind: 'external-step', ...base(2 * H + T + 250), stepMs: 250, beforeMs: 2 * H + T, before: '' },
  { kind: 'camera-measure', ...base(4 * H + T + 250), ...cam({ offsetMs: -246 + 12, boundMs: 6 }) },
  { kind: 'session-stop', ...base(4 * H + T + 2 * S), sessionId: 's-20261202-200001-abcdef', by: '10.42.0.23', cameras: [cam({ correctedFromMs: null, offsetMs: -234, boundMs: 6 })] },
];

describe(sessionReport.name, () => {
  const model = buildModel(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const report = sessionReport(model, model.sessions[0]);

  it("takes each camera's start and end from the journal's session records", () => {
    expect(report).toMatchObject({ id: 's-20261202-200001-abcdef', state: 'stopped', label: 'stars', startedBy: '10.42.0.23', journal: { startLine: 3, stopLine: 6 } });
    expect(report.cameras).toEqual([
      expect.objectContaining({
        serial: 'SN1',
        start: expect.objectContaining({ line: 3, correctedFromMs: 3012, offsetMs: 4 }),
        end: expect.objectContaining({ line: 6, offsetMs: -234 }),
        writes: [],
      }),
    ]);
  });

  it("lists the Pi's steps in between, the product's or not, and takes them out of the drift", () => {
    expect(report.piSteps).toEqual([expect.objectContaining({ line: 4, kind: 'external-step', stepMs: 250 })]);
    // Against true time the camera went from +4 to +16 ms in 4 h: +72 ms/day, known to (6 + 6 + 2) / 4 h.
    expect(report.cameras[0].driftMsPerDay).toBeCloseTo(72, 0);
    expect(report.cameras[0].driftBoundMsPerDay).toBeCloseTo(84, 0);
    expect(report.cameras[0]).toMatchObject({ driftKnown: true, driftSummary: '+72 ms/day (±84)' });
    // True time: the stop's Pi time is 250 ms ahead after the outside step.
    expect(report.durationMs).toBe(4 * H + S - 250);
  });

  it('carries the correction for the session photos and where the files are', () => {
    const [period] = report.cameras[0].correction;
    expect(period.segments[0].trueFrom).toBe(new Date(T + S).toISOString());
    expect(period.segments.at(-1)!.trueTo).toBe(new Date(4 * H + T + 2 * S - 250).toISOString());
    expect(report.files.exiftool).toBe('/api/timesync/corrections?session=s-20261202-200001-abcdef&format=exiftool');
  });

  it('names the photos it leaves alone: camera times the start\'s correction or a write during the session made ambiguous', () => {
    // The start set the camera back 3 s: its first seconds in the session repeat camera times from before it.
    expect(report.cameras[0].leftAlone).toEqual([expect.objectContaining({ from: '2026:12:02 19:59:59.995', to: '2026:12:02 20:00:03.021', reason: expect.stringMatching(/^the camera was set back by 3008 ms at line 2/) })]);
    const setBack = [
      ...lines.slice(0, 3),
      { kind: 'camera-write', ...base(2 * H + T), ...cam({ offsetMs: 500, boundMs: 8, residualMs: 2, residualBoundMs: 6, verified: true, writtenWallOffsetMinutes: 0 }) },
      { kind: 'session-stop', ...base(4 * H + T), sessionId: 's-20261202-200001-abcdef', by: '10.42.0.23', cameras: [cam({ correctedFromMs: null, offsetMs: 3, boundMs: 6 })] },
    ];
    const m = buildModel(setBack.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const [camera] = sessionReport(m, m.sessions[0]).cameras;
    expect(camera.writes).toEqual([expect.objectContaining({ line: 4, success: true, offsetMs: 500 })]);
    expect(camera.leftAlone.map((w) => w.reason)).toEqual([expect.stringMatching(/^the camera was set back by 3008 ms at line 2/), expect.stringMatching(/^the camera was set back by \d+ ms at line 4/)]);
    expect(camera.driftKnown).toBe(false);
  });

  it('says a drift from a short session is not known, with its bound, instead of a figure to believe', () => {
    // 39 s between a ±8 and a ±10 ms measurement: the bound is 18 ms / 39 s, about ±39 900 ms/day.
    const short = [
      lines[0],
      lines[1],
      lines[2],
      { kind: 'camera-measure', ...base(T + 39 * S), ...cam({ offsetMs: 1, boundMs: 10 }) },
      { kind: 'session-stop', ...base(T + 39 * S), sessionId: 's-20261202-200001-abcdef', by: '10.42.0.23', cameras: [cam({ correctedFromMs: null, offsetMs: 1, boundMs: 10 })] },
    ];
    const m = buildModel(short.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const [camera] = sessionReport(m, m.sessions[0]).cameras;
    expect(camera.driftKnown).toBe(false);
    expect(camera.driftSummary).toMatch(/^not known: 39 s of measurements bound it only to ±\d+ ms\/day/);
    expect(camera.driftBoundMsPerDay).toBeGreaterThan(1000);
  });
});
