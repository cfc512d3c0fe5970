import { randomBytes } from 'node:crypto';
import { Clock } from '../time/clock';

/** A change of wall minus monotonic beyond this is a move of the Pi's clock (reads of the two jitter by about 1 ms). */
const MOVE_MS = 5;

/**
 * Which setting of the Pi's clock a slate's time is on. The page measures the Pi's clock and then counts on
 * its own, so a frame drawn after the Pi was stepped still shows the old clock until the page measures again;
 * the code says which (`<run>.<n>`: this server run, and the how-many-th setting of the clock seen in it), and
 * a photo of an earlier setting is put on the clock of now by how far the clock moved since. A clock from
 * another server run cannot be placed (what the clock did in between is not known here).
 */
export class SlateClock {
  readonly run: string;
  /** Wall minus monotonic of each setting seen, oldest first. */
  private readonly settings: number[] = [];

  constructor(
    private readonly clock: Clock,
    run: string = randomBytes(2).toString('hex'),
  ) {
    this.run = run;
    this.tag();
  }

  /** The tag of the clock's current setting (a move since the last look opens a new one). */
  tag(): string {
    const now = this.clock.epochOfMonotonic();
    const last = this.settings.at(-1);
    if (last === undefined || Math.abs(now - last) > MOVE_MS) this.settings.push(now);
    return `${this.run}.${this.settings.length - 1}`;
  }

  /** How far the clock moved since the setting `tag` (add it to a time on that setting); null if the tag is not of this run. */
  movedSince(tag: string): number | null {
    this.tag();
    const m = /^([0-9a-f]{4})\.([0-9]+)$/.exec(tag);
    if (!m || m[1] !== this.run) return null;
    const then = this.settings[Number(m[2])];
    if (then === undefined) return null;
    const moved = this.settings.at(-1)! - then;
    return Math.abs(moved) <= MOVE_MS ? 0 : moved;
  }
}
