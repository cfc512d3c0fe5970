import { SimulatedTime } from '../../test/camera-sim/fake-ccapi';
import { DomainError, ErrorCode } from '../common/domain-error';
import { CameraDateTime, formatCameraDateTime, parseCameraDateTime } from '../time/camera-datetime';
import { CameraReader, Reading } from './camera-reader';
import { CameraSyncKept, CameraSyncResult } from './camera-report';
import { ClockSync, SyncJob, SyncSink } from './clock-sync';
import { Exchange, SharedSecondBoundary } from './sync-timing';

/**
 * A camera behind the reader port, on simulated time: a clock showing whole seconds over a hidden phase, each
 * request `oneWayMs` each way. What it does with a PUT can be made late or failed, one PUT at a time.
 */
class FakeReader implements CameraReader {
  oneWayMs = 5;
  /** Each PUT in turn: reaches the camera `lateMs` late, or fails with `error`. */
  readonly putFaults: Array<{ lateMs?: number; error?: DomainError }> = [];
  /** The camera answers PUTs but keeps its time. */
  ignorePut = false;
  /** The PUTs it took: when (Pi wall time) and the second they gave it. */
  readonly puts: Array<{ atMs: number; secondMs: number }> = [];

  constructor(
    private readonly time: SimulatedTime,
    /** Camera minus Pi, ms. */
    public errorMs: number,
  ) {}

  async readClock(): Promise<Reading> {
    const sentAtMs = this.time.clock.now();
    await this.time.sleep(this.oneWayMs);
    const cameraMs = Math.floor((this.time.clock.now() + this.errorMs) / 1000) * 1000;
    await this.time.sleep(this.oneWayMs);
    return { cameraMs, ...formatCameraDateTime(cameraMs, 'UTC'), sentAtMs, receivedAtMs: this.time.clock.now() };
  }

  async writeClock(body: () => CameraDateTime): Promise<Exchange> {
    const sentAtMs = this.time.clock.now();
    const value = body();
    const fault = this.putFaults.shift();
    await this.time.sleep(this.oneWayMs + (fault?.lateMs ?? 0));
    if (!fault?.error && !this.ignorePut) {
      const secondMs = parseCameraDateTime(value).epochMs;
      this.puts.push({ atMs: this.time.clock.now(), secondMs });
      this.errorMs = secondMs - this.time.clock.now();
    }
    await this.time.sleep(this.oneWayMs);
    if (fault?.error) throw fault.error;
    return { sentAtMs, receivedAtMs: this.time.clock.now() };
  }

  async info() {
    return { serialNumber: 'AAA1' };
  }
}

