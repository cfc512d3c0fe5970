// What one sync costs a page on the wire: frames and bytes, this version against the one before the core
// reshape (commit BEFORE, built in a temporary git worktree in the same run).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';

const ROOT = join(__dirname, '..', '..');
/** The last commit before "One policy for every time source ..." (issue 8). */
export const BEFORE = '7f10643';

export interface WireCost {
  frames: number;
  bytes: number;
  byType: Record<string, { frames: number; bytes: number }>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Builds the backend of BEFORE in a worktree that shares this checkout's node_modules; returns its main.js. */
export function buildBefore(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-before-'));
  rmSync(dir, { recursive: true });
  execFileSync('git', ['worktree', 'add', '--detach', dir, BEFORE], { cwd: ROOT, stdio: 'ignore' });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  return join(dir, 'dist', 'backend', 'main.js');
}

export function removeBefore(mainJs: string): void {
  const dir = join(mainJs, '..', '..', '..');
  execFileSync('git', ['worktree', 'remove', '--force', dir], { cwd: ROOT, stdio: 'ignore' });
}

/**
 * Starts `main.js`, connects one page 1 h ahead that answers probes and (when `askAfterEvents`, as the page
 * before did) asks for the status after every event; counts what it receives from connect until 1 s after
 * the sync (probes included).
 */
export async function measureOneSync(mainJs: string, askAfterEvents: boolean): Promise<WireCost> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-frames-'));
  const env = { ...process.env, PORT: String(port), HOST: '127.0.0.1', CLOCK_BACKEND: 'simulated', DEMO: 'false', CAMERA_DISCOVERY: 'false', CAMERA_URL: '', AP_SUBNETS: '127.0.0.1/32', DATA_DIR: dataDir };
  const child = spawn(process.execPath, [mainJs], { cwd: join(mainJs, '..', '..', '..'), env, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${mainJs} did not start: ${out}`)), 20_000);
      const onData = (c: Buffer) => {
        out += c.toString();
        if (/Serving the page|listening/i.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    // A log with history, as in the field: 60 refused requests from outside the access point (both versions log them).
    for (let i = 0; i < 60; i++) await refusedPost(port);
    const cost: WireCost = { frames: 0, bytes: 0, byType: {} };
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise<void>((resolve, reject) => {
      let done: NodeJS.Timeout | null = null;
      ws.on('error', reject);
      ws.on('message', (raw) => {
        const text = raw.toString();
        const frame = JSON.parse(text);
        const key = frame.type === 'event' ? `event:${frame.eventType}` : frame.type;
        cost.frames++;
        cost.bytes += Buffer.byteLength(text);
        const t = (cost.byType[key] ??= { frames: 0, bytes: 0 });
        t.frames++;
        t.bytes += Buffer.byteLength(text);
        if (frame.type === 'time-sync-request') {
          ws.send(JSON.stringify({ type: 'time-sync-response', data: { clientTime: Date.now() + 3600_000, serverTime: frame.serverTime, requestId: frame.requestId } }));
        }
        if (frame.type === 'event' && askAfterEvents) ws.send(JSON.stringify({ type: 'get-time-sync-status', data: {} }));
        if (frame.type === 'event' && frame.eventType === 'pi-sync' && !done) done = setTimeout(resolve, 1000);
      });
      setTimeout(() => reject(new Error('no sync within 10 s')), 10_000).unref();
    });
    ws.close();
    return cost;
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function refusedPost(port: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, localAddress: '127.0.0.2', method: 'POST', path: '/api/system/time', headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', () => resolve());
    req.end(JSON.stringify({ timestamp: new Date().toISOString() }));
  });
}

export async function measureFrames(): Promise<{ before: WireCost | null; after: WireCost; beforeError?: string }> {
  const after = await measureOneSync(join(ROOT, 'dist', 'backend', 'main.js'), false);
  let before: WireCost | null = null;
  let beforeError: string | undefined;
  let oldMain: string | null = null;
  try {
    oldMain = buildBefore();
    if (existsSync(oldMain)) before = await measureOneSync(oldMain, true);
  } catch (error) {
    beforeError = error instanceof Error ? error.message : String(error);
  } finally {
    if (oldMain) removeBefore(oldMain);
  }
  return { before, after, beforeError };
}
