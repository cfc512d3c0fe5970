/**
 * `npm run bench -- ntp` (and `npm run bench`): the Pi as an NTP server (TIME_SERVER=chrony), measured with the real
 * chronyd (always -x, private folders, free ports: this machine's clock is never touched).
 *
 * Each run, fresh: a leader chronyd and the product (the real app, simulated clock) feeding it; a phone whose clock
 * is PHONE_AHEAD_MS ahead of this host syncs the product through a 5 ms ± 1 ms TCP link (test/bench/jitter-link.js);
 * a follower chronyd in its own network namespace polls the leader over a veth pair and a 5 ms ± 1 ms UDP link
 * (test/bench/udp-jitter-link.js). Once the follower has followed for a while, both are read back to back SAMPLES
 * times. chronyd -x keeps its time as "System time" (true time, as it believes it, minus this host's clock), so:
 *   - the product's own phone-sync error (the baseline of this run): the leader's time minus the phone's;
 *   - the follower's error against the leader: the follower's time minus the leader's;
 *   - end to end: the follower's time minus the phone's.
 * The aim (issue #17): follower p95 within 2 ms of the leader.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Chronyd, chronydMissing, freeUdpPort } from '../support/chrony-harness';
import { startApp, statusWhen } from '../support/app';
import { TestClient } from '../support/ws-client';
import { runWhenMain } from './report';

const PHONE_AHEAD_MS = 2500;
const GOAL_FOLLOWER_P95_MS = 2;
const PI_DRIFT = '0.000 50.000\n';

interface RunResult {
  phoneSyncErrorMs: number;
  followerMinusLeaderMs: number[];
  followerMinusPhoneMs: number[];
  /** The follower's stated bound (root delay / 2 + root dispersion) at each sample, ms. */
  followerBoundMs: number[];
  secondsToFollow: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(3)) : '-');

function missing(): string[] {
  const lacking = chronydMissing();
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    lacking.push('ip netns (iproute2, root)');
  }
  return lacking;
}

