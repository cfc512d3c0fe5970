import { useState } from 'react';
import type { PendingDecision } from '../../../backend/protocol/messages';
import { ClientFrameType, DecisionKind, SOURCE_LABELS, SyncSource } from '../../../backend/protocol/vocabulary';
import { describeCode, NOT_ON_AP_REASON } from '../api';
import { formatAmount, formatBound } from '../time-format';
import type { SocketError } from '../ws-client';
import { ActionMessage } from './ActionMessage';

const TITLE: Record<DecisionKind, string> = {
  [DecisionKind.ManualDisagrees]: 'A phone disagrees with the time set by hand',
  [DecisionKind.SuspectedZoneMistake]: 'Time zone or daylight-saving mistake?',
  [DecisionKind.SessionRunning]: 'A capture session is running: step the clock anyway?',
};

interface Props {
  decision: PendingDecision;
  /** From the status: false when this device is not on the Pi's access point. */
  canSetTime: boolean | undefined;
  /** The socket is open (the answer goes over it). */
  online: boolean;
  lastError: SocketError | null;
  /** Sends `use-client-time`; false when the socket is not open. */
  onUse: () => boolean;
  /** On the Pi's own screen the answer takes the phone's time (the phone named in the decision), not this device's. */
  onPiScreen?: boolean;
}

/**
 * An automatic sync measured but did not step the clock: the operator decides. "Use this phone's time" asks the
 * Pi to measure this page's own clock and step to it; the decision then disappears with the next status, or
 * the Pi's refusal (an error frame answering the request) shows next to the button. Keyed by the decision, so
 * a new one starts afresh.
 */
export function DecisionPanel({ decision, canSetTime, online, lastError, onUse, onPiScreen = false }: Props) {
  /** The error sequence number when the request went out; errors after it answer it. */
  const [sentAfter, setSentAfter] = useState<number | null>(null);
  const [notSent, setNotSent] = useState(false);
  const refusal = sentAfter !== null && lastError && lastError.seq > sentAfter && lastError.action === ClientFrameType.UseClientTime ? lastError : null;
  const waiting = sentAfter !== null && !refusal;
  const reason = canSetTime === false ? NOT_ON_AP_REASON : !online ? 'Not connected to the Pi' : null;

  const use = () => {
    const seq = lastError?.seq ?? 0;
    if (onUse()) {
      setSentAfter(seq);
      setNotSent(false);
    } else setNotSent(true);
  };

  // A decision about a source that reports by itself (GPS, the hardware clock): the answer takes that source's time.
  const other = decision.source && decision.source !== SyncSource.Client ? SOURCE_LABELS[decision.source] ?? decision.source : null;
  const useLabel = other ? `Use the time of ${other}` : onPiScreen ? "Use the phone's time" : "Use this phone's time";

  return (
    <section className="decision" data-testid="decision" data-kind={decision.kind} aria-labelledby="decision-title">
      <h2 id="decision-title">{other && decision.kind === DecisionKind.ManualDisagrees ? `${capitalized(other)} disagrees with the time set by hand` : TITLE[decision.kind] ?? 'The Pi needs a decision'}</h2>
      <p className="decision-message" data-testid="decision-message" role="alert">
        {decision.message}
      </p>
      <p className="muted small" data-testid="decision-detail">
        {other ? `${capitalized(other)} (${decision.client})` : `The phone at ${decision.client}`} is {formatAmount(decision.offsetMs)} {decision.offsetMs > 0 ? 'ahead of' : 'behind'} the Pi (± {formatBound(decision.errorBoundMs)})
        {decision.clientZone && decision.clientZone !== decision.piZone ? ` · zone ${decision.clientZone}, the Pi uses ${decision.piZone}` : ''}
      </p>
      <div className="actions">
        <button
          type="button"
          className="btn btn-primary"
          data-testid="use-client-time"
          onClick={use}
          disabled={!!reason || waiting}
          aria-busy={waiting}
          aria-describedby={reason ? 'use-client-time-reason' : undefined}
        >
          {waiting ? (other ? `Measuring ${other}…` : onPiScreen ? 'Measuring the phone…' : 'Measuring this phone…') : useLabel}
        </button>
        {reason ? (
          <p className="reason" id="use-client-time-reason" data-testid="use-client-time-reason">
            {reason}
          </p>
        ) : null}
        <ActionMessage
          result={refusal ? { ok: false, text: describeCode(refusal.code, refusal.message) } : notSent ? { ok: false, text: 'Not connected to the Pi; try again when it is back' } : null}
          testId="use-client-time-message"
        />
      </div>
    </section>
  );
}

function capitalized(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}
