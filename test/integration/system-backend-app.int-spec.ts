/**
 * The whole product with CLOCK_BACKEND=system, as on the Pi: `node dist/backend/main.js` runs inside the
 * D-Bus sandbox's mount namespace (dbus-sandbox.sh), so its real TimedatectlClock runs the real `timedatectl`
 * against python3-dbusmock's timedated. A real ws client three hours ahead is the time source; the
 * assertions read the mock's call log. The machine's own clock is never touched (the mock changes nothing).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient, isEvent } from '../support/ws-client';
import { DbusSandbox, missingTools } from './dbus-sandbox';

jest.setTimeout(60_000);

const MAIN = join(__dirname, '..', '..', 'dist', 'backend', 'main.js');
const missing = missingTools();
if (missing.length) {
  // eslint-disable-next-line no-console
  console.warn(`CLOCK_BACKEND=system integration test SKIPPED: missing ${missing.join(', ')}`);
}
const describeIfTools = missing.length ? describe.skip : describe;
const THREE_HOURS = 3 * 3600_000;

async function startAppInSandbox(sandbox: DbusSandbox, extraEnv: Record<string, string> = {}): Promise<{ url: string; child: ChildProcess; output: () => string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build:backend (npm test does)`);
  const env = {
    ...process.env,
    CLOCK_BACKEND: 'system',
    PORT: '0',
    HOST: '127.0.0.1',
    AP_SUBNETS: '127.0.0.1/32',
    CAMERA_DISCOVERY: 'false',
    CAMERA_URL: '',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'system-backend-')),
    ...extraEnv,
  };
  const [file, ...args] = sandbox.prefix;
  const child = spawn(file, [...args, process.execPath, MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c) => (out += c));
  child.stderr!.on('data', (c) => (out += c));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start: ${out}`)), 20_000);
    const check = () => {
      const m = /Serving the page.* at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => reject(new Error(`app exited with ${code}: ${out}`)));
  });
  return { url, child, output: () => out };
}

describeIfTools('CLOCK_BACKEND=system: the app, timedatectl and a timedated mock', () => {
  let sandbox: DbusSandbox;
  let app: { url: string; child: ChildProcess; output: () => string } | undefined;
  let client: TestClient | undefined;

  beforeAll(async () => {
    sandbox = await DbusSandbox.start();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
  afterEach(async () => {
    await client?.close();
    if (app && app.child.exitCode === null) {
      const exited = new Promise((r) => app!.child.once('exit', r));
      app.child.kill('SIGTERM');
      await exited;
    }
    app = client = undefined;
  });

  it('turns NTP off, sets the time the client gives, turns NTP back on, and sets the client zone', async () => {
    await sandbox.prepare({ ntp: true, ntpSynchronized: false, timezone: 'UTC' });
    app = await startAppInSandbox(sandbox);
    const mark = sandbox.mark();
    client = await TestClient.connect(app.url.replace('http', 'ws') + '/ws', { offsetMs: THREE_HOURS, timezone: 'Australia/Sydney' });
    const event = await client.waitFor(isEvent('pi-sync'), 10_000);
    const answeredAt = Date.now();
    expect(event.data).toMatchObject({ synchronized: true, source: 'client', stepped: true });

    const calls = sandbox.callsSince(mark).filter((c) => !c.raised);
    expect(calls.map((c) => c.method)).toEqual(['SetNTP', 'SetTime', 'SetNTP', 'SetTimezone']);
    expect(calls[0].args[0]).toBe('False');
    expect(calls[2].args[0]).toBe('True');
    expect(calls[3].args[0]).toBe('Australia/Sydney');
    // SetTime(usec_utc, relative=false, interactive=false): the client's time at the moment of the write.
    const [usec, relative, interactive] = calls[1].args;
    expect([relative, interactive]).toEqual(['False', 'False']);
    const setMs = Number(usec) / 1000;
    expect(setMs).toBeGreaterThan(answeredAt + THREE_HOURS - 2000);
    expect(setMs).toBeLessThanOrEqual(answeredAt + THREE_HOURS);

    const time = await (await fetch(`${app.url}/api/system/time`)).json();
    expect(time).toMatchObject({ backend: 'system', timezone: 'Australia/Sydney', utcOffsetMinutes: expect.any(Number) });
  });

  it('leaves an NTP-synchronized clock alone: measures, reports, calls no setter', async () => {
    await sandbox.prepare({ ntp: true, ntpSynchronized: true, timezone: 'UTC' });
    app = await startAppInSandbox(sandbox);
    const mark = sandbox.mark();
    client = await TestClient.connect(app.url.replace('http', 'ws') + '/ws', { offsetMs: THREE_HOURS });
    const event = await client.waitFor(isEvent('pi-sync'), 10_000);
    expect(event.data).toMatchObject({ source: 'ntp', stepped: false });
    expect(event.data.offset).toBeGreaterThan(THREE_HOURS - 100);
    expect(sandbox.callsSince(mark)).toEqual([]);
    const status = await (await fetch(`${app.url}/api/timesync/status`)).json();
    expect(status).toMatchObject({ syncSource: 'ntp', pi: { ntpSynchronized: true, backend: 'system' } });
  });

  it('refuses a manual set from a client that is not on the access point without calling timedated', async () => {
    await sandbox.prepare({ ntp: false, ntpSynchronized: false, timezone: 'UTC' });
    app = await startAppInSandbox(sandbox);
    const mark = sandbox.mark();
    const outsider = await TestClient.connect(app.url.replace('http', 'ws') + '/ws', { localAddress: '127.0.0.2', answer: false });
    client = outsider;
    const error = await outsider.expectError({ type: 'manual-time-sync', data: { timestamp: new Date(Date.now() + THREE_HOURS).toISOString(), timezone: 'Europe/Berlin' } });
    expect(error.code).toBe('NOT_ACCESS_POINT_CLIENT');
    expect(sandbox.callsSince(mark)).toEqual([]);
  });

  it("keeps today's trust rules where the simulated clock's demo would apply (no AP_SUBNETS, no CAMERA_URL): loopback untrusted, no camera", async () => {
    await sandbox.prepare({ ntp: false, ntpSynchronized: false, timezone: 'UTC' });
    // What `npm start` gets on a developer's machine, but with the system backend: an AP interface that is not there.
    app = await startAppInSandbox(sandbox, { AP_SUBNETS: '', CAMERA_URL: '', AP_INTERFACE: 'tsdemo-none0' });
    const mark = sandbox.mark();
    const set = await fetch(`${app.url}/api/system/time`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timestamp: new Date(Date.now() + THREE_HOURS).toISOString() }) });
    expect(set.status).toBe(403);
    expect(await set.json()).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect(await (await fetch(`${app.url}/api/cameras`)).json()).toEqual([]);
    const status = await (await fetch(`${app.url}/api/timesync/status`)).json();
    expect(status).toMatchObject({ demo: null, canSetTime: false, pi: { backend: 'system' } });
    expect(sandbox.callsSince(mark)).toEqual([]);
    expect(app.output()).toMatch(/No trusted subnet/);
    expect(app.output()).not.toMatch(/Demo:|simulated camera/);
  });
});
