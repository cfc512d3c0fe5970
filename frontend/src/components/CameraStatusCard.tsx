import { useCallback } from 'react';
import type { CameraStatus } from '../../../backend/protocol/messages';
import { CAMERA_SYNC_WORDS, CameraState, CameraSyncKind, type Screen } from '../../../backend/protocol/vocabulary';
import { describeCode, NOT_ON_AP_REASON, syncKindOf, type CameraSyncOutcome, type TimeSyncApi } from '../api';
import { formatAge, formatAheadBehind, formatBound, formatDuration } from '../time-format';
import { useAction, type ActionResult } from '../use-action';
import { ActionMessage } from './ActionMessage';
import { MeasureByPhoto } from './MeasureByPhoto';

interface Props {
  /** Every camera the Pi knows, connected first; null before the first status. */
  cameras: CameraStatus[] | null;
  piNow: number | null;
  api: TimeSyncApi;
  /** From the status: false when this device is not on the Pi's access point. */
  canSetTime: boolean | undefined;
  /** The page is connected to the Pi (an answer can come back). */
  online: boolean;
  /** A "Sync this one" button per camera when there are several (not on the Pi's small screen: "Sync cameras now" does all). */
  perCamera?: boolean;
  /**
   * The Pi's small screen: each camera in two lines (name and state; its clock), "Sync cameras now" beside the
   * title, and a tap on a camera calls `onDetails` (where the rows are shown whole).
   */
  compact?: boolean;
  onDetails?: () => void;
  /** The page's screen (what "Measure by photo" says to point the camera at). */
  screen?: Screen;
}

/** On the Pi's screen, more cameras than this take one line each for their name and state, cut to the width (else two at most). */
const CONDENSE_ABOVE = 2;

/** Row labels: each names what it describes, and none is the Pi's ("Pi sync"). */
export const CAMERA_LABEL = { name: 'Camera', sync: 'Camera sync', clock: 'Camera clock' } as const;

/** A "Camera sync" row per camera, and "Sync camera(s) now" for every connected one (and each, when there are several). */
export function CameraStatusCard({ cameras, piNow, api, canSetTime, online, perCamera = true, compact = false, onDetails, screen }: Props) {
  const list = cameras ?? [];
  const connected = list.filter((c) => c.state === CameraState.Connected);
  const several = connected.length > 1;
  const nameOf = useCallback((id: string) => {
    const camera = list.find((c) => c.id === id);
    return camera ? cameraName(camera) : id || 'Camera';
  }, [list]);
  const run = useCallback(async () => summarize(await api.syncCameras(), nameOf), [api, nameOf]);
  const action = useAction(run);
  const reason = !cameras
    ? 'Waiting for the Pi…'
    : !online
      ? 'Not connected to the Pi'
      : canSetTime === false
      ? NOT_ON_AP_REASON
      : connected.length
        ? null
        : list.some((c) => c.state === CameraState.NeedsCredentials)
          ? "The camera needs its user name and password before it can be set"
          : 'No camera connected';

  const syncAll = (
    <button
      type="button"
      className="btn"
      data-testid="sync-camera"
      onClick={action.trigger}
      disabled={!!reason || action.busy}
      aria-busy={action.busy}
      aria-describedby={reason ? 'sync-camera-reason' : undefined}
    >
      {action.busy ? (several ? 'Syncing cameras…' : 'Syncing camera…') : several ? 'Sync cameras now' : 'Sync camera now'}
    </button>
  );
  const outcome = (
    <>
      {reason ? (
        <p className="reason" id="sync-camera-reason" data-testid="sync-camera-reason">
          {reason}
        </p>
      ) : null}
      <ActionMessage result={action.result} testId="sync-camera-message" />
    </>
  );

  return (
    <div className={compact ? `card camera-card compact${list.length > CONDENSE_ABOVE ? ' condensed' : ''}` : 'card camera-card'} data-testid="camera-status">
      {compact ? (
        <div className="card-head">
          <h3>Cameras</h3>
          {syncAll}
        </div>
      ) : (
        <h3>Cameras</h3>
      )}
      {compact ? <div className="actions">{outcome}</div> : null}
      {list.length ? (
        list.map((camera) =>
          compact ? (
            <CompactCamera key={camera.id} camera={camera} piNow={piNow} onDetails={onDetails} />
          ) : (
            <CameraRows
              key={camera.id}
              camera={camera}
              piNow={piNow}
              api={api}
              nameOf={nameOf}
              syncButton={perCamera && several && online && camera.state === CameraState.Connected && canSetTime !== false}
              photo={{ canSetTime, online, screen }}
            />
          ),
        )
      ) : (
        <dl className="rows">
          <div className="row">
            <dt>{CAMERA_LABEL.sync}</dt>
            <dd data-testid="camera-timesync" />
          </div>
          <div className="row">
            <dt>{CAMERA_LABEL.name}</dt>
            <dd data-testid="camera-name">
              <span className="muted">No camera connected</span>
            </dd>
          </div>
        </dl>
      )}
      {compact ? null : (
        <div className="actions">
          {syncAll}
          {outcome}
        </div>
      )}
    </div>
  );
}