/** A helper process that prints its port on its first line (the jitter links). */
async function linkProcess(script: string, args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(__dirname, script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} printed no port`)), 10_000);
    child.stdout!.once('data', (c: Buffer) => {
      clearTimeout(timer);
      resolve(Number(String(c).trim()));
    });
  });
  return { child, port };
}

async function oneRun(run: number, samples: number): Promise<RunResult> {
  const tag = randomBytes(2).toString('hex');
  const ns = `ntpb-${tag}`;
  const outer = `ntb${tag}`;
  const net = `10.${150 + (run % 50)}.${parseInt(tag, 16) % 250}`;
  const stops: Array<() => Promise<void> | void> = [];
  try {
    const ntpPort = await freeUdpPort();
    const feedPort = await freeUdpPort();
    const leader = await Chronyd.start({ name: 'bench-leader', ntpPort, driftFile: PI_DRIFT, conf: [`server 127.0.0.1 port ${feedPort} minpoll 0 maxpoll 0 iburst`, 'local stratum 10', 'maxupdateskew 100', 'allow 127.0.0.0/8'] });
    stops.push(() => leader.stop());
    const app = await startApp({ TIME_SERVER: 'chrony', TIME_SERVER_FEED_PORT: String(feedPort), CHRONYC: '/usr/bin/chronyc', CHRONY_COMMAND_SOCKET: leader.socket, SIMULATED_CLOCK_OFFSET_MS: String(-3_600_000) });
    stops.push(() => rmSync(app.dataDir, { recursive: true, force: true }));
    stops.push(() => app.close());

    // The phone, through a 5 ms ± 1 ms TCP link.
    const tcp = await linkProcess('jitter-link.js', [String(app.port)]);
    stops.push(() => void tcp.child.kill());
    const phone = await TestClient.connect(`ws://127.0.0.1:${tcp.port}/ws`, { offsetMs: PHONE_AHEAD_MS });
    stops.push(() => phone.close());
    await statusWhen(app, (s) => s.syncSource === 'client' && s.timeServer?.state === 'serving', 30_000);
    const leaderView = await leader.view();
    const phoneSyncErrorMs = leaderView.offsetMs - PHONE_AHEAD_MS;

    // The follower in its namespace, through a 5 ms ± 1 ms UDP link to the leader.
    execFileSync('ip', ['netns', 'add', ns]);
    stops.push(() => void execFileSync('ip', ['netns', 'del', ns]));
    execFileSync('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', 'vf0', 'netns', ns]);
    execFileSync('ip', ['addr', 'add', `${net}.1/30`, 'dev', outer]);
    execFileSync('ip', ['link', 'set', outer, 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${net}.2/30`, 'dev', 'vf0']);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'vf0', 'up']);
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const udp = await linkProcess('udp-jitter-link.js', [`${net}.1`, String(ntpPort)]);
    stops.push(() => void udp.child.kill());
    const started = Date.now();
    const follower = await Chronyd.start({ name: 'bench-follower', netns: ns, ntpPort: 0, driftFile: PI_DRIFT, conf: [`server ${net}.1 port ${udp.port} iburst minpoll 0 maxpoll 0`, 'maxupdateskew 100'] });
    stops.push(() => follower.stop());
    // Following, and with enough samples of the leader for its filter to have settled (16 s at one poll a second).
    await follower.until((v) => v.state === 'following', 60_000, `${net}.1`);
    const secondsToFollow = (Date.now() - started) / 1000;
    await sleep(16_000);

    const result: RunResult = { phoneSyncErrorMs, followerMinusLeaderMs: [], followerMinusPhoneMs: [], followerBoundMs: [], secondsToFollow };
    for (let i = 0; i < samples; i++) {
      const [f, l] = await Promise.all([follower.view(`${net}.1`), leader.view()]);
      result.followerMinusLeaderMs.push(f.offsetMs - l.offsetMs);
      result.followerMinusPhoneMs.push(f.offsetMs - PHONE_AHEAD_MS);
      result.followerBoundMs.push(f.errorBoundMs);
      // One sample a poll of the follower.
      await sleep(1000);
    }
    return result;
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch {
        // already gone
      }
    }
  }
}

export async function main(options: { runs?: number; samples?: number } = {}): Promise<void> {
  const lacking = missing();
  console.log('\n## The Pi as an NTP server: a follower chronyd against its leader through a 5 ms ± 1 ms link, beside the product\'s own phone sync (ms)\n');
  if (lacking.length) {
    console.log(`skipped: missing ${lacking.join(', ')}`);
    return;
  }
  const runs = options.runs ?? Number(process.env.NTP_BENCH_RUNS ?? 5);
  const samples = options.samples ?? Number(process.env.NTP_BENCH_SAMPLES ?? 20);
  const results: RunResult[] = [];
  for (let run = 0; run < runs; run++) {
    process.stderr.write(`ntp bench: run ${run + 1} of ${runs}\n`);
    results.push(await oneRun(run, samples));
  }
  const phone = results.map((r) => Math.abs(r.phoneSyncErrorMs));
  const follower = results.flatMap((r) => r.followerMinusLeaderMs.map(Math.abs));
  const endToEnd = results.flatMap((r) => r.followerMinusPhoneMs.map(Math.abs));
  const withinBound = results.flatMap((r) => r.followerMinusLeaderMs.map((e, i) => Math.abs(e) <= r.followerBoundMs[i])).filter(Boolean).length;
  const row = (label: string, xs: number[], n: string) => [label, n, ms(quantile(xs, 0.5)), ms(quantile(xs, 0.95)), ms(Math.max(...xs))];
  const rows = [
    ['figure', 'n', 'p50 |err|', 'p95 |err|', 'max |err|'],
    row('the product: phone -> leader (its own phone-sync error, the baseline)', phone, `${runs} runs`),
    row('the follower against the leader, 5 ms ± 1 ms UDP link', follower, `${follower.length} samples`),
    row('the follower against the phone (end to end)', endToEnd, `${endToEnd.length} samples`),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  rows.forEach((r, n) => {
    console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
  const p95 = quantile(follower, 0.95);
  console.log('');
  console.log(`follower p95 / phone-sync p95 (same run): ${(p95 / quantile(phone, 0.95)).toFixed(2)}x`);
  console.log(`follower samples within the bound it states: ${withinBound} of ${follower.length}; median stated bound ${ms(quantile(results.flatMap((r) => r.followerBoundMs), 0.5))} ms`);
  console.log(`seconds from the follower's start to following (median): ${quantile(results.map((r) => r.secondsToFollow), 0.5).toFixed(1)}`);
  console.log(`goal: follower p95 within ${GOAL_FOLLOWER_P95_MS} ms of the leader: ${p95 <= GOAL_FOLLOWER_P95_MS ? 'met' : 'NOT met'} (${ms(p95)} ms)`);
}

runWhenMain(module, main);
