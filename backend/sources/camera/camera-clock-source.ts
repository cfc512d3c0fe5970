import { CameraClockPort } from '../../camera/camera-port';
import { Clock } from '../../time/clock';
import { assertPlausibleTime } from '../../time/validation';
import { SourceReading } from '../source-port';

/** A camera's clock read once shows whole seconds: at a Pi time it was somewhere in that second. */
export const CAMERA_ONE_READ_BOUND_MS = 500;

/**
 * A camera's battery-backed clock as a time source: read when the policy asks (a camera connected to a Pi with no
 * better time). Measured around its second tick when the camera allows it (a bound of tens of ms, which lets the
 * policy rank several cameras), else one read (±500 ms). Returns null for a camera not trusted as a time source
 * (asked again at the read: the policy decided on its trust when it connected); throws the camera's error.
 */
export class CameraClockSource {
  constructor(
    private readonly cameras: CameraClockPort,
    private readonly clock: Clock,
  ) {}

  async read(cameraId: string): Promise<SourceReading | null> {
    if (!this.cameras.mayBeTimeSource(cameraId)) return null;
    const read = await this.cameras.readClock(cameraId);
    assertPlausibleTime(read.epochMs, 'camera time');
    const measured = await this.cameras.measure(cameraId).catch(() => null);
    const atMono = this.clock.monotonic();
    const tight = measured && !measured.uncertain && measured.offsetMs !== null && measured.boundMs !== null && typeof measured.atMono === 'number' ? measured : null;
    // Anchored on the monotonic clock: a measurement taken before a step of the Pi's clock is followed through it
    // (its wall minus monotonic then says where the camera's time sits on the monotonic clock).
    const sourceMinusMonoMs = tight
      ? Date.parse(tight.at) - tight.atMono! + tight.offsetMs!
      : // One-second resolution: at Pi time piTimeMs the camera was somewhere in [epochMs, epochMs + 1 s); take the middle.
        read.epochMs + CAMERA_ONE_READ_BOUND_MS - read.piTimeMs + this.clock.epochOfMonotonic();
    return { source: 'camera', who: cameraId, sourceMinusMonoMs, errorBoundMs: tight ? tight.boundMs! : CAMERA_ONE_READ_BOUND_MS, atMono };
  }
}
