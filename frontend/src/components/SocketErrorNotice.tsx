import { useState } from 'react';
import { ClientFrameType, ErrorCode } from '../../../backend/protocol/vocabulary';
import { NOT_ON_AP_REASON } from '../api';
import type { SocketError } from '../ws-client';

/**
 * Errors the Pi reports over the socket, shown until dismissed (a new error shows again). The refusal of
 * "Use this phone's time" shows next to that button instead.
 */
export function SocketErrorNotice({ error }: { error: SocketError | null }) {
  const [dismissed, setDismissed] = useState(0);
  if (!error || error.seq <= dismissed || error.action === ClientFrameType.UseClientTime) return null;
  const text = error.code === ErrorCode.NOT_ACCESS_POINT_CLIENT ? NOT_ON_AP_REASON : error.message;
  return (
    <div className="notice error" role="alert" data-testid="socket-error" data-code={error.code}>
      <span>
        <span aria-hidden="true">{'⚠\uFE0E '}</span>The Pi reported: {text}
      </span>
      <button type="button" className="btn btn-small" onClick={() => setDismissed(error.seq)}>
        Dismiss
      </button>
    </div>
  );
}
