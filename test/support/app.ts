import { INestApplication } from '@nestjs/common';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../backend/bootstrap';

export interface StartedApp {
  app: INestApplication;
  url: string;
  wsUrl: string;
  port: number;
  dataDir: string;
  close(): Promise<void>;
}

/** Defaults for tests: simulated clock, loopback trusted, no camera unless given, no demo, a fresh data dir. */
export const TEST_ENV: Record<string, string> = {
  CLOCK_BACKEND: 'simulated',
  AP_SUBNETS: '127.0.0.1/32,::1/128',
  CAMERA_DISCOVERY: 'false',
  CAMERA_URL: '',
  // No gpsd unless a test starts one (the default 127.0.0.1:2947 would find whatever this machine runs).
  GPSD_ADDRESS: '',
  // The first-run demo (a simulated camera, loopback trusted) only where a test asks for it.
  DEMO: 'false',
};

/**
 * Boots the real AppModule (what `npm start` runs) on `listen(0)` unless a port is given. The environment
 * is applied only while the app reads its configuration, then restored.
 */
export async function startApp(env: Record<string, string> = {}, port = 0, prepare?: (dataDir: string) => void): Promise<StartedApp> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'timesync-data-'));
  prepare?.(dataDir);
  const wanted = { ...TEST_ENV, DATA_DIR: dataDir, ...env };
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(wanted)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  let app: INestApplication;
  try {
    app = await createApp({ logger: process.env.TEST_LOG ? undefined : ['error', 'fatal'] });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  await app.listen(port, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${address.port}`;
  return { app, url, wsUrl: `ws://127.0.0.1:${address.port}/ws`, port: address.port, dataDir, close: () => app.close() };
}

/** Polls GET /api/timesync/status until `pred` holds; returns that status, or throws with a summary of the last. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function statusWhen(app: StartedApp, pred: (s: any) => boolean, timeoutMs = 10_000): Promise<any> {
  const end = Date.now() + timeoutMs;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let last: any;
  while (Date.now() < end) {
    const res = await fetch(`${app.url}/api/timesync/status`);
    if (res.status !== 200) throw new Error(`GET /api/timesync/status answered ${res.status}`);
    last = await res.json();
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  const summary = { source: last?.syncSource, reliability: last?.reliability, decision: last?.decision, session: last?.session, cameras: last?.cameras?.map((c: { state: string; lastSync?: unknown }) => ({ state: c.state, lastSync: c.lastSync })) };
  throw new Error(`status never matched within ${timeoutMs} ms: ${JSON.stringify(summary)}`);
}
