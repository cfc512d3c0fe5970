// `npm run bench:install`: the release bundle and kiosk/install.sh, measured on this machine.
//   - the bundle: archive size, unpacked size and files, time to make it;
//   - install time from the bundle into a root sandbox (test/kiosk/sandbox: an overlay of this machine's
//     root in private namespaces; no Debian packages are installed: --no-packages), first install and update;
//   - peak memory of the install: every process in the sandbox but the running service, summed, sampled
//     every 20 ms (the health check's server included), and the largest single process;
//   - idle memory of the installed server (RSS, PSS) and of headless Chromium showing the page at 800x480.
// Needs root (namespaces); says so and stops otherwise. `-- --chromium-only` measures Chromium alone, with
// BENCH_CHROMIUM_FLAGS added to its flags (to try what saves memory).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { testBundles, VERSIONS } from '../kiosk/bundles';
import { RootSandbox, sandboxMissing } from '../kiosk/sandbox/root-sandbox';
import { table } from './report';

const REPO = join(__dirname, '..', '..');
const INSTALL = join(REPO, 'kiosk', 'install.sh');
const RUNS = Number(process.env.BENCH_INSTALL_RUNS ?? 3);


const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mb = (kb: number) => (kb / 1024).toFixed(1);

/** kB of VmRSS, or 0 for a process that is gone. */
function rssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function pids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

function nsOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** Samples the processes of a PID namespace (minus `except`) until stopped: the peak of their summed RSS. */
function sampleNamespace(ns: string, except: (cmd: string) => boolean): { stop(): { peakSumKb: number; peakOneKb: number; peakOneWhat: string } } {
  let peakSumKb = 0;
  let peakOneKb = 0;
  let peakOneWhat = '';
  const timer = setInterval(() => {
    let sum = 0;
    for (const pid of pids()) {
      if (nsOf(pid) !== ns) continue;
      const cmd = cmdline(pid);
      if (except(cmd)) continue;
      const kb = rssKb(pid);
      sum += kb;
      if (kb > peakOneKb) {
        peakOneKb = kb;
        peakOneWhat = cmd.split(' ').slice(0, 2).join(' ');
      }
    }
    peakSumKb = Math.max(peakSumKb, sum);
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return { peakSumKb, peakOneKb, peakOneWhat };
    },
  };
}

/** The running service, as installed: `node /opt/pi-camera-timesync/current/dist/backend/main.js`. */
const isService = (cmd: string) => cmd.includes('/opt/pi-camera-timesync/current/dist/backend/main.js');

interface InstallFigures {
  firstMs: number;
  updateMs: number;
  firstPeak: { peakSumKb: number; peakOneKb: number; peakOneWhat: string };
  updatePeak: { peakSumKb: number; peakOneKb: number; peakOneWhat: string };
  serverRssKb: number;
  serverPssKb: number;
}

