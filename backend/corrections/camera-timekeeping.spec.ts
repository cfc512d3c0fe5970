import { Subject } from 'rxjs';
import { DomainError, ErrorCode } from '../common/domain-error';
import { EventBus } from '../common/event-bus';
import { CameraStatus, CameraSyncEvent } from '../protocol/messages';
import { ManualClock } from '../time/clock';
import { CameraClockPort } from '../camera/camera-port';
import { CameraObservation, SyncBasedCameraTimekeeping } from './camera-timekeeping';

const T = Date.UTC(2026, 11, 2, 10, 0, 0);

const camera = (id: string, serial?: string): CameraStatus => ({
  id,
  state: 'connected',
  connected: true,
  baseUrl: `http://10.0.0.2:8080/ccapi`,
  info: serial ? { serialNumber: serial } : null,
  lastSync: null,
  lastError: null,
});

/** The cameras as the port shows them; anything else asked of it fails the test. */
function camerasPort(statuses: CameraStatus[], overrides: Partial<CameraClockPort> = {}): CameraClockPort {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected CameraClockPort.${name}`);
  };
  return {
    statuses: () => statuses,
    connection$: new Subject<CameraStatus>(),
    mayBeTimeSource: unexpected('mayBeTimeSource'),
    readClock: unexpected('readClock'),
    measure: unexpected('measure'),
    syncAll: unexpected('syncAll'),
    syncOne: unexpected('syncOne'),
    ...overrides,
  } as CameraClockPort;
}

describe(SyncBasedCameraTimekeeping.name, () => {
  let bus: EventBus;
  let clock: ManualClock;
  let seen: CameraObservation[];

  function build(cameras: CameraClockPort): SyncBasedCameraTimekeeping {
    const sut = new SyncBasedCameraTimekeeping(cameras, clock, bus);
    sut.observations$.subscribe((o) => seen.push(o));
    return sut;
  }

  const sync = (data: Partial<CameraSyncEvent['data']> & Pick<CameraSyncEvent['data'], 'outcome' | 'success'>): void =>
    bus.emit('camera-sync', { cameraId: 'AAA1', previousTime: null, newTime: null, offset: null, ...data });

  beforeEach(() => {
    bus = new EventBus();
    clock = new ManualClock(T + 60_000);
    seen = [];
  });

  describe('every camera sync, from the typed camera-sync event', () => {
    beforeEach(() => build(camerasPort([camera('AAA1', '0830AAA1')])));

    it('a verified write: the error before (camera minus Pi) and the residual after, at the second written', () => {
      sync({ success: true, outcome: 'written-verified', offset: -1500, offsetBoundMs: 12, residualMs: 3, residualBoundMs: 8, written: true, verified: true, newTime: new Date(T).toISOString(), at: new Date(T).toISOString() });
      expect(seen).toEqual([
        { kind: 'write', outcome: 'written-verified', cameraId: 'AAA1', serial: '0830AAA1', success: true, atMs: T, wallOffsetMinutes: null, offsetMs: 1500, boundMs: 12, residualMs: 3, residualBoundMs: 8, verified: true },
      ]);
    });

    it('a write not verified claims no residual, and says the Pi stepped during it', () => {
      sync({ success: true, outcome: 'written-unverified', offset: 200, offsetBoundMs: 30, residualMs: null, written: true, verified: false, at: new Date(T).toISOString(), piSteppedDuring: true });
      expect(seen).toEqual([expect.objectContaining({ kind: 'write', success: true, offsetMs: -200, boundMs: 30, residualMs: null, residualBoundMs: null, verified: false, piSteppedDuring: true })]);
    });

    it('a camera kept within the threshold is the measurement it was, not a write', () => {
      sync({ success: true, outcome: 'measured-kept', offset: -40, offsetBoundMs: 6, residualMs: 40, residualBoundMs: 6, written: false, verified: true, thresholdMs: 100, at: new Date(T).toISOString() });
      expect(seen).toEqual([{ kind: 'measure', outcome: 'measured-kept', cameraId: 'AAA1', serial: '0830AAA1', success: true, atMs: T, wallOffsetMinutes: null, offsetMs: 40, boundMs: 6 }]);
    });

    it('a failure is an unsuccessful write attempt, with the error before it if the camera was read; at the Pi time it was reported without `at`', () => {
      sync({ success: false, outcome: 'failed', offset: 37_000, error: 'Camera is busy: Device busy' });
      expect(seen).toEqual([
        expect.objectContaining({ kind: 'write', outcome: 'failed', success: false, error: 'Camera is busy: Device busy', atMs: T + 60_000, offsetMs: -37_000, boundMs: null, verified: false }),
      ]);
    });

    it("reads no log text: an activity entry in a sync's words records nothing", () => {
      bus.emit('activity', { seq: 1, timestamp: new Date(T).toISOString(), type: 'camera', message: 'Camera AAA1 clock set and verified (test): it was 1.5 s ahead (±12 ms), now 3 ms off (±8 ms)', success: true, details: { cameraId: 'AAA1', offsetBoundMs: 12 } });
      bus.emit('camera-changed', camera('AAA1', '0830AAA1'));
      expect(seen).toEqual([]);
    });
  });

  it('a camera with no serial number yet is recorded with serial null', () => {
    build(camerasPort([camera('10.0.0.2_8080')]));
    sync({ cameraId: '10.0.0.2_8080', success: true, outcome: 'measured-kept', residualMs: 1, residualBoundMs: 5, at: new Date(T).toISOString() });
    expect(seen).toEqual([expect.objectContaining({ cameraId: '10.0.0.2_8080', serial: null })]);
  });

  describe('measureAll (the end of a capture session): read-only, recorded as measurements with the camera zone', () => {
    it('a certain measurement, an uncertain one (no number), and a failure', async () => {
      const cameras = camerasPort([camera('AAA1', '0830AAA1'), camera('BBB2', '0830BBB2'), camera('CCC3', '0830CCC3')], {
        measure: async (id: string) => {
          if (id === 'CCC3') throw new DomainError(ErrorCode.CAMERA_BUSY, 'Camera is busy: Device busy');
          const at = new Date(T).toISOString();
          return id === 'AAA1' ? { offsetMs: 12, boundMs: 7, uncertain: false, at } : { offsetMs: null, boundMs: null, uncertain: true, reason: 'known only to ±260 ms', at };
        },
        readClock: async (id: string) => ({ cameraId: id, epochMs: T, datetime: 'Wed, 02 Dec 2026 11:00:00 +0100', dst: false, piTimeMs: T }),
      });
      const sut = build(cameras);
      const checks = await sut.measureAll('session stop');
      expect(checks).toEqual([
        { cameraId: 'AAA1', serial: '0830AAA1', success: true, correctedFromMs: null, offsetMs: 12, boundMs: 7 },
        { cameraId: 'BBB2', serial: '0830BBB2', success: true, correctedFromMs: null, offsetMs: null, boundMs: null },
        { cameraId: 'CCC3', serial: '0830CCC3', success: false, code: ErrorCode.CAMERA_BUSY, error: 'Camera is busy: Device busy', correctedFromMs: null, offsetMs: null, boundMs: null },
      ]);
      expect([...seen].sort((a, b) => a.cameraId.localeCompare(b.cameraId))).toEqual([
        { kind: 'measure', cameraId: 'AAA1', serial: '0830AAA1', success: true, atMs: T, offsetMs: 12, boundMs: 7, wallOffsetMinutes: 60, reason: 'session stop' },
        { kind: 'measure', cameraId: 'BBB2', serial: '0830BBB2', success: true, atMs: T, offsetMs: null, boundMs: null, wallOffsetMinutes: 60, reason: 'session stop; uncertain: known only to ±260 ms' },
        { kind: 'measure', cameraId: 'CCC3', serial: '0830CCC3', success: false, error: 'Camera is busy: Device busy', atMs: T + 60_000, offsetMs: null, boundMs: null, reason: 'session stop' },
      ]);
    });
  });
});
