import { Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { DomainError, ErrorCode } from '../common/domain-error';
import { Clock } from '../time/clock';
import { applyProcessTimezone, assertValidTimezone } from '../time/timezone';
import { SystemClock, SystemClockState } from './system-clock';

// ---- the only side effect: running a program --------------------------------------------------

export interface CommandOptions {
  /** Kill the program after this many ms (default 10 s). */
  timeoutMs?: number;
  /** Variables added to (or overriding) this process's environment. */
  env?: Record<string, string>;
}

export interface CommandOutput {
  stdout: string;
  stderr: string;
}

/** A program that could not be run, ran too long, or exited with a non-zero status. */
export class CommandError extends Error {
  readonly file: string;
  readonly args: readonly string[];
  /** `exit`: ran and failed; `timeout`: killed after timeoutMs; `not-found`: no such program; `spawn`: other start failure. */
  readonly reason: 'exit' | 'timeout' | 'not-found' | 'spawn';
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;

  constructor(init: { file: string; args: readonly string[]; reason?: CommandError['reason']; exitCode?: number | null; stdout?: string; stderr?: string }) {
    const reason = init.reason ?? 'exit';
    const stderr = init.stderr ?? '';
    super(`${init.file} ${init.args.join(' ')}: ${reason === 'exit' ? stderr.trim() || `exit status ${init.exitCode}` : reason}`);
    this.name = 'CommandError';
    this.file = init.file;
    this.args = [...init.args];
    this.reason = reason;
    this.exitCode = init.exitCode ?? null;
    this.stdout = init.stdout ?? '';
    this.stderr = stderr;
  }
}

/** Runs a program with an argument array (never a shell) and a timeout. No decisions live here. */
@Injectable()
export class CommandRunner {
  run(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandOutput> {
    return new Promise((resolve, reject) => {
      execFile(
        file,
        [...args],
        {
          encoding: 'utf8',
          timeout: options.timeoutMs ?? 10_000,
          killSignal: 'SIGKILL',
          maxBuffer: 1024 * 1024,
          env: { ...process.env, ...options.env },
        },
        (error, stdout, stderr) => {
          if (!error) return resolve({ stdout, stderr });
          const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
          const reason = error.killed ? 'timeout' : code === 'ENOENT' ? 'not-found' : typeof code === 'number' ? 'exit' : 'spawn';
          reject(new CommandError({ file, args, reason, exitCode: typeof code === 'number' ? code : null, stdout, stderr: stderr || (reason === 'spawn' ? error.message : '') }));
        },
      );
    });
  }
}

// ---- pure helpers -----------------------------------------------------------------------------

/** What `timedatectl show` reports (properties of org.freedesktop.timedate1). */
export interface TimedatectlStatus {
  timezone: string;
  ntp: boolean;
  ntpSynchronized: boolean;
  canNtp: boolean;
  /** TimeUSec as ms since the epoch (whole seconds: timedatectl prints no fraction); null if absent or unreadable. */
  timeMs: number | null;
  /**
   * RTCTimeUSec, the hardware clock, as ms since the epoch (whole seconds); null if absent or unreadable.
   * timedated says 0 when the Pi has no RTC, and `show` leaves a 0 timestamp out.
   */
  rtcMs: number | null;
}

/**
 * Parses `timedatectl show` output (`Key=value` lines; unknown keys, blank lines and stray whitespace are
 * ignored). Booleans are systemd's spellings (yes/no, true/false, on/off, 1/0). Throws if neither Timezone
 * nor NTP is present: that is not timedatectl's answer.
 */
export function parseTimedatectlShow(stdout: string): TimedatectlStatus {
  const props = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  if (!props.has('Timezone') && !props.has('NTP')) {
    throw new Error(`unexpected "timedatectl show" output: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  return {
    // timedated reports an empty zone when /etc/localtime is missing; the C library then uses UTC.
    timezone: props.get('Timezone') || 'UTC',
    ntp: parseBool(props.get('NTP')),
    ntpSynchronized: parseBool(props.get('NTPSynchronized')),
    canNtp: parseBool(props.get('CanNTP')),
    timeMs: parseShowTimestamp(props.get('TimeUSec')),
    rtcMs: parseShowTimestamp(props.get('RTCTimeUSec')),
  };
}

function parseBool(value: string | undefined): boolean {
  return ['yes', 'true', 'on', '1', 'y'].includes((value ?? '').toLowerCase());
}

/** "Wed 2026-11-25 08:12:00 UTC" (timedatectl runs with TZ=UTC, so the zone is always UTC). */
function parseShowTimestamp(value: string | undefined): number | null {
  const m = /(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? UTC$/.exec(value ?? '');
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '0'] = m;
  return Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) + Number(frac.padEnd(6, '0')) / 1000;
}

/**
 * Formats ms since the epoch as `timedatectl set-time` takes it, in UTC with microseconds:
 * 1795594320123.456 -> "2026-11-25 08:12:00.123456 UTC" (timedated then receives 1795594320123456 µs).
 */
export function formatSetTimeArgument(epochMs: number): string {
  if (!Number.isFinite(epochMs) || epochMs < 0 || epochMs >= Date.UTC(10000, 0, 1)) {
    throw new DomainError(ErrorCode.INVALID_TIMESTAMP, `${epochMs} is not a time the clock can be set to`);
  }
  const usec = Math.round(epochMs * 1000);
  const wholeSeconds = Math.floor(usec / 1_000_000);
  const fraction = String(usec - wholeSeconds * 1_000_000).padStart(6, '0');
  const iso = new Date(wholeSeconds * 1000).toISOString(); // 2026-11-25T08:12:00.000Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${fraction} UTC`;
}

const AUTO_SYNC_REFUSAL = /Automatic time synchronization is enabled/i;
const PERMISSION_DENIED = /Interactive authentication required|Access denied|Permission denied|not authorized|Authentication is required/i;
const UNKNOWN_ZONE = /Invalid or not installed time zone/i;

export const POLKIT_HINT =
  'Install the polkit rule kiosk/polkit/50-pi-camera-timesync.rules as /etc/polkit-1/rules.d/50-pi-camera-timesync.rules ' +
  '(kiosk/install.sh does this) so that the user this service runs as ("timesync") may set the time, time zone and NTP';

// ---- the adapter ------------------------------------------------------------------------------

/**
 * The real Pi path: systemd's timedated, through the `timedatectl` program. timedated does the privileged
 * write; this process only needs the polkit rule, so the service can run unprivileged and hardened
 * (no sudo, which NoNewPrivileges would break anyway).
 */
@Injectable()
export class TimedatectlClock extends SystemClock {
  readonly backend = 'system' as const;
  /**
   * Waits before retrying `set-time` when timedated still answers "Automatic time synchronization is
   * enabled" just after `set-ntp false` (the NTP unit takes a moment to stop): about 4 s in all.
   */
  retryDelaysMs: readonly number[] = [250, 500, 1000, 1000, 1500];

  constructor(
    private readonly runner: CommandRunner,
    private readonly clock: Clock,
  ) {
    super();
  }

  async read(): Promise<SystemClockState> {
    const status = await this.status((error) => new DomainError(ErrorCode.INTERNAL, `Could not read the system clock: ${describeFailure(error)}`, details(error)));
    // TimeUSec has whole seconds only; this process reads the same kernel clock with ms.
    return {
      epochMs: this.clock.now(),
      timezone: status.timezone,
      ntpEnabled: status.ntp,
      ntpSynchronized: status.ntpSynchronized,
      backend: this.backend,
    };
  }

  /** timedated's RTCTimeUSec, from the same `timedatectl show` as `read`. */
  override async readRtcMs(): Promise<number | null> {
    const status = await this.status((error) => new DomainError(ErrorCode.INTERNAL, `Could not ask timedated for the hardware clock: ${describeFailure(error)}`, details(error)));
    return status.rtcMs;
  }

  async setTime(target: () => number): Promise<void> {
    const status = await this.status((error) => this.toDomainError(error, 'Could not check the NTP state before setting the clock'));
    if (status.ntpSynchronized) {
      throw new DomainError(ErrorCode.NTP_SYNCHRONIZED, "The Pi's clock is synchronized by NTP, a better source than any phone; leaving it alone");
    }
    if (!status.ntp) return this.writeTime(target);

    // NTP is on but has not synchronized (offline Pi): timedated refuses set-time until NTP is off.
    let failure: unknown = null;
    let restoreFailure: unknown = null;
    try {
      await this.timedatectl(['set-ntp', 'false']).catch((error) => {
        throw this.toDomainError(error, 'Could not turn NTP off to set the clock');
      });
      await this.writeTime(target);
    } catch (error) {
      failure = error;
    } finally {
      restoreFailure = await this.timedatectl(['set-ntp', 'true']).then(
        () => null,
        (error: unknown) => error,
      );
    }
    if (restoreFailure) {
      const note = `NTP could not be turned back on (${describeFailure(restoreFailure)}); run "timedatectl set-ntp true"`;
      if (failure instanceof DomainError) {
        throw new DomainError(failure.code, `${failure.message}. ${note}`, { ...failure.details, ntpRestored: false });
      }
      if (failure) throw failure;
      throw new DomainError(ErrorCode.CLOCK_WRITE_FAILED, `The clock was set, but ${note}`, { clockSet: true, ntpRestored: false, ...details(restoreFailure) });
    }
    if (failure) throw failure;
  }

  async setTimezone(zone: string): Promise<void> {
    const valid = assertValidTimezone(zone);
    try {
      await this.timedatectl(['set-timezone', valid]);
    } catch (error) {
      if (error instanceof CommandError && UNKNOWN_ZONE.test(error.stderr)) {
        throw new DomainError(ErrorCode.INVALID_TIMEZONE, `The system does not know the time zone "${valid}": ${error.stderr.trim()}`, { timezone: valid });
      }
      throw this.toDomainError(error, `Could not set the time zone to ${valid}`);
    }
    applyProcessTimezone(valid);
  }

  /** set-time, retried while timedated says NTP is still active; target() is read right before each try. */
  private async writeTime(target: () => number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.timedatectl(['set-time', formatSetTimeArgument(target())]);
        return;
      } catch (error) {
        const refusedForNtp = error instanceof CommandError && AUTO_SYNC_REFUSAL.test(error.stderr);
        if (refusedForNtp && attempt < this.retryDelaysMs.length) {
          await sleep(this.retryDelaysMs[attempt]);
          continue;
        }
        const mapped = this.toDomainError(error, 'Could not set the clock');
        // Killed while timedated may already have been asked: the clock may or may not have moved.
        if (error instanceof CommandError && error.reason === 'timeout' && mapped instanceof DomainError) {
          throw new DomainError(mapped.code, mapped.message, { ...mapped.details, clockSet: 'unknown' });
        }
        throw mapped;
      }
    }
  }

  private async status(onError: (error: unknown) => Error): Promise<TimedatectlStatus> {
    let stdout: string;
    try {
      ({ stdout } = await this.timedatectl(['show']));
    } catch (error) {
      throw onError(error);
    }
    try {
      return parseTimedatectlShow(stdout);
    } catch (error) {
      throw onError(error);
    }
  }

  /**
   * --no-ask-password: a service has nobody to type a password; without the polkit rule timedated answers
   * "Interactive authentication required" at once instead of waiting for an agent.
   * LC_ALL=C keeps messages in the English this class matches on; TZ=UTC makes TimeUSec print in UTC.
   */
  private timedatectl(args: string[]): Promise<CommandOutput> {
    return this.runner.run('timedatectl', ['--no-ask-password', ...args], { env: { LC_ALL: 'C', TZ: 'UTC' } });
  }

  /** Maps a failed command to the contract's codes; anything that is not a command failure is a bug and passes through. */
  private toDomainError(error: unknown, what: string): Error {
    if (error instanceof DomainError) return error;
    if (error instanceof CommandError) {
      if (PERMISSION_DENIED.test(error.stderr)) {
        return new DomainError(ErrorCode.CLOCK_PERMISSION_DENIED, `${what}: this service is not allowed to change the clock (${describeFailure(error)}). ${POLKIT_HINT}.`, details(error));
      }
      return new DomainError(ErrorCode.CLOCK_WRITE_FAILED, `${what}: ${describeFailure(error)}`, details(error));
    }
    if (error instanceof Error && /unexpected "timedatectl show" output/.test(error.message)) {
      return new DomainError(ErrorCode.CLOCK_WRITE_FAILED, `${what}: ${error.message}`);
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof CommandError) {
    if (error.reason === 'not-found') return 'timedatectl is not installed (CLOCK_BACKEND=system needs systemd)';
    if (error.reason === 'timeout') return 'timedatectl did not answer in time';
    return error.stderr.trim() || `timedatectl exited with status ${error.exitCode}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function details(error: unknown): Record<string, unknown> | undefined {
  if (!(error instanceof CommandError)) return undefined;
  return { command: [error.file, ...error.args], exitCode: error.exitCode, stderr: error.stderr.trim() };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