async function measureInstall(bundles: ReturnType<typeof testBundles>): Promise<InstallFigures> {
  const sandbox = await RootSandbox.start();
  try {
    sandbox.ok(['mkdir', '/tmp/bundles']);
    sandbox.copyIn(bundles.a, '/tmp/bundles/a.tar.gz');
    sandbox.copyIn(bundles.b, '/tmp/bundles/b.tar.gz');
    const ns = nsOf(sandbox.pid)!;
    const timed = async (args: string[]) => {
      const sampler = sampleNamespace(ns, isService);
      const t0 = performance.now();
      const r = await sandbox.execAsync([INSTALL, ...args]);
      const ms = performance.now() - t0;
      const peak = sampler.stop();
      if (r.status !== 0) throw new Error(`install.sh ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
      return { ms, peak };
    };
    const first = await timed(['/tmp/bundles/a.tar.gz', '--kiosk=cage', '--no-packages', '--yes']);
    // Idle: the service a few seconds after its start.
    await new Promise((r) => setTimeout(r, 5000));
    const servicePid = pids().find((pid) => nsOf(pid) === ns && isService(cmdline(pid)));
    if (!servicePid) throw new Error('the installed service is not running');
    const serverRssKb = rssKb(servicePid);
    const serverPssKb = pssKb(servicePid);
    const update = await timed(['/tmp/bundles/b.tar.gz', '--no-packages']);
    return { firstMs: first.ms, updateMs: update.ms, firstPeak: first.peak, updatePeak: update.peak, serverRssKb, serverPssKb };
  } finally {
    await sandbox.stop();
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/** The bundle's server (outside the sandbox) with headless Chromium on its page at 800x480; idle memory of the browser's processes. */
async function measureChromium(bundle: string): Promise<{ rssKb: number; pssKb: number; processes: number } | string> {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) return `no ${chromium}`;
  const work = mkdtempSync(join(tmpdir(), 'bench-chromium-'));
  spawnSync('tar', ['-xzf', bundle, '-C', work]);
  const top = join(work, `pi-camera-timesync-${VERSIONS.a}`);
  const port = await freePort();
  const server = spawn(process.execPath, [join(top, 'dist', 'backend', 'main.js')], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', CLOCK_BACKEND: 'simulated', DEMO: 'false', CAMERA_DISCOVERY: 'false', DATA_DIR: join(work, 'data'), AP_SUBNETS: '' },
    stdio: 'ignore',
  });
  let browser: ReturnType<typeof spawn> | undefined;
  try {
    for (let i = 0; i < 100; i++) {
      if (spawnSync('curl', ['-sf', `http://127.0.0.1:${port}/api/health`]).status === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The kiosk's flags that apply headless (no Wayland here), at the kiosk's size.
    browser = spawn(
      chromium,
      [
        '--headless',
        '--disable-gpu',
        ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
        '--window-size=800,480',
        `--user-data-dir=${join(work, 'profile')}`,
        '--no-first-run',
        '--noerrdialogs',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--password-store=basic',
        '--check-for-update-interval=31536000',
        ...(process.env.BENCH_CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean),
        `http://127.0.0.1:${port}/`,
      ],
      { stdio: 'ignore' },
    );
    await new Promise((r) => setTimeout(r, 10_000));
    const tree = new Set<number>([browser.pid!]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const pid of pids()) {
        if (tree.has(pid)) continue;
        try {
          const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
          if (tree.has(ppid)) {
            tree.add(pid);
            grew = true;
          }
        } catch {
          // gone
        }
      }
    }
    let rss = 0;
    let pss = 0;
    for (const pid of tree) {
      rss += rssKb(pid);
      pss += pssKb(pid);
    }
    return { rssKb: rss, pssKb: pss, processes: tree.size };
  } finally {
    browser?.kill('SIGTERM');
    server.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(work, { recursive: true, force: true });
  }
}

function unpacked(bundle: string): { kb: number; files: number } {
  const work = mkdtempSync(join(tmpdir(), 'bench-unpack-'));
  try {
    spawnSync('tar', ['-xzf', bundle, '-C', work]);
    const du = spawnSync('du', ['-sk', work], { encoding: 'utf8' }).stdout;
    const files = spawnSync('sh', ['-c', `find "${work}" -type f | wc -l`], { encoding: 'utf8' }).stdout;
    return { kb: Number(du.split('\t')[0]), files: Number(files.trim()) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--chromium-only')) {
    const r = await measureChromium(testBundles().a);
    console.log(typeof r === 'string' ? r : `Chromium ${r.processes} processes: RSS ${mb(r.rssKb)} MB, PSS ${mb(r.pssKb)} MB`);
    return;
  }
  const lacking = sandboxMissing();
  if (lacking.length) {
    console.error(`bench:install needs ${lacking.join(', ')}: not measured`);
    process.exit(1);
  }
  console.log('\n## Release bundle (npm run package)\n');
  const out = mkdtempSync(join(tmpdir(), 'bench-package-'));
  const t0 = performance.now();
  const made = spawnSync('bash', [join(REPO, 'kiosk', 'package.sh'), '--no-build', '--out', out], { encoding: 'utf8', env: { ...process.env, PACKAGE_VERSION: 'bench' } });
  const packageMs = performance.now() - t0;
  if (made.status !== 0) throw new Error(`package.sh failed: ${made.stderr}`);
  rmSync(out, { recursive: true, force: true });
  const bundles = testBundles();
  const archiveKb = statSync(bundles.a).size / 1024;
  const { kb, files } = unpacked(bundles.a);
  console.log(
    table([
      ['figure', 'measured'],
      ['archive (.tar.gz)', `${mb(archiveKb)} MB`],
      ['unpacked', `${mb(kb)} MB, ${files} files`],
      ['npm run package -- --no-build', `${(packageMs / 1000).toFixed(1)} s`],
    ]),
  );

  console.log(`\n## kiosk/install.sh from the bundle, in a root sandbox (median of ${RUNS}; --no-packages)\n`);
  const runs: InstallFigures[] = [];
  for (let i = 0; i < RUNS; i++) {
    runs.push(await measureInstall(bundles));
    process.stderr.write(`install run ${i + 1}/${RUNS}\n`);
  }
  const pick = (f: (r: InstallFigures) => number) => median(runs.map(f));
  const worst = (f: (r: InstallFigures) => number) => Math.max(...runs.map(f));
  const peakInstallKb = worst((r) => Math.max(r.firstPeak.peakSumKb, r.updatePeak.peakSumKb));
  console.log(
    table([
      ['figure', 'measured', 'goal', 'met'],
      ['first install (unpack, users, health check, units, start, check)', `${(pick((r) => r.firstMs) / 1000).toFixed(1)} s`, '', ''],
      ['update to a second bundle (the same, plus restart)', `${(pick((r) => r.updateMs) / 1000).toFixed(1)} s`, '', ''],
      ['peak memory of the install, all its processes summed (worst run)', `${mb(peakInstallKb)} MB`, '< 150 MB', peakInstallKb < 150 * 1024 ? 'yes' : 'NO'],
      [`largest single process (${/\/versions\//.test(runs[0].firstPeak.peakOneWhat) ? "the health check's server" : runs[0].firstPeak.peakOneWhat})`, `${mb(worst((r) => Math.max(r.firstPeak.peakOneKb, r.updatePeak.peakOneKb)))} MB`, '', ''],
      ['peak during an update, the running service left out', `${mb(worst((r) => r.updatePeak.peakSumKb))} MB`, '', ''],
      ['idle server from the bundle, RSS / PSS', `${mb(pick((r) => r.serverRssKb))} / ${mb(pick((r) => r.serverPssKb))} MB`, '', ''],
    ]),
  );

  console.log('\n## Headless Chromium on the page at 800x480, 10 s after loading (all its processes)\n');
  const browser = await measureChromium(bundles.a);
  if (typeof browser === 'string') console.log(`not measured: ${browser}`);
  else {
    console.log(
      table([
        ['figure', 'measured'],
        [`Chromium, ${browser.processes} processes, RSS summed`, `${mb(browser.rssKb)} MB`],
        ['Chromium, PSS summed (shared pages counted once)', `${mb(browser.pssKb)} MB`],
        ['server + Chromium, PSS', `${mb(browser.pssKb + pick((r) => r.serverPssKb))} MB`],
      ]),
    );
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
