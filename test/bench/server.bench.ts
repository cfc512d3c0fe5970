import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env.BENCH_SERVER_RUNS ?? 5);

export interface ServerFigures {
  startMs: number;
  /** VmRSS 2 s after start, nobody connected. */
  rssMb: number;
  /** VmRSS with one page (a ws client on /ws) connected, and with PAGES. */
  onePageRssMb: number;
  manyPagesRssMb: number;
}

export const PAGES = 200;

const readRssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function openPage(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, { localAddress: '127.0.0.3' });
  ws.on('message', () => undefined);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/**
 * Starts `node script`, times spawn → its "listening" line, waits idle, reads VmRSS, then again with one page
 * and with PAGES pages connected to /ws, stops it.
 */
async function measureOnce(script: string, marker: RegExp, env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerFigures> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, script], { cwd: ROOT, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const startMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start: ${out}`)), 20_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (marker.test(out)) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
    });
    const wsUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1].replace('http', 'ws') + '/ws';
    await sleep(2000);
    const rssMb = readRssMb(child.pid!);
    const pages = [await openPage(wsUrl)];
    await sleep(1000);
    const onePageRssMb = readRssMb(child.pid!);
    while (pages.length < PAGES) pages.push(await openPage(wsUrl));
    await sleep(2000);
    const manyPagesRssMb = readRssMb(child.pid!);
    for (const p of pages) p.terminate();
    return { startMs, rssMb, onePageRssMb, manyPagesRssMb };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measureServers(): Promise<{ bare: ServerFigures; bareNoSwagger: ServerFigures; ours: ServerFigures; bareSemi: ServerFigures; oursSemi: ServerFigures; before?: ServerFigures }> {
  const out = join(ROOT, 'dist', 'bench');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), join(__dirname, 'bare-app.ts'), '--outDir', out, '--experimentalDecorators', '--emitDecoratorMetadata', '--module', 'commonjs', '--target', 'es2022', '--esModuleInterop', '--skipLibCheck'], { cwd: ROOT, stdio: 'inherit' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-data-'));
  const oursEnv = { CLOCK_BACKEND: 'simulated', DEMO: 'false', CAMERA_DISCOVERY: 'false', DATA_DIR: dataDir, HOST: '127.0.0.1', AP_SUBNETS: '127.0.0.1/32' };
  const bare: ServerFigures[] = [];
  const bareNoSwagger: ServerFigures[] = [];
  const ours: ServerFigures[] = [];
  const bareSemi: ServerFigures[] = [];
  const oursSemi: ServerFigures[] = [];
  // BENCH_BEFORE_MAIN=<another build's dist/backend/main.js>: that build measured in the same run, for before/after.
  const beforeMain = process.env.BENCH_BEFORE_MAIN;
  const before: ServerFigures[] = [];
  // V8 grows the young generation with what a start allocates (ours to 2 x 16 MB, the bare app to 2 x 8 MB), and
  // a collection does not give it back; the same cap on both shows what is left when that is taken away.
  const semi = ['--max-semi-space-size=2'];
  const ourMain = join(ROOT, 'dist', 'backend', 'main.js');
  // Interleaved, so a slow moment of the machine hits all of them.
  for (let i = 0; i < RUNS; i++) {
    bare.push(await measureOnce(join(out, 'bare-app.js'), /LISTENING/, {}));
    ours.push(await measureOnce(ourMain, /Serving the page/, oursEnv));
    bareNoSwagger.push(await measureOnce(join(out, 'bare-app.js'), /LISTENING/, { BARE_SWAGGER: '0' }));
    bareSemi.push(await measureOnce(join(out, 'bare-app.js'), /LISTENING/, {}, semi));
    oursSemi.push(await measureOnce(ourMain, /Serving the page/, oursEnv, semi));
    if (beforeMain) before.push(await measureOnce(beforeMain, /Serving the page/, oursEnv));
    process.stderr.write(`server run ${i + 1}/${RUNS}\n`);
  }
  const pick = (xs: ServerFigures[]): ServerFigures => ({
    startMs: median(xs.map((x) => x.startMs)),
    rssMb: median(xs.map((x) => x.rssMb)),
    onePageRssMb: median(xs.map((x) => x.onePageRssMb)),
    manyPagesRssMb: median(xs.map((x) => x.manyPagesRssMb)),
  });
  return { bare: pick(bare), bareNoSwagger: pick(bareNoSwagger), ours: pick(ours), bareSemi: pick(bareSemi), oursSemi: pick(oursSemi), before: beforeMain ? pick(before) : undefined };
}

/**
 * Connection to applied sync over loopback, through the real app and a real ws client whose clock is three
 * hours ahead: from opening the socket to the pi-sync event (the clock has been stepped by then).
 */
export async function measureConnectToSync(runs = 10): Promise<{ medianMs: number; maxMs: number; errorMs: number[] }> {
  const { startApp } = await import('../support/app');
  const { TestClient, isEvent } = await import('../support/ws-client');
  const times: number[] = [];
  const errors: number[] = [];
  for (let i = 0; i < runs; i++) {
    const app = await startApp({ SIMULATED_CLOCK_OFFSET_MS: '-259200000' });
    try {
      const t0 = performance.now();
      const client = await TestClient.connect(app.wsUrl, { offsetMs: 3 * 3600_000 });
      await client.waitFor(isEvent('pi-sync'), 5000);
      times.push(performance.now() - t0);
      // The Pi's clock read over HTTP, against the client's clock at the middle of that request.
      const before = Date.now();
      const body = (await (await fetch(`${app.url}/api/system/time`)).json()) as { epochMs: number };
      const after = Date.now();
      errors.push(Math.abs(body.epochMs - ((before + after) / 2 + 3 * 3600_000)));
      await client.close();
    } finally {
      await app.close();
    }
  }
  return { medianMs: median(times), maxMs: Math.max(...times), errorMs: errors };
}
