/**
 * The source policy: which time source the Pi follows, when its clock is stepped, when the operator must
 * decide, how reliability ages and degrades, and when the cameras follow. Pure: no Nest, no timers, no
 * sockets, no clock. `decide(state, event)` returns the next state and the actions the shell
 * (TimeSyncService) carries out with the real clock, timers, sockets and cameras; the outcome of an action
 * that takes time (a step, a camera read) comes back as another event.
 */
import { DecisionKind, PendingDecision, Reliability, RELIABILITY_LEVELS, Screen, SOURCE_LABELS, SyncSource } from '../protocol/messages';
import { formatDuration as words, formatTimestamp, TimeFormat } from '../time/format';
import { mayWriteCamera } from './camera-write-policy';
import { rankOf, ruleOf } from '../sources/ranking';

// ---- settings --------------------------------------------------------------------------------------

/** Every threshold of the policy, in one place (docs/configuration.md's table is written from this). */
export interface PolicySettings {
  /** A measured offset beyond this steps the clock (TIME_SYNC_THRESHOLD). */
  stepThresholdMs: number;
  /** Time between syncs, and after the retries of a failure (TIME_SYNC_INTERVAL). */
  resyncIntervalMs: number;
  /** Time before retrying a failed sync (TIME_SYNC_RETRY_DELAY). */
  retryDelayMs: number;
  /** Retries of a failed sync before waiting for the interval. */
  maxRetries: number;
  /** Answers a burst needs to be trusted. */
  minBurstAnswers: number;
  /** Reliability by age of the last success: high below this... */
  highForMs: number;
  /** ...medium below this, low beyond. */
  mediumForMs: number;
  /** Zone guard: a step within this of a non-zero multiple of `zoneQuantumMs` on a synchronized Pi is suspect. */
  zoneToleranceMs: number;
  zoneQuantumMs: number;
  /** Sync as soon as an access-point client connects (AUTO_SYNC). */
  autoSync: boolean;
  /** Set a camera's clock when it connects (CAMERA_SYNC_ON_CONNECT). */
  syncCameraOnConnect: boolean;
}

export const DEFAULT_POLICY: Readonly<PolicySettings> = Object.freeze({
  stepThresholdMs: 1000,
  resyncIntervalMs: 30 * 60_000,
  retryDelayMs: 5000,
  maxRetries: 3,
  minBurstAnswers: 4,
  highForMs: 5 * 60_000,
  mediumForMs: 60 * 60_000,
  zoneToleranceMs: 2000,
  zoneQuantumMs: 15 * 60_000,
  autoSync: true,
  syncCameraOnConnect: true,
});

// ---- sources, ranked -------------------------------------------------------------------------------

export { SOURCE_RANKING, ruleOf, rankOf } from '../sources/ranking';
export type { SourceRule } from '../sources/ranking';

// ---- state -----------------------------------------------------------------------------------------

export interface LastSuccess {
  /** When (monotonic): the shell shows it in the Pi's current time, whatever steps came since. */
  monotonicMs: number;
  source: SyncSource;
  offsetMs: number;
  errorBoundMs: number | null;
  client: string | null;
  /** A fine reading (GPS with PPS): it ranks by its source's `fineRank`. */
  fine?: boolean;
}

export interface Connection {
  id: string;
  address: string;
  trusted: boolean;
}

export interface PolicyState {
  /** In connection order. */
  connections: Connection[];
  sourceId: string | null;
  burstTo: string | null;
  retries: number;
  ntp: boolean;
  last: LastSuccess | null;
  /** Levels lost to failures since the last success. */
  degradedBy: number;
  /** The operator set the time by hand: automatic sources measure but do not step. */
  hold: boolean;
  /** `connId` '' when the source is not a phone. */
  decision: (PendingDecision & { connId: string }) | null;
  /** The operator chose this connection's time: its next measurement is applied without guard or hold. */
  acceptFrom: string | null;
  /** The same for a source that is not a phone (GPS, the hardware clock): its next reading. */
  acceptSource?: SyncSource | null;
  lastReliability: Reliability;
  /** A capture session runs: automatic sources measure but step neither the Pi nor a camera. */
  session: boolean;
  /** Why the cameras were left alone during the session (they follow when it stops), or null. */
  deferredCameraSync: string | null;
  /**
   * A camera reading whose step is under way (ordered, not yet applied): a second camera measured meanwhile is
   * judged against it, not against the Pi's time before it. null when none.
   */
  cameraStep?: { who: string; errorBoundMs: number | null } | null;
}

export const INITIAL_STATE: PolicyState = {
  connections: [],
  sourceId: null,
  burstTo: null,
  retries: 0,
  ntp: false,
  last: null,
  degradedBy: 0,
  hold: false,
  decision: null,
  acceptFrom: null,
  lastReliability: 'none',
  session: false,
  deferredCameraSync: null,
  cameraStep: null,
};

