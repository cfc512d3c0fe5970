import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCameraSim } from '../camera-sim/sim';

const REPO = join(__dirname, '..', '..');
const MAIN = join(REPO, 'test', 'camera-sim', 'main.ts');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', MAIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

describe('npm run camera-sim -- --help', () => {
  it('prints the options it advertises and exits without starting a camera', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run camera-sim -- \[options\]/);
    expect(help.stdout).not.toMatch(/ready|listening/i);
    const advertised = [...help.stdout.matchAll(/^\s+--([a-z-]+)/gm)].map((m) => m[1]);
    expect(advertised).toEqual(expect.arrayContaining(['host', 'http-port', 'https-port', 'ssdp-port', 'offset-ms', 'count', 'dst', 'user', 'password', 'help']));
    // Every option it advertises is one main.ts reads.
    const source = readFileSync(MAIN, 'utf8');
    const read = advertised.filter((name) => name !== 'help' && !source.includes(`option('${name}'`) && !source.includes(`'--${name}'`));
    expect(read).toEqual([]);
    expect(run('-h').stdout).toBe(help.stdout);
  });

  it('refuses an unknown argument with the usage, instead of starting with defaults', () => {
    const bad = run('--offest-ms', '5');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('camera-sim: unknown argument "--offest-ms"');
    expect(bad.stderr).toContain('Usage: npm run camera-sim');
  });
});

/** A simulator process, started as a user would, until its "ready" lines are out. */
async function startProcess(...args: string[]): Promise<{ child: ChildProcess; output: string; url: string; serial: string }> {
  const child = spawn(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', MAIN, '--https-port', 'off', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`camera-sim did not start: ${output}`)), 60_000);
    child.stderr!.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => reject(new Error(`camera-sim exited (${code}): ${output}`)));
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      later.set(child, output);
      const url = /HTTP\s+(http:\/\/\S+)\/ccapi/.exec(output)?.[1];
      const serial = /serial ("[^"]*")/.exec(output)?.[1];
      if (url && serial && /\n\s+clock .*\n/.test(output)) {
        clearTimeout(timer);
        resolve({ child, output, url, serial: JSON.parse(serial) as string });
      }
    });
  });
}

const children: ChildProcess[] = [];
/** Everything a simulator process printed so far (also after it was ready). */
const later = new WeakMap<ChildProcess, string>();
const output = (sim: { child: ChildProcess }) => later.get(sim.child) ?? '';
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGTERM');
});

const DATETIME = '/ccapi/ver100/functions/datetime';
const json = async (url: string, init?: RequestInit) => (await fetch(url, init)).json() as Promise<any>;

/**
 * Host instants (ms) at which the camera's displayed second ticked, seen by polling its clock over CCAPI;
 * each within a poll interval plus a round trip of the truth.
 */
async function ticks(url: string, count: number): Promise<number[]> {
  const edges: number[] = [];
  let last: { second: string; atMs: number } | null = null;
  while (edges.length < count) {
    const sentMs = Date.now();
    const { datetime } = await json(`${url}${DATETIME}`);
    const atMs = (sentMs + Date.now()) / 2;
    if (last && datetime !== last.second) edges.push((last.atMs + atMs) / 2);
    last = { second: datetime, atMs };
    await new Promise((r) => setTimeout(r, 10));
  }
  return edges;
}

