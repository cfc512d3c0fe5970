/**
 * `npm run bench:camera`: how close to the Pi's clock a camera sync leaves the camera.
 *
 * Runs at least 50 syncs against simulated cameras whose every request takes 5-80 ms (half on the way in,
 * half on the way out), and compares the camera's true error afterwards (the simulator knows its hidden
 * sub-second phase) for
 *   - ours: CameraService.syncClock, the PUT timed to land on a second boundary;
 *   - naive: PUT the current second right away, as the prior art did.
 * Several simulators run at once to keep the run short.
 */
import { HttpService } from '@nestjs/axios';
import { CameraHttp } from '../../backend/camera/camera-http';
import { Logger } from '@nestjs/common';
import axios from 'axios';
import { ActivityLogService } from '../../backend/activity-log/activity-log.service';
import { CameraService } from '../../backend/camera/camera.service';
import { CcapiClient } from '../../backend/camera/ccapi-client';
import { SsdpDiscovery } from '../../backend/camera/ssdp';
import { Waiter } from '../../backend/camera/waiter';
import { EventBus } from '../../backend/common/event-bus';
import { AppConfig } from '../../backend/config/app.config';
import { SystemClock, SystemClockState } from '../../backend/system-clock/system-clock';
import { formatCameraDateTime } from '../../backend/time/camera-datetime';
import { HostClock } from '../../backend/time/clock';
import { startCameraSim } from '../camera-sim/sim';

const ZONE = 'Europe/Berlin';
const GOAL_MEDIAN_MS = 20;
const GOAL_MAX_MS = 60;

class FixedZone extends SystemClock {
  readonly backend = 'simulated' as const;
  async read(): Promise<SystemClockState> {
    return { epochMs: Date.now(), timezone: ZONE, ntpEnabled: false, ntpSynchronized: false, backend: 'simulated' };
  }
  async setTime(): Promise<void> {}
  async setTimezone(): Promise<void> {}
}

export interface Stats {
  n: number;
  median: number;
  p95: number;
  max: number;
}

export function stats(values: number[]): Stats {
  const sorted = values.map(Math.abs).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { n: sorted.length, median, p95: at(0.95), max: sorted[sorted.length - 1] };
}

export interface CameraBenchResult {
  ours: Stats;
  naive: Stats;
  /** |measured residual - true error| of ours: how well the service knows its own result. */
  measurement: Stats;
  ratio: number;
  goalMet: { median: boolean; max: boolean };
}

export interface CameraBenchOptions {
  instances?: number;
  rounds?: number;
  minLatencyMs?: number;
  maxLatencyMs?: number;
}

/** Prints the table (what `npm run bench` and `npm run bench:camera` call). */
export async function main(options: CameraBenchOptions = {}): Promise<void> {
  await runCameraBench(options);
}

/** Runs the syncs, prints the table and returns the figures. */
export async function runCameraBench(options: CameraBenchOptions = {}): Promise<CameraBenchResult> {
  const instances = options.instances ?? 4;
  const rounds = options.rounds ?? 14;
  const [lo, hi] = [options.minLatencyMs ?? 5, options.maxLatencyMs ?? 80];
  Logger.overrideLogger(false);
  const ours: number[] = [];
  const naive: number[] = [];
  const measurement: number[] = [];
  const started = Date.now();

  await Promise.all(
    Array.from({ length: instances }, async () => {
      const sim = await startCameraSim({ httpsPort: false, latencyMs: () => lo + Math.random() * (hi - lo) });
      const clock = new HostClock();
      const config = Object.assign(new AppConfig(), { CAMERA_URL: sim.httpUrl, CAMERA_TIMEOUT: 5000, CAMERA_DISCOVERY: false });
      const bus = new EventBus();
      const client = new CcapiClient(CameraHttp.of(new HttpService(axios.create())), config, clock);
      const camera = new CameraService(config, client, clock, new FixedZone(), new ActivityLogService(clock, bus), bus, new SsdpDiscovery(), new Waiter(clock));
      try {
        await camera.check();
        if (!camera.isConnected()) throw new Error(`the simulator at ${sim.httpUrl} did not connect`);
        for (let round = 0; round < rounds; round++) {
          sim.clock.setError((Math.random() - 0.5) * 10_000);
          const result = await camera.syncClock('benchmark');
          const truth = sim.clock.errorMs();
          ours.push(truth);
          if (result.residualMs !== null) measurement.push(result.residualMs - truth);

          // The naive way: the current second, sent at once.
          sim.clock.setError((Math.random() - 0.5) * 10_000);
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
          await client.put('functions/datetime', { body: () => formatCameraDateTime(clock.now(), ZONE) });
          naive.push(sim.clock.errorMs());
        }
      } finally {
        camera.stop();
        await sim.close();
      }
    }),
  );

  const result: CameraBenchResult = {
    ours: stats(ours),
    naive: stats(naive),
    measurement: stats(measurement),
    ratio: stats(naive).median / Math.max(stats(ours).median, 0.001),
    goalMet: { median: stats(ours).median <= GOAL_MEDIAN_MS, max: stats(ours).max <= GOAL_MAX_MS },
  };
  const row = (name: string, s: Stats) =>
    `${name.padEnd(34)}${String(s.n).padStart(4)}${s.median.toFixed(1).padStart(9)}${s.p95.toFixed(1).padStart(9)}${s.max.toFixed(1).padStart(9)}`;
  console.log(
    [
      '',
      `Camera clock error right after a sync, |camera - Pi| in ms (request latency ${lo}-${hi} ms, ${instances} simulators, ${((Date.now() - started) / 1000).toFixed(0)} s)`,
      `${'method'.padEnd(34)}${'n'.padStart(4)}${'median'.padStart(9)}${'p95'.padStart(9)}${'max'.padStart(9)}`,
      row('ours (second-aligned PUT)', result.ours),
      row('naive (PUT the current second)', result.naive),
      row('ours: measured residual vs truth', result.measurement),
      `ratio of medians, naive / ours: ${result.ratio.toFixed(0)}x`,
      `goal ours median <= ${GOAL_MEDIAN_MS} ms: ${result.goalMet.median ? 'met' : 'NOT met'}; ours max <= ${GOAL_MAX_MS} ms: ${result.goalMet.max ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
  return result;
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
