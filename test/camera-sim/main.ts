/**
 * `npm run camera-sim -- [options]`: a simulated Canon camera speaking CCAPI, for trying the product without one.
 * `--help` prints USAGE below and exits without starting anything.
 *
 *   --host ADDR            address to listen on (CAMERA_SIM_HOST, default 127.0.0.1)
 *   --http-port N          CCAPI over HTTP (CAMERA_SIM_HTTP_PORT, default 8080; 0 = any free port)
 *   --https-port N|off     CCAPI over HTTPS, self-signed (CAMERA_SIM_HTTPS_PORT, default 8443)
 *   --ssdp-port N|off      SSDP responder, unicast (CAMERA_SIM_SSDP_PORT, default off)
 *   --description-port N   UPnP description (CAMERA_SIM_DESCRIPTION_PORT, default 0)
 *   --offset-ms N          camera clock minus host clock at start (CAMERA_SIM_OFFSET_MS, default 0)
 *   --std-offset +hhmm     the camera's zone setting (default +0000), --dst to start with DST on
 *   --latency-ms N         added round-trip latency per request (CAMERA_SIM_LATENCY_MS)
 *   --user U --password P  require Digest authentication (CAMERA_SIM_USER / CAMERA_SIM_PASSWORD)
 *   --drift-ppm N          the camera's clock runs N ppm fast (negative: slow) from its start (CAMERA_SIM_DRIFT_PPM)
 *   --count N              N cameras (CAMERA_SIM_COUNT, default 1): camera i listens on each port + i (a port
 *                          of 0 stays 0) and starts i x 7.3 s further off
 *   --serial S             the serial number it reports (CAMERA_SIM_SERIAL), any text: for trying hostile values;
 *                          default: one per HTTP port (0830210 + the port), random with --http-port 0, so that
 *                          separate processes are separate cameras
 *   --product-name NAME    the product name it reports (CAMERA_SIM_PRODUCT_NAME, default Canon EOS R50)
 *   --slate-url URL        the app whose time slate the camera is pointed at (CAMERA_SIM_SLATE_URL, default none)
 *   --shutter-lag-ms N     press to shutter opening (CAMERA_SIM_SHUTTER_LAG_MS, default 80)
 *   --exposure S           exposure time, s or 1/N (CAMERA_SIM_EXPOSURE, default 1/250)
 *   --write-ms N           shutter closed to file on the card (CAMERA_SIM_WRITE_MS, default 400)
 *   --recording R          jpeg, raw+jpeg or raw (CAMERA_SIM_RECORDING, default jpeg)
 */
import { randomInt } from 'node:crypto';
import { CameraSim, SimRecording, startCameraSim } from './sim';
import { slateOfApp } from '../../backend/dev/camera-sim/sim-photo';

/** What `--help` prints: the options below, each read by `option()` in this file (a test checks both). */
export const USAGE = `Usage: npm run camera-sim -- [options]

A simulated Canon camera speaking CCAPI (HTTP and HTTPS), for trying Pi Camera TimeSync without one.

Options (each also from the environment variable in brackets):
  --host ADDR            address to listen on [CAMERA_SIM_HOST] (default 127.0.0.1)
  --http-port N          CCAPI over HTTP [CAMERA_SIM_HTTP_PORT] (default 8080; 0 = any free port)
  --https-port N|off     CCAPI over HTTPS, self-signed [CAMERA_SIM_HTTPS_PORT] (default 8443)
  --ssdp-port N|off      SSDP responder, unicast [CAMERA_SIM_SSDP_PORT] (default off)
  --description-port N   UPnP description [CAMERA_SIM_DESCRIPTION_PORT] (default 0: any free port)
  --offset-ms N          camera clock minus host clock at start, ms [CAMERA_SIM_OFFSET_MS] (default 0)
  --std-offset +hhmm     the camera's zone setting [CAMERA_SIM_STD_OFFSET] (default +0000)
  --dst                  start with the camera's DST flag on
  --latency-ms N         added round-trip latency per request, ms [CAMERA_SIM_LATENCY_MS]
  --drift-ppm N          the camera's clock runs N ppm fast (negative: slow) from its start, on every read and
                         write of it [CAMERA_SIM_DRIFT_PPM] (default 0; +100 gains 8.64 s a day)
  --user U               require Digest authentication with this user [CAMERA_SIM_USER]
  --password P           ... and this password [CAMERA_SIM_PASSWORD]
  --count N              N cameras, 1 to 16 [CAMERA_SIM_COUNT] (default 1): camera i listens on each port + i
                         (a port of 0 stays 0) and starts i x 7.3 s further off
  --serial S             the serial number it reports [CAMERA_SIM_SERIAL] (camera i > 0: S-i), any text, for
                         trying what a hostile camera could send (JSON escapes like \\n are read: --serial 'A\\nB').
                         Default: 0830210 and the camera's HTTP port (083021008080), or random digits with
                         --http-port 0, so that two simulators are two cameras; printed at start
  --product-name NAME    the product name it reports [CAMERA_SIM_PRODUCT_NAME] (default Canon EOS R50), escapes as --serial
  --slate-url URL        what the camera photographs when its shutter is pressed (measure by photo): the time
                         slate of the app at URL, e.g. http://127.0.0.1:3000, as a screen showing /slate would
                         show it at that instant (the Pi's time from GET /api/slate) [CAMERA_SIM_SLATE_URL].
                         Without it the camera photographs nothing readable (a grey scene)
  --shutter-lag-ms N     from the shutter press to the opening of the shutter, ms [CAMERA_SIM_SHUTTER_LAG_MS] (default 80)
  --exposure S           exposure time, seconds or 1/N, written as ExposureTime [CAMERA_SIM_EXPOSURE] (default 1/250)
  --write-ms N           from the shutter closing to the file on the card (event/polling addedcontents), ms
                         [CAMERA_SIM_WRITE_MS] (default 400)
  --recording R          what a shot records: jpeg, raw+jpeg (IMG_nnnn.CR3 and .JPG) or raw [CAMERA_SIM_RECORDING]
                         (default jpeg)
  --help, -h             print this and exit

Then start the app with CAMERA_URL=http://127.0.0.1:8080 (without it, \`npm start\` with the simulated clock
starts a simulated camera of its own: the demo, see DEMO in the README).`;

