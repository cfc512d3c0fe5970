import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exiftool, minimalJpeg, writeTags } from '../support/exiftool';
import { ClientPool, isEvent } from '../support/ws-client';

/**
 * Every shell command in a fenced ```bash / ```sh block of README.md and docs/*.md is run here, as a reader would
 * type it (the app on a free port in place of the documented address), or named below with the test or script
 * that runs it. A command in neither fails this test: the docs cannot drift from the product unseen.
 * Also: docs/configuration.md lists exactly the settings AppConfig reads, with their defaults, and docs/api.md
 * names every path Swagger serves.
 */
const REPO = join(__dirname, '..', '..');
const DOCS = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

interface DocCommand {
  file: string;
  line: number;
  text: string;
}

/** The commands of a Markdown file's bash/sh blocks: comment lines dropped, trailing `# ...` comments cut. */
export function commandsOf(file: string, markdown: string): DocCommand[] {
  const out: DocCommand[] = [];
  let inShell = false;
  let inFence = false;
  markdown.split('\n').forEach((raw, i) => {
    const fence = /^\s*```(\S*)/.exec(raw);
    if (fence) {
      if (inFence) inFence = inShell = false;
      else {
        inFence = true;
        inShell = ['bash', 'sh', 'shell', 'console'].includes(fence[1]);
      }
      return;
    }
    if (!inShell) return;
    const text = raw.replace(/(^|\s)#\s.*$/, '').trim();
    if (text) out.push({ file, line: i + 1, text });
  });
  return out;
}

const ALL = DOCS.flatMap((file) => commandsOf(file, readFileSync(join(REPO, file), 'utf8')));

/** Commands too slow or too privileged to run here, each with what runs it (a path in this repository). */
const RUN_ELSEWHERE: Array<{ pattern: RegExp; ranBy: string; why: string }> = [
  { pattern: /^\.\/test\/run\.sh$/, ranBy: '.ci/run', why: 'CI runs exactly this' },
  { pattern: /^npm install$/, ranBy: 'test/run.sh', why: 'npm ci from the same lockfile, before every suite' },
  { pattern: /^npx jest test\/e2e\/docs-commands\.e2e-spec\.ts --selectProjects e2e$/, ranBy: 'test/e2e/docs-commands.e2e-spec.ts', why: 'this very test' },
  { pattern: /^curl -fsS -H 'X-TimeSync-Upload: 1' -F 'photos=@IMG_0001\.JPG' .*\/api\/slate\/photos$/, ranBy: 'test/e2e/slate.e2e-spec.ts', why: 'needs a slate photo of the running Pi: that test makes one and runs this command' },
];

/** What a command's parts are: `a && b` is two commands, each run or named. */
const partsOf = (text: string) => text.split(/\s+&&\s+/);

// ---- running the commands ---------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'docs-commands-'));
const photos = join(work, 'photos');
const children: ChildProcess[] = [];
const phones = new ClientPool();
let demo: { url: string; serial: string } | null = null;
let sim: { url: string } | null = null;
let sessionId: string | null = null;

/** A long-running documented command, started as a shell would, until `ready` matches its output. */
function startLong(command: string, env: Record<string, string>, ready: RegExp, timeoutMs = 45_000): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn('bash', ['-c', command], { cwd: REPO, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`"${command}" was not ready in ${timeoutMs} ms:\n${output.slice(-3000)}`)), timeoutMs);
    const seen = (chunk: Buffer) => {
      output += chunk.toString().replace(/\x1b\[[0-9;]*m/g, '');
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`"${command}" exited (${code}) before it was ready:\n${output.slice(-3000)}`));
    });
  });
}

/** A short documented command in the work folder; its exit status and output. */
function runShort(command: string, timeoutMs = 30_000): Promise<{ code: number; out: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], { cwd: work, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stdout = '';
    child.stdout.on('data', (c) => {
      out += c;
      stdout += c;
    });
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`"${command}" took over ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out, stdout });
    });
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const json = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  return { status: res.status, body: (await res.json()) as any };
};

/** The app a reader started: serving, with its own data folder. */
const appEnv = (): Record<string, string> => ({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(work, 'data-')), CAMERA_DISCOVERY: 'false' });
const SERVING = /Serving the page, the API \(\/api\/docs\) and the WebSocket \(\/ws\) at (http:\/\/\S+)/;

async function needDemo(): Promise<{ url: string; serial: string }> {
  if (demo) return demo;
  throw new Error('`npm start` (the demo) must come before this command in the docs (it is what the reader has running)');
}

/** The documented address (the Pi's, or a developer's machine) replaced by the running demo's. */
const onDemo = async (cmd: string) => {
  const { url } = await needDemo();
  return cmd.replace(/http:\/\/(10\.42\.0\.1|localhost:3000)/g, url);
};

