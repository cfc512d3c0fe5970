import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CommandOptions, CommandOutput, CommandRunner } from '../../backend/system-clock/timedatectl-clock';

const SCRIPT = join(__dirname, 'dbus-sandbox.sh');
/** Debian's python, where apt installed python3-dbusmock (a pyenv python may come first on PATH). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** One timedated call from the mock's log, e.g. { method: 'SetTime', args: ['1795594320123456', 'False', 'False'] }. */
export interface MockCall {
  method: string;
  args: string[];
  /** The mock raised this error text instead of answering. */
  raised?: string;
}

export interface MockScenario {
  ntp: boolean;
  ntpSynchronized: boolean;
  timezone: string;
  /** Seconds SetTime keeps refusing after SetNTP(false); negative: for ever. */
  refusalSeconds?: number;
  /** Answer the setters as timedated does when polkit does not allow the caller. */
  deny?: boolean;
}

/** What the sandbox needs; the integration tests skip (saying which) only when something is missing. */
export function missingTools(): string[] {
  const missing = ['unshare', 'nsenter', 'mount', 'dbus-daemon', 'dbus-send', 'timedatectl'].filter((tool) => !onPath(tool));
  if (!existsSync(DEBIAN_PYTHON)) missing.push(DEBIAN_PYTHON);
  else {
    try {
      execFileSync(DEBIAN_PYTHON, ['-c', 'import dbusmock'], { stdio: 'ignore', env: withoutPythonOverrides() });
    } catch {
      missing.push('python3-dbusmock (for /usr/bin/python3)');
    }
  }
  // A private mount namespace needs root (CI and test/run.sh run as root).
  if (process.getuid?.() !== 0) missing.push('root privileges (unshare --mount)');
  return missing;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      return statSync(join(dir, tool)).isFile();
    } catch {
      return false;
    }
  });
}

function withoutPythonOverrides(): NodeJS.ProcessEnv {
  const { PYTHONPATH: _path, PYTHONHOME: _home, ...env } = process.env;
  return env;
}

/**
 * A running dbus-sandbox.sh: a mount namespace whose /run is an empty folder (plus /run/systemd/system), a
 * private system bus and the timedated mock. `runner` runs commands inside it with the real CommandRunner.
 */
export class DbusSandbox {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly workDir: string,
    /** A process inside the mount namespace (the script itself). */
    readonly pid: number,
    readonly busAddress: string,
  ) {}

  static async start(timeoutMs = 20_000): Promise<DbusSandbox> {
    const workDir = mkdtempSync(join(tmpdir(), 'timedated-sandbox-'));
    // detached: its own process group, so a failed stop can end the bus and the mock with it.
    const child = spawn('sh', [SCRIPT, workDir], { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: withoutPythonOverrides() });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      const ready = await new Promise<RegExpExecArray>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`dbus-sandbox.sh not ready after ${timeoutMs} ms`)), timeoutMs);
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          stdout += chunk;
          const match = /^READY pid=(\d+) address=(\S+)$/m.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match);
          }
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`dbus-sandbox.sh exited (${code ?? signal}) before it was ready`));
        });
        child.once('error', reject);
      });
      return new DbusSandbox(child, workDir, Number(ready[1]), ready[2]);
    } catch (error) {
      killGroup(child);
      rmSync(workDir, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}\nstdout: ${stdout}\nstderr: ${stderr}`);
    }
  }

  /** What `nsenter` puts in front of a command so that it runs in the sandbox, talking to the mock. */
  get prefix(): string[] {
    return ['nsenter', `--target=${this.pid}`, '--mount', '--', 'env', `DBUS_SYSTEM_BUS_ADDRESS=${this.busAddress}`];
  }

  /** The real CommandRunner, with every command run inside the sandbox. */
  get runner(): CommandRunner {
    return new SandboxCommandRunner(this.prefix);
  }

  /**
   * Sets timedated's RTCTimeUSec, the hardware clock in µs since the epoch (0: the Pi has none). The template
   * lacks the property: the first call adds it to the mock object (dbusmock's AddProperty), later ones set it.
   */
  async setRtcTimeUsec(usec: number): Promise<void> {
    const value = `variant:uint64:${Math.round(usec)}`;
    const call = this.rtcPropertyAdded ? 'org.freedesktop.DBus.Properties.Set' : 'org.freedesktop.DBus.Mock.AddProperty';
    await new CommandRunner().run(this.prefix[0], [
      ...this.prefix.slice(1),
      'dbus-send',
      '--system',
      '--print-reply',
      '--dest=org.freedesktop.timedate1',
      '/org/freedesktop/timedate1',
      call,
      'string:org.freedesktop.timedate1',
      'string:RTCTimeUSec',
      value,
    ]);
    this.rtcPropertyAdded = true;
  }
  private rtcPropertyAdded = false;

  /** Sets the mock's state for the next scenario (not a timedated call: the test's own control method). */
  async prepare(s: MockScenario): Promise<void> {
    await new CommandRunner().run(this.prefix[0], [
      ...this.prefix.slice(1),
      'dbus-send',
      '--system',
      '--print-reply',
      '--dest=org.freedesktop.timedate1',
      '/org/freedesktop/timedate1',
      'org.pi_camera_timesync.TimedatedMock.Prepare',
      `boolean:${s.ntp}`,
      `boolean:${s.ntpSynchronized}`,
      `string:${s.timezone}`,
      `double:${s.refusalSeconds ?? 0}`,
      `boolean:${s.deny ?? false}`,
    ]);
  }

  /** A position in the call log; `callsSince` returns what came after it. */
  mark(): number {
    return this.log().length;
  }

  /** timedated's setters called (or refused) since `mark`, in order. Property reads are left out. */
  callsSince(mark: number): MockCall[] {
    const calls: MockCall[] = [];
    for (const line of this.log().subarray(mark).toString('utf8').split('\n')) {
      const match = /^\d+\.\d+ (Set(?:Time|Timezone|NTP|LocalRTC))(?: (raised): (.*)| (.*))?$/.exec(line);
      if (!match) continue;
      const [, method, raised, error, args = ''] = match;
      if (raised) calls[calls.length - 1] = { ...calls[calls.length - 1], raised: error };
      else calls.push({ method, args: args.split(' ').filter(Boolean).map((a) => a.replace(/^"(.*)"$/, '$1')) });
    }
    return calls;
  }

  /** Closes the script's stdin (it then stops the mock and the bus); kills its process group if it lingers. */
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

  private log(): Buffer {
    const file = join(this.workDir, 'calls.log');
    return existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
  }
}

/** The production CommandRunner (execFile, timeout, error mapping), entering the sandbox first. */
export class SandboxCommandRunner extends CommandRunner {
  constructor(private readonly prefix: string[]) {
    super();
  }

  override run(file: string, args: readonly string[], options?: CommandOptions): Promise<CommandOutput> {
    return super.run(this.prefix[0], [...this.prefix.slice(1), file, ...args], options);
  }
}

function killGroup(child: ChildProcessWithoutNullStreams): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