/**
 * One camera on the Pi's small screen: its name and state, then its clock (with several cameras, one line each,
 * the state's badge first and the rest cut to the line). The whole camera is a button to its rows in full.
 */
function CompactCamera({ camera, piNow, onDetails }: { camera: CameraStatus; piNow: number | null; onDetails?: () => void }) {
  return (
    <button type="button" className="camera compact" data-testid="camera" data-camera-id={camera.id} data-state={camera.state} onClick={onDetails} aria-haspopup="dialog">
      <span className="camera-line">
        <span className="camera-name" data-testid="camera-name" title={cameraName(camera)}>
          {shortCameraName(camera)}
        </span>
        <span className="camera-state" data-testid="camera-timesync">
          <CameraTimeSync camera={camera} piNow={piNow} />
        </span>
      </span>
      {camera.clock ? (
        <span className="camera-line">
          <span className="label">{CAMERA_LABEL.clock}</span>
          <span className="camera-clock" data-testid="camera-clock">
            {clockLine(camera.clock)}
          </span>
        </span>
      ) : camera.state === CameraState.Connected ? (
        <span className="camera-line">
          <span className="label">{CAMERA_LABEL.clock}</span>
          <span className="camera-clock muted">not checked yet</span>
        </span>
      ) : null}
      <span className="sr-only">Details of {cameraName(camera)}</span>
    </button>
  );
}

function CameraRows({
  camera,
  piNow,
  api,
  nameOf,
  syncButton,
  photo,
}: {
  camera: CameraStatus;
  piNow: number | null;
  api: TimeSyncApi;
  nameOf: (id: string) => string;
  syncButton: boolean;
  photo: { canSetTime: boolean | undefined; online: boolean; screen?: Screen };
}) {
  return (
    <div className={syncButton ? 'camera with-button' : 'camera'} data-testid="camera" data-camera-id={camera.id} data-state={camera.state}>
      <dl className="rows">
        <div className="row">
          <dt>{CAMERA_LABEL.name}</dt>
          <dd data-testid="camera-name">{cameraName(camera)}</dd>
        </div>
        <div className="row">
          <dt>{CAMERA_LABEL.sync}</dt>
          <dd data-testid="camera-timesync">
            <CameraTimeSync camera={camera} piNow={piNow} />
          </dd>
        </div>
        {camera.clock ? (
          <div className="row">
            <dt>{CAMERA_LABEL.clock}</dt>
            <dd data-testid="camera-clock">{clockLine(camera.clock)}</dd>
          </div>
        ) : null}
      </dl>
      {syncButton ? <SyncOneCamera id={camera.id} api={api} nameOf={nameOf} /> : null}
      <MeasureByPhoto camera={camera} api={api} canSetTime={photo.canSetTime} online={photo.online} screen={photo.screen} />
    </div>
  );
}

function SyncOneCamera({ id, api, nameOf }: { id: string; api: TimeSyncApi; nameOf: (id: string) => string }) {
  const run = useCallback(async () => summarize(await api.syncCameras(id), nameOf), [api, id, nameOf]);
  const action = useAction(run);
  return (
    <>
      <button type="button" className="btn btn-small sync-one" data-testid="sync-camera-one" onClick={action.trigger} disabled={action.busy} aria-busy={action.busy}>
        {action.busy ? 'Syncing…' : 'Sync this one'}
      </button>
      <ActionMessage result={action.result} testId="sync-camera-one-message" />
    </>
  );
}

/**
 * The outcomes of one "sync" in a sentence, in the words of its `outcome` (the log says the same): set and
 * verified, set but not verified, kept (within CAMERA_SYNC_THRESHOLD, not written), or which camera failed and why.
 */
