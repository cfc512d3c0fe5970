/**
 * `npm run bench` section `sync-load`: the Pi's error after one phone sync, measured from outside on fresh
 * built servers. PIS fresh servers (CLOCK_BACKEND=simulated), each reached through its own 5 ms ± 1 ms link
 * (test/bench/jitter-link.js, its own process); a phone (this process) answers probes with Date.now() + 5 min
 * and asks for its time (use-client-time). Error = Pi minus host after the sync, minus the same read on the
 * fresh Pi before it (that calibrates the read's own bias away), minus 5 min: signed, ms.
 * Run quiet, then with BUSY_LOOPS child processes spinning on the cores. With SYNC_LOAD_BEFORE_MAIN=<an older
 * build's main.js> the older build is measured the same way in the same run, as the baseline.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import WebSocket from 'ws';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'backend', 'main.js');
const PIS = 8;
const BUSY_LOOPS = 3;
const AHEAD = 5 * 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function spawnLines(args: string[], env: Record<string, string> = {}): { child: ChildProcess; wait(re: RegExp): Promise<RegExpExecArray> } {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  return {
    child,
    wait: (re) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in: ${out.slice(-500)}`)), 30_000);
        const check = () => {
          const m = re.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m);
          }
        };
        child.stdout!.on('data', check);
        check();
      }),
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function getJson(url: string): Promise<{ body: any; t0: number; t1: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.timeOrigin + performance.now();
    request(url, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ body: JSON.parse(data), t0, t1: performance.timeOrigin + performance.now() }));
    })
      .on('error', reject)
      .end();
  });
}

/** Pi minus host (ms), straight to the server (not through the link): the read with the shortest round trip of 10. */
async function piMinusHost(url: string): Promise<number> {
  let best: { rtt: number; offset: number } | null = null;
  for (let i = 0; i < 10; i++) {
    const r = await getJson(`${url}/api/system/time`);
    if (!best || r.t1 - r.t0 < best.rtt) best = { rtt: r.t1 - r.t0, offset: r.body.epochMs - (r.t0 + r.t1) / 2 };
  }
  return best!.offset;
}

async function onePi(main: string): Promise<number> {
  const server = spawnLines([main], { PORT: '0', HOST: '127.0.0.1', AP_SUBNETS: '127.0.0.1/32', CAMERA_DISCOVERY: 'false', CAMERA_URL: '', CLOCK_BACKEND: 'simulated', AUTO_SYNC: 'false' });
  try {
    const url = (await server.wait(/Serving the page.* at (http:\/\/127\.0\.0\.1:(\d+))\D/))[1];
    const port = url.split(':')[2];
    const link2 = spawnLines([join(__dirname, 'jitter-link.js'), port]);
    try {
      const linkPort = (await link2.wait(/^(\d+)\n/))[1];
      const before = await piMinusHost(url);
      const ws = new WebSocket(`ws://127.0.0.1:${linkPort}/ws`);
      const synced = new Promise<any>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no pi-sync within 20 s')), 20_000);
        ws.on('message', (raw) => {
          const f = JSON.parse(raw.toString());
          if (f.type === 'time-sync-request') {
            ws.send(JSON.stringify({ type: 'time-sync-response', data: { clientTime: Date.now() + AHEAD, serverTime: f.serverTime, requestId: f.requestId, timezone: 'UTC' } }));
          } else if (f.type === 'event' && f.eventType === 'pi-sync' && f.data.source === 'client') {
            clearTimeout(timer);
            resolve(f);
          }
        });
      });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(JSON.stringify({ type: 'use-client-time', data: {} }));
      const event = await synced;
      ws.close();
      if (!event.data.synchronized) throw new Error(`sync failed: ${JSON.stringify(event.data)}`);
      await sleep(100);
      return (await piMinusHost(url)) - before - AHEAD;
    } finally {
      await stop(link2.child);
    }
  } finally {
    await stop(server.child);
  }
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

async function measure(main: string): Promise<number[]> {
  const errors: number[] = [];
  for (let i = 0; i < PIS; i++) errors.push(await onePi(main));
  return errors;
}

function busyLoops(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

export async function main(): Promise<void> {
  const builds: Array<[string, string]> = [['now', MAIN]];
  if (process.env.SYNC_LOAD_BEFORE_MAIN) builds.unshift(['before', process.env.SYNC_LOAD_BEFORE_MAIN]);
  const rows: string[][] = [['build', 'load', 'p50 |err|', 'p95 |err|', 'mean signed', 'min / max signed', 'goal p95', 'met']];
  for (const busy of [0, BUSY_LOOPS]) {
    const spinners = busyLoops(busy);
    try {
      for (const [label, main] of builds) {
        process.stderr.write(`sync-load bench: ${label}, ${busy} busy loops\n`);
        const errors = await measure(main);
        const abs = errors.map(Math.abs);
        const goal = busy ? 2 : 1;
        rows.push([label, busy ? `${busy} busy loops` : 'quiet', q(abs, 0.5).toFixed(2), q(abs, 0.95).toFixed(2), (errors.reduce((a, b) => a + b, 0) / errors.length).toFixed(2), `${Math.min(...errors).toFixed(2)} / ${Math.max(...errors).toFixed(2)}`, `<= ${goal}`, q(abs, 0.95) <= goal ? 'yes' : 'NO']);
      }
    } finally {
      spinners.forEach((c) => c.kill('SIGKILL'));
    }
  }
  console.log(`\n## Pi error after one phone sync, ${PIS} fresh Pis each, through a 5 ms ± 1 ms link (ms, signed = Pi minus phone)\n`);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  rows.forEach((r, n) => {
    console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

if (require.main === module) void main().then(() => process.exit(0), (e) => (console.error(e), process.exit(1)));
