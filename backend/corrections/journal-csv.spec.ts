import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClockStepRecord } from '../activity-log/clock-journal';
import { JournalEventRecord } from '../activity-log/journal-records';
import { buildModel } from './corrections';
import { JOURNAL_CSV_COLUMNS, journalCsv } from './journal-csv';

const T = Date.UTC(2026, 11, 2, 10, 0, 0);
const S = 1000;
const SERIAL = '083021000123';
const SESSION = 's-20261202-100010-3f9a2c';

type Line = ClockStepRecord | JournalEventRecord | string;
const base = (atMs: number, boot = 1) => ({ atMs, at: new Date(atMs).toISOString(), monotonicMs: 0, boot, bootId: `k${boot}` });
const journal = (...lines: Line[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const sync = (atMs: number): JournalEventRecord => ({ kind: 'pi-sync', ...base(atMs), source: 'client', offsetMs: 0, errorBoundMs: 1, reliability: 'high' });
const camera = (kind: 'camera-write' | 'camera-measure', atMs: number, extra: Record<string, unknown> = {}): JournalEventRecord =>
  ({ kind, ...base(atMs), cameraId: SERIAL, serial: SERIAL, success: true, offsetMs: -3000, boundMs: 10, ...(kind === 'camera-write' ? { residualMs: 5, residualBoundMs: 5, verified: true, timezone: 'Europe/Paris', writtenWallOffsetMinutes: 60 } : {}), ...extra }) as JournalEventRecord;
const session = (kind: 'session-start' | 'session-stop', atMs: number, id = SESSION, cameras: string[] = []): JournalEventRecord =>
  ({ kind, ...base(atMs), sessionId: id, by: '10.42.0.23', label: 'Wedding, hall B', cameras: cameras.map((cameraId) => ({ cameraId, serial: cameraId, success: true, correctedFromMs: -3000, offsetMs: 5, boundMs: 5 })) }) as JournalEventRecord;
const step = (atMs: number, stepMs: number): ClockStepRecord => ({
  id: `s${atMs}`,
  state: 'confirmed',
  beforeMs: atMs - stepMs,
  before: new Date(atMs - stepMs).toISOString(),
  afterMs: atMs,
  after: new Date(atMs).toISOString(),
  stepMs,
  source: 'client',
  monotonicMs: 0,
  boot: 1,
  bootId: 'k1',
  errorBoundMs: 4,
  client: '10.42.0.23',
});

/** The CSV as records keyed by column name (RFC 4180 cells; csvCell leaves no line end inside a cell). */
function parse(csv: string): { header: string[]; rows: Array<Record<string, string>> } {
  expect(csv.endsWith('\r\n')).toBe(true);
  const lines = csv.slice(0, -2).split('\r\n');
  const cells = (line: string) => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,"]*)/g)].map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]));
  const header = cells(lines[0]);
  return {
    header,
    rows: lines.slice(1).map((line) => {
      const values = cells(line);
      expect(values).toHaveLength(header.length);
      return Object.fromEntries(header.map((name, i) => [name, values[i]]));
    }),
  };
}

describe(journalCsv.name, () => {
  it('a header of named columns, one row per record, damaged lines named; formulas defused, no control character, numbers numeric', () => {
    const hostile = { serial: 'EXE1\0\n-if', cameraId: 'cam\r\nforged,row', reason: '=HYPERLINK("x")' };
    const csv = journalCsv(buildModel(journal(sync(T), camera('camera-write', T + S, hostile)) + 'cut'));
    const { header, rows: all } = parse(csv);
    expect(header).toEqual(JOURNAL_CSV_COLUMNS.map((c) => c.name));
    expect(header).not.toContain('detail');
    // The journal's lines first, then the corrections made from them.
    const rows = all.filter((r) => r.kind !== 'correction');
    expect(all.slice(0, 3)).toEqual(rows);
    expect(rows).toHaveLength(3);
    expect(all.slice(3).map((r) => [r.serial, r.correction])).toEqual([
      ['EXE1\\0\\n-if', 'constant'],
      ['EXE1\\0\\n-if', 'constant'],
      ['EXE1\\0\\n-if', 'none'],
    ]);
    expect(rows[1]).toMatchObject({ kind: 'camera-write', camera: 'cam\\r\\nforged,row', serial: 'EXE1\\0\\n-if', reason: `'=HYPERLINK("x")`, offset_ms: '-3000', residual_ms: '5', success: 'true', verified: 'true', camera_zone: 'Europe/Paris' });
    // eslint-disable-next-line no-control-regex
    expect(csv.replace(/\r\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
    expect(rows[2]).toMatchObject({ line: '3', kind: 'damaged', reason: expect.stringMatching(/no end/), text: 'cut' });
  });

  it("every row of a session carries its id: its start's corrections, its start, what happened in it, its stop; nothing before or after", () => {
    const text = journal(
      sync(T), // 1
      camera('camera-write', T + 9 * S), // 2: before the session (its id says it began at T + 10 s)
      camera('camera-write', T + 10 * S + 400), // 3: the start's correction (a write says no reason)
      session('session-start', T + 10 * S + 900, SESSION, [SERIAL]), // 4
      camera('camera-measure', T + 20 * S, { reason: 'periodic check' }), // 5
      step(T + 30 * S, 120), // 6
      '{"kind":"camera-measure","atMs":', // 7: damaged, in the session
      camera('camera-measure', T + 40 * S, { reason: `capture session ${SESSION} stopping` }), // 8
      session('session-stop', T + 40 * S), // 9
      camera('camera-write', T + 50 * S, { reason: 'manual sync' }), // 10: after it
      camera('camera-measure', T + 60 * S, { reason: 'capture session s-20261202-100100-aaaaaa starting' }), // 11: the next session's start, not yet journaled
      session('session-start', T + 60 * S, 's-20261202-100100-aaaaaa'), // 12: still running
      sync(T + 70 * S), // 13
    );
    const { rows: all } = parse(journalCsv(buildModel(text)));
    const rows = all.filter((r) => r.kind !== 'correction');
    expect(rows.map((r) => [r.line, r.session])).toEqual([
      ['1', ''],
      ['2', ''],
      ['3', SESSION],
      ['4', SESSION],
      ['5', SESSION],
      ['6', SESSION],
      ['7', SESSION],
      ['8', SESSION],
      ['9', SESSION],
      ['10', ''],
      ['11', 's-20261202-100100-aaaaaa'],
      ['12', 's-20261202-100100-aaaaaa'],
      ['13', 's-20261202-100100-aaaaaa'],
    ]);
    // What `detail` mixed, each in its column.
    expect(rows[3]).toMatchObject({ kind: 'session-start', address: '10.42.0.23', label: 'Wedding, hall B', reason: '' });
    expect(rows[5]).toMatchObject({ kind: 'step', address: '10.42.0.23', pi_time_before: new Date(T + 30 * S - 120).toISOString(), step_ms: '120', bound_ms: '4', source: 'client' });
    expect(rows[4]).toMatchObject({ kind: 'camera-measure', serial: SERIAL, reason: 'periodic check', residual_ms: '', camera_zone: '' });
  });

  it('a failed camera record names its error in `error`; zone changes and outside steps fill their own columns', () => {
    const text = journal(
      sync(T),
      camera('camera-write', T + S, { success: false, error: 'CAMERA_BUSY: Device busy', residualMs: null, verified: false }),
      { kind: 'zone', ...base(T + 2 * S), from: 'UTC', to: 'Europe/Paris', source: 'client', state: 'confirmed' },
      { kind: 'external-step', ...base(T + 3 * S), stepMs: 7500, beforeMs: T + 3 * S - 7500, before: new Date(T + 3 * S - 7500).toISOString() },
    );
    const { rows } = parse(journalCsv(buildModel(text)));
    expect(rows[1]).toMatchObject({ success: 'false', verified: 'false', error: 'CAMERA_BUSY: Device busy' });
    expect(rows[2]).toMatchObject({ kind: 'zone', zone_from: 'UTC', zone_to: 'Europe/Paris', source: 'client', state: 'confirmed', error: '' });
    expect(rows[3]).toMatchObject({ kind: 'external-step', step_ms: '7500', pi_time_before: new Date(T + 3 * S - 7500).toISOString() });
  });
});

describe('journal.csv corrections', () => {
  /** The camera: right after a write, it lost 2.41 s at once; the next write, 10 s later, found it 2410 ms behind. */
  const lostAtOnce = journal(sync(T - 60 * S), camera('camera-write', T, { offsetMs: -5000, residualMs: 0 }), camera('camera-write', T + 10 * S, { offsetMs: -2410, residualMs: 0 }));
  const corrections = (text: string, maxDriftPpm?: number) => parse(journalCsv(buildModel(text, { maxDriftPpm }))).rows.filter((r) => r.kind === 'correction');

  it('after the journal, one row per range: a jump is a jump row, with the later measurement\'s shift and the jump in words', () => {
    const rows = corrections(lostAtOnce);
    expect(rows.map((r) => [r.line, r.period, r.correction, r.shift_ms, r.shift_to_ms])).toEqual([
      ['2', '1', 'constant', '5000', '5000'],
      ['3', '2', 'jump', '2410', '2410'],
      ['3', '3', 'constant', '0', '0'],
      ['2', '', 'none', '', ''],
      ['3', '', 'none', '', ''],
    ]);
    expect(rows[1]).toMatchObject({
      serial: SERIAL,
      camera: SERIAL,
      rate_ppm: '-241000',
      bound_ms: '2418',
      camera_from: '2026:12:02 10:59:57.601',
      camera_to: '2026:12:02 11:00:09.989',
      reason: expect.stringMatching(/^a jump between line 2 and line 3: .* shift of the later measurement, ±2418 ms$/),
    });
    expect(rows[3].reason).toMatch(/^left alone: /);
  });

  it('a drift is one row with its shift at both ends and its rate, however long', () => {
    const [drift] = corrections(lostAtOnce, 300_000).filter((r) => r.period === '2');
    expect(drift).toMatchObject({ correction: 'drift', shift_ms: '3', shift_to_ms: '2407', rate_ppm: '-241000', camera_from: '2026:12:02 11:00:00.011', camera_to: '2026:12:02 11:00:07.579' });
    // Two days of checks every 10 minutes, 10 ppm: one drift row and the offset after the last check.
    const checks = Array.from({ length: 288 }, (_, i) => camera('camera-measure', T + (i + 1) * 600 * S, { offsetMs: 10e-6 * (i + 1) * 600 * S }));
    const rows = corrections(journal(sync(T - 60 * S), camera('camera-write', T, { offsetMs: 3000, residualMs: 0 }), ...checks)).filter((r) => r.period === '2');
    expect(rows.map((r) => [r.correction, r.rate_ppm, r.line])).toEqual([
      ['drift', '10', '290'],
      ['constant', '', '290'],
    ]);
  });
});

describe('docs/journal-csv.md', () => {
  const root = join(__dirname, '..', '..');
  const doc = readFileSync(join(root, 'docs', 'journal-csv.md'), 'utf8');

  it('describes exactly the columns the CSV has, in order, with the meanings the API serves', () => {
    const section = doc.slice(doc.indexOf('## Columns, in order'), doc.indexOf('## Kinds of rows'));
    const table = [...section.matchAll(/^\| `([a-z_]+)` \| (.+) \|$/gm)].map((m) => ({ name: m[1], meaning: m[2] }));
    expect(table).toEqual(JOURNAL_CSV_COLUMNS.map((c) => ({ name: c.name, meaning: c.meaning })));
  });

  it('is linked from the README', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain('(docs/journal-csv.md)');
  });
});
