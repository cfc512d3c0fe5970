/**
 * The real gpsd fed by test/support/gpsd-feeder.py (gpsfake's engine, our pacing), for the integration test and the
 * bench. One feeder = one gpsd on a free loopback port reading one pty. Everything it starts is stopped by `close()`
 * (and, should this process die, by the feeder seeing its stdin close, and by gpsd's parent-death signal).
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { nmeaLog, NmeaEpoch } from './nmea';

const PYTHON = '/usr/bin/python3';
const GPSD = '/usr/sbin/gpsd';
const FEEDER = join(__dirname, 'gpsd-feeder.py');

/** What is missing to run the real gpsd here (Debian packages named), or nothing. */
export function gpsdMissing(): string[] {
  const missing: string[] = [];
  if (!existsSync(GPSD)) missing.push('gpsd');
  try {
    execFileSync(PYTHON, ['-c', 'import gps.fake'], { stdio: 'ignore' });
  } catch {
    missing.push('python3-gps');
  }
  return missing;
}

type FeederEvent = { event: string; [key: string]: unknown };

export interface PlayResult {
  blocks: number;
  /** How late the feeder itself wrote the latest block (scheduling on a busy machine), ms. */
  lateMaxMs: number;
}

export class GpsdFeeder {
  private readonly waiters: Array<{ event: string; match: (e: FeederEvent) => boolean; resolve: (e: FeederEvent) => void }> = [];
  private readonly events: FeederEvent[] = [];
  private stderr = '';
  private exited = false;
  private logs = 0;
  private pid: number | null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    ready: FeederEvent,
  ) {
    this.port = ready.port as number;
    this.device = ready.device as string;
    this.pid = (ready.gpsdPid as number | null) ?? null;
  }

  readonly port: number;
  /** The pty gpsd reads ("/dev/pts/N"): the `who` of GPS readings. */
  readonly device: string;

  /** Starts a feeder (and gpsd, unless `gpsd: false`: the port is then reserved for a later `startGpsd`). */
  static async start(options: { gpsd?: boolean; timeoutMs?: number } = {}): Promise<GpsdFeeder> {
    const dir = mkdtempSync(join(tmpdir(), 'gpsd-feeder-'));
    const args = [FEEDER, '--dir', dir, ...(options.gpsd === false ? ['--no-gpsd'] : [])];
    const child = spawn(PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr = (stderr + c).slice(-32_000)));
    const lines = createInterface({ input: child.stdout! });
    const ready = await new Promise<FeederEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGTERM');
        reject(new Error(`gpsd feeder not ready in ${options.timeoutMs ?? 10_000} ms:\n${stderr}`));
      }, options.timeoutMs ?? 10_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gpsd feeder exited (${code}) before it was ready:\n${stderr}`));
      });
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as FeederEvent);
      });
    });
    child.removeAllListeners('exit');
    const feeder = new GpsdFeeder(child, dir, ready);
    feeder.stderr = stderr;
    child.stderr!.removeAllListeners('data');
    child.stderr!.on('data', (c) => (feeder.stderr = (feeder.stderr + c).slice(-32_000)));
    child.once('exit', () => (feeder.exited = true));
    lines.on('line', (line) => feeder.onEvent(JSON.parse(line) as FeederEvent));
    return feeder;
  }

  /** gpsd's last words (its stderr and the feeder's), for a failing test's message. */
  get log(): string {
    return this.stderr;
  }

  get gpsdPid(): number | null {
    return this.pid;
  }

  /** Plays epochs (or a ready log) and resolves once the last block is written. */
  async play(epochs: readonly NmeaEpoch[] | string): Promise<PlayResult> {
    const file = join(this.dir, `log-${++this.logs}.nmea`);
    writeFileSync(file, typeof epochs === 'string' ? epochs : nmeaLog(epochs));
    const done = this.next('played', (e) => e.file === file);
    this.send({ op: 'play', file });
    const e = await done;
    return { blocks: e.blocks as number, lateMaxMs: e.lateMaxMs as number };
  }

  /** Stops gpsd: TERM (it says goodbye to nobody, closes its sockets) or KILL (a crash). The pty stays. */
  async stopGpsd(signal: 'TERM' | 'KILL' = 'TERM'): Promise<void> {
    const done = this.next('gpsd-stopped');
    this.send({ op: 'stop-gpsd', signal });
    await done;
    this.pid = null;
  }

  async startGpsd(): Promise<void> {
    const done = this.next('gpsd-started');
    this.send({ op: 'start-gpsd' });
    this.pid = ((await done).gpsdPid as number | null) ?? null;
  }

  /** Stops gpsd and the feeder, and removes its folder; safe to call twice or after a failure. */
  async close(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.send({ op: 'quit' });
      this.child.stdin!.end();
      const timer = setTimeout(() => this.child.kill('SIGTERM'), 3000);
      const hard = setTimeout(() => this.child.kill('SIGKILL'), 6000);
      await exited;
      clearTimeout(timer);
      clearTimeout(hard);
    }
    // The gpsd it started, should the feeder have died without stopping it (a pid that is gone throws: fine).
    if (this.pid !== null) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private send(command: Record<string, unknown>): void {
    if (this.exited) throw new Error(`gpsd feeder has exited:\n${this.stderr}`);
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  private onEvent(e: FeederEvent): void {
    this.events.push(e);
    const i = this.waiters.findIndex((w) => w.event === e.event && w.match(e));
    if (i >= 0) this.waiters.splice(i, 1)[0].resolve(e);
  }

  private next(event: string, match: (e: FeederEvent) => boolean = () => true, timeoutMs = 120_000): Promise<FeederEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${event}" from the gpsd feeder in ${timeoutMs} ms:\n${this.stderr}`)), timeoutMs);
      timer.unref();
      this.waiters.push({
        event,
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }
}
