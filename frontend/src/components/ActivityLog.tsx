import type { ActivityEntry } from '../../../backend/protocol/messages';
import { ActivityType } from '../../../backend/protocol/vocabulary';
import { formatDate, formatTime, wallFields } from '../time-format';

const TYPE_LABEL: Record<ActivityType, string> = {
  [ActivityType.Sync]: 'Sync',
  [ActivityType.Error]: 'Error',
  [ActivityType.Manual]: 'Manual',
  [ActivityType.Camera]: 'Camera',
};

interface Props {
  /** Ordered by `seq` (the order things happened in), newest last. */
  entries: ActivityEntry[];
  /** The Pi's zone: times are shown as the Pi's clock reads them now. */
  timeZone: string;
  /** The Pi's wall clock minus the server's monotonic clock, from the latest status; null before one. */
  wallMinusMonotonicMs: number | null;
  nowWall: number;
  /** Show only the newest this many (the rest is one tap away). */
  limit?: number;
  testId?: string;
}

/**
 * When an entry happened, in the Pi's current time: its monotonic stamp mapped through the latest status, so
 * entries logged before a step of the clock read in order with those after it. The wall stamp it was logged
 * with (the clock then) is the fallback.
 */
export function entryTime(e: ActivityEntry, wallMinusMonotonicMs: number | null): number {
  if (wallMinusMonotonicMs !== null && typeof e.monotonicMs === 'number' && Number.isFinite(e.monotonicMs)) return wallMinusMonotonicMs + e.monotonicMs;
  return Date.parse(e.timestamp);
}

/** The Pi's recent activity, newest first (by `seq`), each at its time in the Pi's current clock and zone. */
export function ActivityLog({ entries, timeZone, wallMinusMonotonicMs, nowWall, limit, testId = 'activity-log' }: Props) {
  if (!entries.length) return <p className="muted" data-testid="activity-empty">No activity yet</p>;
  const today = formatDate(wallFields(nowWall, timeZone));
  const newestFirst = [...entries].sort((a, b) => b.seq - a.seq).slice(0, limit ?? entries.length);
  return (
    <ol className="activity" data-testid={testId}>
      {newestFirst.map((e) => {
        const at = entryTime(e, wallMinusMonotonicMs);
        const f = Number.isFinite(at) ? wallFields(at, timeZone) : null;
        const date = f ? formatDate(f) : '';
        const failed = !e.success || e.type === ActivityType.Error;
        return (
          <li key={e.seq} className={failed ? 'activity-entry failed' : 'activity-entry'} data-testid="activity-entry" data-seq={e.seq}>
            <time className="activity-time" dateTime={Number.isFinite(at) ? new Date(at).toISOString() : undefined}>
              {f ? (date === today ? formatTime(f) : `${date.slice(5)} ${formatTime(f)}`) : '—'}
            </time>
            <span className={`activity-type type-${e.type}`}>
              {failed ? <span aria-hidden="true">{'✕ '}</span> : null}
              {TYPE_LABEL[e.type] ?? e.type}
            </span>
            <span className="activity-message">
              {failed ? <span className="sr-only">Failed: </span> : null}
              {e.message}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
