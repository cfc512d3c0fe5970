import { useCallback, useEffect, useRef, useState } from 'react';
import type { CameraStatus, SessionCameraResult } from '../../../backend/protocol/messages';
import { CameraSyncKind, ErrorCode } from '../../../backend/protocol/vocabulary';
import { ActionError, NOT_ON_AP_SESSION_REASON, type SessionListItem, type SessionReport, type SessionStarted, type TimeSyncApi } from '../api';
import { formatAheadBehind, formatBound, formatDateTime, formatDuration } from '../time-format';
import { useAction, type ActionResult } from '../use-action';
import { ActionMessage } from './ActionMessage';

interface Props {
  api: TimeSyncApi;
  /** From the status: the session running, or null; undefined before the first status. */
  session: { id: string; startedAt: string } | null | undefined;
  /** Every camera the Pi knows (to name the cameras of an answer); null before the first status. */
  cameras: CameraStatus[] | null;
  /** From the status: false when this device is not on the Pi's access point. */
  canSetTime: boolean | undefined;
  online: boolean;
  /** A step the running session holds back waits for the operator (the decision at the top of the page). */
  stepHeld: boolean;
  /** The Pi's clock now, and its zone: the session's start is shown as the Pi tells time. */
  piNow: number | null;
  timeZone: string;
  /** The Pi's small screen: the state in one or two lines; the explanation is left out. */
  compact?: boolean;
  /** Opens a session's report: the one a stop answered, or (without it) one to fetch. */
  onReport: (id: string, report?: SessionReport) => void;
}

/** Shown when a start was refused because the Pi's own time is not reliable; "Start anyway" confirms. */
export const UNRELIABLE_START =
  "Not started: the Pi's own time is not reliable (never synchronized, or its last sync failed), so no camera was touched. Set the Pi's time first (connect a phone), or start anyway: the cameras are then set from the Pi's clock as it is";

/**
 * A capture session on the page: start it (every camera measured, those that are off set), see it run (nothing is
 * stepped automatically until it stops), stop it (every camera measured, nothing written) and open its report.
 * Start and stop are REST calls with the same authority as setting the clock; the running session comes with the
 * status, so every page follows whoever started or stopped it. The newest stopped session stays one tap away.
 */
