import { Subject } from 'rxjs';
import { CameraClockPort } from '../../camera/camera-port';
import { ManualClock } from '../../time/clock';
import { CAMERA_ONE_READ_BOUND_MS, CameraClockSource } from './camera-clock-source';

const T = Date.UTC(2026, 11, 10, 12, 0, 0);

function portWith(over: Partial<CameraClockPort>): CameraClockPort {
  const refuse = () => {
    throw new Error('unexpected call');
  };
  return { statuses: refuse, connection$: new Subject(), mayBeTimeSource: () => true, readClock: refuse, measure: refuse, syncAll: refuse, syncOne: refuse, ...over } as CameraClockPort;
}

describe(CameraClockSource.name, () => {
  // The Pi's wall clock reads T + 5000 at monotonic 5000: wall minus monotonic is T.
  const clock = new ManualClock(T + 5000, 5000);

  it('reads nothing from a camera not trusted as a time source', async () => {
    const sut = new CameraClockSource(portWith({ mayBeTimeSource: () => false }), clock);
    await expect(sut.read('c1')).resolves.toBeNull();
  });

  it('measured around its second tick: the measurement, anchored on the monotonic clock, with its bound', async () => {
    const port = portWith({
      readClock: async () => ({ cameraId: 'c1', epochMs: T + 83_000, datetime: '', dst: false, piTimeMs: T + 4000 }),
      // Camera minus Pi +83 412 ms, ±12 ms, measured at Pi time T + 4200 (monotonic 4200).
      measure: async () => ({ offsetMs: 83_412, boundMs: 12, uncertain: false, at: new Date(T + 4200).toISOString(), atMono: 4200 }),
    });
    const reading = await new CameraClockSource(port, clock).read('c1');
    expect(reading).toEqual({ source: 'camera', who: 'c1', sourceMinusMonoMs: T + 83_412, errorBoundMs: 12, atMono: 5000 });
  });

  it('when it cannot be measured: one read of whole seconds, the middle of the second, ±500 ms', async () => {
    const port = portWith({
      readClock: async () => ({ cameraId: 'c1', epochMs: T + 83_000, datetime: '', dst: false, piTimeMs: T + 4000 }),
      measure: async () => ({ offsetMs: null, boundMs: null, uncertain: true, reason: 'busy', at: new Date(T + 4200).toISOString() }),
    });
    const reading = await new CameraClockSource(port, clock).read('c1');
    // At Pi time T + 4000 the camera showed T + 83 000 .. T + 84 000: camera minus Pi 79 500 ms ± 500.
    expect(reading).toMatchObject({ sourceMinusMonoMs: T + 79_500, errorBoundMs: CAMERA_ONE_READ_BOUND_MS });
  });

  it('refuses an implausible camera time (a camera never set: 2000-01-01) with a coded error', async () => {
    const port = portWith({ readClock: async () => ({ cameraId: 'c1', epochMs: Date.UTC(2000, 0, 1), datetime: '', dst: false, piTimeMs: T }) });
    await expect(new CameraClockSource(port, clock).read('c1')).rejects.toMatchObject({ code: 'IMPLAUSIBLE_TIME' });
  });
});
