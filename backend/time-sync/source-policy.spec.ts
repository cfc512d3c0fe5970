import { Action, decide, DEFAULT_POLICY, INITIAL_STATE, isLoss, looksLikeZoneMistake, PolicyEvent, PolicySettings, PolicyState, Reading, reliabilityOf, SOURCE_RANKING } from './source-policy';

const cfg: PolicySettings = { ...DEFAULT_POLICY, stepThresholdMs: 1000, resyncIntervalMs: 60_000, retryDelayMs: 5000, maxRetries: 3 };
const MIN = 60_000;
const H = 60 * MIN;

const phone = { id: 'p1', address: '10.42.0.23', trusted: true };
const tab2 = { id: 'p2', address: '10.42.0.24', trusted: true };
const lan = { id: 'x1', address: '192.168.1.9', trusted: false };

function reading(source: Reading['source'], offsetMs: number, extra: Partial<Reading> = {}): Reading {
  return { source, offsetMs, errorBoundMs: source === 'manual' ? null : 1, targetMinusMonoMs: 0, who: source === 'client' ? phone.address : source, sourceTimeMs: 1_800_000_000_000 + offsetMs, piTimeMs: 1_800_000_000_000, ...extra };
}

/** A state after a successful client sync at monotonic `at`. */
function synced(at: number, over: Partial<PolicyState> = {}): PolicyState {
  return { ...INITIAL_STATE, connections: [phone], sourceId: phone.id, last: { monotonicMs: at, source: 'client', offsetMs: 0, errorBoundMs: 1, client: phone.address }, lastReliability: 'high', ...over };
}
function heldByHand(at: number): PolicyState {
  return synced(at, { hold: true, last: { monotonicMs: at, source: 'manual', offsetMs: 3 * H, errorBoundMs: null, client: phone.address } });
}

const kinds = (actions: Action[]) => actions.map((a) => a.kind);
const find = <K extends Action['kind']>(actions: Action[], kind: K) => actions.find((a) => a.kind === kind) as Extract<Action, { kind: K }> | undefined;

