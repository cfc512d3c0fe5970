/**
 * The real `timedatectl` binary, driven by the real TimedatectlClock and CommandRunner, against
 * python3-dbusmock's `timedated` template on a private system bus inside a mount namespace
 * (test/integration/dbus-sandbox.sh). Each command runs as
 *   nsenter --target=<sandbox pid> --mount -- env DBUS_SYSTEM_BUS_ADDRESS=unix:path=<tmp>/system_bus_socket \
 *     timedatectl --no-ask-password ...
 * and the assertions read the mock's call log: which timedated methods were called, in which order, with
 * which arguments. The machine's own clock and zone are checked before and after: they must not move.
 */
import { execFileSync } from 'node:child_process';
import { readlinkSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ErrorCode } from '../../backend/common/domain-error';
import { HostClock } from '../../backend/time/clock';
import { restoreProcessTimezone } from '../../backend/time/timezone';
import { CommandError, CommandRunner, formatSetTimeArgument, TimedatectlClock } from '../../backend/system-clock/timedatectl-clock';
import { DbusSandbox, missingTools } from './dbus-sandbox';
import { rejection } from '../support/domain-errors';

const missing = missingTools();
if (missing.length) {
  // eslint-disable-next-line no-console
  console.warn(`timedatectl integration test SKIPPED: missing ${missing.join(', ')} (Debian: apt-get install dbus python3-dbusmock util-linux systemd)`);
}
const describeIfTools = missing.length ? describe.skip : describe;

/** Targets far from today, so that a step of the real clock could not go unnoticed. */
const T1 = Date.UTC(2031, 4, 17, 3, 4, 5, 678) + 0.901; // 2031-05-17 03:04:05.678901 UTC
const usec = (ms: number) => String(Math.round(ms * 1000));

interface HostClockSnapshot {
  wallMinusMonotonicMs: number;
  dateSeconds: number;
  localtime: string | null;
  timezoneFile: string | null;
}

function hostClockSnapshot(): HostClockSnapshot {
  const read = (f: () => string) => {
    try {
      return f();
    } catch {
      return null;
    }
  };
  return {
    // Slewing moves both together; only a step changes their difference.
    wallMinusMonotonicMs: Date.now() - performance.now(),
    dateSeconds: Number(execFileSync('date', ['-u', '+%s'], { encoding: 'utf8' }).trim()),
    localtime: read(() => readlinkSync('/etc/localtime')),
    timezoneFile: read(() => readFileSync('/etc/timezone', 'utf8')),
  };
}