// ---- events and actions ----------------------------------------------------------------------------

/** A time somebody says the Pi should have, as target minus monotonic (so the shell computes it at the write). */
export interface Reading {
  source: SyncSource;
  /** Source minus Pi, ms, at the measurement. */
  offsetMs: number;
  errorBoundMs: number | null;
  targetMinusMonoMs: number;
  /** Who: a client's address, a camera's id, a GPS device. */
  who: string;
  /** A fine reading (GPS with PPS): it ranks by its source's `fineRank`. */
  fine?: boolean;
  /** A manual set: the screen it was made on (the Pi's own, or a phone on its Wi-Fi), for the words in the log. */
  screen?: Screen;
  zone?: string;
  /** For the sentence of a decision. */
  sourceTimeMs: number;
  piTimeMs: number;
}

export type PolicyEvent =
  | { kind: 'connected'; conn: Connection }
  | { kind: 'disconnected'; connId: string }
  /** Time to sync with the source (the schedule fired). */
  | { kind: 'resync' }
  /** A burst (or another source) measured: `connId` for clients. `piZone` is the zone the Pi has now. */
  | { kind: 'measured'; connId?: string; reading: Reading; piZone: string }
  | { kind: 'burst-failed'; connId: string; address: string; answered: number; sent: number; why: string }
  /** The operator set a time by hand (authority already checked). */
  | { kind: 'manual'; reading: Reading; piZone: string }
  /** The operator chose a client's time over the current one. `connId` null: the client of the pending decision, else the source. */
  | { kind: 'accept-client'; connId: string | null }
  /** A step action finished. `stepMs`: how far the clock actually moved (what the step's journal record says), when stepped. */
  | { kind: 'applied'; reading: Reading; stepped: boolean; zoneChanged: { from: string; to: string } | null; stepMs?: number | null }
  | { kind: 'apply-failed'; reading: Reading; error: string; code: string }
  /** `trusted`: the camera may be a time source (CameraClockPort.mayBeTimeSource). */
  | { kind: 'camera-connected'; cameraId: string; name: string; trusted: boolean }
  /** NTP keeps the clock (or stopped): `who`, the server a time server (chrony) follows, when it names one. */
  | { kind: 'ntp'; synchronized: boolean; who?: string }
  /** Something outside the product stepped the clock: `by` the time server (chrony) that keeps it. */
  | { kind: 'clock-stepped'; by: string; stepMs: number }
  /** A capture session started / stopped (authority checked, cameras measured by the session). */
  | { kind: 'session-started' }
  | { kind: 'session-stopped' }
  /** A source stopped giving time (GPS lost its fix, gpsd went away, a reading refused): `why` in plain words. */
  | { kind: 'source-lost'; source: SyncSource; who: string; why: string; code: string }
  /** Time passed (reliability ages). */
  | { kind: 'tick' };

export type Action =
  | { kind: 'start-burst'; connId: string }
  | { kind: 'abort-burst' }
  | { kind: 'schedule'; delayMs: number }
  /** Step the clock (if `stepClock`) and set the zone (if `zone`), then dispatch `applied` or `apply-failed`. */
  | { kind: 'step'; reading: Reading; stepClock: boolean; zone?: string }
  | { kind: 'log'; type: 'sync' | 'error' | 'manual' | 'camera'; message: string; success: boolean; details: Record<string, unknown> }
  /** `reading`: the time the Pi now has from a source (a success), for a time server that keeps the clock by such readings. */
  | { kind: 'pi-sync'; synchronized: boolean; source: SyncSource; offset: number | null; errorBoundMs: number | null; stepped: boolean; error?: string; reading?: Reading }
  | { kind: 'reliability-lost'; reliability: Reliability; lastSyncMono: number | null }
  | { kind: 'status-changed'; reason: string }
  /** `cameraIds` undefined: every connected camera; `onlyUnsynced`: those whose last sync did not succeed. */
  | { kind: 'sync-cameras'; reason: string; cameraIds?: string[]; onlyUnsynced?: boolean }
  /** Read a camera's clock and dispatch it as a `measured` reading from source `camera`. */
  | { kind: 'read-camera'; cameraId: string }
  /** Measure a source that reports by itself (GPS, the hardware clock) again now: the operator chose its time. */
  | { kind: 'resample'; source: SyncSource };

export interface Decision {
  state: PolicyState;
  actions: Action[];
}

// ---- reliability -----------------------------------------------------------------------------------

function rank(r: Reliability): number {
  return RELIABILITY_LEVELS.indexOf(r);
}

