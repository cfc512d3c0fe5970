import { firstValueFrom, take, toArray } from 'rxjs';
import { CameraSyncFailure, CameraSyncResult } from '../../backend/camera/camera-report';
import { ErrorCode } from '../../backend/common/domain-error';
import { CameraSim, startCameraSims } from '../camera-sim/sim';
import { parseSimDateTime } from '../camera-sim/camera-clock';
import { cameraConfig, newService, rejectionOf, ServiceHarness } from './camera-harness';

jest.setTimeout(30_000);

/** The simulator's own record of a sync: the PUT it took, when it handled it (host time) and the second written. */
function putOf(sim: CameraSim) {
  const puts = sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('functions/datetime') && r.status === 200);
  expect(puts).toHaveLength(1);
  const parsed = parseSimDateTime(puts[0].body);
  expect(parsed).not.toBeNull();
  return { handledAtMs: puts[0].handledAtMs, secondUtcMs: parsed!.secondUtcMs };
}

describe('Several cameras against simulators on real sockets', () => {
  let sims: CameraSim[];
  let h: ServiceHarness;

  afterEach(async () => {
    h?.close();
    await Promise.all(sims.map((sim) => sim.close()));
  });

  describe('two cameras, one over HTTP and one over HTTPS', () => {
    const [A, B] = ['083021000123', '083021000124'];

    beforeEach(async () => {
      sims = await startCameraSims(2, {}, (i) => ({ clockOffsetMs: i ? -83_000 - Math.random() * 1000 : 37_000 + Math.random() * 1000, latencyMs: i ? 30 : 4 }));
      h = newService(cameraConfig({ CAMERA_URL: `${sims[0].httpUrl},${sims[1].httpsUrl}/ccapi` }), { zone: 'Europe/Berlin' });
    });

    it('connects both: statuses, connection$ and events keyed by serial number', async () => {
      const emitted = firstValueFrom(h.service.connection$.pipe(take(2), toArray()));
      await h.service.check();
      expect(h.service.statuses().map((s) => [s.id, s.state, s.baseUrl])).toEqual([
        [A, 'connected', `${sims[0].httpUrl}/ccapi`],
        [B, 'connected', `${sims[1].httpsUrl}/ccapi`],
      ]);
      expect((await emitted).map((s) => s.id).sort()).toEqual([A, B]);
      expect(h.named('camera-connected').map((s) => s.id).sort()).toEqual([A, B]);
    });

    it('sets both on the same second, each residual measured and within its bound of the simulator', async () => {
      await h.service.check();
      const outcomes = (await h.service.syncAll('test')) as CameraSyncResult[];
      const truth = sims.map((sim) => sim.clock.errorMs());
      const [putA, putB] = sims.map(putOf);

      expect(outcomes.map((o) => [o.cameraId, o.success, o.verified])).toEqual([
        [A, true, true],
        [B, true, true],
      ]);
      // One boundary: both cameras were given the same second, and each took it from the same instant on.
      expect(putA.secondUtcMs).toBe(putB.secondUtcMs);
      expect(outcomes.map((o) => Date.parse(o.newTime))).toEqual([putA.secondUtcMs, putB.secondUtcMs]);
      // Each camera's own measurement agrees with what the simulator knows, within its bound.
      outcomes.forEach((o, i) => expect(Math.abs(o.residualMs! - truth[i])).toBeLessThanOrEqual(o.residualBoundMs! + 3));
      // The simulators' record of when each PUT arrived agrees: their difference is the residuals' difference.
      const arrivalGap = putA.handledAtMs - putB.handledAtMs;
      expect(Math.abs(arrivalGap - (outcomes[1].residualMs! - outcomes[0].residualMs!))).toBeLessThanOrEqual(outcomes[0].residualBoundMs! + outcomes[1].residualBoundMs! + 6);
      // The old errors came out right too.
      expect(Math.abs(-outcomes[0].offset - 37_500)).toBeLessThanOrEqual(500 + outcomes[0].offsetBoundMs);
      expect(Math.abs(-outcomes[1].offset + 83_500)).toBeLessThanOrEqual(500 + outcomes[1].offsetBoundMs);

      expect(h.named('camera-sync')).toEqual(
        expect.arrayContaining(
          outcomes.map((o) => ({
            cameraId: o.cameraId,
            success: true,
            outcome: o.outcome,
            previousTime: o.previousTime,
            newTime: o.newTime,
            offset: o.offset,
            offsetBoundMs: o.offsetBoundMs,
            residualMs: o.residualMs,
            written: true,
            residualBoundMs: o.residualBoundMs,
            verified: o.verified,
            at: o.newTime,
          })),
        ),
      );
      expect(h.named('camera-sync')).toHaveLength(2);
      expect(h.service.statuses().map((s) => [s.id, s.lastSync?.success, s.lastSync?.verified])).toEqual([
        [A, true, true],
        [B, true, true],
      ]);
      expect(h.activity.entries().filter((e) => /clock set/.test(e.message)).map((e) => e.details.cameraId).sort()).toEqual([A, B]);
    });

    it('one camera busy (503) does not stop the other', async () => {
      await h.service.check();
      sims[1].setBusy(10_000, 'During shooting or recording');
      const [ok, busy] = await h.service.syncAll('test');
      expect(ok).toMatchObject({ cameraId: A, success: true, verified: true });
      expect(busy).toMatchObject({ cameraId: B, success: false, code: ErrorCode.CAMERA_BUSY, error: 'Camera is busy: During shooting or recording' });
      expect(putOf(sims[0]).secondUtcMs % 1000).toBe(0);
      expect(sims[1].requests.filter((r) => r.method === 'PUT')).toEqual([]);
      expect(h.named('camera-sync').map((e) => [e.cameraId, e.success]).sort()).toEqual([
        [A, true],
        [B, false],
      ]);
      expect(h.activity.entries()).toContainEqual(expect.objectContaining({ type: 'error', message: `Camera ${B} clock not set, the sync failed (test): ${(busy as CameraSyncFailure).error}` }));
      // Busy is alive: both stay connected.
      expect(h.service.statuses().map((s) => s.state)).toEqual(['connected', 'connected']);
      await expect(h.service.syncOne(B, 'test')).rejects.toMatchObject({ code: ErrorCode.CAMERA_BUSY });
    });
  });

  it('four cameras, two over HTTPS, at different latencies: all set on the same second', async () => {
    sims = await startCameraSims(4, {}, (i) => ({ clockOffsetMs: (i - 1.5) * 20_000, latencyMs: [3, 12, 25, 40][i] }));
    h = newService(cameraConfig({ CAMERA_URL: sims.map((sim, i) => (i % 2 ? sim.httpsUrl : sim.httpUrl)).join(',') }), { zone: 'Asia/Kolkata' });
    await h.service.check();
    const outcomes = (await h.service.syncAll('test')) as CameraSyncResult[];
    expect(outcomes.map((o) => o.success)).toEqual([true, true, true, true]);
    const seconds = new Set(sims.map((sim) => putOf(sim).secondUtcMs));
    expect(seconds.size).toBe(1);
    outcomes.forEach((o, i) => {
      if (o.verified) expect(Math.abs(o.residualMs! - sims[i].clock.errorMs())).toBeLessThanOrEqual(o.residualBoundMs! + 3);
      expect(sims[i].clock.stdOffsetMinutes).toBe(330);
    });
    expect(new Set(outcomes.map((o) => o.cameraId)).size).toBe(4);
  });

  describe('a camera that answers 401', () => {
    beforeEach(async () => {
      sims = await startCameraSims(1, { httpsPort: false, auth: { user: 'operator', password: 'secret' } });
    });

    it.each([
      ['no user name and password', {}],
      ['a wrong password', { CAMERA_USER: 'operator', CAMERA_PASSWORD: 'wrong' }],
    ])('is present and needs credentials with %s: said once, camera-changed, a sync answers CAMERA_AUTH_REQUIRED', async (_what, credentials) => {
      h = newService(cameraConfig({ CAMERA_URL: sims[0].httpUrl, ...credentials }));
      const emitted = firstValueFrom(h.service.connection$);
      await h.service.check();
      await h.service.check();
      const status = h.service.status();
      expect(status).toMatchObject({ state: 'needs-credentials', connected: false, baseUrl: `${sims[0].httpUrl}/ccapi` });
      await expect(emitted).resolves.toEqual(status);
      expect(h.named('camera-changed')).toEqual([status]);
      expect(h.activity.entries().map((e) => e.message)).toEqual([`Camera at ${sims[0].httpUrl} refuses the user name and password: set CAMERA_USER / CAMERA_PASSWORD`]);

      const error = await rejectionOf(h.service.syncOne(status.id, 'test'));
      expect(error).toMatchObject({ code: ErrorCode.CAMERA_AUTH_REQUIRED, message: expect.stringContaining('CAMERA_USER') });
      await expect(h.service.syncAll('test')).resolves.toEqual([expect.objectContaining({ success: false, code: ErrorCode.CAMERA_AUTH_REQUIRED })]);
      expect(sims[0].requests.filter((r) => r.method === 'PUT')).toEqual([]);
    });

    it('connects once the camera stops asking', async () => {
      h = newService(cameraConfig({ CAMERA_URL: sims[0].httpUrl }));
      await h.service.check();
      sims[0].setAuth(null);
      await h.service.check();
      expect(h.service.status()).toMatchObject({ id: '083021000123', state: 'connected' });
      expect(h.named('camera-connected')).toHaveLength(1);
    });
  });
});
