// `npm run demo`: a simulated Canon camera and the app, wired together, so a newcomer sees a camera.
// The app runs with the simulated Pi clock (the host's clock is never touched); the local browser counts as
// an access-point client (AP_SUBNETS=127.0.0.1/32,::1/128) so it can give the Pi its time. Ctrl-C stops both.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const port = process.env.PORT ?? '3000';
const host = process.env.HOST ?? '127.0.0.1';
const cameraOffsetMs = process.env.DEMO_CAMERA_OFFSET_MS ?? '-83400';
// A camera clock that runs fast or slow (ppm), to watch a drift figure become known.
const cameraDriftPpm = process.env.DEMO_CAMERA_DRIFT_PPM ?? '0';

if (!existsSync(join(root, 'dist/backend/main.js')) || !existsSync(join(root, 'dist/frontend/index.html'))) {
  console.log('Building first (dist/ is missing)...');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

const children = new Set();
let stopping = false;

function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const child of children) child.kill('SIGKILL');
  }, 3000);
  force.unref();
  const wait = () => (children.size ? setTimeout(wait, 50) : process.exit(code));
  wait();
}

function start(name, args, env = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', (code, signal) => {
    children.delete(child);
    if (!stopping) {
      console.error(`${name} stopped (${signal ?? `exit code ${code}`}); stopping the demo.`);
      stop(code || 1);
    }
  });
  return child;
}

process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

// 1. The camera, on a free port; its clock starts off by DEMO_CAMERA_OFFSET_MS so a sync has work to do.
const tsNode = require.resolve('ts-node/dist/bin.js');
const camera = start('The camera simulator', [tsNode, '--transpile-only', 'test/camera-sim/main.ts', '--http-port', process.env.DEMO_CAMERA_PORT ?? '0', '--https-port', 'off', '--offset-ms', cameraOffsetMs, '--drift-ppm', cameraDriftPpm]);
const cameraUrl = await new Promise((resolve) => {
  let buffered = '';
  camera.stdout.on('data', (chunk) => {
    process.stdout.write(`[camera] ${chunk}`.replace(/\n(?=.)/g, '\n[camera] '));
    buffered += chunk;
    const match = /HTTP\s+(http:\/\/\S+)\/ccapi/.exec(buffered);
    if (match) resolve(match[1]);
  });
});

// 2. The app, pointed at it.
const app = start('The app', ['dist/backend/main.js'], {
  CAMERA_URL: cameraUrl,
  CAMERA_DISCOVERY: 'false',
  AP_SUBNETS: '127.0.0.1/32,::1/128',
  CLOCK_BACKEND: process.env.CLOCK_BACKEND ?? 'simulated',
  PORT: port,
  HOST: host,
});
app.stdout.pipe(process.stdout);

const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
console.log(
  `\nDemo: open http://${shown}:${port}/ in a browser on this machine (API docs: /api/docs).\n` +
    `The simulated camera is at ${cameraUrl}/ccapi; its clock starts ${(Number(cameraOffsetMs) / 1000).toFixed(1)} s off${Number(cameraDriftPpm) ? ` and drifts ${cameraDriftPpm} ppm` : ''}.\n` +
    `Try: curl -X POST http://${shown}:${port}/api/timesync/camera   and   curl http://${shown}:${port}/api/camera\n` +
    'Ctrl-C stops both.\n',
);
