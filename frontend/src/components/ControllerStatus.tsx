import type { TimeSyncStatus } from '../../../backend/protocol/messages';
import { Reliability, SOURCE_LABELS, SyncSource } from '../../../backend/protocol/vocabulary';
import { formatAge, formatBound, formatDateTime, formatDifference, formatOffset, formatUtcOffset, zoneOffsetMs } from '../time-format';

const RELIABILITY_LABEL: Record<Reliability, string> = {
  [Reliability.High]: 'High',
  [Reliability.Medium]: 'Medium',
  [Reliability.Low]: 'Low',
  [Reliability.None]: 'None',
};

/** A shape per level, so the levels differ without colour (night mode is all red). */
const RELIABILITY_GLYPH: Record<Reliability, string> = {
  [Reliability.High]: '●',
  [Reliability.Medium]: '◐',
  [Reliability.Low]: '◔',
  [Reliability.None]: '○',
};

export function ReliabilityBadge({ reliability, testId }: { reliability: Reliability; testId?: string }) {
  return (
    <span className={`badge reliability-${reliability}`} data-testid={testId} data-reliability={reliability} title="Reliability">
      <span className="glyph" aria-hidden="true">
        {RELIABILITY_GLYPH[reliability] ?? ''}
      </span>
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

/**
 * Where the Pi's time came from, in a photographer's words: a phone by its address, any other source by the
 * label the server sends with it (so a source this page does not know by name still reads right).
 */
export function sourceWords(status: TimeSyncStatus): string {
  if (status.syncSource === SyncSource.Client) return status.sourceClient ? `the phone at ${status.sourceClient}` : "a phone on the Pi's Wi-Fi";
  if (status.syncSource === SyncSource.None) return 'no source';
  return status.sourceLabel ?? SOURCE_LABELS[status.syncSource] ?? status.syncSource;
}

/** The Pi's card has one name on every screen; its state row is told apart from a camera's ("Camera sync"). */
export const PI_TIME = 'Pi time';
export const PI_SYNC = 'Pi sync';

export const NOT_CONFIRMED = 'Time not confirmed since start: connect a phone';
export const TIME_SERVER = 'Time server';

/**
 * The Pi's own screen: the Pi's clock and what is known of it (source, age, error bound). It never compares
 * the Pi with "this device": this device is the Pi.
 */
export function KioskPiStatus({ status, piNow, sinceStatus }: { status: TimeSyncStatus | null; piNow: number | null; sinceStatus: number }) {
  const unconfirmed = !!status && !status.pi.ntpSynchronized && status.reliability === Reliability.None;
  return (
    <div className="card pi-card" data-testid="controller-info">
      {/* The card's title labels its first line, the clock, to keep the small screen's lines for the cameras. */}
      <div className="row title-row">
        <h3>{PI_TIME}</h3>
        <div className="value" data-testid="pi-time">
          {status && piNow !== null ? (
            <>
              <span className="clock big">{formatDateTime(piNow, status.pi.timezone)}</span> <ZoneLabel zone={status.pi.timezone} at={piNow} />
              {unconfirmed ? <span className="zone-label"> (unconfirmed)</span> : null}
            </>
          ) : (
            '—'
          )}
        </div>
      </div>
      {unconfirmed ? (
        <p className="unconfirmed" data-testid="pi-unconfirmed" role="alert">
          <span aria-hidden="true">{'⚠\uFE0E '}</span>
          {NOT_CONFIRMED}
        </p>
      ) : null}
      <dl className="rows">
        <div className="row">
          <dt>{PI_SYNC}</dt>
          <dd data-testid="pi-timesync">{status ? <PiTimeSync status={status} sinceStatus={sinceStatus} showOffset={false} /> : <span className="muted">Waiting for the Pi…</span>}</dd>
        </div>
        <TimeServerRow status={status} />
      </dl>
    </div>
  );
}

// ---- Pi time on a phone: compared with this device ----------------------------------------------

export function ControllerInfo({ status, clock, deviceZone }: { status: TimeSyncStatus | null; clock: Clock; deviceZone: string }) {
  return (
    <div className="card" data-testid="controller-info">
      <h3>{PI_TIME}</h3>
      <dl className="rows">
        <div className="row">
          <dt>{PI_SYNC}</dt>
          <dd data-testid="pi-timesync">{status ? <PiTimeSync status={status} sinceStatus={clock.sinceStatus} /> : <span className="muted">Waiting for the Pi…</span>}</dd>
        </div>
        <TimeServerRow status={status} />
        <div className="row">
          <dt>Pi clock</dt>
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

function PiTimeSync({ status, sinceStatus, showOffset = true }: { status: TimeSyncStatus; sinceStatus: number; showOffset?: boolean }) {
  if (status.pi.ntpSynchronized) {
    const server = status.timeServer;
    // A follower Pi (TIME_SERVER=chrony, NTP_FOLLOW): its time is its leader's, with chrony's bound.
    const leader = server?.following && server.state === 'following' ? server.following : null;
    return (
      <span className="timesync" data-testid="ntp-status">
        <ReliabilityBadge reliability={Reliability.High} testId="pi-reliability" />{' '}
        {leader ? (
          <>
            following {leader} over NTP
            {server!.errorBoundMs !== null ? <span data-testid="pi-bound">, ± {formatBound(server!.errorBoundMs)}</span> : null}
          </>
        ) : (
          'NTP synchronized'
        )}
      </span>
    );
  }
  if (status.lastSyncAgeMs === null || status.syncSource === SyncSource.None) {
    return (
      <span className="timesync">
        <ReliabilityBadge reliability={status.reliability} testId="pi-reliability" /> Not synchronized yet
        <OperatorHold status={status} />
        <OtherSources status={status} />
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
      {status.errorBoundMs !== null ? (
        <>
          {' · '}
          <span data-testid="pi-bound">± {formatBound(status.errorBoundMs)}</span>
        </>
      ) : null}
      {showOffset && status.lastOffsetMs !== null ? (
        <span className="detail" data-testid="pi-offset">
          offset {formatOffset(status.lastOffsetMs)}
          {status.errorBoundMs !== null ? ` ± ${formatBound(status.errorBoundMs)}` : ''}
        </span>
      ) : null}
      <OperatorHold status={status} />
      <OtherSources status={status} />
    </span>
  );
}

/** What the Pi serves over NTP (TIME_SERVER=chrony), in the server's words: clients served, the leader it follows, or why not. */
function TimeServerRow({ status }: { status: TimeSyncStatus | null }) {
  const server = status?.timeServer;
  if (!server) return null;
  const trouble = server.state === 'down';
  const idle = server.state === 'local' || server.state === 'unsynchronised';
  return (
    <div className="row">
      <dt>{TIME_SERVER}</dt>
      <dd data-testid="time-server" data-state={server.state} className={trouble ? 'time-server warn' : idle ? 'time-server muted' : 'time-server'}>
        {trouble ? <span aria-hidden="true">{'⚠\uFE0E '}</span> : null}
        {server.summary}
      </dd>
    </div>
  );
}

/** GPS and the hardware clock, when the Pi has them: their state in the server's words ("GPS: 3D fix ±38 ms"). */
function OtherSources({ status }: { status: TimeSyncStatus }) {
  const sources = (status.sources ?? []).filter((s) => !s.absent);
  if (!sources.length) return null;
  return (
    <>
      {sources.map((s) => (
        <span key={`${s.source}:${s.who}`} className={`detail source${s.active ? '' : ' muted'}`} data-testid={`source-${s.source}`}>
          {capitalized(SOURCE_LABELS[s.source] ?? s.source)}: {s.state}
          {s.active && s.errorBoundMs !== null ? ` ± ${formatBound(s.errorBoundMs)}` : ''}
        </span>
      ))}
    </>
  );
}

function capitalized(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** After a manual set the Pi keeps the operator's time until they choose a phone's (the decision above). */
function OperatorHold({ status }: { status: TimeSyncStatus }) {
  if (!status.operatorHold) return null;
  return (
    <span className="detail hold" data-testid="operator-hold">
      Set by hand; automatic syncs only measure
    </span>
  );
}
