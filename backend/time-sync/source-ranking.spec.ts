import { SyncSource } from '../protocol/vocabulary';
import { rankOf, SOURCE_RANKING } from '../sources/ranking';
import { SourceReading } from '../sources/source-port';
import { readingDue } from './source-runner';
import { Action, decide, DEFAULT_POLICY, INITIAL_STATE, PolicySettings, PolicyState, Reading } from './source-policy';

const cfg: PolicySettings = { ...DEFAULT_POLICY, resyncIntervalMs: 60_000, retryDelayMs: 5000 };
const MIN = 60_000;
const kinds = (actions: Action[]) => actions.map((a) => a.kind);
const find = <K extends Action['kind']>(actions: Action[], kind: K) => actions.find((a) => a.kind === kind) as Extract<Action, { kind: K }> | undefined;

/** Every source that can give the Pi a time to step to, automatically (NTP keeps the clock itself; the operator is a command). */
const AUTOMATIC = SOURCE_RANKING.filter((r) => r.steps && r.automatic).map((r) => r.source);

function reading(source: SyncSource, offsetMs: number, extra: Partial<Reading> = {}): Reading {
  return { source, offsetMs, errorBoundMs: 20, targetMinusMonoMs: 0, who: `${source}-1`, sourceTimeMs: 1_800_000_000_000 + offsetMs, piTimeMs: 1_800_000_000_000, ...extra };
}

/** The Pi's time came from `source` at monotonic `at` (1 min before the events below: reliability high). */
function from(source: SyncSource, over: Partial<PolicyState> = {}, fine = false): PolicyState {
  return { ...INITIAL_STATE, last: { monotonicMs: 0, source, offsetMs: 0, errorBoundMs: 20, client: `${source}-1`, ...(fine ? { fine } : {}) }, lastReliability: 'high', ...over };
}

