import { useCallback, useRef, useState } from 'react';
import { describeError } from './api';

export interface ActionResult {
  ok: boolean;
  text: string;
}

/**
 * Runs a user action once at a time and keeps its outcome in plain words for display next to the button:
 * a string is a success, a thrown error a failure, an `ActionResult` says which (a partly failed camera sync).
 * `run` is called synchronously from the click, so anything it stamps before its first await is the
 * moment of the tap.
 */
export function useAction(run: () => Promise<string | ActionResult>) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ActionResult | null>(null);
  const running = useRef(false);
  const trigger = useCallback(() => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    setResult(null);
    run().then(
      (outcome) => setResult(typeof outcome === 'string' ? { ok: true, text: outcome } : outcome),
      (e: unknown) => setResult({ ok: false, text: describeError(e) }),
    ).finally(() => {
      running.current = false;
      setBusy(false);
    });
  }, [run]);
  return { busy, result, trigger };
}
