import { Logger } from '@nestjs/common';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { ClockJournal } from '../activity-log/clock-journal';
import { recordBase } from '../activity-log/journal-records';
import { messageOf } from '../common/domain-error';
import { formatDuration } from '../time/format';
import { Clock } from '../time/clock';

/** How often the wall clock is compared with the monotonic clock for steps the product did not make. */
export const WALL_WATCH_MS = 1000;

/** A move of the wall clock this large, beyond the time that passed, is a step (NTP slews far less between two checks). */
export const WALL_JUMP_MIN_MS = 100;
/** Two readings of the monotonic clock around the wall clock further apart than this: the thread was held up, read again later. */
const READ_WINDOW_MS = 5;

export interface WallJump {
  /** How far the wall clock moved beyond the time that passed (positive: forward). */
  jumpMs: number;
  /** The wall clock just before (as it would read now without the jump) and now. */
  beforeMs: number;
  afterMs: number;
}

/**
 * The Time Utils spec's tamper detection: wall minus monotonic is constant while the clock runs freely, so
 * a change of it is a step of the wall clock. The product's own steps are announced (`rebase` after them);
 * anything else that moves the clock (NTP coming online, someone running `date`) shows up in `check`.
 */
export class WallJumpWatcher {
  private base: number | null;

  constructor(
    private readonly clock: Clock,
    private readonly minJumpMs = WALL_JUMP_MIN_MS,
  ) {
    this.base = this.read();
  }

  /** After a step the product made: the new wall clock is the reference. */
  rebase(): void {
    this.base = this.read() ?? this.base;
  }

  /** A jump since the last check, or null. */
  check(): WallJump | null {
    const now = this.read();
    if (now === null) return null;
    const before = this.base;
    this.base = now;
    if (before === null) return null;
    const jumpMs = Math.round((now - before) * 1000) / 1000;
    if (Math.abs(jumpMs) < this.minJumpMs) return null;
    const afterMs = this.clock.now();
    return { jumpMs, beforeMs: afterMs - jumpMs, afterMs };
  }

  /** Wall minus monotonic, read between two monotonic readings close together; null if the thread was held up. */
  private read(): number | null {
    const m1 = this.clock.monotonic();
    const wall = this.clock.now();
    const m2 = this.clock.monotonic();
    if (m2 - m1 > READ_WINDOW_MS) return null;
    return wall - (m1 + m2) / 2;
  }
}

/**
 * Steps of the wall clock the product did not make (NTP coming online, someone running `date`): checked every
 * second, journaled as `external-step` (photos taken across them can be fixed) and shown in the activity log. The
 * product's own steps are bracketed by `begin`/`end`: the journal has their records already.
 */
export class OutsideStepWatch {
  private readonly logger = new Logger(OutsideStepWatch.name);
  private readonly wall: WallJumpWatcher;
  private timer?: NodeJS.Timeout;
  private stepping = 0;

  /**
   * `keeper`: who keeps the clock when it is not this product (chrony, with TIME_SERVER=chrony), and the server it
   * follows; a step then is that keeper's, told as such and handed to `keeperStepped`. Null: nobody should move it.
   */
  constructor(
    private readonly clock: Clock,
    private readonly activity: ActivityLogService,
    private readonly journal: ClockJournal,
    private readonly keeper: () => { by: 'chrony'; following: string | null } | null = () => null,
    private readonly keeperStepped: (jump: WallJump) => Promise<unknown> = async () => undefined,
  ) {
    this.wall = new WallJumpWatcher(clock);
  }

  start(): void {
    this.wall.rebase();
    this.timer = setInterval(() => void this.check(), WALL_WATCH_MS);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The product starts a step of its own. */
  begin(): void {
    this.stepping++;
  }

  /** ...and it is done: the clock as it is now is the reference. */
  end(): void {
    this.stepping--;
    this.wall.rebase();
  }

  private async check(): Promise<void> {
    if (this.stepping) return;
    const jump = this.wall.check();
    if (jump) await this.record(jump);
  }

  private async record(jump: WallJump): Promise<void> {
    const moved = `${jump.jumpMs < 0 ? '-' : '+'}${formatDuration(Math.abs(jump.jumpMs))}`;
    const now = new Date(jump.afterMs).toISOString();
    const keeper = this.keeper();
    if (keeper) {
      const to = keeper.following ? ` to the time of ${keeper.following}` : '';
      this.activity.add('sync', `chrony (the time server) stepped the Pi's clock by ${moved}${to}; it now reads ${now}`, true, { source: 'ntp', stepMs: jump.jumpMs, by: keeper.by });
    } else {
      const message = `The Pi's clock was moved by ${moved} by something other than this product (NTP coming online, someone running date); it now reads ${now}`;
      this.activity.add('error', message, false, { source: 'external', stepMs: jump.jumpMs, error: 'EXTERNAL_STEP' });
    }
    await this.journal
      .append({ kind: 'external-step', ...recordBase(this.clock, this.journal.bootInfo()), stepMs: jump.jumpMs, beforeMs: jump.beforeMs, before: new Date(jump.beforeMs).toISOString(), ...(keeper ? { by: keeper.by } : {}) })
      .catch((error: unknown) => this.logger.error(`A step of the clock by ${moved} could not be journaled: ${messageOf(error)}`));
    if (keeper) await this.keeperStepped(jump);
  }
}
