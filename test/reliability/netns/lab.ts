/**
 * The network lab of the namespace suites: the Pi's namespace linked to an access point's (`wlan0`, a phone's
 * side `ph0`) and to a LAN's (`eth0`, the device's side `lan0`) by veth pairs; made and removed by `ip netns`.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { onPath } from '../built-server';

const ROOT = join(__dirname, '..', '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Lab {
  pi: string;
  ap: string;
  lan: string;
}

export function run(file: string, args: string[]): string {
  return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export const inNs = (ns: string, ...args: string[]): string => run('ip', ['netns', 'exec', ns, ...args]);

/** Root, iproute2, and a namespace that can really be made here (a container may forbid it); `probe`: a free name. */
export function netnsLacking(probe: string): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root privileges (ip netns)');
  if (!onPath('ip')) missing.push('ip (Debian: iproute2)');
  if (missing.length) return missing;
  try {
    run('ip', ['netns', 'add', probe]);
  } catch (error) {
    missing.push(`a network namespace (ip netns add failed: ${String((error as { stderr?: string }).stderr ?? error).trim()})`);
  } finally {
    try {
      run('ip', ['netns', 'del', probe]);
    } catch {
      // was not made
    }
  }
  return missing;
}

/** Deletes the lab's namespaces (and with them every link), whatever is left of them. */
export function removeLab(lab: Lab): void {
  for (const name of Object.values(lab)) {
    try {
      run('ip', ['netns', 'del', name]);
    } catch {
      // not there
    }
  }
}

/** Makes the namespaces and the two links, down and without addresses; `linkPrefix` keeps concurrent suites' link names apart. */
export function linkLab(lab: Lab, linkPrefix: string): void {
  for (const name of Object.values(lab)) run('ip', ['netns', 'add', name]);
  run('ip', ['link', 'add', `${linkPrefix}w`, 'netns', lab.pi, 'type', 'veth', 'peer', 'name', 'ph0', 'netns', lab.ap]);
  run('ip', ['link', 'add', `${linkPrefix}e`, 'netns', lab.pi, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', lab.lan]);
  inNs(lab.pi, 'ip', 'link', 'set', `${linkPrefix}w`, 'name', 'wlan0');
  inNs(lab.pi, 'ip', 'link', 'set', `${linkPrefix}e`, 'name', 'eth0');
}

/** A process started in a namespace of the lab. */
export interface Proc {
  child: ChildProcess;
  output(): string;
  send(line: unknown): void;
  /** Resolves with the first output line matching `re` after `since` characters. */
  waitFor(re: RegExp, since?: number, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

/** Spawns `argv` in namespace `ns` (from the repository's root) and waits for `ready` in its output. */
export async function startInNs(ns: string, argv: string[], env: Record<string, string>, ready: RegExp): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn('ip', ['netns', 'exec', ns, ...argv], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waitFor = async (re: RegExp, since = 0, timeoutMs = 30_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(out.slice(since));
      if (m) return m;
      if (child.exitCode !== null || Date.now() > until) throw new Error(`${argv.join(' ')}: no ${re} in: ${out.slice(-3000)}`);
      await sleep(50);
    }
  };
  const proc: Proc = {
    child,
    output: () => out,
    send: (line) => child.stdin!.write(`${JSON.stringify(line)}\n`),
    waitFor,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  try {
    return { ...proc, match: await waitFor(ready) };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}
