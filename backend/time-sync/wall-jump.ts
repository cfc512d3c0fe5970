import { Clock } from '../time/clock';

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
