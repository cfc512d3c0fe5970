import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import type { ClientFrame } from '../../backend/protocol/messages';
import { ClientFrameType, ClockBackend } from '../../backend/protocol/vocabulary';
import type { PiClockProbe, TimeSyncApi } from './api';
import { useTick } from './clock-store';
import { ActivityLog } from './components/ActivityLog';
import { CameraStatusCard } from './components/CameraStatusCard';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { ControllerInfo } from './components/ControllerStatus';
import { DecisionPanel } from './components/DecisionPanel';
import { ManualTimeSet } from './components/ManualTimeSet';
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

/**
 * The kiosk page. Actions take one way each: setting the time and syncing cameras are REST calls (each
 * answer shows next to its button); "Use this phone's time" goes over the WebSocket, because it names this
 * page's own connection as the time source.
 */
export function App({ socket, api }: { socket: SocketLike; api: TimeSyncApi }) {
  const snap = useSyncExternalStore(socket.subscribe, socket.getSnapshot);
  const tick = useTick();
  const [night, setNight] = useNightMode();
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

  return (
    <div className="app">
      <header className="top">
        <h1>
          <span className="title-extra">Pi Camera </span>TimeSync
        </h1>
        <ConnectionIndicator state={snap.connection} attempt={snap.attempt} onRetry={() => socket.reconnectNow()} />
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
      {status?.pi.backend === ClockBackend.Simulated ? (
        <p className="banner" data-testid="simulated-banner" role="note">
          Simulated clock: the system clock is not changed
        </p>
      ) : null}
      <SocketErrorNotice error={snap.lastError} />
      {status?.decision ? (
        <DecisionPanel
          key={status.decision.at}
          decision={status.decision}
          canSetTime={status.canSetTime}
          online={snap.connection === 'open'}
          lastError={snap.lastError}
          onUse={useClientTime}
        />
      ) : null}

      <main className="layout">
        <section className="panel status-panel" aria-labelledby="controller-status-title" data-testid="controller-status">
          <h2 id="controller-status-title">
            Controller Status
            {status && snap.connection !== 'open' ? (
              <span className="stale-note" data-testid="stale-note">
                {' '}
                · last known, not connected
              </span>
            ) : null}
          </h2>
          <CameraStatusCard cameras={status ? (status.cameras ?? []) : null} piNow={piNow} api={api} canSetTime={status?.canSetTime} />
          <ControllerInfo status={status} clock={{ wall: tick.wall, piNow, sinceStatus }} deviceZone={deviceZone} />
        </section>

        <section className="panel manual-panel" aria-labelledby="manual-title">
          <h2 id="manual-title">Set the Pi's time</h2>
          <ManualTimeSet
            api={api}
            nowWall={tick.wall}
            deviceZone={deviceZone}
            piZone={status?.pi.timezone ?? null}
            canSetTime={status?.canSetTime}
            ntpSynchronized={!!status?.pi.ntpSynchronized}
          />
        </section>

        <section className="panel log-panel" aria-labelledby="log-title">
          <h2 id="log-title">Activity</h2>
          <ActivityLog entries={snap.activityLog} timeZone={deviceZone} nowWall={tick.wall} />
        </section>
      </main>
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