describe('source ranking: the policy is the same for every source', () => {
  it('names every source of the vocabulary exactly once, best first', () => {
    expect(new Set(SOURCE_RANKING.map((r) => r.source))).toEqual(new Set(Object.values(SyncSource)));
    expect(SOURCE_RANKING.map((r) => r.rank)).toEqual([...SOURCE_RANKING.map((r) => r.rank)].sort((a, b) => b - a));
    // A fine GPS (PPS) is better than a phone, a coarse one worse; the hardware clock is below a camera's clock.
    expect(rankOf('gps', true)).toBeGreaterThan(rankOf('client'));
    expect(rankOf('gps')).toBeLessThan(rankOf('client'));
    expect(rankOf('gps')).toBeGreaterThan(rankOf('camera'));
    expect(rankOf('rtc')).toBeLessThan(rankOf('camera'));
  });

  // Every pair (the Pi's time came from A a minute ago; B measures 5 s off, with a tighter bound): B steps the clock
  // exactly when it ranks at least as high as A; otherwise it is measured and logged, and the Pi keeps A's time.
  const pairs = AUTOMATIC.flatMap((current) => AUTOMATIC.map((candidate) => ({ current, candidate, steps: rankOf(candidate) >= rankOf(current) })));
  it.each(pairs)('Pi from $current, $candidate 5 s off: steps $steps', ({ current, candidate, steps }) => {
    const { state, actions } = decide(from(current), { kind: 'measured', reading: reading(candidate, 5000, { who: `${candidate}-2`, errorBoundMs: 10 }), piZone: 'UTC' }, MIN, cfg);
    expect(kinds(actions).includes('step')).toBe(steps);
    if (!steps) {
      expect(state.last?.source).toBe(current);
      expect(find(actions, 'log')?.message).toMatch(/the Pi keeps its time from /);
    }
  });

  it('within the threshold, a better source steps a Pi that is surely off by more than its bound; the same or a worse one does not', () => {
    const small = (source: SyncSource, offsetMs: number, errorBoundMs: number) => reading(source, offsetMs, { errorBoundMs, who: `${source}-2` });
    const steps = (state: PolicyState, r: Reading) => kinds(decide(state, { kind: 'measured', reading: r, piZone: 'UTC' }, MIN, cfg).actions).includes('step');
    expect(steps(from('rtc'), small('client', 470, 2))).toBe(true);
    expect(steps(from('camera'), small('gps', 300, 40))).toBe(true);
    expect(steps(from('rtc'), small('client', 1.5, 2))).toBe(false); // within the phone's own bound: nothing to gain
    expect(steps(from('client'), small('client', 470, 2))).toBe(false); // the same source: the threshold keeps it from churning
    expect(steps(from('client'), small('gps', 470, 40))).toBe(false);
  });

  it.each(AUTOMATIC)('a never-synchronized Pi takes %s, whatever its rank', (source) => {
    expect(kinds(decide(INITIAL_STATE, { kind: 'measured', reading: reading(source, 3 * 86_400_000), piZone: 'UTC' }, MIN, cfg).actions)).toContain('step');
  });

  it.each(AUTOMATIC)('after a time set by hand, %s 5 s off is measured and the operator decides', (source) => {
    const held = from('manual', { hold: true });
    const { state, actions } = decide(held, { kind: 'measured', reading: reading(source, 5000), piZone: 'UTC' }, MIN, cfg);
    expect(kinds(actions)).not.toContain('step');
    expect(state.decision).toMatchObject({ kind: 'manual-disagrees', source, client: `${source}-1` });
    // A phone is asked about as a phone; any other source by its label.
    expect(state.decision?.message).toMatch(source === 'client' ? /Use the phone's time\?$/ : /Use its time\?$/);
  });

  it('a fine GPS reading (PPS) takes over from a phone; a coarse one does not', () => {
    expect(kinds(decide(from('client'), { kind: 'measured', reading: reading('gps', 5000, { fine: true }), piZone: 'UTC' }, MIN, cfg).actions)).toContain('step');
    expect(kinds(decide(from('client'), { kind: 'measured', reading: reading('gps', 5000), piZone: 'UTC' }, MIN, cfg).actions)).not.toContain('step');
    // Once the Pi follows a fine GPS, a phone is below it.
    expect(kinds(decide(from('gps', {}, true), { kind: 'measured', reading: reading('client', 5000), piZone: 'UTC' }, MIN, cfg).actions)).not.toContain('step');
  });

  it.each(AUTOMATIC)('after the Pi is set from %s, the cameras follow only if it ranks above a camera', (source) => {
    const { actions } = decide(INITIAL_STATE, { kind: 'applied', reading: reading(source, 5000), stepped: true, zoneChanged: null, stepMs: 5000 }, MIN, cfg);
    expect(kinds(actions).includes('sync-cameras')).toBe(rankOf(source) > rankOf('camera'));
    expect(find(actions, 'pi-sync')).toMatchObject({ synchronized: true, source, stepped: true });
  });

  it('a camera that connects while the Pi runs on its hardware clock is read, not written', () => {
    const { actions } = decide(from('rtc'), { kind: 'camera-connected', cameraId: 'c1', name: 'EOS R5', trusted: true }, MIN, cfg);
    expect(kinds(actions)).toContain('read-camera');
    expect(kinds(actions)).not.toContain('sync-cameras');
    const gps = decide(from('gps'), { kind: 'camera-connected', cameraId: 'c1', name: 'EOS R5', trusted: true }, MIN, cfg);
    expect(kinds(gps.actions)).toEqual(['sync-cameras']);
  });

  it('the source in use stops giving time: said in its words, the Pi keeps its time, no step and no degrade', () => {
    const { state, actions } = decide(from('gps'), { kind: 'source-lost', source: 'gps', who: 'gps-1', why: 'GPS has no fix', code: 'GPS_NO_FIX' }, MIN, cfg);
    expect(find(actions, 'log')?.message).toMatch(/^GPS has no fix; the Pi keeps the time it had from GPS \(gps-1\) 1 min ago \(reliability high\)$/);
    expect(kinds(actions)).toContain('status-changed');
    expect(state.degradedBy).toBe(0);
    // Another source's loss is one line, nothing more.
    const other = decide(from('client'), { kind: 'source-lost', source: 'rtc', who: 'rtc0', why: "The Pi's hardware clock is implausible", code: 'IMPLAUSIBLE_TIME' }, MIN, cfg);
    expect(kinds(other.actions)).toEqual(['log']);
  });

  it('the operator chooses the time of a GPS that disagreed: its next reading is applied, guard and hold released', () => {
    const held = from('manual', { hold: true });
    const asked = decide(held, { kind: 'measured', reading: reading('gps', 5000), piZone: 'UTC' }, MIN, cfg).state;
    const chose = decide(asked, { kind: 'accept-client', connId: null }, MIN, cfg);
    expect(kinds(chose.actions)).toEqual(['log', 'resample', 'status-changed']);
    expect(chose.state).toMatchObject({ hold: false, decision: null, acceptSource: 'gps' });
    const next = decide(chose.state, { kind: 'measured', reading: reading('gps', 5000), piZone: 'UTC' }, MIN, cfg);
    expect(kinds(next.actions)).toContain('step');
    expect(next.state.acceptSource).toBeNull();
  });
});

describe(readingDue.name, () => {
  const r = (over: Partial<SourceReading> = {}): SourceReading => ({ source: 'gps', who: 'g', sourceMinusMonoMs: 0, errorBoundMs: 500, atMono: 0, ...over });
  const settings = { retryDelayMs: 5000, resyncIntervalMs: 60_000 };
  const rows: { name: string; prev: Parameters<typeof readingDue>[0]; reading: SourceReading; now: number; reliability: 'high' | 'none'; due: boolean }[] = [
    { name: 'the first reading', prev: null, reading: r(), now: 0, reliability: 'high', due: true },
    { name: 'a good Pi, 10 s later', prev: { atMono: 0, fine: false, errorBoundMs: 500 }, reading: r(), now: 10_000, reliability: 'high', due: false },
    { name: 'a good Pi, one interval later', prev: { atMono: 0, fine: false, errorBoundMs: 500 }, reading: r(), now: 60_000, reliability: 'high', due: true },
    { name: 'a Pi with no time, one retry delay later', prev: { atMono: 0, fine: false, errorBoundMs: 500 }, reading: r(), now: 5000, reliability: 'none', due: true },
    { name: 'PPS came: at once', prev: { atMono: 0, fine: false, errorBoundMs: 500 }, reading: r({ fine: true, errorBoundMs: 1 }), now: 100, reliability: 'high', due: true },
    { name: 'calibrated (bound halved), after a retry delay', prev: { atMono: 0, fine: false, errorBoundMs: 500 }, reading: r({ errorBoundMs: 40 }), now: 6000, reliability: 'high', due: true },
    { name: 'calibrated, but within a retry delay', prev: { atMono: 0, fine: false, errorBoundMs: 500 }, reading: r({ errorBoundMs: 40 }), now: 1000, reliability: 'high', due: false },
  ];
  it.each(rows)('$name: $due', ({ prev, reading: x, now, reliability, due }) => {
    expect(readingDue(prev, x, now, reliability, settings)).toBe(due);
  });
});