export function summarize(outcomes: CameraSyncOutcome[], nameOf: (id: string) => string): ActionResult {
  if (!outcomes.length) return { ok: false, text: 'No camera connected' };
  if (outcomes.length === 1) {
    const [o] = outcomes;
    if (!o.success) return { ok: false, text: describeCode(o.code, o.error) };
    const kind = syncKindOf(o);
    const before = wasText(o);
    if (kind === CameraSyncKind.MeasuredKept) {
      const close = o.thresholdMs !== undefined ? `already within ±${formatBound(o.thresholdMs)} of the Pi` : "already close to the Pi's time";
      return { ok: true, text: `Camera clock kept: ${close}${before === null ? '' : ` (${before})`}` };
    }
    const set = `Camera clock set to the Pi's time${before === null ? '' : ` (it was ${before})`}`;
    return { ok: true, text: kind === CameraSyncKind.WrittenVerified ? `${set}, verified${nowText(o)}` : `${set}, not verified` };
  }
  const parts = outcomes.map((o) => {
    if (!o.success) return `${nameOf(o.cameraId)}: ${describeCode(o.code, o.error)}`;
    const kind = syncKindOf(o);
    const before = wasText(o);
    if (kind === CameraSyncKind.MeasuredKept) {
      const within = o.thresholdMs !== undefined ? `within ±${formatBound(o.thresholdMs)}` : null;
      const what = [within, before].filter(Boolean).join(', ');
      return `${nameOf(o.cameraId)}: ${CAMERA_SYNC_WORDS[kind]}${what ? ` (${what})` : ''}`;
    }
    return `${nameOf(o.cameraId)}: ${CAMERA_SYNC_WORDS[kind]}${before === null ? '' : ` (it was ${before})`}`;
  });
  const ok = outcomes.every((o) => o.success);
  const allWritten = outcomes.every((o) => o.success && syncKindOf(o) !== CameraSyncKind.MeasuredKept);
  const heading = !ok ? '' : allWritten ? "Camera clocks set to the Pi's time. " : "Camera clocks checked against the Pi's time. ";
  return { ok, text: `${heading}${parts.join('; ')}` };
}

/** The camera's clock before the sync, against the Pi's ("16 ms behind"); null when it was not read. */
function wasText(o: CameraSyncOutcome): string | null {
  if (!o.success) return null;
  // A kept camera's residual is its measurement (camera minus Pi); `offset` is Pi minus camera before.
  if (syncKindOf(o) === CameraSyncKind.MeasuredKept && o.residualMs !== null) return formatAheadBehind(o.residualMs);
  return o.offset !== null ? formatAheadBehind(-o.offset) : null;
}

function nowText(o: CameraSyncOutcome): string {
  if (!o.success || o.residualMs === null || typeof o.residualBoundMs !== 'number' || o.residualBoundMs > MEANINGFUL_RESIDUAL_BOUND_MS) return '';
  return `: now ${formatAheadBehind(o.residualMs)} (±${formatBound(o.residualBoundMs)})`;
}

function cameraName(camera: CameraStatus): string {
  const info = camera.info ?? {};
  // "Canon Inc." + "Canon EOS R50" reads as "Canon EOS R50".
  const brand = info.manufacturer?.split(/[\s,]/)[0] ?? '';
  const named = info.productName && brand && info.productName.toLowerCase().startsWith(brand.toLowerCase());
  const name = [info.manufacturer && !named ? info.manufacturer : null, info.productName].filter(Boolean).join(' ') || 'Camera';
  const serial = info.serialNumber ?? (name === 'Camera' ? camera.id : undefined);
  return serial ? `${name} · serial ${serial}` : name;
}

/** On the small screen: the model without the maker every camera here shares, and the serial that tells two apart. */
function shortCameraName(camera: CameraStatus): string {
  const info = camera.info ?? {};
  const model = info.productName?.replace(/^canon\s+/i, '') || 'Camera';
  const serial = info.serialNumber ?? (model === 'Camera' ? camera.id : undefined);
  return serial ? `${model} · ${serial}` : model;
}

/** A residual bound beyond this says nothing about the sync (the camera shows whole seconds); the server applies the same. */
export const MEANINGFUL_RESIDUAL_BOUND_MS = 200;

/** The residual after a sync, only when it was read back and measured with a bound small enough to mean something. */
export function verifiedResidual(last: CameraStatus['lastSync']): { residualMs: number; boundMs: number } | null {
  if (!last?.success || last.verified !== true || last.residualMs === null || typeof last.residualBoundMs !== 'number') return null;
  return last.residualBoundMs <= MEANINGFUL_RESIDUAL_BOUND_MS ? { residualMs: last.residualMs, boundMs: last.residualBoundMs } : null;
}