export function lowerOf(a: Reliability, b: Reliability): Reliability {
  return rank(a) <= rank(b) ? a : b;
}

/** Reliability now: NTP is high; else by the age of the last success, capped by its source, lowered by failures since. */
/** Where the Pi's time comes from now: NTP when it keeps the clock, else the last successful sync. */
export function sourceOf(state: PolicyState): SyncSource {
  return state.ntp ? 'ntp' : state.last?.source ?? 'none';
}

export function reliabilityOf(state: PolicyState, nowMono: number, settings: PolicySettings): Reliability {
  if (state.ntp) return 'high';
  if (!state.last) return 'none';
  const age = nowMono - state.last.monotonicMs;
  let level: Reliability = age < settings.highForMs ? 'high' : age < settings.mediumForMs ? 'medium' : 'low';
  const cap = ruleOf(state.last.source).cap;
  if (cap) level = lowerOf(level, cap);
  return RELIABILITY_LEVELS[Math.max(0, rank(level) - state.degradedBy)];
}

/** A drop to low or none is what `reliability-lost` announces. */
export function isLoss(from: Reliability, to: Reliability): boolean {
  return rank(to) < rank(from) && (to === 'low' || to === 'none');
}

/** Within `tolerance` of a non-zero multiple of `quantum`: what a wrong zone or DST setting looks like. */
export function looksLikeZoneMistake(offsetMs: number, settings: PolicySettings): boolean {
  const quarters = Math.round(offsetMs / settings.zoneQuantumMs);
  return quarters !== 0 && Math.abs(offsetMs - quarters * settings.zoneQuantumMs) <= settings.zoneToleranceMs;
}

// ---- the policy ------------------------------------------------------------------------------------

/**
 * The whole policy. `nowMono` is the monotonic time of the event; `wallNow` the Pi's wall clock then
 * (only for the words and times shown to people).
 */
export function decide(state: PolicyState, event: PolicyEvent, nowMono: number, settings: PolicySettings): Decision {
  let out: Action[] = [];
  const next = handle({ ...state }, event, nowMono, settings, out);
  // During a capture session the cameras are never set automatically; those that should have followed do so when it stops.
  if (next.session && out.some((a) => a.kind === 'sync-cameras')) {
    for (const a of out) {
      if (a.kind !== 'sync-cameras' || a.onlyUnsynced) continue;
      next.deferredCameraSync = a.reason;
    }
    const kept: Action[] = [];
    for (const a of out) {
      if (a.kind !== 'sync-cameras') kept.push(a);
      else if (!a.onlyUnsynced) kept.push(log('camera', `The cameras are left alone while the capture session runs (${a.reason}); they follow when it stops`, true, { source: 'camera', reason: a.reason, session: true }));
    }
    out = kept;
  }
  // Reliability is compared once, after every event: whatever changed it, pages hear of it once.
  const now = reliabilityOf(next, nowMono, settings);
  if (now !== next.lastReliability) {
    if (isLoss(next.lastReliability, now)) out.push({ kind: 'reliability-lost', reliability: now, lastSyncMono: next.last?.monotonicMs ?? null });
    if (!out.some((a) => a.kind === 'status-changed' || a.kind === 'pi-sync')) out.push({ kind: 'status-changed', reason: `reliability ${now}` });
    next.lastReliability = now;
  }
  return { state: next, actions: out };
}

