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