export function SessionPanel({ api, session, cameras, canSetTime, online, stepHeld, piNow, timeZone, compact = false, onReport }: Props) {
  const running = session ?? null;
  const [refused, setRefused] = useState(false);
  const [last, setLast] = useState<SessionListItem | null>(null);
  /** Which answer to show: the latest action's, and a start's success only while that session runs. */
  const [latest, setLatest] = useState<{ action: 'start' | 'stop'; id: string | null } | null>(null);
  const confirmRef = useRef(false);
  const nameOf = useCallback((c: { cameraId: string; serial: string | null }) => cameraLabel(cameras ?? [], c.cameraId, c.serial), [cameras]);

  // The newest stopped session, asked for again whenever a session starts or stops (on any page) and on reconnect.
  const runningId = running?.id ?? null;
  const heard = session !== undefined;
  useEffect(() => {
    if (!online || !heard) return;
    let cancelled = false;
    api.listSessions().then(
      (list) => {
        const newest = list.sessions.find((s) => s.stoppedAt !== null);
        if (!cancelled && newest) setLast(newest);
      },
      () => undefined, // the last report is then not offered; starting and stopping do not need it
    );
    return () => {
      cancelled = true;
    };
  }, [api, online, runningId, heard]);

  const runStart = useCallback(async (): Promise<ActionResult> => {
    const confirm = confirmRef.current;
    confirmRef.current = false;
    try {
      const started = await api.startSession(confirm);
      setRefused(false);
      setLatest({ action: 'start', id: started.id });
      return { ok: true, text: startedWords(started, nameOf) };
    } catch (e) {
      setLatest({ action: 'start', id: null });
      if (e instanceof ActionError && e.code === ErrorCode.PI_TIME_UNRELIABLE) {
        setRefused(true);
        return { ok: false, text: UNRELIABLE_START };
      }
      setRefused(false);
      throw e;
    }
  }, [api, nameOf]);
  const start = useAction(runStart);

  const runStop = useCallback(async (): Promise<string> => {
    setLatest({ action: 'stop', id: null });
    const report = await api.stopSession();
    setLast({ id: report.id, startedAt: report.startedAt, stoppedAt: report.stoppedAt, label: report.label });
    onReport(report.id, report);
    return report.durationMs !== null ? `Stopped after ${formatDuration(report.durationMs)}` : 'Stopped';
  }, [api, onReport]);
  const stop = useAction(runStop);

  const message = latest?.action === 'stop' ? stop.result : latest?.action === 'start' && (latest.id === null || latest.id === runningId) ? start.result : null;
  const reason = session === undefined ? 'Waiting for the Pi…' : !online ? 'Not connected to the Pi' : canSetTime === false ? NOT_ON_AP_SESSION_REASON : null;
  const busy = start.busy || stop.busy;
  const startAnyway = () => {
    confirmRef.current = true;
    start.trigger();
  };

  const buttonClass = compact ? 'btn btn-primary btn-small' : 'btn btn-primary';
  const button = running ? (
    <button type="button" className={buttonClass} data-testid="session-stop" onClick={stop.trigger} disabled={!!reason || busy} aria-busy={stop.busy} aria-describedby={reason ? 'session-reason' : undefined}>
      {stop.busy ? 'Stopping…' : 'Stop session'}
    </button>
  ) : (
    <button type="button" className={buttonClass} data-testid="session-start" onClick={start.trigger} disabled={!!reason || busy} aria-busy={start.busy} aria-describedby={reason ? 'session-reason' : undefined}>
      {start.busy ? 'Starting…' : 'Start session'}
    </button>
  );

  const badge = (
    <span className="badge reliability-high">
      <span className="glyph" aria-hidden="true">
        ●
      </span>
      Running
    </span>
  );
  const reportButton = (
    <button type="button" className="btn btn-small" data-testid="open-session-report" onClick={() => last && onReport(last.id)} aria-haspopup="dialog">
      Report
    </button>
  );
  const lastWords = last ? `Last: ${last.label ? `${last.label} · ` : ''}${last.stoppedAt ? `stopped ${(compact ? clockWords : whenWords)(last.stoppedAt, piNow, timeZone)}` : last.id}` : '';

  return (
    <div className={compact ? 'card session-card compact' : 'card session-card'} data-testid="session" data-state={running ? 'running' : 'idle'}>
      <div className="card-head">
        <h3 id="session-title">Capture session</h3>
        {button}
      </div>
      {session === undefined ? null : running ? (
        <p className="session-state" data-testid="session-state">
          {badge} since {compact ? `${clockWords(running.startedAt, piNow, timeZone)}${piNow !== null ? ` · ${formatDuration(Math.max(0, piNow - Date.parse(running.startedAt)))}` : ''}` : `${whenWords(running.startedAt, piNow, timeZone)}: nothing is stepped automatically until it stops`}
        </p>
      ) : compact && last ? (
        // The Pi's small screen: the last session and its report take the state's line (Start says none runs).
        <div className="session-last" data-testid="session-last">
          <span className="session-state">{lastWords}</span>
          {reportButton}
        </div>
      ) : (
        <p className="session-state" data-testid="session-state">
          None running.
          {compact ? null : ' A session sets the cameras that are off, then holds every clock steady until you stop it; the stop measures the cameras again and makes the report and the file that fixes the photos.'}
        </p>
      )}
      {running && stepHeld ? (
        <p className="session-held" data-testid="session-held" role="status">
          A step of the Pi's clock is held back: the question at the top says by how much
        </p>
      ) : null}
      <div className="actions">
        {reason ? (
          <p className="reason" id="session-reason" data-testid="session-reason">
            {reason}
          </p>
        ) : null}
        <ActionMessage result={message} testId="session-message" />
        {refused && !running && !reason ? (
          <button type="button" className="btn" data-testid="session-start-anyway" onClick={startAnyway} disabled={busy} aria-busy={start.busy}>
            Start anyway
          </button>
        ) : null}
      </div>
      {last && !running && !compact ? (
        <div className="session-last" data-testid="session-last">
          <span>{lastWords}</span>
          {reportButton}
        </div>
      ) : null}
    </div>
  );
}