function handle(s: PolicyState, e: PolicyEvent, nowMono: number, cfg: PolicySettings, out: Action[]): PolicyState {
  switch (e.kind) {
    case 'connected': {
      s.connections = [...s.connections.filter((c) => c.id !== e.conn.id), e.conn];
      if (e.conn.trusted && s.sourceId === null) becomeSource(s, e.conn.id, cfg, out);
      return s;
    }
    case 'disconnected': {
      const gone = s.connections.find((c) => c.id === e.connId);
      if (!gone) return s;
      const nextSource = s.sourceId === e.connId ? nextTrusted(s, e.connId) : undefined;
      s.connections = s.connections.filter((c) => c.id !== e.connId);
      if (s.acceptFrom === e.connId) s.acceptFrom = null;
      if (s.sourceId !== e.connId) return s;
      if (s.burstTo === e.connId) {
        out.push({ kind: 'abort-burst' });
        s.burstTo = null;
      }
      s.sourceId = null;
      if (nextSource) {
        out.push(log('sync', `The phone at ${gone.address} left; the phone at ${nextSource.address} is the time source now`, true, { source: 'client', client: nextSource.address }));
        becomeSource(s, nextSource.id, cfg, out);
      } else {
        out.push({ kind: 'status-changed', reason: 'the time source left' });
      }
      return s;
    }
    case 'resync': {
      if (s.sourceId && !s.burstTo) startBurst(s, s.sourceId, out);
      return s;
    }
    case 'burst-failed': {
      if (s.burstTo === e.connId) s.burstTo = null;
      const message = `Sync with the phone at ${e.address} failed: ${e.why}`;
      // A page that answers nothing is hidden or asleep (a phone in a pocket): another access-point page takes over.
      const other = e.answered === 0 && s.sourceId === e.connId ? nextTrusted(s, e.connId) : undefined;
      fail(s, message, 'client', null, 'SYNC_FAILED', out, cfg, !other);
      if (other) {
        out.push(log('sync', `The phone at ${other.address} is the time source now (the phone at ${e.address} does not answer)`, true, { source: 'client', client: other.address }));
        becomeSource(s, other.id, cfg, out);
      }
      return s;
    }
    case 'measured':
      return measured(s, e.connId ?? null, e.reading, e.piZone, nowMono, cfg, out);
    case 'manual': {
      if (s.ntp) {
        // NTP keeps the clock: a hand-set time would be undone by it a moment later.
        out.push(log('error', `Time not set by hand ${byWords(e.reading)}: network time (NTP) keeps the Pi's clock`, false, { source: 'manual', error: 'NTP_SYNCHRONIZED' }));
        return s;
      }
      out.push({ kind: 'step', reading: e.reading, stepClock: true, zone: e.reading.zone && e.reading.zone !== e.piZone ? e.reading.zone : undefined });
      return s;
    }
    case 'accept-client': {
      const pending = s.decision;
      if (e.connId === null && pending && pending.connId === '' && pending.source !== 'client') {
        // The time that disagrees came from a source that reports by itself (GPS, the hardware clock): take its next reading.
        s.hold = false;
        s.decision = null;
        s.acceptSource = pending.source;
        out.push(log('manual', `The operator chose the time of ${labelOf(pending.source, pending.client)}; measuring it now`, true, { source: pending.source, client: pending.client }));
        out.push({ kind: 'resample', source: pending.source });
        out.push({ kind: 'status-changed', reason: 'the operator released the hold' });
        return s;
      }
      const connId = e.connId ?? s.decision?.connId ?? s.sourceId;
      const conn = s.connections.find((c) => c.id === connId && c.trusted);
      if (!conn) return s;
      s.hold = false;
      s.decision = null;
      s.acceptFrom = conn.id;
      out.push(log('manual', `The operator chose the time of the phone at ${conn.address}; measuring it now`, true, { source: 'client', client: conn.address }));
      if (s.burstTo) out.push({ kind: 'abort-burst' });
      s.sourceId = conn.id;
      s.retries = 0;
      startBurst(s, conn.id, out);
      out.push({ kind: 'status-changed', reason: 'the operator released the hold' });
      return s;
    }
    case 'applied':
      if (e.reading.source === 'camera') s.cameraStep = null;
      return applied(s, e.reading, e.stepped, e.zoneChanged, nowMono, out, cfg, e.stepMs ?? null);
    case 'apply-failed': {
      if (e.reading.source === 'camera') s.cameraStep = null;
      const what = e.reading.source === 'manual' ? `Setting the time by hand ${byWords(e.reading)} failed` : `Setting the Pi's clock from ${sourceWords(e.reading, false)} failed`;
      fail(s, `${what}: ${e.error}`, e.reading.source, e.reading.offsetMs, e.code, out, cfg, e.reading.source !== 'manual');
      return s;
    }
    case 'camera-connected': {
      const reliability = reliabilityOf(s, nowMono, cfg);
      const verdict = mayWriteCamera({ reliability, source: sourceOf(s), confirmed: false });
      // A Pi whose time came from a source ranked below a camera's clock (its hardware clock) reads the camera instead of writing it.
      const below = !s.ntp && !s.hold && s.last !== null && rankOf(s.last.source, s.last.fine) < ruleOf('camera').rank;
      if (!verdict.allowed || below) {
        if (s.ntp || s.hold) return s;
        // Nothing to copy to it: its battery-backed clock may be the best time there is, if it is where a camera may be.
        if (e.trusted) out.push({ kind: 'read-camera', cameraId: e.cameraId });
        else out.push(log('camera', `${e.name} is not trusted as a time source (an unverified camera): the Pi's time is not taken from it`, false, { source: 'camera', cameraId: e.cameraId, trusted: false }));
        return s;
      }
      if (!cfg.syncCameraOnConnect) return s;
      if (verdict.warning) {
        out.push(log('camera', `The Pi's time is old (last confirmed ${agoWords(s, nowMono)}): ${e.name} is set from it all the same; connect a phone to refresh it`, false, { source: 'camera', cameraId: e.cameraId, reliability }));
      }
      out.push({ kind: 'sync-cameras', reason: 'camera connected', cameraIds: [e.cameraId] });
      return s;
    }
    case 'source-lost': {
      const wasSource = !s.ntp && s.last?.source === e.source && s.last.client === e.who;
      const keeps = wasSource ? `; the Pi keeps the time it had from ${labelOf(e.source, e.who)} ${agoWords(s, nowMono)} (reliability ${reliabilityOf(s, nowMono, cfg)})` : '';
      out.push(log('sync', `${e.why}${keeps}`, false, { source: e.source, client: e.who, code: e.code }));
      if (wasSource) out.push({ kind: 'status-changed', reason: `${e.source} lost` });
      return s;
    }
    case 'ntp': {
      if (s.ntp === e.synchronized) return s;
      s.ntp = e.synchronized;
      if (e.who !== undefined) {
        // A named server (a leader Pi, through chrony): the cameras follow the time it gives, as they follow a step.
        if (e.synchronized) {
          out.push(log('sync', `The Pi follows ${e.who} over NTP: chrony keeps its clock; phones and GPS are measured, not followed`, true, { source: 'ntp', client: e.who }));
          out.push({ kind: 'sync-cameras', reason: `the Pi follows ${e.who} over NTP`, onlyUnsynced: true });
        } else {
          out.push(log('sync', `The Pi no longer follows ${e.who} over NTP (it does not answer); it keeps its time, and a phone on its Wi-Fi may set it`, false, { source: 'ntp', client: e.who, code: 'NTP_LOST' }));
        }
      }
      out.push({ kind: 'status-changed', reason: e.synchronized ? 'NTP synchronized' : 'NTP lost' });
      return s;
    }
    case 'clock-stepped': {
      // The time server moved the clock while NTP keeps it (a follower took its leader's time): the cameras follow.
      if (s.ntp) out.push({ kind: 'sync-cameras', reason: `${e.by} stepped the Pi clock` });
      return s;
    }
    case 'session-started': {
      if (s.session) return s;
      s.session = true;
      s.deferredCameraSync = null;
      out.push({ kind: 'status-changed', reason: 'capture session started' });
      return s;
    }
    case 'session-stopped': {
      if (!s.session) return s;
      s.session = false;
      // What the session held back: the waiting measurement is taken again under the ordinary rules, the cameras follow.
      if (s.decision?.kind === DecisionKind.SessionRunning) {
        s.decision = null;
        if (s.sourceId && !s.burstTo) startBurst(s, s.sourceId, out);
      }
      if (s.deferredCameraSync) {
        const verdict = mayWriteCamera({ reliability: reliabilityOf(s, nowMono, cfg), source: sourceOf(s), confirmed: false });
        // The Pi's time may have gone bad during a long session: then the held-back cameras are left alone, and said so.
        if (verdict.allowed) out.push({ kind: 'sync-cameras', reason: `${s.deferredCameraSync} during the capture session` });
        else out.push(log('camera', `The cameras held back during the capture session (${s.deferredCameraSync}) are left alone: ${verdict.reason}`, false, { source: 'camera', code: verdict.code }));
      }
      s.deferredCameraSync = null;
      out.push({ kind: 'status-changed', reason: 'capture session stopped' });
      return s;
    }
    case 'tick':
      return s;
  }
}

