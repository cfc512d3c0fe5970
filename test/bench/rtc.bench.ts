/**
 * `npm run bench -- rtc`: the hardware clock as a source.
 *   1. Its bound after 1 h, 1 day, 1 week and 30 days since the clock was last set, at RTC_DRIFT_PPM (default 20)
 *      and at 2 ppm (a DS3231), computed by the adapter's own `judgeRtc`.
 *   2. Measured: the real RtcSource reading a fake sysfs tree (a temporary folder) on the host's clocks. Before
 *      each read the tree's `since_epoch` is written as an RTC would show it, the tree's time being the host's
 *      precise wall time plus a random phase (so every sub-second position is tried without waiting); the reading's
 *      time is then compared with the tree's time at the reading's monotonic anchor.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { AppConfig } from '../../backend/config/app.config';
import { judgeRtc, RtcSource } from '../../backend/sources/rtc/rtc-source';
import { SourceReading, SourceSink } from '../../backend/sources/source-port';
import { SystemClock } from '../../backend/system-clock/system-clock';
import { HostClock } from '../../backend/time/clock';
import { formatDuration } from '../../backend/time/format';
import { BUILD_DATE_MS } from '../../backend/time/validation';
import { quantile, table, runWhenMain } from './report';

const HOUR = 3_600_000;
const DAY = 86_400_000;



const shown = (ms: number) => `±${Math.round(ms)} ms (${formatDuration(ms)})`;

/** The bound `judgeRtc` gives a reading `ageMs` after the clock was set (by a source with no bound of its own). */
function boundAfter(ageMs: number, driftPpm: number): number {
  const at = Date.UTC(2027, 0, 1);
  const judged = judgeRtc({ who: 'rtc0', via: 'sysfs', rtcMs: at - 500, monoBefore: 0, monoAfter: 0 }, { lastSet: { atMs: at - ageMs, source: 'client', errorBoundMs: null, line: 1 } }, BUILD_DATE_MS, driftPpm);
  if (judged.kind !== 'reading') throw new Error(`refused: ${judged.loss.why}`);
  return judged.reading.errorBoundMs;
}

class NoTimedated extends SystemClock {
  readonly backend = 'system' as const;
  read(): never {
    throw new Error('not used');
  }
  setTime(): never {
    throw new Error('not used');
  }
  setTimezone(): never {
    throw new Error('not used');
  }
}

interface Measured {
  errorMs: number[];
  boundMs: number[];
  readMs: number[];
}

/** `runs` reads of a fake tree by the real adapter; the journal's last step a day before. */
async function measureFakeTree(runs: number, driftPpm: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'rtc-bench-'));
  const rtc0 = join(dir, 'rtc0');
  mkdirSync(rtc0);
  const clock = new HostClock();
  const out: Measured = { errorMs: [], boundMs: [], readMs: [] };
  try {
    for (let run = 0; run < runs; run++) {
      const phaseMs = Math.random() * 1000;
      const treeTime = () => clock.preciseNow() + phaseMs;
      const journal = parseJournal(JSON.stringify({ id: 'a', state: 'confirmed', beforeMs: 0, before: '', afterMs: Math.round(treeTime() - DAY), after: '', stepMs: 0, source: 'client', monotonicMs: 0, boot: 1, bootId: null }) + '\n');
      writeFileSync(join(rtc0, 'since_epoch'), `${Math.floor(treeTime() / 1000)}\n`);
      let reading: SourceReading | null = null;
      const sink: SourceSink = { reading: (r) => (reading = r), lost: (l) => console.error(l.why), info: () => undefined };
      const sut = new RtcSource({ sysfs: rtc0, driftPpm }, clock, new NoTimedated(), async () => journal);
      const started = performance.now();
      await sut.start(sink, { reference: () => null, plausibleAfterMs: () => BUILD_DATE_MS, wallMinusMonoMs: () => clock.epochOfMonotonic() });
      out.readMs.push(performance.now() - started);
      await sut.stop();
      const r = reading as SourceReading | null;
      if (!r) continue;
      // The tree's time at the reading's anchor, on the same clocks.
      const truth = performance.timeOrigin + r.atMono + phaseMs;
      out.errorMs.push(r.sourceMinusMonoMs + r.atMono - truth);
      out.boundMs.push(r.errorBoundMs);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

export async function main(options: { runs?: number } = {}): Promise<void> {
  const driftPpm = Number(process.env.RTC_DRIFT_PPM) || new AppConfig().RTC_DRIFT_PPM;
  const runs = options.runs ?? 400;
  console.log(`\n## RTC bound growth: the bound of a hardware clock reading since the clock was last set (1.5 s: whole seconds read, timedated's whole-second write; plus the drift)\n`);
  const ages: Array<[string, number]> = [
    ['1 h', HOUR],
    ['1 day', DAY],
    ['1 week', 7 * DAY],
    ['30 days', 30 * DAY],
  ];
  console.log(table([['since last set', `${driftPpm} ppm (RTC_DRIFT_PPM)`, '2 ppm (DS3231)'], ...ages.map(([label, age]) => [label, shown(boundAfter(age, driftPpm)), shown(boundAfter(age, 2))])], true));

  const m = await measureFakeTree(runs, driftPpm);
  const abs = m.errorMs.map(Math.abs);
  const covered = m.errorMs.filter((e, i) => Math.abs(e) <= m.boundMs[i]).length;
  console.log(`\nMeasured: the real RtcSource reading a fake sysfs tree, ${runs} reads at random sub-second phases, last set a day before (reading minus the tree's time)\n`);
  console.log(
    table([
      ['figure', 'measured'],
      ['readings', `${m.errorMs.length} of ${runs}`],
      ['error min / max (ms)', `${Math.min(...m.errorMs).toFixed(1)} / ${Math.max(...m.errorMs).toFixed(1)}`],
      ['|error| median / p95 (ms)', `${quantile(abs, 0.5).toFixed(1)} / ${quantile(abs, 0.95).toFixed(1)}`],
      ['bound median (ms)', quantile(m.boundMs, 0.5).toFixed(1)],
      ['truth within bound', `${covered} of ${m.errorMs.length}`],
      ['start() incl. journal, median / max (ms)', `${quantile(m.readMs, 0.5).toFixed(2)} / ${Math.max(...m.readMs).toFixed(2)}`],
    ], true),
  );
}

runWhenMain(module, main);