/** Options that take a value, and flags. */
const VALUED = [
  'host',
  'http-port',
  'https-port',
  'ssdp-port',
  'description-port',
  'offset-ms',
  'std-offset',
  'latency-ms',
  'drift-ppm',
  'user',
  'password',
  'count',
  'serial',
  'product-name',
  'slate-url',
  'shutter-lag-ms',
  'exposure',
  'write-ms',
  'recording',
];
const FLAGS = ['dst', 'help'];

/** The first thing on the command line that is not an option of this simulator, if any. */
function unknownArgument(argv: string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') continue;
    const name = arg.startsWith('--') ? arg.slice(2) : null;
    if (name !== null && VALUED.includes(name)) i++;
    else if (name === null || !FLAGS.includes(name)) return arg;
  }
  return null;
}

function option(name: string, env: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  return process.env[env];
}

function port(value: string | undefined, fallback: number | false): number | false {
  if (value === undefined || value === '') return fallback;
  if (value === 'off' || value === 'false') return false;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`not a port: ${value}`);
  return n;
}

function minutes(offset: string | undefined): number {
  if (!offset) return 0;
  const m = /^([+-])(\d\d)(\d\d)$/.exec(offset);
  if (!m) throw new Error(`--std-offset must look like +0100 or -0800, not ${offset}`);
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

async function main(): Promise<void> {
  const count = Number(option('count', 'CAMERA_SIM_COUNT') ?? 1);
  if (!Number.isInteger(count) || count < 1 || count > 16) throw new Error(`--count must be 1 to 16, not ${option('count', 'CAMERA_SIM_COUNT')}`);
  const sims: CameraSim[] = [];
  for (let i = 0; i < count; i++) sims.push(await startOne(i));
  const stop = async () => {
    await Promise.all(sims.map((sim) => sim.close()));
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** Text given on a command line with JSON string escapes (`\n`, `\u0000`) read, so any value can be typed. */
function unescaped(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(`"${value.replace(/"/g, '\\"')}"`) as string;
  } catch {
    return value;
  }
}

/**
 * Two simulators started alike must be two cameras (the app takes one serial number for one body): the
 * serial follows the HTTP port, which no other process can hold; a port picked by the system is not known
 * yet, so then random digits (09...: never one of the port-derived 0830210...).
 */
function defaultSerial(httpPort: number): string {
  if (httpPort) return `0830210${String(httpPort).padStart(5, '0')}`;
  return `09${String(randomInt(0, 1e10)).padStart(10, '0')}`;
}

function driftPpm(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  const n = Number(value);
  // 10^5 ppm (10 %) is far beyond any quartz clock; more would only be a typo.
  if (!Number.isFinite(n) || Math.abs(n) > 100_000) throw new Error(`--drift-ppm must be a number of parts per million between -100000 and 100000, not ${value}`);
  return n;
}

function milliseconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 60_000) throw new Error(`--${name} must be a number of milliseconds from 0 to 60000, not ${value}`);
  return n;
}

/** `1/250`, `0.004` or `2` (seconds). */
function exposure(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const m = /^1\/(\d+(?:\.\d+)?)$/.exec(value);
  const s = m ? 1 / Number(m[1]) : Number(value);
  if (!Number.isFinite(s) || s <= 0 || s > 30) throw new Error(`--exposure must be seconds (0.004) or 1/N (1/250), at most 30 s, not ${value}`);
  return s;
}