describe('source policy', () => {
  describe('decide: state, event → actions', () => {
    const rows: { name: string; state: PolicyState; event: PolicyEvent; now?: number; expect: string[]; check?: (s: PolicyState, a: Action[]) => void }[] = [
      { name: 'first access-point client becomes the source and is measured', state: INITIAL_STATE, event: { kind: 'connected', conn: phone }, expect: ['start-burst'], check: (s) => expect(s.sourceId).toBe(phone.id) },
      { name: 'a LAN client is never the source', state: INITIAL_STATE, event: { kind: 'connected', conn: lan }, expect: [], check: (s) => expect(s.sourceId).toBeNull() },
      { name: 'a second tab waits its turn', state: synced(0), event: { kind: 'connected', conn: tab2 }, expect: [], check: (s) => expect(s.sourceId).toBe(phone.id) },
      {
        name: 'the source leaves: the next access-point page takes over at once',
        state: synced(0, { connections: [phone, lan, tab2], burstTo: phone.id }),
        event: { kind: 'disconnected', connId: phone.id },
        expect: ['abort-burst', 'log', 'start-burst'],
        check: (s) => expect(s.sourceId).toBe(tab2.id),
      },
      {
        name: 'never synchronized, days off: stepped at once, zone taken',
        state: { ...INITIAL_STATE, connections: [phone], sourceId: phone.id, burstTo: phone.id },
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 3 * 24 * H, { zone: 'Europe/Berlin' }), piZone: 'UTC' },
        expect: ['step'],
        check: (_s, a) => expect(find(a, 'step')).toMatchObject({ stepClock: true, zone: 'Europe/Berlin' }),
      },
      {
        name: 'never synchronized, exactly 1 h off: stepped (the zone guard is for synchronized Pis only)',
        state: { ...INITIAL_STATE, connections: [phone], sourceId: phone.id },
        event: { kind: 'measured', connId: phone.id, reading: reading('client', H + 3), piZone: 'UTC' },
        expect: ['step'],
      },
      {
        name: 'within the threshold: confirmed, no step, next sync at the interval, unsynced cameras follow',
        state: synced(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 40), piZone: 'UTC' },
        now: 10 * MIN,
        expect: ['log', 'pi-sync', 'schedule', 'sync-cameras'],
        check: (s, a) => {
          expect(s.last?.monotonicMs).toBe(10 * MIN);
          expect(find(a, 'pi-sync')).toMatchObject({ synchronized: true, stepped: false });
          expect(find(a, 'schedule')?.delayMs).toBe(cfg.resyncIntervalMs);
          expect(find(a, 'sync-cameras')).toMatchObject({ onlyUnsynced: true });
        },
      },
      {
        name: 'synchronized Pi, client +1 h: suspected zone mistake, no step, the operator decides',
        state: synced(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', H + 800), piZone: 'Europe/Berlin' },
        now: MIN,
        expect: ['log', 'status-changed', 'schedule'],
        check: (s) => {
          expect(s.decision).toMatchObject({ kind: 'suspected-zone-mistake', connId: phone.id, client: phone.address });
          // Wall times in the zones, not ISO strings: 2027-01-15T08:00:00Z is 09:00:00 in Berlin.
          expect(s.decision?.message).toMatch(/says 10:00:00 CET, the Pi 09:00:00 CET: \+1 h/);
        },
      },
      {
        name: 'synchronized Pi, client exactly 1 h + 2 s (the edge of the zone guard window): still suspect',
        state: synced(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', H + 2000), piZone: 'UTC' },
        expect: ['log', 'status-changed', 'schedule'],
        check: (s) => expect(s.decision?.kind).toBe('suspected-zone-mistake'),
      },
      {
        name: 'synchronized Pi, client 1 h + 2.001 s (just outside the window): stepped',
        state: synced(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', H + 2001), piZone: 'UTC' },
        expect: ['step'],
      },
      {
        name: 'synchronized Pi, client -30 min: suspected zone mistake',
        state: synced(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', -30 * MIN - 1500), piZone: 'UTC' },
        expect: ['log', 'status-changed', 'schedule'],
      },
      {
        name: 'Pi set from a camera, client +5 h: a camera clock carries zone mistakes, the phone corrects it',
        state: synced(0, { last: { monotonicMs: 0, source: 'camera', offsetMs: 0, errorBoundMs: 500, client: 'SN1' }, lastReliability: 'medium' }),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 5 * H + 300), piZone: 'UTC' },
        expect: ['step'],
      },
      {
        name: 'synchronized Pi, client +47 s: an ordinary step',
        state: synced(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 47_000), piZone: 'UTC' },
        expect: ['step'],
      },
      {
        name: 'operator set the time: a client 1 h away measures, does not step, and the disagreement is shown',
        state: heldByHand(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', -H), piZone: 'UTC' },
        expect: ['log', 'status-changed', 'schedule'],
        check: (s) => {
          expect(s.decision).toMatchObject({ kind: 'manual-disagrees', offsetMs: -H, piSource: 'manual' });
          expect(s.hold).toBe(true);
        },
      },
      {
        name: 'operator set the time: a client with another zone does not change the zone either',
        state: heldByHand(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 20, { zone: 'UTC' }), piZone: 'Europe/Berlin' },
        expect: ['log', 'status-changed', 'schedule'],
      },
      {
        name: 'operator set the time: an agreeing client confirms it, the hold stays',
        state: heldByHand(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 30), piZone: 'UTC' },
        expect: ['log', 'pi-sync', 'schedule', 'sync-cameras'],
        check: (s) => expect(s).toMatchObject({ hold: true, last: { source: 'manual' } }),
      },
      {
        name: 'the operator chooses the phone: hold released, a fresh burst, then applied without guard',
        state: { ...heldByHand(0), decision: { ...decisionOf(phone.id) } },
        event: { kind: 'accept-client', connId: null },
        expect: ['log', 'start-burst', 'status-changed'],
        check: (s) => expect(s).toMatchObject({ hold: false, decision: null, acceptFrom: phone.id, sourceId: phone.id }),
      },
      {
        name: 'an accepted client is applied even at a whole hour on a synchronized Pi',
        state: synced(0, { acceptFrom: phone.id }),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', H), piZone: 'UTC' },
        expect: ['step'],
        check: (s) => expect(s.acceptFrom).toBeNull(),
      },
      {
        name: 'a manual set steps at once, whatever the current source',
        state: synced(0),
        event: { kind: 'manual', reading: reading('manual', 3 * H, { zone: 'Asia/Tokyo' }), piZone: 'UTC' },
        expect: ['step'],
        check: (_s, a) => expect(find(a, 'step')).toMatchObject({ stepClock: true, zone: 'Asia/Tokyo' }),
      },
      {
        name: 'a manual set applied: the hold is on and the cameras follow',
        state: synced(0),
        event: { kind: 'applied', reading: reading('manual', 3 * H), stepped: true, zoneChanged: null },
        expect: ['log', 'pi-sync', 'schedule', 'sync-cameras'],
        check: (s, a) => {
          expect(s.hold).toBe(true);
          expect(find(a, 'sync-cameras')?.onlyUnsynced).toBeUndefined();
        },
      },
      {
        name: 'NTP keeps the clock: measure only; a manual set is refused',
        state: synced(0, { ntp: true }),
        event: { kind: 'manual', reading: reading('manual', 3 * H), piZone: 'UTC' },
        expect: ['log'],
      },
      {
        name: 'NTP keeps the clock: a client 3 h away is reported, never stepped',
        state: synced(0, { ntp: true }),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 3 * H), piZone: 'UTC' },
        expect: ['log', 'pi-sync', 'schedule'],
      },
      {
        name: 'timedated says NTP keeps the clock (no server named): only the status changes',
        state: synced(0),
        event: { kind: 'ntp', synchronized: true },
        expect: ['status-changed'],
        check: (s) => expect(s.ntp).toBe(true),
      },
      {
        name: 'chrony follows a leader Pi (TIME_SERVER=chrony): said in words, and the cameras not yet set follow it',
        state: INITIAL_STATE,
        event: { kind: 'ntp', synchronized: true, who: '10.42.0.1' },
        expect: ['log', 'sync-cameras', 'status-changed'],
        check: (s, a) => {
          expect(s.ntp).toBe(true);
          expect(find(a, 'log')?.message).toBe('The Pi follows 10.42.0.1 over NTP: chrony keeps its clock; phones and GPS are measured, not followed');
          expect(find(a, 'sync-cameras')).toMatchObject({ onlyUnsynced: true, reason: 'the Pi follows 10.42.0.1 over NTP' });
        },
      },
      {
        name: 'the leader stops answering: said, and the Pi may be set by a phone again',
        state: synced(0, { ntp: true }),
        event: { kind: 'ntp', synchronized: false, who: '10.42.0.1' },
        expect: ['log', 'status-changed'],
        check: (s, a) => {
          expect(s.ntp).toBe(false);
          expect(find(a, 'log')).toMatchObject({ success: false, message: expect.stringMatching(/^The Pi no longer follows 10\.42\.0\.1 over NTP \(it does not answer\)/) });
        },
      },
      {
        name: 'chrony stepped the clock while it follows a leader: every camera follows',
        state: synced(0, { ntp: true }),
        event: { kind: 'clock-stepped', by: 'chrony', stepMs: 3_600_000 },
        expect: ['sync-cameras'],
        check: (_s, a) => expect(find(a, 'sync-cameras')).toEqual({ kind: 'sync-cameras', reason: 'chrony stepped the Pi clock' }),
      },
      { name: 'chrony stepped the clock while the product gives it its time: nothing more (the product asked for it)', state: synced(0), event: { kind: 'clock-stepped', by: 'chrony', stepMs: 2 }, expect: [] },
      {
        name: 'a success carries the reading it took (a time server is handed it)',
        state: synced(0),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 40, { targetMinusMonoMs: 123 }), piZone: 'UTC' },
        expect: ['log', 'pi-sync', 'schedule', 'sync-cameras'],
        check: (_s, a) => expect(find(a, 'pi-sync')?.reading).toMatchObject({ source: 'client', offsetMs: 40, targetMinusMonoMs: 123 }),
      },
      {
        name: 'a failed burst degrades one level, is reported, and retries',
        state: synced(0, { burstTo: phone.id }),
        event: { kind: 'burst-failed', connId: phone.id, address: phone.address, answered: 2, sent: 32, why: '2 of 32 probes answered' },
        now: MIN,
        expect: ['log', 'pi-sync', 'schedule'],
        check: (s, a) => {
          expect(s.degradedBy).toBe(1);
          expect(find(a, 'log')?.message).toMatch(/retry 1 of 3 in 5 s/);
          expect(reliabilityOf(s, MIN, cfg)).toBe('medium');
          expect(find(a, 'pi-sync')).toMatchObject({ synchronized: false });
          expect(find(a, 'schedule')?.delayMs).toBe(cfg.retryDelayMs);
        },
      },
      {
        name: 'the last retry failed: the next attempt is at the interval (the schedule never stops)',
        state: synced(0, { retries: 3, degradedBy: 1, lastReliability: 'medium' }),
        event: { kind: 'burst-failed', connId: phone.id, address: phone.address, answered: 1, sent: 32, why: '1 of 32 probes answered' },
        now: MIN,
        expect: ['log', 'pi-sync', 'schedule', 'reliability-lost'],
        check: (s, a) => {
          expect(find(a, 'schedule')?.delayMs).toBe(cfg.resyncIntervalMs);
          expect(reliabilityOf(s, MIN, cfg)).toBe('low');
          expect(find(a, 'reliability-lost')?.reliability).toBe('low');
        },
      },
      {
        name: 'a silent source hands over to the next access-point page',
        state: synced(0, { connections: [phone, tab2], burstTo: phone.id }),
        event: { kind: 'burst-failed', connId: phone.id, address: phone.address, answered: 0, sent: 32, why: '0 of 32 probes answered' },
        expect: ['log', 'pi-sync', 'log', 'start-burst'],
        check: (s) => expect(s.sourceId).toBe(tab2.id),
      },
      {
        name: 'a failed clock write is a failure (degraded, reported) and the schedule goes on',
        state: synced(0),
        event: { kind: 'apply-failed', reading: reading('client', 5000), error: 'journal not writable', code: 'CLOCK_WRITE_FAILED' },
        expect: ['log', 'pi-sync', 'schedule'],
        check: (s) => expect(s.degradedBy).toBe(1),
      },
      {
        name: 'camera connects while the Pi is reliable: it is synced',
        state: synced(0),
        event: { kind: 'camera-connected', cameraId: 'SN1', name: 'EOS R5', trusted: true },
        expect: ['sync-cameras'],
        check: (_s, a) => expect(find(a, 'sync-cameras')?.cameraIds).toEqual(['SN1']),
      },
      {
        name: 'camera connects while the Pi time is old (low): synced, with a warning',
        state: synced(0, { lastReliability: 'low' }),
        event: { kind: 'camera-connected', cameraId: 'SN1', name: 'EOS R5', trusted: true },
        now: 2 * H,
        expect: ['log', 'sync-cameras'],
        check: (_s, a) => expect(find(a, 'log')?.message).toMatch(/old/),
      },
      {
        name: 'camera connects while the Pi has no time: its battery clock is read',
        state: INITIAL_STATE,
        event: { kind: 'camera-connected', cameraId: 'SN1', name: 'EOS R5', trusted: true },
        expect: ['read-camera'],
      },
      {
        name: 'an untrusted camera (a known serial at a new address) connects while the Pi has no time: not read, said why',
        state: INITIAL_STATE,
        event: { kind: 'camera-connected', cameraId: 'SN1', name: 'EOS R5', trusted: false },
        expect: ['log'],
        check: (s, a) => {
          expect(find(a, 'log')).toMatchObject({ success: false, details: { cameraId: 'SN1', trusted: false } });
          expect(s.last).toBeNull();
        },
      },
      {
        name: 'a camera reading sets a Pi that has no time, capped at medium',
        state: INITIAL_STATE,
        event: { kind: 'measured', reading: reading('camera', -90_000, { errorBoundMs: 500 }), piZone: 'UTC' },
        expect: ['step'],
      },
      {
        name: 'a camera reading never overrides a reliable client time',
        state: synced(0),
        event: { kind: 'measured', reading: reading('camera', -90_000, { errorBoundMs: 500 }), piZone: 'UTC' },
        expect: ['log'],
      },
      {
        name: 'a zone change without a step is a reason to sync every camera',
        state: synced(0),
        event: { kind: 'applied', reading: reading('client', 10, { zone: 'Pacific/Chatham' }), stepped: false, zoneChanged: { from: 'Europe/Berlin', to: 'Pacific/Chatham' } },
        expect: ['log', 'log', 'pi-sync', 'schedule', 'sync-cameras'],
        check: (_s, a) => expect(find(a, 'sync-cameras')).toMatchObject({ reason: 'the Pi time zone changed' }),
      },
      {
        name: 'a capture session starts: the policy knows, pages hear of it',
        state: synced(0),
        event: { kind: 'session-started' },
        expect: ['status-changed'],
        check: (s) => expect(s.session).toBe(true),
      },
      {
        name: 'in a session, a client 2 s away is measured, not stepped: the operator decides (session-running)',
        state: synced(0, { session: true }),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 2000), piZone: 'UTC' },
        expect: ['log', 'status-changed', 'schedule'],
        check: (s, a) => {
          expect(s.decision).toMatchObject({ kind: 'session-running', offsetMs: 2000, connId: phone.id });
          expect(find(a, 'log')?.message).toMatch(/capture session is running/);
        },
      },
      {
        name: 'in a session, a Pi that never had time is not stepped either',
        state: { ...INITIAL_STATE, connections: [phone], sourceId: phone.id, session: true },
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 3 * 24 * H), piZone: 'UTC' },
        expect: ['log', 'status-changed', 'schedule'],
        check: (s) => expect(s.decision?.kind).toBe('session-running'),
      },
      {
        name: 'in a session, another zone alone is not applied',
        state: synced(0, { session: true }),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 20, { zone: 'Asia/Tokyo' }), piZone: 'UTC' },
        expect: ['log', 'status-changed', 'schedule'],
      },
      {
        name: 'in a session, an agreeing client confirms the time; no camera is set',
        state: synced(0, { session: true }),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 40), piZone: 'UTC' },
        expect: ['log', 'pi-sync', 'schedule'],
        check: (s) => expect(s.deferredCameraSync).toBeNull(),
      },
      {
        name: 'in a session, the operator set by hand still steps (their confirmation)',
        state: synced(0, { session: true }),
        event: { kind: 'manual', reading: reading('manual', 3000), piZone: 'UTC' },
        expect: ['step'],
      },
      {
        name: 'in a session, a step applied leaves the cameras alone (said in the log) until the session stops',
        state: synced(0, { session: true }),
        event: { kind: 'applied', reading: reading('manual', 3000), stepped: true, zoneChanged: null },
        expect: ['log', 'pi-sync', 'schedule', 'log'],
        check: (s, a) => {
          expect(s.deferredCameraSync).toBe('the Pi clock was set');
          expect(a.filter((x) => x.kind === 'log').at(-1)).toMatchObject({ type: 'camera', message: expect.stringMatching(/left alone while the capture session runs/) });
        },
      },
      {
        name: 'in a session, use-client-time is the confirmation: the accepted client is stepped',
        state: synced(0, { session: true, acceptFrom: phone.id }),
        event: { kind: 'measured', connId: phone.id, reading: reading('client', 2000), piZone: 'UTC' },
        expect: ['step'],
      },
      {
        name: 'in a session, a camera that connects is not set',
        state: synced(0, { session: true }),
        event: { kind: 'camera-connected', cameraId: 'SN1', name: 'EOS R5', trusted: true },
        expect: ['log'],
        check: (s) => expect(s.deferredCameraSync).toBe('camera connected'),
      },
      {
        name: 'the session stops: the measurement it held back is taken again under the ordinary rules',
        state: synced(0, { session: true, decision: { ...decisionOf(phone.id), kind: 'session-running' } }),
        event: { kind: 'session-stopped' },
        expect: ['start-burst', 'status-changed'],
        check: (s) => expect(s).toMatchObject({ session: false, decision: null, burstTo: phone.id }),
      },
      {
        name: 'the session stops: the cameras it held back follow',
        state: synced(0, { session: true, deferredCameraSync: 'the Pi clock was set' }),
        event: { kind: 'session-stopped' },
        expect: ['sync-cameras', 'status-changed'],
        check: (s, a) => {
          expect(s.deferredCameraSync).toBeNull();
          expect(find(a, 'sync-cameras')?.reason).toMatch(/during the capture session/);
        },
      },
      {
        name: 'the session stops after the Pi lost its time: the held-back cameras are left alone, and said so (mayWriteCamera)',
        state: synced(0, { session: true, deferredCameraSync: 'the Pi clock was set', degradedBy: 3, lastReliability: 'none' }),
        event: { kind: 'session-stopped' },
        expect: ['log', 'status-changed'],
        check: (s, a) => {
          expect(s.deferredCameraSync).toBeNull();
          expect(find(a, 'log')).toMatchObject({ type: 'camera', success: false, details: { code: 'PI_TIME_UNRELIABLE' }, message: expect.stringMatching(/held back.*left alone.*not reliable/) });
        },
      },
      {
        name: 'a camera connects to a Pi whose time is old: set, with a warning',
        state: synced(0, { lastReliability: 'low' }),
        event: { kind: 'camera-connected', cameraId: 'SN1', name: 'EOS R5', trusted: true },
        now: 2 * H,
        expect: ['log', 'sync-cameras'],
        check: (_s, a) => expect(find(a, 'log')).toMatchObject({ success: false, details: { reliability: 'low' } }),
      },
      {
        name: 'a camera connects to a Pi without time: read, never written',
        state: { ...INITIAL_STATE, connections: [phone], sourceId: phone.id },
        event: { kind: 'camera-connected', cameraId: 'SN1', name: 'EOS R5', trusted: true },
        expect: ['read-camera'],
      },
      {
        name: 'a stop without a session changes nothing',
        state: synced(0),
        event: { kind: 'session-stopped' },
        expect: [],
      },
      {
        name: 'time passing: high to medium is a change, not a loss',
        state: synced(0),
        event: { kind: 'tick' },
        now: 6 * MIN,
        expect: ['status-changed'],
      },
      {
        name: 'time passing: medium to low is announced once',
        state: synced(0, { lastReliability: 'medium' }),
        event: { kind: 'tick' },
        now: 61 * MIN,
        expect: ['reliability-lost', 'status-changed'],
      },
    ];

    it.each(rows)('$name', ({ state, event, now, expect: expected, check }) => {
      const { state: next, actions } = decide(state, event, now ?? 1000, cfg);
      expect(kinds(actions)).toEqual(expected);
      check?.(next, actions);
    });
  });

  it('does not change the state it is given', () => {
    const state = synced(0, { connections: [phone, tab2] });
    const copy = JSON.parse(JSON.stringify(state));
    decide(state, { kind: 'disconnected', connId: phone.id }, 1000, cfg);
    expect(state).toEqual(copy);
  });

  it('a decision is logged once, not at every interval', () => {
    const event: PolicyEvent = { kind: 'measured', connId: phone.id, reading: reading('client', -H), piZone: 'UTC' };
    const first = decide(heldByHand(0), event, 1000, cfg);
    const again = decide(first.state, event, 61_000, cfg);
    expect(kinds(first.actions)).toContain('log');
    expect(kinds(again.actions)).not.toContain('log');
  });

  describe('the next sync is scheduled from the configured settings, never the defaults', () => {
    // Every value differs from DEFAULT_POLICY: a path that falls back to the defaults schedules the wrong delay.
    const own: PolicySettings = { ...DEFAULT_POLICY, resyncIntervalMs: 60_000, retryDelayMs: 7_000, maxRetries: 2 };
    const fresh = { ...INITIAL_STATE, connections: [phone], sourceId: phone.id };
    const rows: { name: string; state: PolicyState; event: PolicyEvent; delayMs: number }[] = [
      { name: 'a step (a phone set the Pi)', state: fresh, event: { kind: 'applied', reading: reading('client', 3 * H), stepped: true, zoneChanged: null }, delayMs: 60_000 },
      { name: 'a step on a synchronized Pi', state: synced(0), event: { kind: 'applied', reading: reading('client', 5000), stepped: true, zoneChanged: null }, delayMs: 60_000 },
      { name: 'a zone change without a step', state: synced(0), event: { kind: 'applied', reading: reading('client', 10), stepped: false, zoneChanged: { from: 'UTC', to: 'Europe/Berlin' } }, delayMs: 60_000 },
      { name: 'a manual set applied', state: synced(0), event: { kind: 'applied', reading: reading('manual', H), stepped: true, zoneChanged: null }, delayMs: 60_000 },
      { name: 'a confirmation', state: synced(0), event: { kind: 'measured', connId: phone.id, reading: reading('client', 40), piZone: 'UTC' }, delayMs: 60_000 },
      { name: 'a confirmation while NTP keeps the clock', state: synced(0, { ntp: true }), event: { kind: 'measured', connId: phone.id, reading: reading('client', 40), piZone: 'UTC' }, delayMs: 60_000 },
      { name: 'a suspected zone mistake (waits for the operator)', state: synced(0), event: { kind: 'measured', connId: phone.id, reading: reading('client', H), piZone: 'UTC' }, delayMs: 60_000 },
      { name: 'a failed burst: first retry', state: synced(0), event: { kind: 'burst-failed', connId: phone.id, address: phone.address, answered: 2, sent: 32, why: 'too few' }, delayMs: 7_000 },
      { name: 'a failed burst after the last retry', state: synced(0, { retries: 2 }), event: { kind: 'burst-failed', connId: phone.id, address: phone.address, answered: 2, sent: 32, why: 'too few' }, delayMs: 60_000 },
      { name: 'a failed clock write: first retry', state: synced(0), event: { kind: 'apply-failed', reading: reading('client', 3 * H), error: 'denied', code: 'CLOCK_WRITE_FAILED' }, delayMs: 7_000 },
      { name: 'a failed clock write after the last retry', state: synced(0, { retries: 2 }), event: { kind: 'apply-failed', reading: reading('client', 3 * H), error: 'denied', code: 'CLOCK_WRITE_FAILED' }, delayMs: 60_000 },
    ];
    it.each(rows)('$name: next in $delayMs ms', ({ state, event, delayMs }) => {
      const schedules = decide(state, event, MIN, own).actions.filter((a) => a.kind === 'schedule');
      expect(schedules).toEqual([{ kind: 'schedule', delayMs }]);
    });
  });

  it('ships these defaults (docs/configuration.md, the policy table)', () => {
    expect(DEFAULT_POLICY).toEqual({
      stepThresholdMs: 1000,
      resyncIntervalMs: 1_800_000,
      retryDelayMs: 5000,
      maxRetries: 3,
      minBurstAnswers: 4,
      highForMs: 300_000,
      mediumForMs: 3_600_000,
      zoneToleranceMs: 2000,
      zoneQuantumMs: 900_000,
      autoSync: true,
      syncCameraOnConnect: true,
    });
    expect(Object.isFrozen(DEFAULT_POLICY)).toBe(true);
  });

  describe(reliabilityOf.name, () => {
    it.each([
      [0, 0, 'high'],
      [4 * MIN, 0, 'high'],
      [6 * MIN, 0, 'medium'],
      [2 * H, 0, 'low'],
      [0, 1, 'medium'],
      [0, 2, 'low'],
      [0, 3, 'none'],
      [6 * MIN, 2, 'none'],
    ])('age %d ms, %d failure(s) since: %s', (age, failures, level) => {
      expect(reliabilityOf(synced(0, { degradedBy: failures }), age, cfg)).toBe(level);
    });

    it('caps the camera at medium', () => {
      expect(reliabilityOf(synced(0, { last: { monotonicMs: 0, source: 'camera', offsetMs: 0, errorBoundMs: 500, client: null } }), 1000, cfg)).toBe('medium');
    });

    it('is none before any success', () => {
      expect(reliabilityOf(INITIAL_STATE, 0, cfg)).toBe('none');
    });
  });

  describe(looksLikeZoneMistake.name, () => {
    it.each([
      [H, true],
      [-H + 1999, true],
      [30 * MIN + 1000, true],
      [45 * MIN, true],
      [5.75 * H, true],
      [H + 2000, true],
      [-H - 2000, true],
      [H + 2001, false],
      [-H + 2001, false],
      [-H - 2001, false],
      [H + 2500, false],
      [7 * MIN, false],
      [1500, false],
      [0, false],
    ])('%d ms: %s', (offset, suspect) => {
      expect(looksLikeZoneMistake(offset, cfg)).toBe(suspect);
    });
  });

  describe('the log, in words a photographer uses', () => {
    const logged = (state: PolicyState, event: PolicyEvent, now = MIN) =>
      decide(state, event, now, cfg)
        .actions.filter((x): x is Extract<Action, { kind: 'log' }> => x.kind === 'log')
        .map((x) => x.message);

    it.each([
      [
        'a phone sets the Pi',
        { ...INITIAL_STATE, connections: [phone], sourceId: phone.id },
        { kind: 'applied', reading: reading('client', 3 * H), stepped: true, zoneChanged: null } as PolicyEvent,
        /^Time synchronized from the phone at 10\.42\.0\.23 \(offset: \+3 h/,
      ],
      ['a phone confirms', synced(0), { kind: 'measured', connId: phone.id, reading: reading('client', 40), piZone: 'UTC' } as PolicyEvent, /^Time confirmed by the phone at 10\.42\.0\.23, no step needed/],
      [
        "the operator on the Pi's screen",
        INITIAL_STATE,
        { kind: 'applied', reading: reading('manual', H, { who: '127.0.0.1', screen: 'kiosk' }), stepped: true, zoneChanged: null } as PolicyEvent,
        /^Time set by hand on the Pi's screen \(offset: \+1 h\)/,
      ],
      [
        'the operator on a phone',
        INITIAL_STATE,
        { kind: 'applied', reading: reading('manual', H, { who: '10.42.0.23', screen: 'phone' }), stepped: true, zoneChanged: null } as PolicyEvent,
        /^Time set by hand from the phone at 10\.42\.0\.23 /,
      ],
      ['the source leaves', synced(0, { connections: [phone, tab2] }), { kind: 'disconnected', connId: phone.id } as PolicyEvent, /^The phone at 10\.42\.0\.23 left; the phone at 10\.42\.0\.24 is the time source now$/],
      [
        'a phone in a pocket',
        synced(0),
        { kind: 'burst-failed', connId: phone.id, address: phone.address, answered: 0, sent: 32, why: '0 of 32 answers' } as PolicyEvent,
        /^Sync with the phone at 10\.42\.0\.23 failed: 0 of 32 answers; retry 1 of 3/,
      ],
      [
        'a camera while a phone is better',
        synced(0),
        { kind: 'measured', reading: reading('camera', 5000, { who: '083021000123' }), piZone: 'UTC' } as PolicyEvent,
        /^The camera 083021000123 differs by \+5 s ±1 ms; the Pi keeps its time from a phone \(reliability high\)$/,
      ],
    ])('%s', (_name, state, event, message) => {
      const messages = logged(state, event);
      expect(messages.some((m) => message.test(m))).toBe(true);
      // No bare "client", "device" or "from 10.42.0.23".
      expect(messages.join('\n')).not.toMatch(/\bclient\b|\bdevice\b|from 10\./);
    });
  });

  describe('several cameras while the Pi has no time: the best clock, not the last to connect', () => {
    const D = 24 * H;
    const cam = (who: string, offsetMs: number, errorBoundMs: number | null) => reading('camera', offsetMs, { who, errorBoundMs });
    /** The Pi set from camera SN-A (±bound) at monotonic 0. */
    const fromA = (bound: number | null): PolicyState => ({ ...INITIAL_STATE, last: { monotonicMs: 0, source: 'camera', offsetMs: 3 * D, errorBoundMs: bound, client: 'SN-A' }, lastReliability: 'medium' });
    /** SN-A's step ordered, not yet applied. */
    const steppingToA = (bound: number | null): PolicyState => decide(INITIAL_STATE, { kind: 'measured', reading: cam('SN-A', 3 * D, bound), piZone: 'UTC' }, 0, cfg).state;
    const rows: { name: string; state: PolicyState; reading: Reading; steps: boolean }[] = [
      { name: 'a second camera as good (±12 vs ±12, measured later): no step', state: fromA(12), reading: cam('SN-B', 8000, 12), steps: false },
      { name: 'a second camera worse (±40 vs ±12): no step', state: fromA(12), reading: cam('SN-B', 8000, 40), steps: false },
      { name: 'a second camera better (±5 vs ±12): the Pi takes it', state: fromA(12), reading: cam('SN-B', 8000, 5), steps: true },
      { name: 'a coarse read (±500) after a coarse read (±500): a tie, the first stays', state: fromA(500), reading: cam('SN-B', 8000, 500), steps: false },
      { name: 'a measured camera (±9) beats a coarse read (±500)', state: fromA(500), reading: cam('SN-B', 8000, 9), steps: true },
      { name: 'a camera with no bound never replaces one', state: fromA(500), reading: cam('SN-B', 8000, null), steps: false },
      { name: 'while the first step is under way, an equal second camera waits its turn: no step', state: steppingToA(12), reading: cam('SN-B', 3 * D + 8000, 12), steps: false },
      { name: 'while the first step is under way, a better second camera steps after it', state: steppingToA(12), reading: cam('SN-B', 3 * D + 8000, 4), steps: true },
      { name: 'the same camera, measured again within the threshold: confirmed, no step', state: fromA(12), reading: cam('SN-A', 30, 8), steps: false },
    ];
    it.each(rows)('$name', ({ state, reading: r, steps }) => {
      const { state: next, actions } = decide(state, { kind: 'measured', reading: r, piZone: 'UTC' }, 1000, cfg);
      expect(kinds(actions).includes('step')).toBe(steps);
      if (!steps && r.who !== 'SN-A') {
        expect(find(actions, 'log')).toMatchObject({ type: 'camera', details: { stepped: false, keptFrom: 'SN-A' } });
        expect(find(actions, 'log')?.message).toMatch(/the Pi keeps its time from the camera SN-A .*no step$/);
        expect(next.last).toEqual(state.last);
      }
      if (steps) expect(next.cameraStep).toEqual({ who: r.who, errorBoundMs: r.errorBoundMs });
    });

    it('a step applied or failed ends the wait: the next camera is judged against the time the Pi has', () => {
      const stepping = steppingToA(12);
      const r = cam('SN-A', 3 * D, 12);
      expect(decide(stepping, { kind: 'applied', reading: r, stepped: true, zoneChanged: null, stepMs: 3 * D }, 10, cfg).state.cameraStep).toBeNull();
      expect(decide(stepping, { kind: 'apply-failed', reading: r, error: 'no', code: 'CLOCK_WRITE_FAILED' }, 10, cfg).state.cameraStep).toBeNull();
    });

    it('each log line states the step the clock really made, not the offset measured before an earlier step', () => {
      // SN-B was read (+3 d) before SN-A's step landed; its own step was 8 s.
      const r = cam('SN-B', 3 * D + 8000, 4);
      const { actions } = decide(fromA(12), { kind: 'applied', reading: r, stepped: true, zoneChanged: null, stepMs: 8000 }, 10, cfg);
      const line = find(actions, 'log')!;
      expect(line.message).toMatch(/^Pi clock set from the camera SN-B \(stepped by \+8(\.0)? s; camera \+3 d/);
      expect(line.details).toMatchObject({ stepped: true, stepMs: 8000 });
      const confirmed = find(decide(fromA(12), { kind: 'applied', reading: cam('SN-A', 30, 8), stepped: false, zoneChanged: null }, 10, cfg).actions, 'log')!;
      expect(confirmed.message).toMatch(/^Pi time confirmed by the camera SN-A \(no step; /);
      const client = find(decide(INITIAL_STATE, { kind: 'applied', reading: reading('client', 5000), stepped: true, zoneChanged: null, stepMs: 4998.5 }, 10, cfg).actions, 'log')!;
      expect(client.message).toMatch(/; stepped by \+5(\.0)? s\)$/);
    });
  });

  it('ranks NTP over the operator over clients over the camera', () => {
    expect(SOURCE_RANKING.map((r) => r.source)).toEqual(['ntp', 'manual', 'client', 'gps', 'camera', 'rtc', 'none']);
    expect(isLoss('high', 'medium')).toBe(false);
    expect(isLoss('medium', 'low')).toBe(true);
  });
});

function decisionOf(connId: string) {
  return { kind: 'manual-disagrees' as const, client: phone.address, offsetMs: -H, errorBoundMs: 1, clientTime: '', piTime: '', clientZone: null, piZone: 'UTC', piSource: 'manual' as const, source: 'client' as const, at: '', message: '', connId };
}
