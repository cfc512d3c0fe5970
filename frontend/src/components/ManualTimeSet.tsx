import { useCallback, useEffect, useRef, useState } from 'react';
import { NOT_ON_AP_REASON, type TimeSyncApi } from '../api';
import {
  epochOfWall,
  formatDate,
  formatDateTime,
  formatOffset,
  formatTime,
  formatUtcOffset,
  stepWall,
  wallFields,
  zoneOffsetMs,
  type WallField,
} from '../time-format';
import { useAction } from '../use-action';
import { ActionMessage } from './ActionMessage';
import { ZonePicker } from './ZonePicker';

interface Props {
  api: TimeSyncApi;
  /** Date.now() at the last tick: the shown time moves on with it. */
  nowWall: number;
  deviceZone: string;
  piZone: string | null;
  /** From the status: false when this device is not on the Pi's access point. */
  canSetTime: boolean | undefined;
  ntpSynchronized: boolean;
  /**
   * The Pi's own screen: the time starts from the Pi's clock (this device is the Pi), `piMinusDeviceMs` ahead
   * of this browser's clock (0 on a real Pi; the simulated clock differs). Elsewhere it starts from this device's.
   */
  onPiScreen?: boolean;
  piMinusDeviceMs?: number;
  /** Why clock changes are refused right now (e.g. the journal cannot be written), if they are. */
  refusedBecause?: string | null;
}

const FIELDS: Array<{ field: WallField; label: string }> = [
  { field: 'year', label: 'Year' },
  { field: 'month', label: 'Month' },
  { field: 'day', label: 'Day' },
  { field: 'hour', label: 'Hour' },
  { field: 'minute', label: 'Min' },
  { field: 'second', label: 'Sec' },
];

/**
 * Sets the Pi's clock by hand with touch alone (no system keyboard can draw over the kiosk). The chosen
 * time is kept as a difference from this device's clock, so it keeps running while the user steps
 * fields, and the timestamp is taken at the tap that sends it.
 */
export function ManualTimeSet({ api, nowWall, deviceZone, piZone, canSetTime, ntpSynchronized, onPiScreen = false, piMinusDeviceMs = 0, refusedBecause = null }: Props) {
  const startZone = onPiScreen ? (piZone ?? deviceZone) : deviceZone;
  const baseWords = onPiScreen ? "the Pi's time" : "this device's time";
  const [deltaMs, setDeltaMs] = useState(0);
  const [zone, setZone] = useState(startZone);
  const [pickingZone, setPickingZone] = useState(false);
  const deltaRef = useRef(deltaMs);
  deltaRef.current = deltaMs;
  const zoneRef = useRef(zone);
  zoneRef.current = zone;
  const baseRef = useRef(piMinusDeviceMs);
  baseRef.current = onPiScreen ? piMinusDeviceMs : 0;

  const step = useCallback((field: WallField, by: number) => {
    const now = Date.now() + baseRef.current;
    const target = now + deltaRef.current;
    const ms = ((target % 1000) + 1000) % 1000;
    const next = epochOfWall(stepWall(wallFields(target, zoneRef.current), field, by), zoneRef.current, ms, target);
    deltaRef.current = next - now;
    setDeltaMs(next - now);
  }, []);

  const resetToDevice = useCallback(() => {
    deltaRef.current = 0;
    setDeltaMs(0);
    setZone(startZone);
  }, [startZone]);

  const run = useCallback(async () => {
    // Stamped here, synchronously in the tap, before anything is awaited.
    const timestamp = new Date(Date.now() + baseRef.current + deltaRef.current).toISOString();
    const timezone = zoneRef.current;
    await api.setPiTime(timestamp, timezone);
    return `Pi's clock set to ${formatDateTime(Date.parse(timestamp), timezone)} (${timezone})`;
  }, [api]);
  const action = useAction(run);

  const target = nowWall + (onPiScreen ? piMinusDeviceMs : 0) + deltaMs;
  const fields = wallFields(target, zone);
  const reason = canSetTime === false ? NOT_ON_AP_REASON : ntpSynchronized ? 'The Pi has network time (NTP): its clock is left alone' : refusedBecause;

  return (
    <div className="card manual" data-testid="manual-time">
      <div className="manual-display" data-testid="manual-target">
        <span className="clock big">{formatDate(fields)}</span> <span className="clock big">{formatTime(fields)}</span>
        <span className="muted"> {formatUtcOffset(zoneOffsetMs(target, zone))}</span>
      </div>
      <p className="muted small" data-testid="manual-delta">
        {Math.abs(deltaMs) < 500 ? capitalize(baseWords) : `${formatOffset(deltaMs)} from ${baseWords}`}
      </p>
      {pickingZone ? (
        <ZonePicker
          value={zone}
          deviceZone={deviceZone}
          piZone={piZone}
          showDevice={!onPiScreen}
          onPick={(z) => {
            setZone(z);
            setPickingZone(false);
          }}
          onCancel={() => setPickingZone(false)}
        />
      ) : (
        <>
          <div className="steppers" role="group" aria-label="Date and time">
            {FIELDS.map(({ field, label }) => (
              <Stepper key={field} field={field} label={label} value={fields[field]} onStep={step} />
            ))}
          </div>
          <div className="manual-row">
            <button type="button" className="btn zone-button" data-testid="manual-zone" data-zone={zone} onClick={() => setPickingZone(true)}>
              <span className="muted small">Zone </span>
              {zone}
            </button>
            <button type="button" className="btn" data-testid="use-device-time" onClick={resetToDevice}>
              {onPiScreen ? "Back to the Pi's time" : "Use this device's time"}
            </button>
          </div>
        </>
      )}
      <div className="actions">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="set-pi-time"
          onClick={action.trigger}
          disabled={!!reason || action.busy}
          aria-busy={action.busy}
          aria-describedby={reason ? 'set-pi-time-reason' : undefined}
        >
          {action.busy ? 'Setting…' : "Set the Pi's time"}
        </button>
        {reason ? (
          <p className="reason" id="set-pi-time-reason" data-testid="set-pi-time-reason">
            {reason}
          </p>
        ) : null}
        <ActionMessage result={action.result} testId="set-pi-time-message" />
      </div>
    </div>
  );
}