/**
 * The camera's state in plain words, then its last sync, honestly: its clock as read before the write, and the
 * residual only when it was measured well; otherwise "set, not verified", never "Synced".
 */
function CameraTimeSync({ camera, piNow }: { camera: CameraStatus; piNow: number | null }) {
  const last = camera.lastSync;
  const at = last ? Date.parse(last.at) : NaN;
  const age = piNow !== null && Number.isFinite(at) ? formatAge(piNow - at) : '';
  if (camera.state === CameraState.NeedsCredentials) {
    return (
      <span className="timesync">
        <span className="badge reliability-low">
          <span className="glyph" aria-hidden="true">
            !
          </span>
          Needs login
        </span>{' '}
        Found, but it needs the camera's user name and password
        {camera.lastError ? <span className="detail">{camera.lastError}</span> : null}
      </span>
    );
  }
  if (camera.state !== CameraState.Connected) {
    return (
      <span className="timesync">
        <span className="badge reliability-none">
          <span className="glyph" aria-hidden="true">
            ○
          </span>
          Offline
        </span>{' '}
        Not connected{last?.success && age ? ` · last set ${age}` : ''}
        {camera.lastError ? <span className="detail">{camera.lastError}</span> : null}
      </span>
    );
  }
  if (!last) return <span className="timesync">Connected, not synced yet{camera.lastError ? ` (${camera.lastError})` : ''}</span>;
  // offsetMs: Pi minus camera before the write, so the camera's clock as read was -offsetMs from the Pi's.
  const before = last.offsetMs !== null ? formatAheadBehind(-last.offsetMs) : null;
  const asRead = before ? `its clock read ${before}` : null;
  if (!last.success) {
    return (
      <span className="timesync">
        <span className="badge reliability-none">
          <span className="glyph" aria-hidden="true">
            ✕
          </span>
          Failed
        </span>{' '}
        {last.error ?? 'the camera did not take the time'}
        {age ? ` · ${age}` : ''}
        {asRead ? <span className="detail">{asRead}</span> : null}
      </span>
    );
  }
  if (syncKindOf(last) === CameraSyncKind.MeasuredKept) {
    // Measured within the threshold and left alone: never "Synced ... set", it was not written.
    const measured = last.residualMs !== null ? formatAheadBehind(last.residualMs) : null;
    const within = typeof last.thresholdMs === 'number' ? `within ±${formatBound(last.thresholdMs)} of the Pi` : "close to the Pi's time";
    return (
      <span className="timesync" data-verified="true" data-outcome={CameraSyncKind.MeasuredKept}>
        <span className="badge reliability-high">
          <span className="glyph" aria-hidden="true">
            ●
          </span>
          Kept
        </span>{' '}
        {within}, not written{age ? ` · ${age}` : ''}
        {measured ? <span className="detail">measured {measured}{typeof last.residualBoundMs === 'number' ? ` (±${formatBound(last.residualBoundMs)})` : ''}</span> : null}
      </span>
    );
  }
  const residual = verifiedResidual(last);
  if (!residual) {
    return (
      <span className="timesync" data-verified="false">
        <span className="badge reliability-medium">
          <span className="glyph" aria-hidden="true">
            ◐
          </span>
          Set
        </span>{' '}
        set, not verified{age ? ` · ${age}` : ''}
        {asRead ? <span className="detail">{asRead} before</span> : null}
      </span>
    );
  }
  return (
    <span className="timesync" data-verified="true">
      <span className="badge reliability-high">
        <span className="glyph" aria-hidden="true">
          ●
        </span>
        Synced
      </span>{' '}
      {age}
      <span className="detail">
        {before ? `was ${before}, ` : ''}now {formatAheadBehind(residual.residualMs)} (±{formatBound(residual.boundMs)})
      </span>
    </span>
  );
}

/**
 * "within ±40 ms of the Pi, checked 12 min ago, drifts +0.13 s/day" from the last read-only measurement; a drift
 * whose bound is too wide to mean anything is "not known yet", never a figure.
 */
export function clockLine(clock: NonNullable<CameraStatus['clock']>): string {
  const d = clock.drift;
  const drift = !d
    ? ''
    : d.known
      ? `, drifts ${d.sPerDay >= 0 ? '+' : '−'}${Math.abs(d.sPerDay).toFixed(2)} s/day`
      : `, drift not known yet (about ${formatDuration(Math.max(60_000, d.knownInMs))} more)`;
  return `within ±${clock.errorNowMs} ms of the Pi, checked ${formatAge(clock.ageMs)}${drift}`;
}