function measured(s: PolicyState, connId: string | null, r: Reading, piZone: string, nowMono: number, cfg: PolicySettings, out: Action[]): PolicyState {
  if (connId !== null && s.burstTo === connId) s.burstTo = null;
  const details = { source: r.source, offset: r.offsetMs, errorBoundMs: r.errorBoundMs ?? undefined, client: r.who };
  const accepted = (connId !== null && s.acceptFrom === connId) || (connId === null && !!s.acceptSource && s.acceptSource === r.source);
  if (accepted) {
    if (connId !== null) s.acceptFrom = null;
    else s.acceptSource = null;
  }
  const zone = r.zone && r.zone !== piZone ? r.zone : undefined;

  if (s.ntp) {
    // NTP keeps the clock: measure, report, never step. The measurement does not make NTP's time better or worse.
    if (s.last) s.last = { ...s.last, offsetMs: r.offsetMs, errorBoundMs: r.errorBoundMs };
    out.push(log('sync', `Network time (NTP) keeps the Pi's clock; ${sourceWords(r, false)} differs by ${signed(r.offsetMs)}${bound(r.errorBoundMs)}, clock left alone`, true, details));
    out.push({ kind: 'pi-sync', synchronized: true, source: 'ntp', offset: r.offsetMs, errorBoundMs: r.errorBoundMs, stepped: false });
    s.retries = 0;
    schedule(s, cfg.resyncIntervalMs, out);
    return s;
  }

  const reliability = reliabilityOf(s, nowMono, cfg);
  const current = ruleOf(s.last?.source ?? 'none');
  const candidate = ruleOf(r.source);
  const currentRank = rankOf(current.source, s.last?.fine);
  const candidateRank = rankOf(r.source, r.fine);
  // The threshold keeps a source from churning the clock. A better source than the one the Pi has (a phone after the
  // hardware clock or a camera) steps it whenever it is surely off, by more than the better source's own bound.
  const upgrade = s.last !== null && !s.hold && candidateRank > currentRank && r.errorBoundMs !== null && Math.abs(r.offsetMs) > r.errorBoundMs;
  const beyond = Math.abs(r.offsetMs) > cfg.stepThresholdMs || upgrade;
  if (!accepted) {
    // The operator wins: after a manual set, nothing lower steps the clock until they choose.
    if (s.hold && current.holds && candidateRank < currentRank) {
      if (beyond || zone) return awaitOperator(s, connId, r, piZone, 'manual-disagrees', cfg, out);
      // It agrees with the operator's time: the time is confirmed, the hold stays.
      return confirm(s, r, nowMono, cfg, out);
    }
    if (candidateRank < currentRank && reliability !== 'none') {
      // A lesser source while a better one is still good: measure only.
      out.push(log('sync', `${sourceWords(r)} differs by ${signed(r.offsetMs)}${bound(r.errorBoundMs)}; the Pi keeps its time from ${SOURCE_LABELS[current.source]} (reliability ${reliability})`, true, details));
      return s;
    }
    // Several cameras: the Pi takes the best clock (the smallest bound), not the last to connect. One measured
    // after another steps the Pi only if it is strictly better than the camera the Pi has (or is being set from).
    const rival = candidate.source === 'camera' ? cameraInUse(s) : null;
    if (rival && !betterBound(r.errorBoundMs, rival.errorBoundMs)) {
      out.push(
        log('camera', `${sourceWords(r)} differs by ${signed(r.offsetMs)}${bound(r.errorBoundMs)}; the Pi keeps its time from the camera ${rival.who}${bound(rival.errorBoundMs)}, as good or better: no step`, true, {
          ...details,
          stepped: false,
          keptFrom: rival.who,
        }),
      );
      return s;
    }
    // A capture session runs: a step in the middle of a timelapse breaks the sequence. Measured and shown; the operator decides.
    if (s.session && candidate.automatic && (beyond || zone)) return awaitOperator(s, connId, r, piZone, DecisionKind.SessionRunning, cfg, out);
    // The zone guard protects a time that came from a source at least as good: a camera's battery clock is
    // exactly the kind of clock that carries a zone or DST mistake, so a phone may correct it by whole hours.
    if (candidate.automatic && beyond && currentRank >= candidateRank && (reliability === 'high' || reliability === 'medium') && looksLikeZoneMistake(r.offsetMs, cfg)) {
      return awaitOperator(s, connId, r, piZone, 'suspected-zone-mistake', cfg, out);
    }
  }
  if (!beyond && !zone) return confirm(s, r, nowMono, cfg, out);
  if (r.source === 'camera') s.cameraStep = { who: r.who, errorBoundMs: r.errorBoundMs };
  out.push({ kind: 'step', reading: r, stepClock: beyond, zone });
  return s;
}

