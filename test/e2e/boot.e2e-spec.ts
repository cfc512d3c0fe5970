import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'backend', 'main.js');

describe('Boot (the built server, as `npm start` runs it)', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first`);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT="eighty"/],
    [{ CLOCK_BACKEND: 'sundial' }, /CLOCK_BACKEND="sundial".*simulated, system/],
    [{ AP_SUBNETS: '10.42.0.0/99' }, /AP_SUBNETS/],
    [{ TIME_SYNC_INTERVAL: '-1' }, /TIME_SYNC_INTERVAL/],
    // The demo trusts loopback and starts a simulated camera: never on the Pi's real clock.
    [{ CLOCK_BACKEND: 'system', DEMO: 'true' }, /DEMO=true.*CLOCK_BACKEND=simulated/],
  ])('stops on %p with a message naming the variable', (env, message) => {
    const run = spawnSync(process.execPath, [MAIN], { env: { ...process.env, CAMERA_DISCOVERY: 'false', ...env }, encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Invalid configuration/);
    expect(run.stderr).toMatch(message);
  });

  it('npm run demo (test/demo.mjs, the built server as `npm start` runs it): says the demo, serves its camera, stops on SIGTERM', async () => {
    const env: Record<string, string | undefined> = { ...process.env, PORT: '0', DATA_DIR: mkdtempSync(join(tmpdir(), 'demo-boot-')), AP_INTERFACE: 'tsdemo-none0', NO_COLOR: '1' };
    delete env.FORCE_COLOR;
    for (const name of ['DEMO', 'AP_SUBNETS', 'CAMERA_URL', 'CLOCK_BACKEND']) delete env[name];
    const child = spawn(process.execPath, [join(__dirname, '..', 'demo.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const end = Date.now() + 20_000;
      while (!(/Demo: a simulated camera at (\S+),/.test(out) && /The page: (http:\/\/\S+)/.test(out)) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(out).toMatch(/Demo: this machine's own browser counts as a phone on the access point/);
      const cameraUrl = /Demo: a simulated camera at (\S+),/.exec(out)![1];
      const info = await (await fetch(`${cameraUrl}/ver100/deviceinformation`)).json();
      expect(info).toMatchObject({ serialnumber: '083021009000' });
      const page = /The page: (http:\/\/\S+)/.exec(out)![1].replace('localhost', '127.0.0.1');
      const status = (await (await fetch(`${page}api/timesync/status`)).json()) as { demo: unknown };
      expect(status.demo).toMatchObject({ cameraUrl, loopbackTrusted: true, thisBrowserTrusted: true });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
