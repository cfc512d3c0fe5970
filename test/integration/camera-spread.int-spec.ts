import { CameraSyncResult } from '../../backend/camera/camera-report';
import { CameraWrittenEvent } from '../../backend/common/event-bus';
import { CameraSim, startCameraSims } from '../camera-sim/sim';
import { parseSimDateTime } from '../camera-sim/camera-clock';
import { cameraConfig, newService, ServiceHarness } from './camera-harness';

jest.setTimeout(30_000);

const [A, B] = ['083021000123', '083021000124'];
const LATE_MS = 60;

/** The PUTs the simulator took, in order: when it handled each and the second it was given. */
function putsOf(sim: CameraSim) {
  return sim.requests
    .filter((r) => r.method === 'PUT' && r.path.endsWith('functions/datetime') && r.status === 200)
    .map((r) => ({ handledAtMs: r.handledAtMs, secondUtcMs: parseSimDateTime(r.body)!.secondUtcMs }));
}

describe('CAMERA_SPREAD_GOAL_MS: a camera whose PUT arrived late is written again (simulators on real sockets)', () => {
  let sims: CameraSim[];
  let h: ServiceHarness;
  let writes: CameraWrittenEvent[];

  async function syncWithLatePut(goalMs: number): Promise<CameraSyncResult[]> {
    sims = await startCameraSims(2, { httpsPort: false, latencyMs: 8 }, (i) => ({ clockOffsetMs: i ? -41_300 : 12_700 }));
    h = newService(cameraConfig({ CAMERA_URL: sims.map((s) => s.httpUrl).join(','), CAMERA_SPREAD_GOAL_MS: goalMs }), { zone: 'Europe/Berlin' });
    await h.service.check();
    // B's first PUT reaches it LATE_MS after it was timed to: one slow request.
    sims[1].setFault({ kind: 'late', ms: LATE_MS }, { method: 'PUT', path: 'functions/datetime', times: 1 });
    const outcomes = (await h.service.syncAll('test')) as CameraSyncResult[];
    writes = h.named('camera-written');
    return outcomes;
  }

  afterEach(async () => {
    h?.close();
    await Promise.all((sims ?? []).map((sim) => sim.close()));
  });

  it('lands beyond the goal, the second write brings it within; both writes published and logged', async () => {
    const outcomes = await syncWithLatePut(20);
    const truth = sims.map((sim) => sim.clock.errorMs());

    expect(outcomes.map((o) => [o.cameraId, o.outcome, o.verified])).toEqual([
      [A, 'written-verified', true],
      [B, 'written-verified', true],
    ]);
    // A was on time: one PUT. B: two, the second on a later boundary than the shared one.
    const [putsA, putsB] = sims.map(putsOf);
    expect(putsA).toHaveLength(1);
    expect(putsB).toHaveLength(2);
    expect(putsB[0].secondUtcMs).toBe(putsA[0].secondUtcMs);
    expect(putsB[0].handledAtMs - putsB[0].secondUtcMs).toBeGreaterThanOrEqual(LATE_MS - 15);
    expect(putsB[1].secondUtcMs).toBeGreaterThan(putsB[0].secondUtcMs);
    expect(outcomes[0].rewrites).toBeUndefined();

    // The re-write's record: what the late PUT left (about LATE_MS behind: camera minus Pi negative) and what the second left.
    const [rewrite] = outcomes[1].rewrites!;
    expect(outcomes[1].rewrites).toHaveLength(1);
    expect(Math.abs(rewrite.residualBeforeMs + LATE_MS)).toBeLessThanOrEqual(rewrite.residualBeforeBoundMs + 10);
    expect(Math.abs(rewrite.residualAfterMs!)).toBeLessThanOrEqual(20);
    expect(rewrite.residualAfterMs).toBe(outcomes[1].residualMs);
    expect(outcomes[1].newTime).toBe(new Date(putsB[1].secondUtcMs).toISOString());
    // The truth, from the simulators: both within the goal now, each residual within its bound of it.
    truth.forEach((t) => expect(Math.abs(t)).toBeLessThanOrEqual(20));
    outcomes.forEach((o, i) => expect(Math.abs(o.residualMs! - truth[i])).toBeLessThanOrEqual(o.residualBoundMs! + 3));
    // The old error is the one before the first write, not the late one.
    expect(Math.abs(-outcomes[1].offset + 41_300)).toBeLessThanOrEqual(500 + outcomes[1].offsetBoundMs);

    // The camera-written facts: every real write, each with its residual; B's re-write starts from the late write's residual.
    expect(writes.map((w) => [w.cameraId, w.verified])).toEqual(expect.arrayContaining([[A, true], [B, true], [B, true]]));
    const ofB = writes.filter((w) => w.cameraId === B);
    expect(ofB).toHaveLength(2);
    expect(writes).toHaveLength(3);
    expect(ofB.map((w) => w.newTime)).toEqual(putsB.map((p) => new Date(p.secondUtcMs).toISOString()));
    expect(ofB[0].afterOffsetMs).toBe(rewrite.residualBeforeMs);
    expect(ofB[1].beforeOffsetMs).toBe(rewrite.residualBeforeMs);
    expect(ofB[1].afterOffsetMs).toBe(rewrite.residualAfterMs);

    // The activity log: one line for the re-write with the residual before and after, then B's outcome line.
    const lines = h.activity.entries().map((e) => e.message);
    const again = lines.filter((l) => l.includes('written again'));
    expect(again).toEqual([
      `Camera ${B} clock written again (1 of at most 2, spread goal 20 ms): it was ${rewrite.residualBeforeMs} ms (±${rewrite.residualBeforeBoundMs} ms) off the Pi's, now ${rewrite.residualAfterMs! > 0 ? '+' : ''}${rewrite.residualAfterMs} ms (±${rewrite.residualAfterBoundMs} ms)`,
    ]);
    const entry = h.activity.entries().find((e) => e.message.includes('written again'))!;
    expect(entry.details).toMatchObject({ cameraId: B, rewrite: 1, goalMs: 20, residualBeforeMs: rewrite.residualBeforeMs, residualAfterMs: rewrite.residualAfterMs });
    expect(lines.filter((l) => l.startsWith(`Camera ${B} clock`) && !l.includes('written again'))).toHaveLength(1);
  });

  it('with CAMERA_SPREAD_GOAL_MS=0 the late camera is left where the one PUT put it', async () => {
    const outcomes = await syncWithLatePut(0);
    const [putsA, putsB] = sims.map(putsOf);
    expect(putsA).toHaveLength(1);
    expect(putsB).toHaveLength(1);
    expect(outcomes[1].rewrites).toBeUndefined();
    expect(outcomes[1].verified).toBe(true);
    expect(sims[1].clock.errorMs()).toBeLessThanOrEqual(-(LATE_MS - 15));
    expect(writes).toHaveLength(2);
    expect(h.activity.entries().some((e) => e.message.includes('written again'))).toBe(false);
  });
});
