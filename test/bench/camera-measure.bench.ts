/**
 * `npm run bench:camera` (second part): the read-only measurement of a camera's clock, drift, and the writes that
 * measuring first avoids. Every figure is measured in this run against the simulators' own truth.
 *   1. Measurement error and bound coverage per latency profile, on real sockets (test/camera-sim, several
 *      simulators at once, each run a fresh random clock error), without and with CPU load (a worker thread
 *      spinning on every core).
 *   2. Drift estimate error after 3, 6 and 12 checks ten minutes apart: fake-ccapi cameras on simulated time
 *      (random rates of ±20 ppm, 5-25 ms round trips with jitter), many seeds.
 *   3. Writes avoided: a simulated day of syncs every ten minutes (what writing blind on every trigger does) for
 *      cameras drifting at 0-20 ppm, CAMERA_SYNC_THRESHOLD 100 ms: how many times each camera was written.
 */
import { Logger } from '@nestjs/common';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CameraSyncReport } from '../../backend/camera/camera-report';
import { CameraSession } from '../../backend/camera/camera-session';
import { CameraService } from '../../backend/camera/camera.service';
import { SharedSecondBoundary } from '../../backend/camera/sync-timing';
import { mulberry32 } from '../../backend/common/prng';
import { cameraConfig, newService } from '../integration/camera-harness';
import { FakeCamera, SimulatedTime } from '../camera-sim/fake-ccapi';
import { CameraSim, startCameraSims } from '../camera-sim/sim';
import { quantile, table, runWhenMain } from './report';

const PROFILES: Array<{ name: string; lo: number; hi: number }> = [
  { name: '5 ms', lo: 4, hi: 6 },
  { name: '5-25 ms', lo: 5, hi: 25 },
  { name: '20-80 ms', lo: 20, hi: 80 },
  { name: '50-150 ms', lo: 50, hi: 150 },
  { name: '150-250 ms', lo: 150, hi: 250 },
];



const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)} %` : '-');

/** A worker thread spinning on every core, until `stop()`. */
function loadEveryCore(): { stop: () => Promise<void> } {
  const workers = os.cpus().map(() => new Worker('for (;;) {}', { eval: true }));
  return { stop: async () => void (await Promise.all(workers.map((w) => w.terminate()))) };
}

interface MeasureRun {
  certain: boolean;
  errorMs: number | null;
  boundMs: number | null;
  durationMs: number;
  samples: number;
}

/** `runs` read-only measurements per profile on `parallel` simulators on real sockets. */
async function measureOnSockets(profile: { lo: number; hi: number }, runs: number, parallel: number): Promise<MeasureRun[]> {
  const sims: CameraSim[] = await startCameraSims(parallel, { httpsPort: false, latencyMs: () => profile.lo + Math.random() * (profile.hi - profile.lo) });
  const harnesses = sims.map((sim) => newService(cameraConfig({ CAMERA_URL: sim.httpUrl, CAMERA_TIMEOUT: 5000, CAMERA_CHECK_INTERVAL: 0 })));
  const results: MeasureRun[] = [];
  try {
    await Promise.all(harnesses.map((h) => h.service.check()));
    await Promise.all(
      harnesses.map(async (h, i) => {
        const service: CameraService = h.service;
        const id = service.status().id;
        for (let run = i; run < runs; run += parallel) {
          sims[i].clock.setError((Math.random() - 0.5) * 20_000);
          const started = performance.now();
          try {
            const m = await service.measure(id);
            const truth = sims[i].clock.errorMs();
            results.push({ certain: !m.uncertain, errorMs: m.uncertain ? null : m.offsetMs! - truth, boundMs: m.boundMs, durationMs: performance.now() - started, samples: m.samples });
          } catch {
            results.push({ certain: false, errorMs: null, boundMs: null, durationMs: performance.now() - started, samples: 0 });
          }
        }
      }),
    );
  } finally {
    for (const h of harnesses) h.close();
    await Promise.all(sims.map((sim) => sim.close()));
  }
  return results;
}

export async function measurementSection(options: { runs?: number; parallel?: number } = {}): Promise<void> {
  const runs = options.runs ?? 24;
  const parallel = options.parallel ?? 4;
  Logger.overrideLogger(false);
  const rows: string[][] = [
    ['round trip', 'CPU load', 'runs', 'with a bound', 'truth within bound', 'wrong with a bound', '|err| median', '|err| p95', '|err| max', 'bound median', 'bound max', 'time median (s)', 'requests median'],
  ];
  const started = Date.now();
  for (const loaded of [false, true]) {
    for (const profile of PROFILES) {
      const load = loaded ? loadEveryCore() : null;
      let results: MeasureRun[];
      try {
        results = await measureOnSockets(profile, runs, parallel);
      } finally {
        await load?.stop();
      }
      const certain = results.filter((r) => r.certain);
      const errors = certain.map((r) => Math.abs(r.errorMs!));
      const bounds = certain.map((r) => r.boundMs!);
      const wrong = certain.filter((r) => Math.abs(r.errorMs!) > r.boundMs!).length;
      rows.push([
        profile.name,
        loaded ? `${os.cpus().length} spinning` : 'none',
        String(results.length),
        pct(certain.length, results.length),
        pct(certain.length - wrong, results.length),
        String(wrong),
        f1(quantile(errors, 0.5)),
        f1(quantile(errors, 0.95)),
        f1(Math.max(...errors)),
        f1(quantile(bounds, 0.5)),
        f1(Math.max(...bounds)),
        (quantile(results.map((r) => r.durationMs), 0.5) / 1000).toFixed(1),
        String(quantile(results.map((r) => r.samples), 0.5)),
      ]);
    }
  }
  console.log(`\nRead-only measurement of a camera's clock on real sockets (camera-sim, ${parallel} at once, random error each run; "with a bound": not uncertain), ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(table(rows, true));
}

