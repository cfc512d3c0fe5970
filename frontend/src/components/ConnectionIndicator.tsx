import type { ConnectionState } from '../ws-client';

const LABEL: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
};

interface Props {
  state: ConnectionState;
  attempt: number;
  onRetry: () => void;
}

export function ConnectionIndicator({ state, attempt, onRetry }: Props) {
  return (
    <div className="connection" data-testid="connection" data-state={state} role="status" aria-live="polite">
      <span className="connection-dot" aria-hidden="true" />
      <span className="connection-label">
        {LABEL[state]}
        {state === 'reconnecting' && attempt > 1 ? <span className="muted"> (try {attempt})</span> : null}
      </span>
      {state === 'reconnecting' ? (
        <button type="button" className="btn btn-small" onClick={onRetry} data-testid="reconnect-now">
          Retry now
        </button>
      ) : null}
    </div>
  );
}
