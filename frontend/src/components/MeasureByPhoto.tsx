import { useCallback, useState } from 'react';
import type { CameraStatus } from '../../../backend/protocol/messages';
import { CameraState, Screen } from '../../../backend/protocol/vocabulary';
import { ActionError, describeCode, NOT_ON_AP_PHOTO_REASON, type PhotoMeasure, type TimeSyncApi } from '../api';
import { formatAheadBehind, formatBound } from '../time-format';
import { useAction, type ActionResult } from '../use-action';
import { ActionMessage } from './ActionMessage';

interface Props {
  camera: CameraStatus;
  api: TimeSyncApi;
  /** From the status: false when this device is not on the Pi's access point. */
  canSetTime: boolean | undefined;
  online: boolean;
  /** The page's screen: the Pi's own shows this page, not the slate, so the slate must be on a phone. */
  screen?: Screen;
}

/**
 * "Measure by photo" for one CCAPI camera: first where to point it (the slate), then the shot and its result in
 * words: the camera's offset from the Pi ± the bound, or why it was not measured ("not verified").
 */
export function MeasureByPhoto({ camera, api, canSetTime, online, screen }: Props) {
  const [aiming, setAiming] = useState(false);
  const run = useCallback(async () => resultOf(await api.measureByPhoto(camera.id)), [api, camera.id]);
  const action = useAction(useCallback(() => run().catch((e: unknown) => refusedResult(e)), [run]));
  const reason = !online
    ? 'Not connected to the Pi'
    : canSetTime === false
      ? NOT_ON_AP_PHOTO_REASON
      : camera.state === CameraState.NeedsCredentials
        ? "The camera needs its user name and password before it can take a photo"
        : camera.state !== CameraState.Connected
          ? 'The camera is not connected'
          : null;
  const reasonId = `measure-photo-reason-${camera.id}`;
  const take = () => {
    setAiming(false);
    action.trigger();
  };

  return (
    <div className="measure-photo" data-testid="measure-photo">
      {aiming && !action.busy ? (
        <div className="measure-photo-aim" role="group" aria-label="Measure by photo">
          <p className="hint" data-testid="measure-photo-hint">
            {aimHint(screen)}
          </p>
          <button type="button" className="btn btn-small" data-testid="measure-photo-take" onClick={take} disabled={!!reason}>
            Take the photo
          </button>{' '}
          <button type="button" className="btn btn-small" data-testid="measure-photo-cancel" onClick={() => setAiming(false)}>
            Cancel
          </button>
        </div>
      ) : (
        <button
          type="button"
          className="btn btn-small"
          data-testid="measure-photo-start"
          onClick={() => setAiming(true)}
          disabled={!!reason || action.busy}
          aria-busy={action.busy}
          aria-describedby={reason ? reasonId : undefined}
        >
          {action.busy ? 'Taking the photo…' : 'Measure by photo'}
        </button>
      )}
      {reason ? (
        <p className="reason" id={reasonId} data-testid="measure-photo-reason">
          {reason}
        </p>
      ) : null}
      <ActionMessage result={action.result} testId="measure-photo-message" />
    </div>
  );
}

/** Where to point the camera. On the Pi's own screen this page hides the slate, so a phone shows it. */
export function aimHint(screen: Screen | undefined): string {
  if (screen === Screen.Kiosk) return 'Point the camera at the slate: open /slate on a phone and hold it in front of the camera (this screen shows this page, not the slate). Then take the photo.';
  return "Point the camera at the slate on the Pi's screen (Time slate), or open /slate on this phone and hold it in front of the camera. Then take the photo.";
}

/** "Camera 2.3 s ahead of the Pi (±26 ms), from IMG_0001.JPG". */
export function resultOf(answer: PhotoMeasure): ActionResult {
  const { offsetMs, boundMs } = answer.measurement;
  const where = Math.abs(offsetMs) < 1 ? 'in step with the Pi' : `${formatAheadBehind(offsetMs)} of the Pi`;
  return { ok: true, text: `Camera ${where} (±${formatBound(boundMs)}), measured from its photo ${answer.file}` };
}

/** A refusal in words, never a figure: the camera's clock was not verified. */
export function refusedResult(e: unknown): ActionResult {
  const text = e instanceof ActionError ? describeCode(e.code, e.message) : e instanceof Error ? e.message : String(e);
  return { ok: false, text: `Not verified: ${text}` };
}
