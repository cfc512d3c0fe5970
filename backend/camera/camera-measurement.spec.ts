import { cameraErrors, FakeCamera, SimulatedTime } from '../../test/camera-sim/fake-ccapi';
import { ErrorCode } from '../common/domain-error';
import { mulberry32, Rng } from '../common/prng';
import { CameraMeasurement } from './camera-measurement';
import { CameraSyncKept, CameraSyncResult } from './camera-report';
import { CameraSession, CameraSessionOwner } from './camera-session';
import { SharedSecondBoundary } from './sync-timing';

/**
 * The read-only measurement of a camera's clock, on simulated time (fake-ccapi): enough runs to speak of
 * percentages, each camera with a random error and per-direction jitter, so its hidden phase and its every
 * request's timing differ. The truth is the fake camera's own clock.
 */
describe('CameraSession.measure', () => {
  let time: SimulatedTime;
  let measured: CameraMeasurement[];
  const owner: CameraSessionOwner = { changed: () => undefined, holderOf: () => null, measured: (_s, m) => measured.push(m) };

  async function connected(camera: FakeCamera): Promise<CameraSession> {
    const session = new CameraSession({ url: 'http://10.0.0.2:8080' }, camera.client(), time.clock, time.waiter, owner);
    await session.check();
    return session;
  }

  beforeEach(() => {
    time = new SimulatedTime();
    measured = [];
  });

  // Round trips (both directions together), ms: from a quiet link to a bad one, with jitter.
  const PROFILES: Array<[string, number, number]> = [
    ['5 ms', 4, 6],
    ['5-25 ms', 5, 25],
    ['20-60 ms', 20, 60],
    ['50-150 ms', 50, 150],
    ['150-250 ms', 150, 250],
  ];
  const RUNS = 60;

  it.each(PROFILES)('round trip %s: the truth is within the reported bound in every run, and >= 99 %% of runs give one', async (_name, lo, hi) => {
    const rng = mulberry32(lo * 7919 + hi);
    let covered = 0;
    const misses: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      time = new SimulatedTime();
      const camera = new FakeCamera(time, { errorMs: (rng() - 0.5) * 20_000, latency: () => (lo + rng() * (hi - lo)) / 2, driftPpm: (rng() - 0.5) * 40 });
      const sut = await connected(camera);
      const m = (await sut.measure())!;
      const truth = camera.errorMs();
      if (m.uncertain) continue;
      if (Math.abs(m.offsetMs! - truth) > m.boundMs!) misses.push(`run ${run}: ${m.offsetMs} ± ${m.boundMs}, truth ${truth.toFixed(1)}`);
      else covered += 1;
    }
    expect(misses).toEqual([]);
    expect(covered / RUNS).toBeGreaterThanOrEqual(0.99);
  });

  it('pins a camera on a quiet link to about a round trip, and says what it took', async () => {
    const camera = new FakeCamera(time, { errorMs: -4321.7, oneWayMs: 5 });
    const sut = await connected(camera);
    const m = (await sut.measure())!;
    expect(m).toEqual({
      cameraId: '083021000123',
      at: new Date(time.clock.now()).toISOString(),
      atMono: time.clock.monotonic(),
      offsetMs: expect.any(Number),
      boundMs: expect.any(Number),
      uncertain: false,
      samples: expect.any(Number),
      roundTripMs: 10,
      kind: 'on-demand',
    });
    expect(Math.abs(m.offsetMs! + 4321.7)).toBeLessThanOrEqual(m.boundMs!);
    expect(m.boundMs).toBeLessThanOrEqual(10);
    expect(camera.puts).toEqual([]);
    expect(measured).toEqual([m]);
    expect(sut.status().clock).toEqual({ offsetMs: m.offsetMs, boundMs: m.boundMs, checkedAt: m.at, ageMs: 0, drift: null, errorNowMs: Math.abs(m.offsetMs!) + m.boundMs!, driftMeasured: false });
  });

  it('is uncertain on a link too slow to know the phase better than ±200 ms, claims no number', async () => {
    const camera = new FakeCamera(time, { errorMs: 1234, oneWayMs: 300 });
    const sut = await connected(camera);
    const m = (await sut.measure())!;
    expect(m).toMatchObject({ offsetMs: null, boundMs: null, uncertain: true, reason: expect.stringMatching(/known only to ±\d+ ms, round trips of about 600 ms/) });
    expect(sut.status().clock).toBeUndefined();
  });

  it('finds a camera whose clock was set elsewhere since its last measurement (the guess of where to look is wrong)', async () => {
    const camera = new FakeCamera(time, { errorMs: 250, oneWayMs: 3 });
    const sut = await connected(camera);
    await sut.measure();
    for (const jump of [430, -2210, 7]) {
      camera.setErrorMs(camera.errorMs() + jump);
      const m = (await sut.measure())!;
      expect(m.uncertain).toBe(false);
      expect(Math.abs(m.offsetMs! - camera.errorMs())).toBeLessThanOrEqual(m.boundMs!);
    }
  });

  it('is uncertain when the camera clock moves once its phase is known (contradicting answers)', async () => {
    const camera = new FakeCamera(time, { errorMs: 250, oneWayMs: 5 });
    const sut = await connected(camera);
    void time.sleep(1500).then(() => camera.setErrorMs(camera.errorMs() + 430));
    const m = (await sut.measure())!;
    expect(m).toMatchObject({ offsetMs: null, boundMs: null, uncertain: true, reason: expect.stringContaining('contradict') });
  });

  it('follows a camera clock that moved early in the measurement: what it claims holds for the clock as it is', async () => {
    const camera = new FakeCamera(time, { errorMs: 250, oneWayMs: 5 });
    const sut = await connected(camera);
    void time.sleep(100).then(() => camera.setErrorMs(camera.errorMs() + 430));
    const m = (await sut.measure())!;
    if (!m.uncertain) expect(Math.abs(m.offsetMs! - camera.errorMs())).toBeLessThanOrEqual(m.boundMs!);
  });

  it('is uncertain when the Pi clock is stepped during the measurement', async () => {
    const camera = new FakeCamera(time, { errorMs: 250, oneWayMs: 5 });
    const sut = await connected(camera);
    void time.sleep(400).then(() => time.clock.step(time.clock.now() + 40));
    const m = (await sut.measure())!;
    expect(m).toMatchObject({ uncertain: true, reason: expect.stringMatching(/contradict|stepped/) });
    expect(Math.abs(camera.errorMs())).toBeGreaterThan(0);
  });

  it('throws CAMERA_BUSY while the camera answers 503, and NO_CAMERA when it is not connected', async () => {
    const camera = new FakeCamera(time);
    const sut = new CameraSession({ url: 'http://10.0.0.2:8080' }, camera.client(), time.clock, time.waiter, owner);
    await expect(sut.measure()).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA });
    await sut.check();
    camera.fail({ name: 'functions/datetime', error: cameraErrors.busy });
    await expect(sut.measure()).rejects.toMatchObject({ code: ErrorCode.CAMERA_BUSY });
    expect(measured).toEqual([]);
  });

  it('a periodic check is cancelled by a sync: it records nothing, and the sync runs', async () => {
    const camera = new FakeCamera(time, { errorMs: 3000, oneWayMs: 5 });
    const sut = await connected(camera);
    const check = sut.measure('check');
    await time.sleep(300);
    const sync = sut.sync('test', 'UTC', new SharedSecondBoundary(() => time.clock.now(), 1), { thresholdMs: 100 });
    await expect(check).resolves.toBeNull();
    await expect(sync).resolves.toMatchObject({ success: true, written: true, verified: true });
    expect(measured.map((m) => m.kind)).toEqual(['before-write', 'after-write']);
  });

  describe('drift', () => {
    it('a camera at +20 ppm, checked every 10 minutes: the estimate is within 30 % after a few checks, its bound holds every time', async () => {
      const rng: Rng = mulberry32(20);
      const camera = new FakeCamera(time, { errorMs: 812.4, driftPpm: 20, latency: () => (5 + rng() * 20) / 2 });
      const sut = await connected(camera);
      const seen: Array<{ checks: number; ppm: number; boundPpm: number }> = [];
      for (let checks = 1; checks <= 12; checks++) {
        await sut.measure('check');
        const drift = sut.status().clock!.drift;
        if (drift) {
          seen.push({ checks, ppm: drift.ppm, boundPpm: drift.boundPpm });
          expect(Math.abs(drift.ppm - 20)).toBeLessThanOrEqual(drift.boundPpm + 0.01);
          expect(drift.sPerDay).toBeCloseTo(drift.ppm * 0.0864, 2);
        }
        await time.sleep(600_000);
      }
      expect(seen.map((s) => s.checks)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      for (const s of seen.filter((x) => x.checks >= 6)) expect(Math.abs(s.ppm - 20)).toBeLessThanOrEqual(6);
      expect(seen.at(-1)!.boundPpm).toBeLessThan(seen[1].boundPpm);
      // The error now grows with the time since the check, at the measured rate.
      const clock = sut.status().clock!;
      expect(clock.driftMeasured).toBe(true);
      expect(clock.ageMs).toBe(600_000);
      expect(Math.abs(camera.errorMs())).toBeLessThanOrEqual(clock.errorNowMs);
    });

    it('starts again after a write', async () => {
      const camera = new FakeCamera(time, { errorMs: 5000, driftPpm: 20, oneWayMs: 5 });
      const sut = await connected(camera);
      for (let i = 0; i < 3; i++) {
        await sut.measure('check');
        await time.sleep(600_000);
      }
      expect(sut.status().clock!.drift!.samples).toBe(3);
      await sut.sync('test', 'UTC', new SharedSecondBoundary(() => time.clock.now(), 1), { thresholdMs: 100 });
      expect(sut.status().clock).toMatchObject({ drift: null, driftMeasured: false });
    });

    it('follows a step of the Pi clock since the last check in the error now', async () => {
      const camera = new FakeCamera(time, { errorMs: 30, oneWayMs: 5 });
      const sut = await connected(camera);
      const m = (await sut.measure())!;
      time.clock.step(time.clock.now() + 2000);
      const clock = sut.status().clock!;
      expect(clock.offsetMs).toBe(m.offsetMs);
      expect(clock.errorNowMs).toBeGreaterThanOrEqual(Math.abs(camera.errorMs()));
      expect(clock.errorNowMs).toBeLessThan(Math.abs(camera.errorMs()) + 2 * m.boundMs!);
    });
  });

  describe('sync with a threshold: measure first, write only beyond it', () => {
    const sync = (sut: CameraSession, thresholdMs: number) => sut.sync('test', 'UTC', new SharedSecondBoundary(() => time.clock.now(), 1), { thresholdMs });

    it('leaves a camera within the threshold unwritten, and says so with its measurement', async () => {
      const camera = new FakeCamera(time, { errorMs: 40, oneWayMs: 5, zoneMinutes: 0 });
      const sut = await connected(camera);
      const result = (await sync(sut, 100)) as CameraSyncKept;
      expect(camera.puts).toEqual([]);
      expect(camera.requests.filter((r) => r.method === 'PUT')).toEqual([]);
      expect(result).toEqual({
        cameraId: '083021000123',
        success: true,
        written: false,
        outcome: 'measured-kept',
        reason: 'test',
        previousTime: expect.any(String),
        offset: -result.residualMs,
        offsetBoundMs: result.residualBoundMs,
        residualMs: expect.any(Number),
        residualBoundMs: expect.any(Number),
        verified: true,
        thresholdMs: 100,
        measurement: expect.objectContaining({ kind: 'before-write', uncertain: false }),
      });
      expect(Math.abs(result.residualMs - 40)).toBeLessThanOrEqual(result.residualBoundMs);
      expect(Math.abs(result.residualMs) + result.residualBoundMs).toBeLessThanOrEqual(100);
      expect(sut.status().lastSync).toMatchObject({ success: true, written: false, verified: true, residualMs: result.residualMs });
    });

    it.each([
      ['beyond it', 300],
      ['too close to it to prove it within', 97],
      ['behind by more than it', -2500],
    ])('writes and verifies a camera %s', async (_what, errorMs) => {
      const camera = new FakeCamera(time, { errorMs, oneWayMs: 5 });
      const sut = await connected(camera);
      const result = (await sync(sut, 100)) as CameraSyncResult;
      expect(camera.puts).toHaveLength(1);
      expect(result).toMatchObject({ success: true, written: true, verified: true });
      expect(Math.abs(result.offset + errorMs)).toBeLessThanOrEqual(result.offsetBoundMs);
      expect(Math.abs(result.residualMs! - camera.errorMs())).toBeLessThanOrEqual(result.residualBoundMs!);
      expect(camera.errorMs()).toBe(0);
    });

    it('threshold 0 writes always, even a camera already exact', async () => {
      const camera = new FakeCamera(time, { errorMs: 0, oneWayMs: 5, zoneMinutes: 0 });
      const sut = await connected(camera);
      await expect(sync(sut, 0)).resolves.toMatchObject({ success: true, written: true });
      expect(camera.puts).toHaveLength(1);
    });

    it("writes a camera within the threshold whose zone setting is not the Pi's", async () => {
      const camera = new FakeCamera(time, { errorMs: 20, oneWayMs: 5, zoneMinutes: 60 });
      const sut = await connected(camera);
      await expect(sync(sut, 100)).resolves.toMatchObject({ success: true, written: true, verified: true });
      expect(camera.puts).toEqual([expect.objectContaining({ body: expect.objectContaining({ datetime: expect.stringMatching(/\+0000$/), dst: false }) })]);
      expect(camera.zoneMinutes).toBe(0);
    });

    it('writes when the measurement is uncertain (the camera cannot be shown to be within)', async () => {
      const camera = new FakeCamera(time, { errorMs: 20, oneWayMs: 300, zoneMinutes: 0 });
      const sut = await connected(camera);
      await expect(sync(sut, 100)).resolves.toMatchObject({ success: true, written: true });
      expect(camera.puts).toHaveLength(1);
    });

    it('measures before and after each write, and hands the write with both to whoever journals it', async () => {
      const writes: unknown[] = [];
      const camera = new FakeCamera(time, { errorMs: 1500, oneWayMs: 5 });
      const session = new CameraSession({ url: 'http://10.0.0.2:8080' }, camera.client(), time.clock, time.waiter, { ...owner, wrote: (_s, w) => writes.push(w) });
      await session.check();
      const result = (await sync(session, 100)) as CameraSyncResult;
      expect(measured.map((m) => m.kind)).toEqual(['before-write', 'after-write']);
      const [before, after] = measured;
      expect(Math.abs(before.offsetMs! - 1500)).toBeLessThanOrEqual(before.boundMs!);
      expect(writes).toEqual([
        {
          cameraId: '083021000123',
          at: result.newTime,
          atMono: expect.any(Number),
          newTime: result.newTime,
          datetime: result.datetime,
          dst: false,
          timezone: 'UTC',
          reason: 'test',
          beforeOffsetMs: before.offsetMs,
          beforeBoundMs: before.boundMs,
          afterOffsetMs: after.offsetMs,
          afterBoundMs: after.boundMs,
          verified: true,
        },
      ]);
      expect(after.offsetMs).toBe(result.residualMs);
    });
  });

  describe('write timing follows the link of now', () => {
    /**
     * The link changes right when the sync takes its fresh round trips before the write. Found by running the
     * same (deterministic) sync once unchanged: the fresh reads are the back-to-back GETs right before the PUT.
     */
    async function syncWithChangeBeforeWrite(before: (rng: () => number) => number, after: number): Promise<FakeCamera> {
      const run = async (switchAt: number) => {
        time = new SimulatedTime();
        const rng = mulberry32(11);
        const camera = new FakeCamera(time, { errorMs: 37_250, zoneMinutes: 0 });
        const sut = await connected(camera);
        camera.latency = () => (time.clock.now() >= switchAt ? after : before(rng));
        await sut.sync('test', 'UTC', new SharedSecondBoundary(() => time.clock.now(), 1), { thresholdMs: 100 });
        return camera;
      };
      const unchanged = await run(Infinity);
      const gets = unchanged.requests.filter((r) => r.name === 'functions/datetime');
      let first = gets.findIndex((r) => r.method === 'PUT') - 1;
      while (first > 0 && gets[first].atMs - gets[first - 1].atMs <= 2 * 125 + 2) first -= 1;
      return run(gets[first].atMs - 1);
    }

    it('the round trip goes from 15 to 120 ms right before the write: the PUT still lands on the boundary', async () => {
      const camera = await syncWithChangeBeforeWrite(() => 7.5, 60);
      expect(camera.puts).toHaveLength(1);
      expect(camera.puts[0].atMs % 1000).toBe(0);
      expect(camera.errorMs()).toBe(0);
    });

    it('40-250 ms jitter calms back to 15 ms right before the write: the PUT is not early', async () => {
      const camera = await syncWithChangeBeforeWrite((rng) => 20 + rng() * 105, 7.5);
      expect(camera.puts).toHaveLength(1);
      expect(camera.puts[0].atMs % 1000).toBe(0);
    });
  });
});
