/**
 * The real chronyd for tests and the bench, never touching this machine's clock: always `-x` (no clock control),
 * run as root in the foreground (`-d`) with a private configuration, command socket, pid file and state in a
 * folder of its own (mode 0700, as chronyd wants for its socket), no command port (`cmdport 0`), an NTP port
 * that was free. Optionally inside a network namespace (`ip netns exec`). Each chronyd runs under a small `sh`
 * that kills it when this process's pipe to it closes, so a test runner that dies takes its chronyds with it;
 * `stop()` ends it at once.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chronyView, ChronyView, parseClients, parseReports } from '../../backend/time-server/chrony-report';

export const CHRONYD = '/usr/sbin/chronyd';
export const CHRONYC = '/usr/bin/chronyc';

/** What is missing to run the real chronyd here (Debian package named), or nothing. */
export function chronydMissing(): string[] {
  const missing: string[] = [];
  if (!existsSync(CHRONYD) || !existsSync(CHRONYC)) missing.push('chronyd and chronyc (Debian: chrony)');
  if (process.getuid?.() !== 0) missing.push('root (chronyd -x still starts as root to bind its ports and socket)');
  return missing;
}

/** A UDP port free on every address now (chronyd binds 0.0.0.0 and ::), found by binding port 0. */
export async function freeUdpPort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', reject);
      s.bind(0, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    // And on IPv6, where chronyd binds too.
    const free6 = await new Promise<boolean>((resolve) => {
      const s = createSocket({ type: 'udp6', ipv6Only: true });
      s.once('error', () => resolve(false));
      s.bind(port, () => s.close(() => resolve(true)));
    });
    if (free6) return port;
  }
}

export interface ChronydOptions {
  /** Lines of chrony.conf besides the private ones this harness writes (port, sockets, pid file). */
  conf: string[];
  /** The NTP port it serves on (0: it serves nothing: `port 0`). */
  ntpPort: number;
  /** A network namespace to run it in. */
  netns?: string;
  /** A name for messages and the folder. */
  name?: string;
  /** chronyd's drift file to start from ("frequency_ppm skew_ppm"), as a Pi's chrony keeps it across boots. */
  driftFile?: string;
}

export class Chronyd {
  private out = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly name: string,
    readonly ntpPort: number,
  ) {
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (this.out = (this.out + c).slice(-64_000)));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.out = (this.out + c).slice(-64_000)));
  }

  /** chronyd's command socket, for `chronyc -h` and CHRONY_COMMAND_SOCKET. */
  get socket(): string {
    return join(this.dir, 'chronyd.sock');
  }

  /** What chronyd logged (it runs with -d: its log goes to stderr). */
  log(): string {
    return this.out;
  }

  static async start(options: ChronydOptions): Promise<Chronyd> {
    const name = options.name ?? 'chronyd';
    const dir = mkdtempSync(join(tmpdir(), `${name}-`));
    chmodSync(dir, 0o700);
    const conf = join(dir, 'chrony.conf');
    if (options.driftFile !== undefined) writeFileSync(join(dir, 'chrony.drift'), options.driftFile);
    writeFileSync(
      conf,
      [
        `# ${name}: a private chronyd for a test (never touches the clock: -x)`,
        `port ${options.ntpPort}`,
        'cmdport 0',
        `bindcmdaddress ${join(dir, 'chronyd.sock')}`,
        `pidfile ${join(dir, 'chronyd.pid')}`,
        ...(options.driftFile !== undefined ? [`driftfile ${join(dir, 'chrony.drift')}`] : []),
        ...options.conf,
        '',
      ].join('\n'),
    );
    const argv = [...(options.netns ? ['ip', 'netns', 'exec', options.netns] : []), CHRONYD, '-x', '-d', '-u', 'root', '-f', conf];
    // The shell keeps chronyd's life tied to our pipe: when it closes (we stop it, or this process dies), chronyd goes.
    const script = '"$@" & pid=$!; trap \'kill $pid 2>/dev/null; exit 0\' TERM; cat >/dev/null; kill $pid 2>/dev/null; wait $pid';
    const child = spawn('sh', ['-c', script, 'chronyd-guard', ...argv], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const chronyd = new Chronyd(child, dir, name, options.ntpPort);
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await chronyd.chronyc(['-c', 'tracking']);
        return chronyd;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) {
          await chronyd.stop();
          throw new Error(`${name} did not start: ${String(error)}\n${chronyd.out.slice(-2000)}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Runs chronyc against this chronyd; rejects with its output when it fails. */
  chronyc(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(CHRONYC, ['-h', this.socket, ...args], { encoding: 'utf8', timeout: 5000 }, (error, stdout, stderr) => {
        if (error || /^50\d /m.test(stdout + stderr)) reject(new Error(`chronyc ${args.join(' ')}: ${(stdout + stderr).trim() || String(error)}`));
        else resolve(stdout);
      });
    });
  }

  /** chrony's view as the product reads it (`follow`: the leader's address, if it follows one). */
  async view(follow = ''): Promise<ChronyView> {
    const reports = parseReports(await this.chronyc(['-c', '-n', '-m', 'tracking', 'sources', 'sourcestats']));
    const clients = parseClients(await this.chronyc(['-c', '-n', 'clients']));
    return chronyView({ ...reports, clients }, { feedName: '127.0.0.1', follow, clientWindowS: 3600 });
  }

  /** Polls its view until `ok` holds; the view, or throws with the last one and chronyd's log. */
  async until(ok: (v: ChronyView) => boolean, timeoutMs: number, follow = ''): Promise<ChronyView> {
    const end = Date.now() + timeoutMs;
    let last: ChronyView | null = null;
    let lastError: unknown = null;
    for (;;) {
      try {
        last = await this.view(follow);
        if (ok(last)) return last;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > end) throw new Error(`${this.name}: not there within ${timeoutMs} ms; last view ${JSON.stringify(last)} ${lastError ? String(lastError) : ''}\n${this.out.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops chronyd (its guard kills it), waits for it, and removes its folder. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.stdin!.end();
      const timer = setTimeout(() => {
        try {
          process.kill(-this.child.pid!, 'SIGKILL');
        } catch {
          // gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    // The guard waited for chronyd; should it not have, nothing with our pid file may stay.
    try {
      const pid = Number(readFileSync(join(this.dir, 'chronyd.pid'), 'utf8').trim());
      // Only ours: a chronyd whose command line names this folder's configuration.
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(join(this.dir, 'chrony.conf'))) process.kill(pid, 'SIGKILL');
    } catch {
      // no pid file, or no such process: stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