/** The camera the Pi's time comes from, or is being stepped to; null when it is not a camera's. */
function cameraInUse(s: PolicyState): { who: string; errorBoundMs: number | null } | null {
  if (s.cameraStep) return s.cameraStep;
  if (s.last?.source === 'camera' && !s.hold) return { who: s.last.client ?? 'unknown', errorBoundMs: s.last.errorBoundMs };
  return null;
}

/** Strictly smaller (a tie keeps the camera measured first); an unknown bound is no better than any. */
function betterBound(candidate: number | null, current: number | null): boolean {
  if (candidate === null) return false;
  return current === null || candidate < current;
}

/** The source agrees within the threshold: nothing to write, the time is confirmed. */
function confirm(s: PolicyState, r: Reading, nowMono: number, cfg: PolicySettings, out: Action[]): PolicyState {
  return applied(s, r, false, null, nowMono, out, cfg);
}

function applied(s: PolicyState, r: Reading, stepped: boolean, zoneChanged: { from: string; to: string } | null, nowMono: number, out: Action[], cfg: PolicySettings, stepMs: number | null = null): PolicyState {
  const hadHold = s.hold;
  const keepsHold = hadHold && r.source !== 'manual' && !stepped;
  s.last = { monotonicMs: nowMono, source: keepsHold ? 'manual' : r.source, offsetMs: r.offsetMs, errorBoundMs: r.errorBoundMs, client: r.who, ...(r.fine && !keepsHold ? { fine: true } : {}) };
  s.degradedBy = 0;
  s.retries = 0;
  if (s.decision && r.source !== 'manual') s.decision = null;
  const details = { source: r.source, offset: r.offsetMs, errorBoundMs: r.errorBoundMs ?? undefined, client: r.who, stepped, ...(stepped && stepMs !== null ? { stepMs } : {}) };
  // The step the clock really made (the journal's), which is the reading's offset only if nothing moved the clock since it was taken.
  const step = stepped ? `stepped by ${signed(stepMs ?? r.offsetMs)}` : 'no step';
  if (r.source === 'manual') {
    s.hold = true;
    s.decision = null;
    out.push(log('manual', `Time set by hand ${byWords(r)} (offset: ${signed(r.offsetMs)})${zoneChanged ? `, zone ${zoneChanged.to}` : ''}. Automatic syncs now measure but do not change it until you choose a phone's time`, true, details));
  } else if (r.source === 'camera') {
    const what = stepped ? `Pi clock set from the camera ${r.who}` : `Pi time confirmed by the camera ${r.who}`;
    out.push(log('sync', `${what} (${step}; camera ${signed(r.offsetMs)}${bound(r.errorBoundMs)} from the Pi when measured); a phone on the Wi-Fi gives better time`, true, details));
  } else {
    const what = stepped ? `Time synchronized from ${sourceWords(r, false)}` : hadHold ? `${sourceWords(r)} agrees with the time set by hand` : `Time confirmed by ${sourceWords(r, false)}, no step needed`;
    out.push(log('sync', `${what} (offset: ${signed(r.offsetMs)}${bound(r.errorBoundMs)}${stepped && stepMs !== null ? `; ${step}` : ''})`, true, details));
  }
  if (zoneChanged && r.source !== 'manual') out.push(log('sync', `Time zone set to ${zoneChanged.to} (was ${zoneChanged.from})`, true, { source: r.source }));
  out.push({ kind: 'pi-sync', synchronized: true, source: r.source, offset: r.offsetMs, errorBoundMs: r.errorBoundMs, stepped, reading: r });
  if (s.sourceId) schedule(s, cfg.resyncIntervalMs, out);
  // The cameras follow the Pi when its time is better than a camera's own clock: after a step or a zone change all
  // of them, otherwise those not yet set. A camera's time, or the hardware clock's, is not copied to the others.
  if (rankOf(r.source, r.fine) > ruleOf('camera').rank) {
    if (stepped || zoneChanged) out.push({ kind: 'sync-cameras', reason: zoneChanged && !stepped ? 'the Pi time zone changed' : 'the Pi clock was set' });
    else out.push({ kind: 'sync-cameras', reason: 'the Pi time was confirmed', onlyUnsynced: true });
  }
  return s;
}

