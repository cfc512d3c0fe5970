import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env.BENCH_SERVER_RUNS ?? 5);

export interface ServerFigures {
  startMs: number;
  rssMb: number;
}

/** Starts `node script`, times spawn → its "listening" line, waits idle, reads VmRSS, stops it. */
async function measureOnce(script: string, marker: RegExp, env: Record<string, string>): Promise<ServerFigures> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [script], { cwd: ROOT, env: { ...process.env, ...env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const startMs = await new Promise<number>((resolve, reject) => {
      let out = '';
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
    await new Promise((r) => setTimeout(r, 2000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    return { startMs, rssMb: rssKb / 1024 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function measureServers(): Promise<{ bare: ServerFigures; ours: ServerFigures }> {
  const out = join(ROOT, 'dist', 'bench');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), join(__dirname, 'bare-app.ts'), '--outDir', out, '--experimentalDecorators', '--emitDecoratorMetadata', '--module', 'commonjs', '--target', 'es2022', '--esModuleInterop', '--skipLibCheck'], { cwd: ROOT, stdio: 'inherit' });
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-data-'));
  const oursEnv = { CLOCK_BACKEND: 'simulated', CAMERA_DISCOVERY: 'false', DATA_DIR: dataDir, HOST: '127.0.0.1' };
  const bare: ServerFigures[] = [];
  const ours: ServerFigures[] = [];
  // Interleaved, so a slow moment of the machine hits both.
  for (let i = 0; i < RUNS; i++) {
    bare.push(await measureOnce(join(out, 'bare-app.js'), /LISTENING/, {}));
    ours.push(await measureOnce(join(ROOT, 'dist', 'backend', 'main.js'), /Serving the page/, oursEnv));
    process.stderr.write(`server run ${i + 1}/${RUNS}\n`);
  }
  const pick = (xs: ServerFigures[]) => ({ startMs: median(xs.map((x) => x.startMs)), rssMb: median(xs.map((x) => x.rssMb)) });
  return { bare: pick(bare), ours: pick(ours) };
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
