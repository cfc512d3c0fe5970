import { useCallback } from 'react';
import type { CameraStatus, Reliability, TimeSyncStatus } from '../../../backend/protocol/messages';
import type { TimeSyncApi } from '../api';
import {
  formatAge,
  formatAheadBehind,
  formatBound,
  formatDateTime,
  formatDifference,
  formatOffset,
  formatUtcOffset,
  zoneOffsetMs,
} from '../time-format';
import { useAction } from '../use-action';
import { ActionMessage } from './ActionMessage';

const RELIABILITY_LABEL: Record<Reliability, string> = { high: 'High', medium: 'Medium', low: 'Low', none: 'None' };

export function ReliabilityBadge({ reliability, testId }: { reliability: Reliability; testId?: string }) {
  return (
    <span className={`badge reliability-${reliability}`} data-testid={testId} data-reliability={reliability} title="Reliability">
      {RELIABILITY_LABEL[reliability] ?? reliability}
    </span>
  );
}

interface Clock {
  /** This device's Date.now() at the last tick. */
  wall: number;
  /** The Pi's clock now, extrapolated from the last status on this device's monotonic clock. */
  piNow: number | null;
  /** Milliseconds the last status has aged on this device. */
  sinceStatus: number;
}

function sourceWords(status: TimeSyncStatus): string {
  switch (status.syncSource) {
    case 'client':
      return status.sourceClient ? `device ${status.sourceClient}` : "a device on the Pi's Wi-Fi";
    case 'manual':
      return 'time set by hand';
    case 'ntp':
      return 'NTP (network time)';
    case 'camera':
      return 'the camera';
    default:
      return 'no source';
  }
}

// ---- Controller Info ------------------------------------------------------------------------------

