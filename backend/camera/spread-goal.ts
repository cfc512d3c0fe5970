/**
 * Whether a camera just written should be written again: its PUT's own one-way time cannot be predicted (one
 * slow request, a Wi-Fi retry), so a camera that lands far from the boundary gets another PUT at the next one,
 * timed with the latency of then. Pure: the session does the writing.
 */

/** Re-writes after the first write, at most (each costs about two seconds of the camera's time). */
export const MAX_REWRITES = 2;

/** What the last write's verification found: camera minus Pi, within ±residualBoundMs. */
export interface WriteResidual {
  verified: boolean;
  residualMs: number | null;
  residualBoundMs: number | null;
}

/**
 * `rewrite`: beyond the goal (proved, or its centre still beyond after a refined measurement); `refine`: the
 * centre is beyond but the bound lets it be within (measure tighter, then ask again with `refined`); `done`: within
 * the goal, not verified (nothing to act on), no goal (0), or MAX_REWRITES already made.
 */
export type RewriteDecision = 'rewrite' | 'refine' | 'done';

export function rewriteDecision(last: WriteResidual, goalMs: number, rewritesDone: number, refined: boolean): RewriteDecision {
  if (goalMs <= 0 || rewritesDone >= MAX_REWRITES) return 'done';
  if (!last.verified || last.residualMs === null || last.residualBoundMs === null) return 'done';
  const size = Math.abs(last.residualMs);
  if (size <= goalMs) return 'done';
  if (size - last.residualBoundMs > goalMs || refined) return 'rewrite';
  return 'refine';
}