/** "10:00:01" on the Pi's current day, else "2026-12-02 10:00:01". */
function clockWords(at: string, piNow: number | null, timeZone: string): string {
  const ms = Date.parse(at);
  if (!Number.isFinite(ms)) return at;
  const full = formatDateTime(ms, timeZone);
  return piNow !== null && formatDateTime(piNow, timeZone).slice(0, 10) === full.slice(0, 10) ? full.slice(11) : full;
}

/** The clock time and how long ago, as the Pi's clock and zone tell it: "10:00:01 (12 min ago)". */
function whenWords(at: string, piNow: number | null, timeZone: string): string {
  const ms = Date.parse(at);
  const ran = piNow !== null && Number.isFinite(ms) && piNow >= ms ? ` (${formatDuration(piNow - ms)} ago)` : '';
  return `${clockWords(at, piNow, timeZone)}${ran}`;
}

/** The answer to a start in a sentence: each camera after the start's corrections. */
export function startedWords(started: SessionStarted, nameOf: (c: { cameraId: string; serial: string | null }) => string): string {
  if (!started.cameras.length) return "Started. No camera connected: the Pi's clock is held steady";
  return `Started. ${started.cameras.map((c) => `${nameOf(c)}: ${cameraAtStart(c)}`).join('; ')}`;
}

/** One camera after the start's corrections (camera minus Pi): set and how far it was, kept, or failed; never "verified" unless it was. */
export function cameraAtStart(c: SessionCameraResult): string {
  if (!c.success) return `not set: ${failureWords(c)}`;
  const now = c.offsetMs === null ? null : offsetWords(c.offsetMs, c.boundMs);
  const kind = c.outcome ?? (c.correctedFromMs === null ? CameraSyncKind.MeasuredKept : c.offsetMs === null || c.verified === false ? CameraSyncKind.WrittenUnverified : CameraSyncKind.WrittenVerified);
  if (kind === CameraSyncKind.MeasuredKept) return `kept, not written${now ? `: ${now}` : ''}`;
  const from = c.correctedFromMs !== null ? `set (it was ${aheadOfPi(c.correctedFromMs)})` : 'set';
  return now && kind === CameraSyncKind.WrittenVerified ? `${from}, now ${now}` : `${from}, not verified`;
}

/** One camera at the stop's read-only measurement (camera minus Pi): a figure only when it was measured well. */
export function cameraAtStop(c: SessionCameraResult): string {
  if (!c.success) return `not measured: ${failureWords(c)}`;
  if (c.offsetMs === null) return 'uncertain: the measurement could not be bounded well enough to give a figure';
  return offsetWords(c.offsetMs, c.boundMs);
}

/** What went wrong, as the camera or the Pi said it then (a report is history: no "try again"). */
function failureWords(c: SessionCameraResult): string {
  return c.error ?? c.code ?? 'the camera did not answer';
}

function offsetWords(offsetMs: number, boundMs: number | null): string {
  return `${aheadOfPi(offsetMs)}${boundMs !== null ? ` (±${formatBound(boundMs)})` : ''}`;
}

/** Camera minus Pi in words: "3.0 s ahead of the Pi", "16 ms behind the Pi", "in step with the Pi". */
export function aheadOfPi(ms: number): string {
  const words = formatAheadBehind(ms);
  return words === 'in step' ? 'in step with the Pi' : words.endsWith('ahead') ? `${words} of the Pi` : `${words} the Pi`;
}

/** "EOS R50 · 083021000123" from the status when the camera is known there, else its serial number or id. */
export function cameraLabel(cameras: CameraStatus[], cameraId: string, serial: string | null): string {
  const known = cameras.find((c) => c.id === cameraId || (serial !== null && c.info?.serialNumber === serial));
  const model = known?.info?.productName?.replace(/^canon\s+/i, '');
  const number = serial ?? known?.info?.serialNumber ?? cameraId;
  return model ? `${model} · ${number}` : `Camera ${number}`;
}
