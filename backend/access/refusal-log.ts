import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { Clock } from '../time/clock';
import { DomainError, ErrorCode } from '../common/domain-error';

/** A client's refusals after its first are counted for this long, then told in one server log line. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;
/** Clients counted at once; beyond that, newcomers share one count (a flood of addresses cannot grow the map). */
const MAX_CLIENTS = 1000;
const OTHERS = 'other clients';

interface Window {
  since: number;
  counts: Map<string, number>;
  timer: NodeJS.Timeout;
}

/**
 * Every refusal (authority, an unreliable Pi, a flood) is a coded error and one log line, never a line per
 * attempt: the first refusal of a client in an interval is one activity entry (which is also its one server
 * log line); the rest of that interval are counted and reported as one server log line when it ends. A client
 * hammering the server cannot flush the operator's entries out of the 100-entry log.
 */
@Injectable()
export class RefusalLog implements OnModuleDestroy {
  private readonly logger = new Logger('Refusals');
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    private readonly activity: ActivityLogService,
  ) {}

  /** Records the refusal and returns the error to throw. */
  refuse(client: string, code: ErrorCode, message: string, details: Record<string, unknown> = {}): DomainError {
    this.note(client, code, message, details);
    return new DomainError(code, message);
  }

  note(client: string, code: ErrorCode, message: string, details: Record<string, unknown> = {}): void {
    const key = this.windows.has(client) || this.windows.size < MAX_CLIENTS ? client : OTHERS;
    const open = this.windows.get(key);
    if (open && this.clock.monotonic() - open.since < REFUSAL_LOG_INTERVAL_MS) {
      open.counts.set(code, (open.counts.get(code) ?? 0) + 1);
      return;
    }
    if (open) this.flush(key);
    const timer = setTimeout(() => this.flush(key), REFUSAL_LOG_INTERVAL_MS);
    timer.unref?.();
    this.windows.set(key, { since: this.clock.monotonic(), counts: new Map(), timer });
    this.activity.add('error', message, false, { error: code, client, ...details });
  }

  onModuleDestroy(): void {
    for (const key of [...this.windows.keys()]) this.flush(key);
  }

  private flush(key: string): void {
    const window = this.windows.get(key);
    if (!window) return;
    clearTimeout(window.timer);
    this.windows.delete(key);
    if (!window.counts.size) return;
    const total = [...window.counts.values()].reduce((a, b) => a + b, 0);
    const codes = [...window.counts].map(([code, n]) => `${code} x${n}`).join(', ');
    this.logger.warn(`${total} more refusal(s) of ${key} in ${REFUSAL_LOG_INTERVAL_MS / 1000} s after the one logged: ${codes}`);
  }
}
