import { ErrorCode } from '../common/domain-error';
import { CameraStatus } from '../protocol/messages';
import { cameraSyncEvent, connectionActivity, syncActivity } from './camera-activity';
import { CameraSyncFailure, CameraSyncKept, CameraSyncResult } from './camera-report';

const written: CameraSyncResult = {
  cameraId: 'AAA1',
  success: true,
  outcome: 'written-verified',
  reason: 'test',
  previousTime: '2026-12-02T10:00:37.000Z',
  newTime: '2026-12-02T10:00:03.000Z',
  offset: -37_250,
  offsetBoundMs: 12,
  residualMs: 3,
  residualBoundMs: 8,
  verified: true,
  datetime: 'Wed, 02 Dec 2026 10:00:03 +0000',
  dst: false,
  timezone: 'UTC',
  latencyMs: 5,
  written: true,
  rewrites: [{ goalMs: 20, residualBeforeMs: -61, residualBeforeBoundMs: 6, residualAfterMs: 3, residualAfterBoundMs: 8, latencyMs: 5, newTime: '2026-12-02T10:00:03.000Z' }],
};

describe('camera activity', () => {
  it("a written camera: one line per re-write, then the outcome's, in its words", () => {
    expect(syncActivity(written).map((l) => [l.type, l.message, l.success])).toEqual([
      ['camera', "Camera AAA1 clock written again (1 of at most 2, spread goal 20 ms): it was -61 ms (±6 ms) off the Pi's, now +3 ms (±8 ms)", true],
      ['camera', 'Camera AAA1 clock set and verified (test): it was 37 s ahead (±12 ms), now 3 ms off (±8 ms)', true],
    ]);
    expect(cameraSyncEvent(written, 'now')).toMatchObject({ outcome: 'written-verified', written: true, at: written.newTime });
  });

  it('a camera kept within the threshold is not said to be set', () => {
    const kept = { cameraId: 'AAA1', success: true, outcome: 'measured-kept', written: false, reason: 'test', previousTime: 'p', offset: -40, offsetBoundMs: 6, residualMs: 40, residualBoundMs: 6, verified: true, thresholdMs: 100, measurement: { at: 'then' } } as CameraSyncKept;
    expect(syncActivity(kept).map((l) => l.message)).toEqual(["Camera AAA1 clock kept, not written (test): within 100 ms of the Pi's (40 ms ahead, ±6 ms)"]);
    expect(cameraSyncEvent(kept, 'now')).toMatchObject({ written: false, newTime: null, at: 'then' });
  });

  it('a failure is an error line; its event is at the time it was reported', () => {
    const failed: CameraSyncFailure = { cameraId: 'AAA1', success: false, outcome: 'failed', reason: 'test', code: ErrorCode.CAMERA_BUSY, error: 'Camera is busy: Device busy', previousTime: null, offset: null };
    expect(syncActivity(failed)).toEqual([
      { type: 'error', message: 'Camera AAA1 clock not set, the sync failed (test): Camera is busy: Device busy', success: false, details: { source: 'camera', cameraId: 'AAA1', outcome: 'failed', error: 'Camera is busy: Device busy', code: 'CAMERA_BUSY', reason: 'test' } },
    ]);
    expect(cameraSyncEvent(failed, 'now')).toEqual({ cameraId: 'AAA1', success: false, outcome: 'failed', previousTime: null, newTime: null, offset: null, residualMs: null, error: 'Camera is busy: Device busy', at: 'now' });
  });

  it('a change of state: what connected, what it needs, why it left', () => {
    const status = (state: CameraStatus['state']): CameraStatus => ({ id: 'AAA1', state, connected: state === 'connected', baseUrl: null, info: { productName: 'Canon EOS R50', serialNumber: 'AAA1' }, lastSync: null, lastError: null });
    const url = 'http://10.0.0.2:8080';
    expect(connectionActivity(status('connected'), url, null, false).message).toBe('Camera connected: Canon EOS R50 (serial AAA1) at http://10.0.0.2:8080');
    expect(connectionActivity(status('needs-credentials'), url, '401', true)).toMatchObject({ success: false, message: `Camera at ${url} refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD`, details: { userSet: true, error: '401' } });
    expect(connectionActivity(status('disconnected'), url, null, false).message).toBe('Camera AAA1 disconnected: no answer');
  });
});
