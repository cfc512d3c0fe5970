/**
 * Sync benchmark: every estimator on the five simulated networks of clock-sync-notes.md, for each kind of
 * client timestamp, then the goals, judged on what this run measured. Deterministic (seeded).
 *
 *   npm run bench:sync                      # 3000 trials per profile and stamp model
 *   SYNC_BENCH_TRIALS=2000 npm run bench:sync
 *
 * `main()` is also called by `npm run bench`. Progress goes to stderr, the tables to stdout.
 */
import { ESTIMATORS, PROFILES, STAMP_MODELS, runProfile, type EstimatorStats, type ProfileId, type StampModel } from './sync-sim';

export interface SyncBenchOptions {
  /** Trials per profile and stamp model (default: SYNC_BENCH_TRIALS or 3000; at least 2000 for the goals). */
  trials?: number;
  seed?: number;
  /** Where the tables go (default stdout). */
  print?: (line: string) => void;
  /** Where progress goes (default stderr). */
  progress?: (line: string) => void;
}

export interface SyncGoal {
  goal: string;
  met: boolean;
  measured: string;
}

export interface SyncBenchReport {
  trials: number;
  stats: EstimatorStats[];
  goals: SyncGoal[];
  allMet: boolean;
}

const DEFAULT_TRIALS = 3000;
const GOAL_PROFILES: ProfileId[] = ['A', 'B', 'C', 'D'];

/** The notes' p95 figures (1 ms stamps, 3000 seeds), to check that this simulation reproduces their baselines. */
const NOTES_P95: Record<string, [string, Record<ProfileId, number>]> = {
  naive: ['naive', { A: 2.9, B: 2.9, C: 5.4, D: 11.4, E: 1.7 }],
  rtt1: ['one exchange, RTT/2', { A: 0.7, B: 97.6, C: 20.5, D: 100.7, E: 3.5 }],
  timesync: ['npm timesync, 5 x 1 s', { A: 0.37, B: 69.0, C: 3.7, D: 73.8, E: 3.3 }],
  low8x1s: ['lowest delay of 8 x 1 s', { A: 0.48, B: 15.8, C: 0.66, D: 26.0, E: 3.4 }],
  low8x30: ['lowest delay of 8 x 30 ms', { A: 0.48, B: 0.51, C: 0.66, D: 0.81, E: 3.4 }],
  cluster: ['32 x ~30 ms, cluster median', { A: 0.31, B: 0.31, C: 0.36, D: 0.39, E: 3.2 }],
};

