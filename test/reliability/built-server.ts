import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { statSync } from 'node:fs';
import { record } from './report';

/** The built server, as `npm start` runs it (npm test builds it first). */
export const MAIN = join(__dirname, '..', '..', 'dist', 'backend', 'main.js');

/** Loopback trusted, no camera, no automatic sync: only the test's own requests step the clock. */
export const SERVER_ENV: Record<string, string> = {
  PORT: '0',
  HOST: '127.0.0.1',
  AP_SUBNETS: '127.0.0.1/32',
  CAMERA_DISCOVERY: 'false',
  GPSD_ADDRESS: '',
  CAMERA_URL: '',
  AUTO_SYNC: 'false',
  CLOCK_BACKEND: 'simulated',
  DEMO: 'false',
  // The journal suites set the time in tight loops on purpose: far above an operator's REST write budget.
  HTTP_MAX_WRITES_PER_SECOND: '100000',
};

export interface BuiltServer {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  exited: Promise<void>;
  /** Sends `signal` (to `pid`, default the child) and waits for the child to exit. */
  stop(signal?: NodeJS.Signals, pid?: number): Promise<void>;
}

/**
 * Starts `prefix... node dist/backend/main.js` (prefix: unshare, nsenter, strace...) and resolves once it
 * serves, with its URL.
 */
export async function startBuiltServer(env: Record<string, string>, prefix: string[] = [], timeoutMs = 30_000): Promise<BuiltServer> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build:backend (npm test does)`);
  const argv = [...prefix, process.execPath, MAIN];
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...SERVER_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start within ${timeoutMs} ms: ${out}`)), timeoutMs);
    const check = () => {
      // The serving line only: a camera logged as "connected ... at http://127.0.0.1:<port>" may come first.
      const m = /Serving the page.* at (http:\/\/127\.0\.0\.1:\d+)\D/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before serving: ${out}`));
    });
    child.once('error', reject);
  });
  return {
    url,
    child,
    output: () => out,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM', pid = child.pid) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        if (pid) process.kill(pid, signal);
      } catch {
        // already gone
      }
      await exited;
    },
  };
}

/** A JSON request that never throws for an HTTP status; a connection error rejects. */
export async function json(url: string, method = 'GET', body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { method, headers: body === undefined ? undefined : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

export function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      return statSync(join(dir, tool)).isFile();
    } catch {
      return false;
    }
  });
}

/** Says loudly why a suite is skipped (never a silent pass) and gives the describe to use. */
export function describeIf(missing: string[], what: string): jest.Describe {
  if (missing.length) {
    // eslint-disable-next-line no-console
    console.warn(`${what} SKIPPED: missing ${missing.join(', ')}`);
    record({ suite: 'skipped', what, times: 0, outcome: `SKIPPED: missing ${missing.join(', ')}` });
    return describe.skip;
  }
  return describe;
}