/** A connected CameraSession on a fake camera on simulated time. */
async function fakeSession(time: SimulatedTime, camera: FakeCamera): Promise<CameraSession> {
  const session = new CameraSession({ url: 'http://10.0.0.2:8080' }, camera.client(), time.clock, time.waiter, { changed: () => undefined, holderOf: () => null });
  await session.check();
  return session;
}

export async function driftSection(options: { seeds?: number } = {}): Promise<void> {
  const seeds = options.seeds ?? 200;
  const at = [3, 6, 12];
  const abs: Record<number, number[]> = { 3: [], 6: [], 12: [] };
  const rel: Record<number, number[]> = { 3: [], 6: [], 12: [] };
  const bounds: Record<number, number[]> = { 3: [], 6: [], 12: [] };
  const covered: Record<number, number> = { 3: 0, 6: 0, 12: 0 };
  const started = Date.now();
  for (let seed = 1; seed <= seeds; seed++) {
    const rng = mulberry32(seed * 7741);
    const time = new SimulatedTime();
    const ppm = seed % 4 === 0 ? 20 : (rng() - 0.5) * 40;
    const camera = new FakeCamera(time, { errorMs: (rng() - 0.5) * 10_000, driftPpm: ppm, latency: () => (5 + rng() * 20) / 2 });
    const session = await fakeSession(time, camera);
    for (let checks = 1; checks <= 12; checks++) {
      await session.measure('check');
      const d = session.driftEstimate();
      if (at.includes(checks) && d) {
        abs[checks].push(Math.abs(d.ppm - ppm));
        if (Math.abs(ppm) >= 5) rel[checks].push(Math.abs(d.ppm - ppm) / Math.abs(ppm));
        bounds[checks].push(d.boundPpm);
        if (Math.abs(d.ppm - ppm) <= d.boundPpm) covered[checks] += 1;
      }
      await time.sleep(600_000);
    }
  }
  console.log(`\nDrift estimate after N read-only checks 10 min apart (fake-ccapi on simulated time, ${seeds} cameras at -20..+20 ppm, 5-25 ms round trips), ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(
    table([
      ['checks', 'estimates', '|error| median (ppm)', '|error| p95 (ppm)', 'relative error median (|rate| >= 5 ppm)', 'relative p95', 'bound median (ppm)', 'truth within bound'],
      ...at.map((n) => [
        String(n),
        String(abs[n].length),
        abs[n].length ? quantile(abs[n], 0.5).toFixed(2) : '-',
        abs[n].length ? quantile(abs[n], 0.95).toFixed(2) : '-',
        rel[n].length ? `${(100 * quantile(rel[n], 0.5)).toFixed(1)} %` : '-',
        rel[n].length ? `${(100 * quantile(rel[n], 0.95)).toFixed(1)} %` : '-',
        bounds[n].length ? quantile(bounds[n], 0.5).toFixed(2) : '-',
        pct(covered[n], abs[n].length),
      ]),
    ], true),
  );
}

export async function writesAvoidedSection(options: { thresholdMs?: number } = {}): Promise<void> {
  const thresholdMs = options.thresholdMs ?? 100;
  const rows: string[][] = [['camera drift', 'syncs in a day (every 10 min)', 'writes, blind', 'writes, measured first', 'avoided', 'max |camera - Pi| before a sync (ms)', 'max |camera - Pi| after a sync (ms)']];
  const started = Date.now();
  for (const ppm of [0, 1.5, 6, 13, 20]) {
    const rng = mulberry32(Math.round(ppm * 100) + 1);
    const time = new SimulatedTime();
    const camera = new FakeCamera(time, { errorMs: 3000, driftPpm: ppm, latency: () => (5 + rng() * 20) / 2 });
    const session = await fakeSession(time, camera);
    const syncs = 144;
    let maxBefore = 0;
    let maxAfter = 0;
    for (let i = 0; i < syncs; i++) {
      if (i > 0) maxBefore = Math.max(maxBefore, Math.abs(camera.errorMs()));
      const report: CameraSyncReport = await session.sync('benchmark', 'UTC', new SharedSecondBoundary(() => time.clock.now(), 1), { thresholdMs });
      if (!report.success) throw new Error(`sync failed: ${report.error}`);
      maxAfter = Math.max(maxAfter, Math.abs(camera.errorMs()));
      await time.sleep(600_000);
    }
    const writes = camera.puts.length;
    rows.push([`${ppm} ppm (${(ppm * 0.0864).toFixed(2)} s/day)`, String(syncs), String(syncs), String(writes), pct(syncs - writes, syncs), f1(maxBefore), f1(maxAfter)]);
  }
  console.log(`\nCamera writes avoided by measuring first: one simulated day, a sync every 10 min, CAMERA_SYNC_THRESHOLD ${thresholdMs} ms (fake-ccapi on simulated time, 5-25 ms round trips; the camera starts 3 s off), ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(table(rows, true));
}

export async function main(options: { runs?: number; seeds?: number } = {}): Promise<void> {
  await measurementSection({ runs: options.runs });
  await driftSection({ seeds: options.seeds });
  await writesAvoidedSection();
}

runWhenMain(module, main);
