/**
 * The kiosk page's memory in each browser engine this machine has, in the same run: the proportional set
 * size (PSS, /proc/<pid>/smaps_rollup: shared pages split between their users) summed over every process of
 * the browser's tree, showing the Pi's own screen (/?kiosk=<secret>) of the real app, after its WebSocket is
 * open and the sum has settled. Chromium with the launcher's flags, then with kiosk-lib.sh's low-memory flags
 * too (what install.sh writes on a Pi under 1 GB), then WPE WebKit's cog (its headless platform), with and
 * without its JIT. `npm run bench` prints it; `ts-node test/bench/kiosk-memory.bench.ts` alone.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, ensureFrontendBuilt, REPO } from '../browser/browser';
import { startApp } from '../support/app';
import { runWhenMain } from './report';

const COG = process.env.COG_PATH ?? '/usr/bin/cog';
const KIOSK_LIB = join(REPO, 'kiosk', 'kiosk-lib.sh');

/** The flags kiosk/launch-kiosk.sh gives Chromium (less the Wayland platform), headless at 800x480. */
const LAUNCHER_FLAGS = [
  '--kiosk', '--noerrdialogs', '--disable-infobars', '--no-first-run', '--disable-session-crashed-bubble', '--touch-events=enabled',
  '--disable-pinch', '--overscroll-history-navigation=0', '--check-for-update-interval=31536000', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--password-store=basic',
];

export interface EngineMemory {
  engine: string;
  /** PSS summed over the browser's processes, MiB, once settled; null when the engine is not here. */
  pssMb: number | null;
  processes: number;
  viewport: string;
  note: string;
}

export function lowMemoryFlags(): string[] {
  return execFileSync('sh', ['-c', `. '${KIOSK_LIB}'; chromium_low_memory_flags`], { encoding: 'utf8' }).trim().split(/\s+/);
}

/** Every process whose parent chain reaches root (root included). */
function tree(root: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p && hops < 64; p = parent.get(p), hops++) if (p === root) return true;
    return false;
  };
  return [...parent.keys()].filter(inTree);
}

function pssKb(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts the browser, waits for the page's WebSocket upgrade at the server, then samples the tree's PSS
 * every 500 ms until three samples in a row are within 2 % of each other (at most 30 s): that settled sum.
 */
export async function measure(server: Server, start: () => ChildProcess): Promise<{ pssMb: number; processes: number }> {
  let upgraded = false;
  const onUpgrade = () => (upgraded = true);
  server.on('upgrade', onUpgrade);
  const child = start();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    const deadline = Date.now() + 30_000;
    while (!upgraded) {
      if (child.exitCode !== null) throw new Error(`the browser exited (${child.exitCode}) before the page connected`);
      if (Date.now() > deadline) throw new Error('the page did not open its WebSocket within 30 s');
      await sleep(100);
    }
    const samples: Array<{ kb: number; processes: number }> = [];
    const settleBy = Date.now() + 30_000;
    for (;;) {
      await sleep(500);
      const pids = tree(child.pid!);
      samples.push({ kb: pids.reduce((sum, pid) => sum + pssKb(pid), 0), processes: pids.length });
      const last = samples.slice(-3).map((s) => s.kb);
      if ((last.length === 3 && Math.max(...last) <= Math.min(...last) * 1.02) || Date.now() > settleBy) break;
    }
    const final = samples[samples.length - 1];
    return { pssMb: final.kb / 1024, processes: final.processes };
  } finally {
    server.off('upgrade', onUpgrade);
    if (child.exitCode === null) {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // gone
      }
      await Promise.race([exited, sleep(5000)]);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

export async function measureKioskMemory(): Promise<EngineMemory[]> {
  ensureFrontendBuilt();
  const app = await startApp();
  const work = mkdtempSync(join(tmpdir(), 'kiosk-memory-'));
  const rows: EngineMemory[] = [];
  try {
    const token = readFileSync(join(app.dataDir, 'kiosk-token'), 'utf8').trim();
    const url = `${app.url}/?kiosk=${token}`;
    const server = app.app.getHttpServer() as Server;
    const chromium = (name: string, extra: string[], note: string) => async () => {
      if (!existsSync(CHROMIUM)) return rows.push({ engine: name, pssMb: null, processes: 0, viewport: '', note: `${CHROMIUM} missing (apt-get install chromium)` });
      const profile = mkdtempSync(join(work, 'profile-'));
      const r = await measure(server, () =>
        spawn(CHROMIUM, [...LAUNCHER_FLAGS, ...extra, '--headless', '--ozone-platform=headless', '--no-sandbox', '--window-size=800,480', `--user-data-dir=${profile}`, url], { detached: true, stdio: 'ignore' }),
      );
      rows.push({ engine: name, ...r, viewport: '800x480', note });
    };
    const cog = (name: string, env: Record<string, string>, note: string) => async () => {
      if (!existsSync(COG)) return rows.push({ engine: name, pssMb: null, processes: 0, viewport: '', note: `${COG} missing (apt-get install cog)` });
      const r = await measure(server, () => spawn(COG, ['--platform=headless', '--bg-color=#101418', url], { detached: true, stdio: 'ignore', env: { ...process.env, ...env } }));
      rows.push({ engine: name, ...r, viewport: '800x600', note: `${note}cog's headless platform has a fixed 800x600 view` });
    };
    for (const run of [
      chromium('Chromium, launcher flags', [], 'headless, --no-sandbox (root)'),
      chromium('Chromium, + low-memory flags', lowMemoryFlags(), 'kiosk-lib.sh chromium_low_memory_flags'),
      cog('WPE WebKit (cog)', {}, ''),
      cog('WPE WebKit (cog), JSC_useJIT=0', { JSC_useJIT: '0' }, 'interpreter only; '),
    ]) {
      await run();
    }
  } finally {
    await app.close();
    rmSync(work, { recursive: true, force: true, maxRetries: 3, retryDelay: 200 });
  }
  return rows;
}

export async function main(): Promise<void> {
  console.log('\n## Kiosk page memory: PSS of all the browser\'s processes showing /?kiosk=<secret> (same run, settled after the WebSocket opens)\n');
  const rows = await measureKioskMemory();
  const base = rows[0]?.pssMb;
  const header = ['engine', 'PSS (MiB)', 'vs Chromium', 'processes', 'view', 'note'];
  const body = rows.map((r) => [r.engine, r.pssMb === null ? 'n/a' : r.pssMb.toFixed(1), r.pssMb !== null && base ? `${((r.pssMb / base) * 100).toFixed(0)} %` : '', String(r.processes), r.viewport, r.note]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  console.log(all.map((r, n) => r.map((c, i) => c.padEnd(widths[i])).join('  ') + (n === 0 ? `\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : '')).join('\n'));
}

runWhenMain(module, main);
