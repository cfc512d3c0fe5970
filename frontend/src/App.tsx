import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { ClientFrame } from '../../backend/protocol/messages';
import { ClientFrameType, DecisionKind, Screen } from '../../backend/protocol/vocabulary';
import type { PiClockProbe, SessionReport, TimeSyncApi } from './api';
import { useTick } from './clock-store';
import { ActivityLog } from './components/ActivityLog';
import { CameraStatusCard } from './components/CameraStatusCard';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { ConnectPanel } from './components/ConnectPanel';
import { ControllerInfo, KioskPiStatus } from './components/ControllerStatus';
import { DecisionPanel } from './components/DecisionPanel';
import { ManualTimeSet } from './components/ManualTimeSet';
import { SessionPanel } from './components/SessionPanel';
import { SessionReportView } from './components/SessionReportView';
import { Sheet } from './components/Sheet';
import { SimulatedBanner } from './components/SimulatedBanner';
import { SocketErrorNotice } from './components/SocketErrorNotice';
import { useNightMode } from './night-mode';
import { deviceTimeZone } from './time-format';
import type { TimeSyncSnapshot } from './ws-client';

/** What the page needs from the socket (TimeSyncSocket, or a stand-in in tests). */
export interface SocketLike {
  subscribe(listener: () => void): () => void;
  getSnapshot(): TimeSyncSnapshot;
  reconnectNow(): void;
  send(frame: ClientFrame): boolean;
  reloadPage(): void;
}

/** What is one tap away. */
type SheetName = 'manual' | 'log' | 'connect' | 'cameras' | 'session' | 'report';

/** The newest entries shown on the main screen; the whole log is one tap away. */
const NEWEST_ENTRIES = 3;

/**
 * The page, on the Pi's own screen (the kiosk) and on phones. Everything the operator needs fits the first
 * screen (the Pi's time, each camera, how to connect or the main action, the newest log entries); setting
 * the time by hand, the whole log, each camera's rows in full (on the Pi's screen, where a camera takes two
 * lines) and (once a phone is connected) how to connect are one tap away.
 * Actions take one way each: setting the time, syncing cameras and starting or stopping a capture session are
 * REST calls (each answer shows next to its button); "Use this phone's time" goes over the WebSocket, because it
 * names this page's own connection. A session's report opens over the page, after its stop or from "Report".
 */