/** One way to fail: one level of reliability lost, logged, reported, and the schedule goes on. */
function fail(s: PolicyState, message: string, source: SyncSource, offset: number | null, code: string, out: Action[], cfg: PolicySettings, reschedule: boolean): void {
  if (s.last) s.degradedBy = Math.min(s.degradedBy + 1, RELIABILITY_LEVELS.length);
  let next = '';
  let delayMs: number | null = null;
  if (reschedule && s.sourceId) {
    const retry = s.retries < cfg.maxRetries;
    s.retries = retry ? s.retries + 1 : 0;
    delayMs = retry ? cfg.retryDelayMs : cfg.resyncIntervalMs;
    next = retry ? `; retry ${s.retries} of ${cfg.maxRetries} in ${words(delayMs)}` : `; next attempt in ${words(delayMs)}`;
  }
  out.push(log('error', message + next, false, { source, offset: offset ?? undefined, error: message, code }));
  out.push({ kind: 'pi-sync', synchronized: false, source, offset, errorBoundMs: null, stepped: false, error: message });
  if (delayMs !== null) schedule(s, delayMs, out);
}

function awaitOperator(s: PolicyState, connId: string | null, r: Reading, piZone: string, kind: PendingDecision['kind'], cfg: PolicySettings, out: Action[]): PolicyState {
  const clientTime = new Date(r.sourceTimeMs).toISOString();
  const piTime = new Date(r.piTimeMs).toISOString();
  // In words, in each side's own zone: "14:03:12 CET" reads; an ISO string in UTC does not.
  const clientWall = wallTime(r.sourceTimeMs, r.zone ?? piZone);
  const piWall = wallTime(r.piTimeMs, piZone);
  const zones = r.zone && r.zone !== piZone ? `, zone ${r.zone} instead of ${piZone}` : '';
  const phone = r.source === 'client';
  const its = phone ? "the phone's" : 'its';
  const message =
    kind === DecisionKind.ManualDisagrees
      ? `${sourceWords(r)} says ${clientWall}, the Pi was set by hand to ${piWall} (${signed(r.offsetMs)}${zones}). Use ${its} time?`
      : kind === DecisionKind.SessionRunning
        ? `${sourceWords(r)} says ${clientWall}, the Pi ${piWall} (${signed(r.offsetMs)}${zones}). A capture session is running, so the clock is left alone until it stops. Step it now anyway?`
        : `${sourceWords(r)} says ${clientWall}, the Pi ${piWall}: ${signed(r.offsetMs)}, about a whole number of quarter hours${zones}. A time-zone or summer-time mistake${phone ? ' on the phone' : ''}? Use ${its} time anyway?`;
  const previous = s.decision;
  s.decision = { kind, client: r.who, offsetMs: r.offsetMs, errorBoundMs: r.errorBoundMs ?? 0, clientTime, piTime, clientZone: r.zone ?? null, piZone, piSource: s.last?.source ?? 'none', source: r.source, at: piTime, message, connId: connId ?? '' };
  // Logged when it is new or changed by more than the threshold, not at every interval.
  if (!previous || previous.kind !== kind || previous.client !== r.who || Math.abs(previous.offsetMs - r.offsetMs) > cfg.stepThresholdMs) {
    out.push(log('sync', `Clock left alone: ${message}`, false, { source: r.source, offset: r.offsetMs, client: r.who, decision: kind }));
  }
  out.push({ kind: 'status-changed', reason: 'the operator must decide' });
  s.retries = 0;
  schedule(s, cfg.resyncIntervalMs, out);
  return s;
}