describeIfTools('TimedatectlClock against the real timedatectl and a timedated mock', () => {
  jest.setTimeout(30_000);
  let sandbox: DbusSandbox;
  let sut: TimedatectlClock;
  let before: HostClockSnapshot;
  let mark: number;
  const originalTz = process.env.TZ;

  beforeAll(async () => {
    before = hostClockSnapshot();
    sandbox = await DbusSandbox.start();
  });

  afterAll(async () => {
    await sandbox?.stop();
    const after = hostClockSnapshot();
    expect(Math.abs(after.wallMinusMonotonicMs - before.wallMinusMonotonicMs)).toBeLessThan(1000);
    expect(Math.abs(after.dateSeconds * 1000 - Date.now())).toBeLessThan(5000);
    expect(after.localtime).toBe(before.localtime);
    expect(after.timezoneFile).toBe(before.timezoneFile);
  });

  beforeEach(() => {
    sut = new TimedatectlClock(sandbox.runner, new HostClock());
  });

  afterEach(() => {
    restoreProcessTimezone(originalTz);
  });

  async function scenario(s: Parameters<DbusSandbox['prepare']>[0]): Promise<void> {
    await sandbox.prepare(s);
    mark = sandbox.mark();
  }

  it('checks its own harness: timedatectl runs inside the sandbox and the mock refuses SetTime while NTP is on', async () => {
    await scenario({ ntp: true, ntpSynchronized: false, timezone: 'UTC' });
    const error = await sandbox.runner.run('timedatectl', ['--no-ask-password', 'set-time', formatSetTimeArgument(T1)], { env: { LC_ALL: 'C' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect((error as CommandError).stderr.trim()).toBe('Failed to set time: Automatic time synchronization is enabled');
    expect(sandbox.callsSince(mark)).toEqual([
      { method: 'SetTime', args: [usec(T1), 'False', 'False'], raised: 'org.freedesktop.timedate1.AutomaticTimeSyncEnabled: Automatic time synchronization is enabled' },
    ]);
    // Inside, /run is the sandbox's empty folder (the host's /run, with its system bus socket, is hidden).
    await expect(sandbox.runner.run('ls', ['-A', '/run'])).resolves.toMatchObject({ stdout: 'systemd\n' });
    // Outside the namespace timedatectl does not run at all (no /run/systemd/system): nothing reaches a real timedated.
    await expect(new CommandRunner().run('timedatectl', ['show'], { env: { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent' } })).rejects.toBeInstanceOf(CommandError);
  });

  it('reads the zone and NTP state', async () => {
    await scenario({ ntp: true, ntpSynchronized: false, timezone: 'America/Los_Angeles' });
    const state = await sut.read();
    expect(state).toMatchObject({ timezone: 'America/Los_Angeles', ntpEnabled: true, ntpSynchronized: false, backend: 'system' });
    expect(Math.abs(state.epochMs - Date.now())).toBeLessThan(1000);
    expect(sandbox.callsSince(mark)).toEqual([]);
  });

  it('sets the time with NTP off: one SetTime with microseconds, non-interactive, NTP untouched', async () => {
    await scenario({ ntp: false, ntpSynchronized: false, timezone: 'UTC' });
    await sut.setTime(() => T1);
    // "2031-05-17 03:04:05.678901 UTC" as timedated receives it: µs since the epoch, relative=false, interactive=false.
    expect(sandbox.callsSince(mark)).toEqual([{ method: 'SetTime', args: ['1936753445678901', 'False', 'False'] }]);
  });

  it('with NTP on but unsynchronized: SetNTP false, SetTime, SetNTP true, in that order', async () => {
    await scenario({ ntp: true, ntpSynchronized: false, timezone: 'UTC' });
    await sut.setTime(() => T1);
    expect(sandbox.callsSince(mark)).toEqual([
      { method: 'SetNTP', args: ['False', 'False'] },
      { method: 'SetTime', args: [usec(T1), 'False', 'False'] },
      { method: 'SetNTP', args: ['True', 'False'] },
    ]);
    await expect(sut.read()).resolves.toMatchObject({ ntpEnabled: true });
  });

  it('retries SetTime while timedated still refuses just after NTP was turned off, with a fresh target each time', async () => {
    await scenario({ ntp: true, ntpSynchronized: false, timezone: 'UTC', refusalSeconds: 0.6 });
    sut.retryDelaysMs = [200, 200, 200, 200, 200];
    const started = performance.now();
    const targets: number[] = [];
    await sut.setTime(() => {
      const t = T1 + (performance.now() - started);
      targets.push(t);
      return t;
    });
    const calls = sandbox.callsSince(mark);
    expect(calls[0]).toEqual({ method: 'SetNTP', args: ['False', 'False'] });
    expect(calls.at(-1)).toEqual({ method: 'SetNTP', args: ['True', 'False'] });
    const setTimes = calls.slice(1, -1);
    expect(setTimes.length).toBeGreaterThanOrEqual(2);
    expect(setTimes.slice(0, -1).every((c) => c.method === 'SetTime' && c.raised?.endsWith('Automatic time synchronization is enabled'))).toBe(true);
    expect(setTimes.at(-1)).toEqual({ method: 'SetTime', args: [usec(targets.at(-1)!), 'False', 'False'] });
    expect(setTimes.map((c) => c.args[0])).toEqual(targets.map(usec));
    expect(new Set(targets).size).toBe(targets.length);
  });

  it('when SetTime keeps being refused: fails with timedatectl\'s message and still turns NTP back on', async () => {
    await scenario({ ntp: true, ntpSynchronized: false, timezone: 'UTC', refusalSeconds: -1 });
    sut.retryDelaysMs = [50, 50];
    const error = await rejection(sut.setTime(() => T1));
    expect(error.code).toBe(ErrorCode.CLOCK_WRITE_FAILED);
    expect(error.message).toContain('Failed to set time: Automatic time synchronization is enabled');
    const refused = { method: 'SetTime', args: [usec(T1), 'False', 'False'], raised: 'org.freedesktop.timedate1.AutomaticTimeSyncEnabled: Automatic time synchronization is enabled' };
    expect(sandbox.callsSince(mark)).toEqual([
      { method: 'SetNTP', args: ['False', 'False'] },
      refused,
      refused,
      refused,
      { method: 'SetNTP', args: ['True', 'False'] },
    ]);
    await expect(sut.read()).resolves.toMatchObject({ ntpEnabled: true });
  });

  it('leaves an NTP-synchronized clock alone: refusal, no setter called', async () => {
    await scenario({ ntp: true, ntpSynchronized: true, timezone: 'UTC' });
    const target = jest.fn(() => T1);
    const error = await rejection(sut.setTime(target));
    expect(error.code).toBe(ErrorCode.NTP_SYNCHRONIZED);
    expect(target).not.toHaveBeenCalled();
    expect(sandbox.callsSince(mark)).toEqual([]);
  });

  it('maps a polkit refusal to CLOCK_PERMISSION_DENIED', async () => {
    await scenario({ ntp: false, ntpSynchronized: false, timezone: 'UTC', deny: true });
    const error = await rejection(sut.setTime(() => T1));
    expect(error.code).toBe(ErrorCode.CLOCK_PERMISSION_DENIED);
    expect(error.message).toContain('Interactive authentication required');
    expect(error.message).toContain('kiosk/polkit/50-pi-camera-timesync.rules');
    expect(sandbox.callsSince(mark)).toEqual([
      { method: 'SetTime', args: [usec(T1), 'False', 'False'], raised: 'org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: Interactive authentication required.' },
    ]);
  });

  it('sets the zone through SetTimezone and makes this process follow it', async () => {
    await scenario({ ntp: false, ntpSynchronized: false, timezone: 'UTC' });
    await sut.setTimezone('Europe/Berlin');
    expect(sandbox.callsSince(mark)).toEqual([{ method: 'SetTimezone', args: ['Europe/Berlin', 'False'] }]);
    expect(process.env.TZ).toBe('Europe/Berlin');
    await expect(sut.read()).resolves.toMatchObject({ timezone: 'Europe/Berlin' });
  });

  it.each(['../../etc/passwd', '$(reboot)', 'UTC; reboot'])('never lets %p reach timedatectl', async (zone) => {
    await scenario({ ntp: false, ntpSynchronized: false, timezone: 'UTC' });
    const error = await rejection(sut.setTimezone(zone));
    expect(error.code).toBe(ErrorCode.INVALID_TIMEZONE);
    expect(sandbox.callsSince(mark)).toEqual([]);
  });
});