describe('npm run camera-sim: separate processes, drifting clocks', () => {
  it('two simulators started alike are two cameras: distinct serial numbers, printed and served', async () => {
    const [a, b] = await Promise.all([startProcess('--http-port', '0'), startProcess('--http-port', '0')]);
    expect(a.serial).toMatch(/^\d{12}$/);
    expect(b.serial).not.toBe(a.serial);
    expect((await json(`${a.url}/ccapi/ver100/deviceinformation`)).serialnumber).toBe(a.serial);
    expect((await json(`${b.url}/ccapi/ver100/deviceinformation`)).serialnumber).toBe(b.serial);
    // A serial given still wins.
    const fixed = await startProcess('--http-port', '0', '--serial', 'GIVEN-1');
    expect(fixed.serial).toBe('GIVEN-1');
  }, 120_000);

  it('--drift-ppm: the camera clock runs fast by that much from its start, across a write of it', async () => {
    // 10 %: one second of the camera lasts 909 ms of the host, far beyond what polling over loopback can blur.
    const sim = await startProcess('--http-port', '0', '--drift-ppm', '100000');
    expect(sim.output).toMatch(/drifting \+100000 ppm \(8640\.00 s\/day\)/);
    const edges = await ticks(sim.url, 4);
    const period = (edges[3] - edges[0]) / 3;
    expect(period).toBeGreaterThan(1000 / 1.1 - 60);
    expect(period).toBeLessThan(1000 / 1.1 + 60); // no drift: 1000 ms
    // A write sets the time; the rate stays.
    const { datetime, dst } = await json(`${sim.url}${DATETIME}`);
    const put = await fetch(`${sim.url}${DATETIME}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ datetime, dst }) });
    expect(put.status).toBe(200);
    const after = await ticks(sim.url, 3);
    expect((after[2] - after[0]) / 2).toBeLessThan(1000 / 1.1 + 60);
  }, 120_000);

  it('refuses a --drift-ppm that is not a number of ppm', () => {
    const bad = run('--drift-ppm', 'fast');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('--drift-ppm must be a number of parts per million');
  });
});

describe('npm run camera-sim: it shoots', () => {
  it('a shutter press records RAW+JPEG, names both in event/polling, serves the JPEG; the console says what it photographed', async () => {
    // Pointed at an app that is not there: it photographs nothing readable (a slate needs an answering app).
    const sim = await startProcess('--http-port', '0', '--recording', 'raw+jpeg', '--shutter-lag-ms', '10', '--write-ms', '50', '--exposure', '1/500', '--slate-url', 'http://127.0.0.1:9');
    expect(sim.output).toContain('pointed at   the time slate of http://127.0.0.1:9');
    await json(`${sim.url}/ccapi/ver100/event/polling`);
    const press = await fetch(`${sim.url}/ccapi/ver100/shooting/control/shutterbutton`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"af":true}' });
    expect(press.status).toBe(200);
    let added: string[] = [];
    for (let i = 0; i < 100 && !added.length; i++) {
      added = ((await json(`${sim.url}/ccapi/ver110/event/polling?timeout=short`)) as { addedcontents?: string[] }).addedcontents ?? [];
    }
    expect(added).toEqual(['/ccapi/ver110/contents/card1/100CANON/IMG_0001.CR3', '/ccapi/ver110/contents/card1/100CANON/IMG_0001.JPG']);
    const jpeg = await fetch(`${sim.url}${added[1]}?kind=original`);
    expect([jpeg.status, jpeg.headers.get('content-type')]).toEqual([200, 'image/jpeg']);
    expect([...new Uint8Array(await jpeg.arrayBuffer()).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    await new Promise<void>((resolve) => {
      const check = () => (/took 100CANON\/IMG_0001\.CR3 \+ 100CANON\/IMG_0001\.JPG: nothing readable/.test(sim.output + output(sim)) ? resolve() : setTimeout(check, 100));
      check();
    });
  }, 120_000);

  it.each([
    [['--recording', 'tiff'], '--recording must be jpeg, raw+jpeg or raw'],
    [['--exposure', '1/0'], '--exposure must be seconds'],
    [['--slate-url', 'localhost:3000'], '--slate-url must be'],
  ])('refuses %j', (args, message) => {
    const bad = run(...args);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(message);
  });
});

describe('startCameraSim({ driftPpm })', () => {
  it('+100 ppm gains 0.1 ms per second of the host, before and after a write of its clock', async () => {
    const sim = await startCameraSim({ httpsPort: false, driftPpm: 100 });
    const gain = async (ms: number) => {
      const t0 = Date.now();
      const e0 = sim.clock.errorMs();
      await new Promise((r) => setTimeout(r, ms));
      const t1 = Date.now();
      return (sim.clock.errorMs() - e0) / ((t1 - t0) / 1000);
    };
    try {
      // The instants are bracketed to the millisecond: 1e-4 of a few ms of scheduling is nothing; no drift gives 0.
      const fromStart = await gain(3000);
      expect(fromStart).toBeGreaterThan(0.095);
      expect(fromStart).toBeLessThan(0.105);
      const { datetime, dst } = sim.clock.read();
      const put = await fetch(`${sim.httpUrl}${DATETIME}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ datetime, dst }) });
      expect(put.status).toBe(200);
      const afterWrite = await gain(2000);
      expect(afterWrite).toBeGreaterThan(0.095);
      expect(afterWrite).toBeLessThan(0.105);
    } finally {
      await sim.close();
    }
  }, 30_000);
});