/**
 * What the first five minutes promise of `npm start` (and its alias `npm run demo`) with the simulated clock: the
 * page served, a camera connected whose clock gave the Pi its first time, then a browser on this machine trusted
 * as a phone, the Pi High and the camera synced.
 */
async function runDemo(cmd: string): Promise<void> {
  const { match } = await startLong(cmd, appEnv(), SERVING);
  const url = match[1];
  expect((await json(`${url}/api/health`)).body).toMatchObject({ ok: true });
  expect(await (await fetch(`${url}/`)).text()).toMatch(/<div id="root">/);
  const camera = await until('the demo camera connected', async () => {
    const { body } = await json(`${url}/api/camera`);
    return body.connected && body.info?.serialNumber ? body : null;
  });
  await until('the Pi set from the camera', async () => ((await json(`${url}/api/timesync/status`)).body.reliability !== 'none' ? true : null));
  // Then the reader opens the page: a client that answers the probes as the page does, on this machine.
  const phone = await phones.connect(url.replace(/^http/, 'ws') + '/ws', { offsetMs: 0 });
  await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized && f.data.source === 'client', 15_000);
  const status = await until('the camera synced after the Pi', async () => {
    const { body } = await json(`${url}/api/timesync/status`);
    return body.reliability === 'high' && body.camera?.lastSync?.success ? body : null;
  });
  expect(status.pi.backend).toBe('simulated');
  demo ??= { url, serial: camera.info.serialNumber };
}

const RUN_HERE: Array<{ pattern: RegExp; run: (cmd: string) => Promise<void> }> = [
  { pattern: /^npm start$/, run: runDemo },
  { pattern: /^npm run demo$/, run: runDemo },
  {
    pattern: /^curl http:\/\/localhost:3000\/api\/\S+$/,
    run: async (cmd) => {
      const { code, stdout } = await runShort(await onDemo(cmd));
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual(expect.any(Object));
    },
  },
  {
    pattern: /^npm run camera-sim -- --help$/,
    run: async (cmd) => {
      const { code, out } = await runShort(`cd ${JSON.stringify(REPO)} && ${cmd}`);
      expect(code).toBe(0);
      expect(out).toMatch(/Usage: npm run camera-sim -- \[options\]/);
    },
  },
  {
    pattern: /^npm run camera-sim -- (?!--help)/,
    // The documented ports may be taken on a shared machine: the same command on a free one.
    run: async (cmd) => {
      const { match } = await startLong(`${cmd} --http-port 0`, {}, /HTTP\s+(http:\/\/\S+)\/ccapi/);
      sim = { url: match[1] };
    },
  },
  {
    pattern: /^CAMERA_URL=http:\/\/127\.0\.0\.1:8080 .*npm start$/,
    run: async (cmd) => {
      if (!sim) throw new Error('the camera simulator command must come before this one');
      const { child, match } = await startLong(cmd.replace('http://127.0.0.1:8080', sim.url), appEnv(), SERVING);
      const camera = await until('the simulated camera connected', async () => ((await json(`${match[1]}/api/camera`)).body.connected ? true : null));
      expect(camera).toBe(true);
      process.kill(-child.pid!, 'SIGTERM');
    },
  },
  {
    pattern: /^curl -fsS -o (corrections|geosync)\.args 'http:\/\/10\.42\.0\.1\/api\/timesync\/corrections\?[^']+'$/,
    run: async (cmd) => {
      const { url, serial } = await needDemo();
      let real = await onDemo(cmd);
      if (/session=/.test(real)) {
        if (!sessionId) {
          // A session, as the reader would have had: started and stopped from this machine (trusted in the demo).
          const started = await json(`${url}/api/session/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
          expect(started.status).toBe(200);
          sessionId = started.body.id as string;
          const stopped = await json(`${url}/api/session/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
          expect(stopped.status).toBe(200);
        }
        real = real.replace(/session=s-[0-9a-f-]+/, `session=${sessionId}`).replace(/camera=\w+/, `camera=${serial}`);
      }
      const { code, out } = await runShort(real);
      expect({ code, out }).toEqual({ code: 0, out: '' });
      expect(readFileSync(join(work, cmd.includes('geosync') ? 'geosync.args' : 'corrections.args'), 'utf8')).toMatch(cmd.includes('geosync') ? /^-geosync=/m : /^-if$/m);
    },
  },
  {
    pattern: /^exiftool -@ (corrections|geosync)\.args .*~\/Pictures\/\S+$/,
    run: async (cmd) => {
      const { serial } = await needDemo();
      rmSync(photos, { recursive: true, force: true });
      mkdirSync(photos);
      // A photo the demo camera took long before it was set (the journal's first period, 83 s behind).
      const path = join(photos, 'IMG_0001.jpg');
      writeFileSync(path, minimalJpeg());
      const date = '2020:01:02 03:04:05';
      await writeTags([{ path, tags: { SerialNumber: serial, Make: 'Canon', DateTimeOriginal: date, SubSecTimeOriginal: '50', CreateDate: date } }], join(work, 'make.args'));
      if (cmd.includes('-geotag')) writeFileSync(join(work, 'track.gpx'), gpxAround(Date.UTC(2020, 0, 2, 3, 4, 5)));
      const { code, out } = await runShort(cmd.replace(/~\/Pictures\/\S+/, photos));
      expect(out).not.toMatch(/Error/);
      expect(code).toBe(0);
      expect(out).toMatch(/1 image files updated/);
    },
  },
];

