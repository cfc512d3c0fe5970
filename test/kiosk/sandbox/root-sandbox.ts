import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missing } from '../host-tools';

const SCRIPT = join(__dirname, 'root-sandbox.sh');
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What the root sandbox needs; the suites say what is missing and skip. */
export function sandboxMissing(): string[] {
  return missing(['unshare', 'nsenter', 'chroot', 'mount', 'ip', 'setpriv', 'setsid', 'runuser', 'useradd', 'userdel', 'systemctl', 'curl', 'sha256sum', 'flock'], true);
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A running root-sandbox.sh: an overlay of this machine's root (changes in a tmpfs) in private mount,
 * network and PID namespaces. `exec` runs a command chrooted into it; `changes` lists what differs from the
 * machine's root.
 */
export class RootSandbox {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly workDir: string,
    readonly pid: number,
    /** The root as seen inside the mount namespace. */
    readonly root: string,
    readonly upper: string,
  ) {}

  static async start(timeoutMs = 20_000): Promise<RootSandbox> {
    const workDir = mkdtempSync(join(tmpdir(), 'root-sandbox-'));
    const child = spawn('sh', [SCRIPT, workDir], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    try {
      const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`root-sandbox.sh not ready after ${timeoutMs} ms`)), timeoutMs);
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          stdout += c;
          const match = /^READY pid=(\d+) root=(\S+) upper=(\S+)$/m.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`root-sandbox.sh exited (${code ?? signal}) before it was ready`));
        });
      });
      return new RootSandbox(child, workDir, Number(ready[1]), ready[2], ready[3]);
    } catch (error) {
      killGroup(child);
      rmSync(workDir, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
  }

  /** Runs a command inside the mount namespace only (the machine's root and the sandbox's layers both visible). */
  outside(args: string[], input?: string): Result {
    return this.spawn(['nsenter', `--target=${this.pid}`, '--mount', '--', ...args], input, 60_000);
  }

  /** Runs a command in the sandbox: its root, its network (loopback only), its processes. */
  exec(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Result {
    const env = Object.entries({ PATH: SANDBOX_PATH, HOME: '/root', LANG: 'C.UTF-8', ...options.env }).map(([k, v]) => `${k}=${v}`);
    return this.spawn(['nsenter', `--target=${this.pid}`, '--mount', '--net', '--pid', '--', 'chroot', this.root, '/usr/bin/env', '-i', ...env, ...args], options.input, options.timeoutMs ?? 180_000);
  }

  /** exec without blocking this process (so that it can watch the command meanwhile). */
  execAsync(args: string[], options: { env?: Record<string, string> } = {}): Promise<Result> {
    const env = Object.entries({ PATH: SANDBOX_PATH, HOME: '/root', LANG: 'C.UTF-8', ...options.env }).map(([k, v]) => `${k}=${v}`);
    const child = spawn('nsenter', [`--target=${this.pid}`, '--mount', '--net', '--pid', '--', 'chroot', this.root, '/usr/bin/env', '-i', ...env, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** exec that throws unless the command succeeds; returns its stdout. */
  ok(args: string[], options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): string {
    const r = this.exec(args, options);
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited with ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r.stdout;
  }

  /** Copies a file of the machine's into the sandbox. */
  copyIn(hostPath: string, path: string): void {
    const r = this.outside(['cp', hostPath, `${this.root}${path}`]);
    if (r.status !== 0) throw new Error(`copy ${hostPath} -> ${path}: ${r.stderr}`);
  }

  /**
   * Every path the sandbox has that the machine's root has not, or has otherwise: `file /etc/x`, `dir /opt/y`,
   * `link /z`, `deleted /w`. Files copied up but identical to the machine's (e.g. /etc/passwd after a user
   * came and went) do not count.
   */
  changes(): string[] {
    const script = `cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while IFS= read -r p; do
      rel=\${p#.}
      if [ -c "$p" ] && [ "$(stat -c %t:%T "$p")" = 0:0 ]; then echo "deleted $rel"; continue; fi
      if [ -L "$p" ]; then [ -L "$rel" ] && [ "$(readlink "$p")" = "$(readlink "$rel")" ] && continue; echo "link $rel"; continue; fi
      if [ -d "$p" ]; then [ -d "$rel" ] && continue; echo "dir $rel"; continue; fi
      if [ -f "$rel" ] && cmp -s "$p" "$rel"; then continue; fi
      echo "file $rel"
    done`;
    const r = this.outside(['sh', '-c', script, 'changes', this.upper]);
    if (r.status !== 0) throw new Error(`listing changes: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.stdin.end();
      const timer = setTimeout(() => killGroup(this.child), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private spawn(args: string[], input: string | undefined, timeoutMs: number): Result {
    const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8', input: input ?? '', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
}

function killGroup(child: ChildProcessWithoutNullStreams): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
