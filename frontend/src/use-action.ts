import { useCallback, useRef, useState } from 'react';
import { describeError } from './api';

export interface ActionResult {
  ok: boolean;
  text: string;
}

/**
 * Runs a user action once at a time and keeps its outcome in plain words for display next to the button.
 * `run` is called synchronously from the click, so anything it stamps before its first await is the
 * moment of the tap.
 */
export function useAction(run: () => Promise<string>) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ActionResult | null>(null);
  const running = useRef(false);
  const trigger = useCallback(() => {
    if (running.current) return;
    running.current = true;
    setBusy(true);
    setResult(null);
    run().then(
      (text) => setResult({ ok: true, text }),
      (e: unknown) => setResult({ ok: false, text: describeError(e) }),
    ).finally(() => {
      running.current = false;
      setBusy(false);
    });
  }, [run]);
  return { busy, result, trigger };
}