/** A one-point-a-minute GPX track over two days around a time, so any correction lands inside it. */
function gpxAround(ms: number): string {
  const points: string[] = [];
  for (let t = ms - 86_400_000; t <= ms + 86_400_000; t += 60_000) points.push(`<trkpt lat="48.1" lon="11.5"><time>${new Date(t).toISOString().replace(/\.\d+Z$/, 'Z')}</time></trkpt>`);
  return `<?xml version="1.0"?><gpx version="1.1" creator="docs-commands"><trk><trkseg>${points.join('')}</trkseg></trk></gpx>`;
}

const ruleOf = (part: string) => RUN_HERE.find((r) => r.pattern.test(part)) ?? RUN_ELSEWHERE.find((r) => r.pattern.test(part));

afterAll(async () => {
  await phones.closeAll();
  for (const child of children) {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true });
});

describe('the commands in README.md and docs/*.md', () => {
  it('finds commands in the README and the docs', () => {
    expect(ALL.filter((c) => c.file === 'README.md').map((c) => c.text)).toEqual(expect.arrayContaining(['npm install && npm start', './test/run.sh', 'npm start']));
    expect(ALL.length).toBeGreaterThan(8);
  });

  it('every command is run here or names an existing test or script that runs it', () => {
    const orphans = ALL.flatMap((c) => partsOf(c.text).filter((p) => !ruleOf(p)).map((p) => `${c.file}:${c.line}: ${p}`));
    expect(orphans).toEqual([]);
    for (const rule of RUN_ELSEWHERE) expect(existsSync(join(REPO, rule.ranBy))).toBe(true);
  });

  // In document order: a reader runs `npm start` (the demo) before the commands that talk to it.
  const runnable = ALL.flatMap((c) => partsOf(c.text).map((part) => ({ ...c, part }))).filter((c) => RUN_HERE.some((r) => r.pattern.test(c.part)));
  it.each(runnable.map((c) => [`${c.file}:${c.line}`, c.part] as const))('%s: %s', async (_where, part) => {
    await RUN_HERE.find((r) => r.pattern.test(part))!.run(part);
  }, 60_000);
});

describe('the reference the docs hold', () => {
  it('docs/configuration.md lists exactly the settings AppConfig reads, with the defaults it has', () => {
    const source = readFileSync(join(REPO, 'backend', 'config', 'app.config.ts'), 'utf8');
    const inCode = new Map<string, string | null>();
    for (const m of source.matchAll(/^\s+([A-Z][A-Z0-9_]+)[?!]?(?::[^=;]+)?(?:\s*=\s*([^;]+))?;/gm)) inCode.set(m[1], m[2] ? m[2].trim().replace(/^'(.*)'$/, '$1').replace(/^[\d_]+$/, (n) => n.replace(/_/g, '')) : null);
    const doc = readFileSync(join(REPO, 'docs', 'configuration.md'), 'utf8');
    const inDoc = new Map<string, string>();
    for (const m of doc.matchAll(/^\| ((?:`[A-Z][A-Z0-9_]+`(?:, )?)+) \| ([^|]+) \|/gm)) for (const name of m[1].match(/[A-Z][A-Z0-9_]+/g)!) inDoc.set(name, m[2].trim());
    expect([...inDoc.keys()].sort()).toEqual([...inCode.keys()].sort());
    const wrong = [...inCode].filter(([name, value]) => value !== null && inDoc.get(name) !== `\`${value}\``).map(([name, value]) => `${name}: code ${value}, docs ${inDoc.get(name)}`);
    expect(wrong).toEqual([]);
  });

  it('docs/api.md names every path Swagger serves', async () => {
    const { url } = await needDemo();
    const spec = (await json(`${url}/api/docs-json`)).body as { paths: Record<string, Record<string, unknown>> };
    const doc = readFileSync(join(REPO, 'docs', 'api.md'), 'utf8');
    const missing = Object.entries(spec.paths)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => ({ path: path.replace(/\{(\w+)\}/g, '<$1>'), method: m.toUpperCase() })))
      // `METHOD /path`, or a bare `/path` in a row of several (the captive-portal probes).
      .filter(({ path, method }) => !doc.includes(`${method} ${path}`) && !doc.includes(`\`${path}\``))
      .map(({ path, method }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });
});
