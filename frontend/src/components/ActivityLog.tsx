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
  /** Ordered by `seq`, newest last. */
  entries: ActivityEntry[];
  timeZone: string;
  nowWall: number;
}

/** The Pi's recent activity, newest first, with times in this device's zone. */
export function ActivityLog({ entries, timeZone, nowWall }: Props) {
  if (!entries.length) return <p className="muted" data-testid="activity-empty">No activity yet</p>;
  const today = formatDate(wallFields(nowWall, timeZone));
  const newestFirst = [...entries].reverse();
  return (
    <ol className="activity" data-testid="activity-log">
      {newestFirst.map((e) => {
        const at = Date.parse(e.timestamp);
        const f = Number.isFinite(at) ? wallFields(at, timeZone) : null;
        const date = f ? formatDate(f) : '';
        const failed = !e.success || e.type === ActivityType.Error;
        return (
          <li key={e.seq} className={failed ? 'activity-entry failed' : 'activity-entry'} data-testid="activity-entry">
            <time className="activity-time" dateTime={e.timestamp}>
              {f ? (date === today ? formatTime(f) : `${date.slice(5)} ${formatTime(f)}`) : '—'}
            </time>
            <span className={`activity-type type-${e.type}`}>{TYPE_LABEL[e.type] ?? e.type}</span>
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