export function ControllerInfo({ status, clock, deviceZone }: { status: TimeSyncStatus | null; clock: Clock; deviceZone: string }) {
  return (
    <div className="card" data-testid="controller-info">
      <h3>Controller Info</h3>
      <dl className="rows">
        <div className="row">
          <dt>TimeSync:</dt>
          <dd data-testid="pi-timesync">{status ? <PiTimeSync status={status} sinceStatus={clock.sinceStatus} /> : <span className="muted">Waiting for the Pi…</span>}</dd>
        </div>
        <div className="row">
          <dt>Pi time</dt>
          <dd data-testid="pi-time">
            {status && clock.piNow !== null ? (
              <>
                <span className="clock">{formatDateTime(clock.piNow, status.pi.timezone)}</span>{' '}
                <ZoneLabel zone={status.pi.timezone} at={clock.piNow} />
              </>
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div className="row">
          <dt>This device</dt>
          <dd data-testid="device-time">
            <span className="clock">{formatDateTime(clock.wall, deviceZone)}</span> <ZoneLabel zone={deviceZone} at={clock.wall} />
          </dd>
        </div>
        <div className="row">
          <dt>Difference</dt>
          <dd data-testid="time-difference">{clock.piNow !== null ? formatDifference(clock.piNow - clock.wall) : '—'}</dd>
        </div>
      </dl>
    </div>
  );
}

function ZoneLabel({ zone, at }: { zone: string; at: number }) {
  let offset = '';
  try {
    offset = formatUtcOffset(zoneOffsetMs(at, zone));
  } catch {
    // a zone this browser does not know: the name alone
  }
  return (
    <span className="zone-label" title={offset}>
      {zone}
    </span>
  );
}

function PiTimeSync({ status, sinceStatus }: { status: TimeSyncStatus; sinceStatus: number }) {
  if (status.pi.ntpSynchronized) {
    return (
      <span className="timesync" data-testid="ntp-status">
        <ReliabilityBadge reliability="high" testId="pi-reliability" /> NTP synchronized
      </span>
    );
  }
  if (status.lastSyncAgeMs === null || status.syncSource === 'none') {
    return (
      <span className="timesync">
        <ReliabilityBadge reliability={status.reliability} testId="pi-reliability" /> Not synchronized yet
      </span>
    );
  }
  const age = status.lastSyncAgeMs + sinceStatus;
  return (
    <span className="timesync">
      <ReliabilityBadge reliability={status.reliability} testId="pi-reliability" />{' '}
      <span data-testid="pi-source">from {sourceWords(status)}</span>
      {' · '}
      <span data-testid="pi-age">{formatAge(age)}</span>
      {status.lastOffsetMs !== null ? (
        <span className="detail" data-testid="pi-offset">
          offset {formatOffset(status.lastOffsetMs)}
          {status.errorBoundMs !== null ? ` ± ${formatBound(status.errorBoundMs)}` : ''}
        </span>
      ) : null}
    </span>
  );
}

// ---- Camera Status --------------------------------------------------------------------------------

export function CameraStatusCard({ camera, piNow, api }: { camera: CameraStatus | null; piNow: number | null; api: TimeSyncApi }) {
  const run = useCallback(async () => {
    const res = await api.syncCamera();
    // offset: Pi minus camera before the sync.
    const offset = typeof res.offset === 'number' ? res.offset : null;
    return offset === null ? "Camera clock set to the Pi's time" : `Camera clock set to the Pi's time (it was ${formatAheadBehind(-offset)})`;
  }, [api]);
  const action = useAction(run);
  const connected = !!camera?.connected;
  return (
    <div className="card" data-testid="camera-status">
      <h3>Camera Status</h3>
      <dl className="rows">
        <div className="row">
          <dt>TimeSync:</dt>
          <dd data-testid="camera-timesync">{connected && camera ? <CameraTimeSync camera={camera} piNow={piNow} /> : null}</dd>
        </div>
        <div className="row">
          <dt>Camera</dt>
          <dd data-testid="camera-name">{connected && camera ? cameraName(camera) : <span className="muted">No camera connected</span>}</dd>
        </div>
      </dl>
      <div className="actions">
        <button type="button" className="btn" data-testid="sync-camera" onClick={action.trigger} disabled={action.busy} aria-busy={action.busy}>
          {action.busy ? 'Syncing camera…' : 'Sync camera now'}
        </button>
        <ActionMessage result={action.result} testId="sync-camera-message" />
      </div>
    </div>
  );
}

function cameraName(camera: CameraStatus): string {
  const info = camera.info ?? {};
  // "Canon Inc." + "Canon EOS R50" reads as "Canon EOS R50".
  const brand = info.manufacturer?.split(/[\s,]/)[0] ?? '';
  const named = info.productName && brand && info.productName.toLowerCase().startsWith(brand.toLowerCase());
  const name = [info.manufacturer && !named ? info.manufacturer : null, info.productName].filter(Boolean).join(' ') || 'Camera';
  return info.serialNumber ? `${name} · serial ${info.serialNumber}` : name;
}

function CameraTimeSync({ camera, piNow }: { camera: CameraStatus; piNow: number | null }) {
  const last = camera.lastSync;
  if (!last) return <span className="timesync">Not synced yet{camera.lastError ? ` (${camera.lastError})` : ''}</span>;
  const at = Date.parse(last.at);
  const age = piNow !== null && Number.isFinite(at) ? formatAge(piNow - at) : '';
  if (!last.success) {
    return (
      <span className="timesync">
        <span className="badge reliability-none">Failed</span> {last.error ?? 'the camera did not take the time'}
        {age ? ` · ${age}` : ''}
      </span>
    );
  }
  return (
    <span className="timesync">
      <span className="badge reliability-high">Synced</span> {age}
      {last.offsetMs !== null || last.residualMs !== null ? (
        <span className="detail">
          {/* offsetMs: Pi minus camera before; residualMs: camera minus Pi after. */}
          {last.offsetMs !== null ? `was ${formatAheadBehind(-last.offsetMs)}` : ''}
          {last.offsetMs !== null && last.residualMs !== null ? ', ' : ''}
          {last.residualMs !== null ? `now ${formatAheadBehind(last.residualMs)}` : ''}
        </span>
      ) : null}
    </span>
  );
}