function recording(value: string | undefined): SimRecording | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'jpeg' || value === 'raw+jpeg' || value === 'raw') return value;
  throw new Error(`--recording must be jpeg, raw+jpeg or raw, not ${value}`);
}

function slateUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`--slate-url must be the app's address, e.g. http://127.0.0.1:3000, not ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--slate-url must be an http:// or https:// address, not ${value}`);
  return value;
}

async function startOne(index: number): Promise<CameraSim> {
  const given = unescaped(option('serial', 'CAMERA_SIM_SERIAL'));
  const user = option('user', 'CAMERA_SIM_USER');
  const latency = option('latency-ms', 'CAMERA_SIM_LATENCY_MS');
  const shift = (p: number | false) => (p === false || p === 0 ? p : p + index);
  const httpPort = (shift(port(option('http-port', 'CAMERA_SIM_HTTP_PORT'), 8080)) || 0) as number;
  const serial = given === undefined ? defaultSerial(httpPort) : index ? `${given}-${index}` : given;
  const slate = slateUrl(option('slate-url', 'CAMERA_SIM_SLATE_URL'));
  const sim = await startCameraSim({
    host: option('host', 'CAMERA_SIM_HOST') ?? '127.0.0.1',
    httpPort,
    httpsPort: shift(port(option('https-port', 'CAMERA_SIM_HTTPS_PORT'), 8443)),
    ssdpPort: shift(port(option('ssdp-port', 'CAMERA_SIM_SSDP_PORT'), false)),
    descriptionPort: (shift(port(option('description-port', 'CAMERA_SIM_DESCRIPTION_PORT'), 0)) || 0) as number,
    clockOffsetMs: Number(option('offset-ms', 'CAMERA_SIM_OFFSET_MS') ?? 0) + index * 7_300,
    stdOffsetMinutes: minutes(option('std-offset', 'CAMERA_SIM_STD_OFFSET')),
    dst: process.argv.includes('--dst'),
    latencyMs: latency ? Number(latency) : undefined,
    driftPpm: driftPpm(option('drift-ppm', 'CAMERA_SIM_DRIFT_PPM')),
    auth: user ? { user, password: option('password', 'CAMERA_SIM_PASSWORD') ?? '' } : null,
    serialNumber: serial,
    productName: unescaped(option('product-name', 'CAMERA_SIM_PRODUCT_NAME')),
    slate: slate ? slateOfApp(slate) : null,
    shutterLagMs: milliseconds('shutter-lag-ms', option('shutter-lag-ms', 'CAMERA_SIM_SHUTTER_LAG_MS')),
    exposureSeconds: exposure(option('exposure', 'CAMERA_SIM_EXPOSURE')),
    writeMs: milliseconds('write-ms', option('write-ms', 'CAMERA_SIM_WRITE_MS')),
    recording: recording(option('recording', 'CAMERA_SIM_RECORDING')),
  });
  const lines = [
    `Simulated Canon camera ${index + 1} (CCAPI, serial ${JSON.stringify(serial)}) ready:`,
    `  HTTP         ${sim.httpUrl}/ccapi`,
    sim.httpsUrl ? `  HTTPS        ${sim.httpsUrl}/ccapi (self-signed)` : null,
    `  description  ${sim.descriptionUrl}`,
    sim.ssdp ? `  SSDP         udp ${sim.ssdp.address}:${sim.ssdp.port}` : null,
    `  pointed at   ${slate ? `the time slate of ${slate}` : 'nothing readable (--slate-url to photograph a time slate)'}`,
    `  clock        ${sim.clock.read().datetime} (dst ${sim.clock.dst}), ${Math.round(sim.clock.errorMs())} ms off the host${sim.clock.driftPpm ? `, drifting ${sim.clock.driftPpm > 0 ? '+' : ''}${sim.clock.driftPpm} ppm (${((sim.clock.driftPpm * 86_400) / 1e6).toFixed(2)} s/day)` : ''}`,
  ];
  console.log(lines.filter(Boolean).join('\n'));
  let lastPuts = 0;
  let lastShots = 0;
  const report = setInterval(() => {
    for (const shot of sim.shots.slice(lastShots)) {
      console.log(`camera ${index + 1} took ${shot.files.join(' + ')}: ${shot.code ? `the slate ${shot.code}` : 'nothing readable'}, its clock ${Math.round(shot.clockErrorMs)} ms off the host`);
    }
    lastShots = sim.shots.length;
    const puts = sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/datetime') && r.status === 200).length;
    if (puts !== lastPuts) console.log(`camera ${index + 1} clock set: now ${sim.clock.read().datetime} (dst ${sim.clock.dst}), ${Math.round(sim.clock.errorMs())} ms off the host`);
    lastPuts = puts;
  }, 1000);
  report.unref();
  return sim;
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const unknown = unknownArgument(args);
if (unknown !== null) {
  console.error(`camera-sim: unknown argument ${JSON.stringify(unknown)}\n\n${USAGE}`);
  process.exit(2);
}
main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