const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const pad = (field: WallField, n: number) => String(n).padStart(field === 'year' ? 4 : 2, '0');

/** Up/down buttons; holding one repeats. */
function Stepper({ field, label, value, onStep }: { field: WallField; label: string; value: number; onStep: (f: WallField, by: number) => void }) {
  return (
    <div className="stepper">
      <RepeatButton label={`Increase ${label.toLowerCase()}`} testId={`step-${field}-up`} onStep={() => onStep(field, 1)}>
        +
      </RepeatButton>
      <div className="stepper-value">
        <span className="stepper-label">{label}</span>
        <span className="clock" data-testid={`field-${field}`}>
          {pad(field, value)}
        </span>
      </div>
      <RepeatButton label={`Decrease ${label.toLowerCase()}`} testId={`step-${field}-down`} onStep={() => onStep(field, -1)}>
        −
      </RepeatButton>
    </div>
  );
}

function RepeatButton({ label, testId, onStep, children }: { label: string; testId: string; onStep: () => void; children: string }) {
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const repeated = useRef(false);
  const stop = useCallback(() => {
    if (timer.current !== null) clearTimeout(timer.current);
    timer.current = null;
  }, []);
  useEffect(() => stop, [stop]);
  const repeat = useCallback(
    (wait: number) => {
      timer.current = setTimeout(() => {
        repeated.current = true;
        onStep();
        repeat(80);
      }, wait);
    },
    [onStep],
  );
  // A tap steps once (on click, so a swipe that starts on the button scrolls without stepping: the browser
  // cancels the pointer); holding the button steps on and on.
  return (
    <button
      type="button"
      className="btn step"
      aria-label={label}
      data-testid={testId}
      onPointerDown={(e) => {
        if (e.button > 0) return; // not the primary button (jsdom leaves it undefined)
        stop();
        repeated.current = false;
        repeat(450);
      }}
      onPointerUp={stop}
      onPointerLeave={stop}
      onPointerCancel={stop}
      onContextMenu={(e) => e.preventDefault()}
      onClick={() => {
        if (repeated.current) repeated.current = false;
        else onStep();
      }}
    >
      {children}
    </button>
  );
}
