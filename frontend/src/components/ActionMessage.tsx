import type { ActionResult } from '../use-action';

/** The outcome of an action, next to its button: errors are announced and never dismissed silently. */
export function ActionMessage({ result, testId }: { result: ActionResult | null; testId: string }) {
  if (!result) return null;
  return (
    <p className={result.ok ? 'action-message ok' : 'action-message error'} data-testid={testId} role={result.ok ? 'status' : 'alert'}>
      <span aria-hidden="true">{result.ok ? '✓ ' : '⚠\uFE0E '}</span>
      {result.text}
    </p>
  );
}