describe(ClockSync.name, () => {
  let time: SimulatedTime;
  let told: string[];
  const sink: SyncSink = {
    cameraId: 'AAA1',
    measured: (m, _epoch, keep) => told.push(`measured ${m.kind}${keep ? '' : ', not kept'}`),
    clockSet: () => told.push('clock set'),
    wrote: (w) => told.push(`wrote ${w.newTime}${w.verified ? ', verified' : ''}`),
    warn: (message) => told.push(`warn ${message}`),
  };
  const job = (more: Partial<SyncJob> = {}): SyncJob => ({ reason: 'test', timezone: 'UTC', thresholdMs: 100, spreadGoalMs: 0, ...more });
  const alone = () => new SharedSecondBoundary(() => time.clock.now(), 1);
  const run = (sut: ClockSync, reader: FakeReader) => sut.run({ reader, clock: time.clock, waiter: time.waiter }, () => null);

  beforeEach(() => {
    time = new SimulatedTime();
    told = [];
  });

  it('measures first and keeps a camera within the threshold: no PUT, its place on the shared boundary given up', async () => {
    const reader = new FakeReader(time, 40);
    const boundary = new SharedSecondBoundary(() => time.clock.now(), 2);
    const other = boundary.arrive(5);
    const sut = new ClockSync(sink, job(), boundary);
    const result = (await run(sut, reader)) as CameraSyncKept;
    expect(result).toMatchObject({ outcome: 'measured-kept', written: false, thresholdMs: 100 });
    expect(Math.abs(result.residualMs - 40)).toBeLessThanOrEqual(result.residualBoundMs);
    expect(reader.puts).toEqual([]);
    expect(told).toEqual(['measured before-write']);
    expect(sut.joined).toBe(true);
    await expect(other).resolves.toEqual(expect.any(Number));
  });

  it('writes a camera beyond it so that the PUT lands on the boundary, then verifies it; tells the session in order', async () => {
    const reader = new FakeReader(time, 2_500.3);
    const result = (await run(new ClockSync(sink, job(), alone()), reader)) as CameraSyncResult;
    expect(reader.puts).toHaveLength(1);
    expect(reader.puts[0].atMs % 1000).toBe(0);
    expect(reader.errorMs).toBe(0);
    expect(result).toMatchObject({ outcome: 'written-verified', verified: true, newTime: new Date(reader.puts[0].secondMs).toISOString(), latencyMs: 5 });
    expect(Math.abs(result.offset + 2_500.3)).toBeLessThanOrEqual(result.offsetBoundMs);
    expect(Math.abs(result.residualMs!)).toBeLessThanOrEqual(result.residualBoundMs!);
    // The error before is journaled once the PUT is out, no longer the camera's clock; the clock starts afresh from the read-back.
    expect(told).toEqual(['measured before-write, not kept', 'clock set', 'measured after-write', `wrote ${result.newTime}, verified`]);
  });

  it('throws CAMERA_REJECTED when the camera reads back far from what it was given', async () => {
    const reader = new FakeReader(time, 37_250);
    reader.ignorePut = true;
    await expect(run(new ClockSync(sink, job(), alone()), reader)).rejects.toMatchObject({ code: ErrorCode.CAMERA_REJECTED, message: expect.stringContaining('reads back') });
  });

  it('writes a late camera again for the spread goal; a failed re-write leaves the first write standing, not verified', async () => {
    const reader = new FakeReader(time, 3_000);
    reader.putFaults.push({ lateMs: 60 }, { error: new DomainError(ErrorCode.CAMERA_BUSY, 'Camera is busy: Device busy') });
    const result = (await run(new ClockSync(sink, job({ spreadGoalMs: 20 }), alone()), reader)) as CameraSyncResult;
    expect(reader.puts).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'written-unverified', verified: false, residualMs: null, unverifiedBecause: 'the re-write failed: Camera is busy: Device busy', rewrites: [] });
    expect(told.filter((t) => t.startsWith('wrote'))).toEqual([`wrote ${result.newTime}, verified`]);
  });

  it('writes a late camera again, and reports the re-write', async () => {
    const reader = new FakeReader(time, 3_000);
    reader.putFaults.push({ lateMs: 60 });
    const result = (await run(new ClockSync(sink, job({ spreadGoalMs: 20 }), alone()), reader)) as CameraSyncResult;
    expect(reader.puts).toHaveLength(2);
    expect(result).toMatchObject({ outcome: 'written-verified', rewrites: [expect.objectContaining({ goalMs: 20, newTime: result.newTime })] });
    expect(Math.abs(result.rewrites![0].residualBeforeMs + 60)).toBeLessThanOrEqual(result.rewrites![0].residualBeforeBoundMs);
    expect(Math.abs(reader.errorMs)).toBeLessThanOrEqual(20);
  });

  it('stops with PI_CLOCK_STEPPED when the Pi clock is stepped before the PUT', async () => {
    const reader = new FakeReader(time, 2_500);
    void time.sleep(300).then(() => time.clock.step(time.clock.now() + 3_000));
    await expect(run(new ClockSync(sink, job(), alone()), reader)).rejects.toMatchObject({ code: ErrorCode.PI_CLOCK_STEPPED });
    expect(reader.puts).toEqual([]);
  });
});