const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '-');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '-');
const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(a / b >= 10 ? 0 : 1)}x` : '-');

function table(rows: string[][], rightAligned: (col: number) => boolean): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (rightAligned(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
}

function trialsFromEnvironment(): number {
  const fromArg = process.argv.find((a) => a.startsWith('--trials='))?.slice('--trials='.length);
  const value = Number(fromArg ?? process.env.SYNC_BENCH_TRIALS ?? DEFAULT_TRIALS);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_TRIALS;
}

export function main(options: SyncBenchOptions = {}): SyncBenchReport {
  const trials = options.trials ?? trialsFromEnvironment();
  const seed = options.seed ?? 1;
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = performance.now();

  const stats: EstimatorStats[] = [];
  const find = (estimator: string, profile: ProfileId, stamps: string) =>
    stats.find((s) => s.estimator === estimator && s.profile === profile && s.stamps === stamps)!;

  print(`# Sync benchmark: ${trials} trials per profile and client stamp model, seed ${seed}`);
  print('');
  print('Profiles (clock-sync-notes.md, details in test/bench/sync-sim.ts):');
  for (const p of PROFILES) print(`  ${p.id}  ${p.name}`);
  print('Estimators:');
  for (const e of ESTIMATORS) print(`  ${e.short.padEnd(18)} ${e.label}`);
  print('');
  print('|error| = |estimated - true client offset| in ms. Bound: OURS reports its own; the others are judged');
  print('against the delay/2 they imply. Cover = share of trials whose true error is within the bound.');
  print('Sent = probes sent, used = answers the estimate used; converge = first probe to estimate, ms.');

  STAMP_MODELS.forEach((model, m) => {
    for (const profile of PROFILES) {
      progress(`[sync bench] stamps ${model.id} (${m + 1}/${STAMP_MODELS.length}), profile ${profile.id}: ${trials} trials ... ${((performance.now() - started) / 1000).toFixed(1)} s`);
      stats.push(...runProfile(profile, model, { trials, seed }));
    }
    printModel(model);
  });

  function printModel(model: StampModel): void {
    print('');
    print(`## Client stamps: ${model.label}`);
    print('');
    const rows = [['estimator', 'prof', 'p50', 'p95', 'p99', 'max', 'bound', 'cover', 'sent', 'used', 'conv p50', 'conv max', 'failed']];
    for (const e of ESTIMATORS) {
      for (const p of PROFILES) {
        const s = find(e.id, p.id, model.id);
        rows.push([
          e.short,
          p.id,
          ms(s.p50),
          ms(s.p95),
          ms(s.p99),
          ms(s.max),
          e.ownBound ? 'own' : 'd/2',
          pct(s.coverage),
          s.probesSent.toFixed(0),
          s.answersUsed.toFixed(1),
          s.convergeP50.toFixed(0),
          s.convergeMax.toFixed(0),
          pct(s.failures / s.trials),
        ]);
      }
    }
    table(rows, (c) => c >= 2).forEach((l) => print(l));
    print('');
    const ratios = [['ratio vs OURS', ...PROFILES.flatMap((p) => [`${p.id} p95`, `${p.id} max`])]];
    for (const e of ESTIMATORS) {
      if (e.id === 'ours') continue;
      ratios.push([
        `${e.short}/ours`,
        ...PROFILES.flatMap((p) => {
          const base = find(e.id, p.id, model.id);
          const ours = find('ours', p.id, model.id);
          return [ratio(base.p95, ours.p95), ratio(base.max, ours.max)];
        }),
      ]);
    }
    table(ratios, (c) => c >= 1).forEach((l) => print(l));
  }

  // ---- the simulation against the notes' own figures ----
  print('');
  print("## p95 |error| at 1 ms stamps: this run (the notes' table)");
  print('');
  const notesRows = [['estimator', ...PROFILES.map((p) => p.id)]];
  for (const [id, [label, notes]] of Object.entries(NOTES_P95)) {
    notesRows.push([label, ...PROFILES.map((p) => `${ms(find(id, p.id, '1').p95)} (${notes[p.id]})`)]);
  }
  notesRows.push(['OURS', ...PROFILES.map((p) => ms(find('ours', p.id, '1').p95))]);
  table(notesRows, (c) => c >= 1).forEach((l) => print(l));

  // ---- goals ----
  const goals: SyncGoal[] = [];
  const ours = (profile: ProfileId, stamps: string) => find('ours', profile, stamps);
  const perProfile = (stamps: string, pick: (s: EstimatorStats) => number, format = ms) =>
    GOAL_PROFILES.map((p) => `${p} ${format(pick(ours(p, stamps)))}`).join(', ');
  goals.push({
    goal: 'OURS p95 <= 1 ms on A-D, 1 ms stamps',
    met: GOAL_PROFILES.every((p) => ours(p, '1').p95 <= 1),
    measured: perProfile('1', (s) => s.p95),
  });
  goals.push({
    goal: 'OURS max <= 2 ms on A-D, 1 ms stamps',
    met: GOAL_PROFILES.every((p) => ours(p, '1').max <= 2),
    measured: perProfile('1', (s) => s.max),
  });
  goals.push({
    goal: 'OURS p95 <= 3 ms on A-D, 16.67 ms stamps',
    met: GOAL_PROFILES.every((p) => ours(p, '16.67').p95 <= 3),
    measured: perProfile('16.67', (s) => s.p95),
  });
  goals.push({
    goal: 'OURS bound coverage >= 99 % on E, every stamp model',
    met: STAMP_MODELS.every((m) => ours('E', m.id).coverage >= 0.99),
    measured: STAMP_MODELS.map((m) => `${m.id} ms ${pct(ours('E', m.id).coverage)}`).join(', '),
  });
  const worstConverge = Math.max(...stats.filter((s) => s.estimator === 'ours').map((s) => s.convergeMax));
  goals.push({
    goal: 'OURS time to converge <= 1 s (worst trial of all)',
    met: worstConverge <= 1000,
    measured: `${worstConverge.toFixed(0)} ms`,
  });
  goals.push({
    goal: 'at least 2000 trials per profile and stamp model',
    met: trials >= 2000,
    measured: `${trials}`,
  });

  print('');
  print('## Goals (measured in this run)');
  print('');
  for (const g of goals) print(`[${g.met ? 'met' : 'MISSED'}] ${g.goal}: ${g.measured}`);
  print('');
  print('For information (no goal):');
  print(`  OURS p95 on A-D, 16.67 ms stamps with Firefox timer jitter: ${perProfile('16.67j', (s) => s.p95)}`);
  print(`  OURS p95 on A-D, 100 ms stamps: ${perProfile('100', (s) => s.p95)}`);
  const oursRuns = stats.filter((s) => s.estimator === 'ours');
  const failures = oursRuns.reduce((a, s) => a + s.failures, 0);
  print(`  OURS bursts discarded or without estimate: ${failures} of ${oursRuns.length * trials}`);
  print(`  OURS lowest bound coverage anywhere: ${pct(Math.min(...oursRuns.map((s) => s.coverage)))}`);
  progress(`[sync bench] done in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const allMet = goals.every((g) => g.met);
  return { trials, stats, goals, allMet };
}

if (require.main === module) {
  const report = main();
  if (!report.allMet) process.exitCode = 1;
}
