/**
 * TIME_SERVER=chrony when chrony is not there to keep the clock: the status says why in words, a phone's step fails
 * with that reason and leaves the clock alone, and the clock is set through SetTime (here the simulated clock) only
 * when the operator chose TIME_SERVER_FALLBACK=settime. TIME_SERVER=off carries no time server in its status.
 * (chronyd itself, taking and serving the time: test/integration/time-server.int-spec.ts.)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { expectFaults } from '../support/expected-faults';
import { ClientPool } from '../support/ws-client';
import { freeUdpPort } from '../support/chrony-harness';

const THREE_H = 3 * 3_600_000;
const NO_CHRONYC = /TIME_SERVER=chrony: chronyc is not installed|chrony cannot be given the time/;

async function piMinusHost(app: StartedApp): Promise<number> {
  const t0 = Date.now();
  const res = await request(app.url).get('/api/system/time').expect(200);
  return res.body.epochMs - (t0 + Date.now()) / 2;
}
const messages = async (app: StartedApp) => ((await request(app.url).get('/api/activity').expect(200)).body as { message: string; type: string }[]).map((e) => e.message);
async function logSays(app: StartedApp, re: RegExp, timeoutMs = 15_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = (await messages(app)).find((m) => re.test(m));
    if (hit) return hit;
    if (Date.now() > end) throw new Error(`no ${re} in the activity log: ${JSON.stringify(await messages(app))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('TIME_SERVER=chrony without chrony', () => {
  jest.setTimeout(60_000);
  let app: StartedApp | undefined;
  const clients = new ClientPool();
  const dirs: string[] = [];

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    app = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('TIME_SERVER=off (the default): no time server in the status, the clock stepped as before', async () => {
    app = await startApp({ SIMULATED_CLOCK_OFFSET_MS: String(-THREE_H) });
    expect((await request(app.url).get('/api/timesync/status').expect(200)).body).not.toHaveProperty('timeServer');
    await clients.connect(app.wsUrl);
    await statusWhen(app, (s) => s.syncSource === 'client');
    expect(Math.abs(await piMinusHost(app))).toBeLessThan(50);
  });

  it('chronyc missing: the status says so, a phone cannot step the clock, and the journal keeps the failed step', async () => {
    expectFaults(NO_CHRONYC);
    app = await startApp({ TIME_SERVER: 'chrony', CHRONYC: '/nonexistent/chronyc', TIME_SERVER_FEED_PORT: String(await freeUdpPort()), SIMULATED_CLOCK_OFFSET_MS: String(-THREE_H) });
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status.timeServer).toMatchObject({ engine: 'chrony', state: 'down', stratum: null, clients: null, error: 'chronyc is not installed (/nonexistent/chronyc; Debian: apt-get install chrony)' });
    expect(status.timeServer.summary).toBe('not serving: chronyc is not installed (/nonexistent/chronyc; Debian: apt-get install chrony)');

    await clients.connect(app.wsUrl);
    expect(await logSays(app, /^Setting the Pi's clock from the phone at 127\.0\.0\.1 failed/)).toMatch(/failed: chrony cannot be given the time: chronyc is not installed/);
    expect(await piMinusHost(app)).toBeLessThan(-THREE_H + 1000);
    const report = (await request(app.url).get('/api/timesync/journal/report').expect(200)).body as { steps: unknown[]; failed: Array<{ source: string; error?: string }> };
    expect(report.steps).toEqual([]);
    expect(report.failed).toContainEqual(expect.objectContaining({ source: 'client', error: expect.stringMatching(/chronyc is not installed/) }));
    // A refusal over REST carries the code.
    const res = await request(app.url).post('/api/system/time').send({ timestamp: new Date(Date.now()).toISOString() });
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ code: 'TIME_SERVER_UNAVAILABLE', message: expect.stringMatching(/chronyc is not installed/) });
  });

  const chronycHere = existsSync('/usr/bin/chronyc');
  (chronycHere ? it : it.skip)('chronyd not running: the status names the socket it asked; the step fails with those words', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-chronyd-'));
    dirs.push(dir);
    const socket = join(dir, 'chronyd.sock');
    expectFaults(/chronyd does not answer/);
    app = await startApp({ TIME_SERVER: 'chrony', CHRONYC: '/usr/bin/chronyc', CHRONY_COMMAND_SOCKET: socket, TIME_SERVER_FEED_PORT: String(await freeUdpPort()), SIMULATED_CLOCK_OFFSET_MS: String(-THREE_H) });
    const status = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(status.timeServer).toMatchObject({ state: 'down', error: expect.stringMatching(new RegExp(`^chronyd does not answer at ${socket.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(chronyc: `)) });
    await clients.connect(app.wsUrl);
    expect(await logSays(app, /^Setting the Pi's clock from the phone at 127\.0\.0\.1 failed/)).toMatch(/chronyd does not answer at /);
    expect(await piMinusHost(app)).toBeLessThan(-THREE_H + 1000);
  });

  it('TIME_SERVER_FALLBACK=settime (the operator chose it): chrony missing, the clock is set through SetTime all the same', async () => {
    expectFaults(NO_CHRONYC);
    app = await startApp({ TIME_SERVER: 'chrony', TIME_SERVER_FALLBACK: 'settime', CHRONYC: '/nonexistent/chronyc', TIME_SERVER_FEED_PORT: String(await freeUdpPort()), SIMULATED_CLOCK_OFFSET_MS: String(-THREE_H) });
    await clients.connect(app.wsUrl);
    await statusWhen(app, (s) => s.syncSource === 'client');
    expect(Math.abs(await piMinusHost(app))).toBeLessThan(50);
    expect(await messages(app)).toContainEqual(expect.stringMatching(/^Time synchronized from the phone at 127\.0\.0\.1/));
    const journal = (await request(app.url).get('/api/timesync/journal').expect(200)).body as Array<{ state: string; source: string }>;
    expect(journal).toContainEqual(expect.objectContaining({ state: 'confirmed', source: 'client' }));
  });
});