export function App({ socket, api }: { socket: SocketLike; api: TimeSyncApi }) {
  const snap = useSyncExternalStore(socket.subscribe, socket.getSnapshot);
  const tick = useTick();
  const [night, setNight] = useNightMode();
  const [sheet, setSheet] = useState<SheetName | null>(null);
  const closeSheet = useCallback(() => setSheet(null), []);
  const [reportOf, setReportOf] = useState<{ id: string; report?: SessionReport } | null>(null);
  const openReport = useCallback((id: string, report?: SessionReport) => {
    setReportOf({ id, report });
    setSheet('report');
  }, []);
  const status = snap.status;
  const deviceZone = deviceTimeZone();
  const probe = usePiClockProbe(api, status);
  // Both clocks are read at the last tick; a status newer than the tick gives a negative elapsed time.
  const elapsed = status ? tick.mono - snap.statusAt : 0;
  const sinceStatus = Math.max(0, elapsed);
  // The probe measured the Pi against this device directly; the status's own stamp may have waited in a
  // busy page (it arrives while the page starts) and is only the fallback.
  const piNow = probe ? tick.wall + probe.piMinusDeviceMs : status ? status.pi.epochMs + elapsed : null;
  const useClientTime = useCallback(() => socket.send({ type: ClientFrameType.UseClientTime, data: {} }), [socket]);

  const screen = status?.screen ?? snap.hello?.screen ?? Screen.Other;
  const onPiScreen = screen === Screen.Kiosk;
  const online = snap.connection === 'open';
  // The Pi's own screen, with no phone on the Wi-Fi: how to connect one is what it shows.
  const showConnect = onPiScreen && !!status && status.accessPointClients === 0;
  const journalRefusal = status && !status.journal.writable ? `Clock changes are refused: the journal cannot be written: ${status.journal.error ?? status.journal.path}` : null;
  const piZone = status?.pi.timezone ?? null;
  const sessionRunning = !!status?.session;
  const sessionPanel = (compact: boolean) => (
    <SessionPanel
      api={api}
      session={status ? (status.session ?? null) : undefined}
      cameras={status ? (status.cameras ?? []) : null}
      canSetTime={status?.canSetTime}
      online={online}
      stepHeld={status?.decision?.kind === DecisionKind.SessionRunning}
      piNow={piNow}
      timeZone={piZone ?? deviceZone}
      compact={compact}
      onReport={openReport}
    />
  );

  return (
    <div className={onPiScreen ? 'app on-pi' : 'app'} data-screen={screen}>
      <header className="top">
        <h1>
          <span className="title-extra">Pi Camera </span>TimeSync
        </h1>
        <ConnectionIndicator state={snap.connection} attempt={snap.attempt} onRetry={() => socket.reconnectNow()} />
        {onPiScreen ? (
          <button type="button" className="btn btn-small" data-testid="open-manual" onClick={() => setSheet('manual')} disabled={!status}>
            Set time by hand
          </button>
        ) : null}
        {onPiScreen && !showConnect ? (
          <button type="button" className="btn btn-small" data-testid="open-connect" onClick={() => setSheet('connect')}>
            Connect a phone
          </button>
        ) : null}
        {/* While the QR codes take the Pi's side column, the capture session is one tap away in their header slot. */}
        {onPiScreen && showConnect ? (
          <button type="button" className="btn btn-small" data-testid="open-session" data-running={sessionRunning} onClick={() => setSheet('session')} aria-haspopup="dialog">
            {sessionRunning ? 'Session running' : 'Capture session'}
          </button>
        ) : null}
        <a className="btn btn-small slate-link" href="/slate/" data-testid="open-slate" title="A QR code of the Pi's time every frame: photograph it with any camera to measure that camera">
          Time slate
        </a>
        <button
          type="button"
          className="btn btn-small night-toggle"
          data-testid="night-toggle"
          aria-pressed={night}
          aria-label="Night mode (red light)"
          onClick={() => setNight(!night)}
        >
          <span aria-hidden="true">☾ </span>
          {night ? 'Night on' : 'Night'}
        </button>
      </header>

      {snap.versionMismatch ? (
        <div className="notice error" role="alert" data-testid="version-banner">
          <span>
            This page is for another version of the Pi's software (page {snap.versionMismatch.page}, Pi {snap.versionMismatch.server}): reload it
          </span>
          <button type="button" className="btn btn-small" data-testid="reload-page" onClick={() => socket.reloadPage()}>
            Reload
          </button>
        </div>
      ) : null}
      <SimulatedBanner status={status ?? null} />
      {journalRefusal ? (
        <p className="notice error" data-testid="journal-refusal" role="alert">
          <span>
            <span aria-hidden="true">{'⚠\uFE0E '}</span>
            {journalRefusal}
          </span>
        </p>
      ) : null}
      <SocketErrorNotice error={snap.lastError} />
      {status?.decision ? (
        <DecisionPanel
          key={status.decision.at}
          decision={status.decision}
          canSetTime={status.canSetTime}
          online={online}
          lastError={snap.lastError}
          onUse={useClientTime}
          onPiScreen={onPiScreen}
        />
      ) : null}

      <main className={showConnect ? 'layout with-connect' : 'layout'}>
        <section className="panel status-panel" aria-labelledby="controller-status-title" data-testid="controller-status">
          <h2 id="controller-status-title">
            Pi time and cameras
            {status && !online ? (
              <span className="stale-note" data-testid="stale-note">
                {' '}
                · last known, not connected
              </span>
            ) : null}
          </h2>
          {onPiScreen ? <KioskPiStatus status={status} piNow={piNow} sinceStatus={sinceStatus} /> : null}
          <CameraStatusCard
            cameras={status ? (status.cameras ?? []) : null}
            piNow={piNow}
            api={api}
            canSetTime={status?.canSetTime}
            online={online}
            perCamera={!onPiScreen}
            compact={onPiScreen}
            screen={screen}
            onDetails={() => setSheet('cameras')}
          />
          {onPiScreen ? null : <ControllerInfo status={status} clock={{ wall: tick.wall, piNow, sinceStatus }} deviceZone={deviceZone} />}
          {onPiScreen ? null : (
            <div className="actions">
              <button type="button" className="btn" data-testid="open-manual" onClick={() => setSheet('manual')} disabled={!status}>
                Set the Pi's time by hand…
              </button>
            </div>
          )}
        </section>

        <div className="side">
        {showConnect ? (
          <section className="panel connect-panel" aria-labelledby="connect-title">
            <h2 id="connect-title">Connect a phone</h2>
            <ConnectPanel api={api} online={online} night={night} />
          </section>
        ) : null}

        {onPiScreen ? null : <section className="panel session-panel" aria-labelledby="session-title">{sessionPanel(false)}</section>}

        <section className="panel log-panel" aria-labelledby="log-title">
          <h2 id="log-title" className="with-action">
            <span>Activity</span>
            {snap.activityLog.length > NEWEST_ENTRIES ? (
              <button type="button" className="btn btn-small" data-testid="open-log" onClick={() => setSheet('log')}>
                Full log ({snap.activityLog.length})
              </button>
            ) : null}
          </h2>
          <ActivityLog
            entries={snap.activityLog}
            timeZone={piZone ?? deviceZone}
            wallMinusMonotonicMs={status?.piWallMinusMonotonicMs ?? null}
            nowWall={piNow ?? tick.wall}
            limit={NEWEST_ENTRIES}
            testId="activity-newest"
          />
        </section>
        {onPiScreen && !showConnect ? <section className="panel session-panel" aria-labelledby="session-title">{sessionPanel(true)}</section> : null}
        </div>
      </main>

      {sheet === 'manual' ? (
        <Sheet title="Set the Pi's time by hand" testId="manual-sheet" onClose={closeSheet}>
          <ManualTimeSet
            api={api}
            nowWall={tick.wall}
            deviceZone={deviceZone}
            piZone={piZone}
            canSetTime={status?.canSetTime}
            ntpSynchronized={!!status?.pi.ntpSynchronized}
            onPiScreen={onPiScreen}
            piMinusDeviceMs={piNow !== null ? piNow - tick.wall : 0}
            refusedBecause={journalRefusal}
          />
        </Sheet>
      ) : null}
      {sheet === 'log' ? (
        <Sheet title="Activity" testId="log-sheet" onClose={closeSheet}>
          <ActivityLog entries={snap.activityLog} timeZone={piZone ?? deviceZone} wallMinusMonotonicMs={status?.piWallMinusMonotonicMs ?? null} nowWall={piNow ?? tick.wall} />
        </Sheet>
      ) : null}
      {sheet === 'cameras' ? (
        <Sheet title="Cameras" testId="cameras-sheet" onClose={closeSheet}>
          <CameraStatusCard cameras={status ? (status.cameras ?? []) : null} piNow={piNow} api={api} canSetTime={status?.canSetTime} online={online} screen={screen} />
        </Sheet>
      ) : null}
      {sheet === 'session' ? (
        <Sheet title="Capture session" testId="session-sheet" onClose={closeSheet}>
          {sessionPanel(false)}
        </Sheet>
      ) : null}
      {sheet === 'report' && reportOf ? (
        <Sheet title="Capture session report" testId="report-sheet" onClose={closeSheet}>
          <SessionReportView api={api} id={reportOf.id} report={reportOf.report} cameras={status ? (status.cameras ?? []) : null} timeZone={piZone ?? deviceZone} onPiScreen={onPiScreen} />
        </Sheet>
      ) : null}
      {sheet === 'connect' ? (
        <Sheet title="Connect a phone" testId="connect-sheet" onClose={closeSheet}>
          <ConnectPanel api={api} online={online} night={night} />
        </Sheet>
      ) : null}
    </div>
  );
}

/** Measures the Pi's clock against this device's after each status (each change), shortly after it arrives. */
function usePiClockProbe(api: TimeSyncApi, status: TimeSyncSnapshot['status']): PiClockProbe | null {
  const [probe, setProbe] = useState<{ for: TimeSyncSnapshot['status']; result: PiClockProbe } | null>(null);
  useEffect(() => {
    if (!status) return;
    let cancelled = false;
    const timer = setTimeout(() => {
      api.probePiClock().then(
        (result) => {
          if (!cancelled) setProbe({ for: status, result });
        },
        () => undefined, // the status stamp stays in use
      );
    }, 250);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [api, status]);
  return probe && probe.for === status ? probe.result : null;
}