function becomeSource(s: PolicyState, connId: string, cfg: PolicySettings, out: Action[]): void {
  s.sourceId = connId;
  s.retries = 0;
  if (cfg.autoSync) startBurst(s, connId, out);
  else out.push({ kind: 'status-changed', reason: 'new time source' });
}

function startBurst(s: PolicyState, connId: string, out: Action[]): void {
  s.burstTo = connId;
  out.push({ kind: 'start-burst', connId });
}

function schedule(s: PolicyState, delayMs: number, out: Action[]): void {
  out.push({ kind: 'schedule', delayMs });
}

/** The trusted connection after `connId` in connection order, wrapping around; never `connId` itself. */
function nextTrusted(s: PolicyState, connId: string): Connection | undefined {
  const at = s.connections.findIndex((c) => c.id === connId);
  return [...s.connections.slice(at + 1), ...s.connections.slice(0, Math.max(at, 0))].find((c) => c.trusted && c.id !== connId);
}

function log(type: 'sync' | 'error' | 'manual' | 'camera', message: string, success: boolean, details: Record<string, unknown>): Action {
  return { kind: 'log', type, message, success, details };
}

/** A source as a photographer names it: "The phone at 10.42.0.23", "the camera 083021000123", "GPS (/dev/ttyACM0)". */
function sourceWords(r: Reading, capital = true): string {
  const words = r.source === 'manual' ? `the time set by hand ${byWords(r)}` : labelOf(r.source, r.who);
  return capital ? words.charAt(0).toUpperCase() + words.slice(1) : words;
}

/** One source by its label and who it is. */
function labelOf(source: SyncSource, who: string): string {
  if (source === 'client') return `the phone at ${who}`;
  if (source === 'camera') return `the camera ${who}`;
  return who ? `${SOURCE_LABELS[source]} (${who})` : SOURCE_LABELS[source];
}

/** Where a time was set by hand: "on the Pi's screen", "from the phone at 10.42.0.23". */
function byWords(r: Reading): string {
  if (r.screen === 'kiosk') return "on the Pi's screen";
  return r.screen === 'phone' ? `from the phone at ${r.who}` : `from ${r.who}`;
}


function agoWords(s: PolicyState, nowMono: number): string {
  return s.last ? `${words(nowMono - s.last.monotonicMs)} ago` : 'never';
}

/** "14:03:12 CET" (HUMAN format without the date and the UTC offset); the ISO time if the zone is unusable. */
function wallTime(ms: number, zone: string): string {
  try {
    const human = formatTimestamp(ms, TimeFormat.HUMAN, zone);
    return human.replace(/^.*?, /, '').replace(/ \(UTC[^)]*\)$/, '');
  } catch {
    return new Date(ms).toISOString();
  }
}

/** "+3 h 2 min", "-850 ms", "+0.42 ms". */
export function signed(ms: number): string {
  return (ms < 0 ? '-' : '+') + words(Math.abs(ms));
}

function bound(errorBoundMs: number | null): string {
  return errorBoundMs === null ? '' : ` ±${words(errorBoundMs)}`;
}
