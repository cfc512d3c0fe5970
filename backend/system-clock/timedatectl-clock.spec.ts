import { DomainError, ErrorCode } from '../common/domain-error';
import { ManualClock } from '../time/clock';
import { restoreProcessTimezone } from '../time/timezone';
import { CommandError, CommandOptions, CommandOutput, CommandRunner, formatSetTimeArgument, parseTimedatectlShow, TimedatectlClock } from './timedatectl-clock';
import { rejection } from '../../test/support/domain-errors';

type Outcome = { stdout?: string; stderr?: string } | { fail: Partial<ConstructorParameters<typeof CommandError>[0]> };

/** Answers only the commands it was told to expect, in order; anything else is recorded and fails the test. */
class StrictCommandRunner extends CommandRunner {
  readonly calls: string[][] = [];
  readonly unexpected: string[][] = [];
  private readonly expected: Array<{ argv: string[]; outcome: Outcome }> = [];

  expect(argv: string[], outcome: Outcome = {}): this {
    this.expected.push({ argv, outcome });
    return this;
  }

  override async run(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandOutput> {
    const argv = [file, ...args];
    this.calls.push(argv);
    expect(options.env).toEqual({ LC_ALL: 'C', TZ: 'UTC' });
    const next = this.expected[0];
    if (!next || JSON.stringify(next.argv) !== JSON.stringify(argv)) {
      this.unexpected.push(argv);
      throw new Error(`unexpected command: ${JSON.stringify(argv)}`);
    }
    this.expected.shift();
    if ('fail' in next.outcome) throw new CommandError({ file, args, exitCode: 1, ...next.outcome.fail });
    return { stdout: next.outcome.stdout ?? '', stderr: next.outcome.stderr ?? '' };
  }

  verify(): void {
    expect(this.unexpected).toEqual([]);
    expect(this.expected.map((e) => e.argv)).toEqual([]);
  }
}

const SHOW = ['timedatectl', '--no-ask-password', 'show'];
const NTP_OFF = ['timedatectl', '--no-ask-password', 'set-ntp', 'false'];
const NTP_ON = ['timedatectl', '--no-ask-password', 'set-ntp', 'true'];
const setTimeArgv = (text: string) => ['timedatectl', '--no-ask-password', 'set-time', text];

const show = (p: { ntp: boolean; synced: boolean; zone?: string }) => ({
  stdout: [
    `Timezone=${p.zone ?? 'Europe/Berlin'}`,
    'LocalRTC=no',
    'CanNTP=yes',
    `NTP=${p.ntp ? 'yes' : 'no'}`,
    `NTPSynchronized=${p.synced ? 'yes' : 'no'}`,
    'TimeUSec=Wed 2026-11-25 08:12:00 UTC',
    'RTCTimeUSec=n/a',
    '',
  ].join('\n'),
});
const AUTO_SYNC = { fail: { stderr: 'Failed to set time: Automatic time synchronization is enabled\n' } };
const INTERACTIVE = { fail: { stderr: 'Failed to set time: Interactive authentication required.\n' } };

const T = Date.UTC(2026, 10, 25, 8, 12, 0, 123) + 0.456; // 2026-11-25 08:12:00.123456 UTC

describe(TimedatectlClock.name, () => {
  let runner: StrictCommandRunner;
  let clock: ManualClock;
  let sut: TimedatectlClock;
  const originalTz = process.env.TZ;

  beforeEach(() => {
    runner = new StrictCommandRunner();
    clock = new ManualClock(Date.UTC(2026, 10, 25, 8, 0, 0));
    sut = new TimedatectlClock(runner, clock);
    sut.retryDelaysMs = [0, 0, 0];
  });

  afterEach(() => {
    runner.verify();
    restoreProcessTimezone(originalTz);
    jest.useRealTimers();
  });

  describe('read', () => {
    it('reports zone and NTP state from timedatectl show, time from the host clock', async () => {
      runner.expect(SHOW, show({ ntp: true, synced: false, zone: 'America/Los_Angeles' }));
      await expect(sut.read()).resolves.toEqual({
        epochMs: clock.now(),
        timezone: 'America/Los_Angeles',
        ntpEnabled: true,
        ntpSynchronized: false,
        backend: 'system',
      });
    });

    it('fails with a coded error when timedatectl cannot be run', async () => {
      runner.expect(SHOW, { fail: { reason: 'not-found', exitCode: null } });
      const error = await rejection(sut.read());
      expect(error.code).toBe(ErrorCode.INTERNAL);
      expect(error.message).toMatch(/timedatectl is not installed/);
    });
  });

  describe('readRtcMs', () => {
    it("reports timedated's RTCTimeUSec from timedatectl show, whole seconds", async () => {
      runner.expect(SHOW, { stdout: show({ ntp: false, synced: false }).stdout.replace('RTCTimeUSec=n/a', 'RTCTimeUSec=Tue 2026-12-01 10:00:07 UTC') });
      await expect(sut.readRtcMs()).resolves.toBe(Date.UTC(2026, 11, 1, 10, 0, 7));
    });

    it('reports no hardware clock when timedated has none (RTCTimeUSec 0 is left out of show)', async () => {
      runner.expect(SHOW, { stdout: show({ ntp: false, synced: false }).stdout.replace('RTCTimeUSec=n/a\n', '') });
      await expect(sut.readRtcMs()).resolves.toBeNull();
    });

    it('fails with a coded error when timedated cannot be asked', async () => {
      runner.expect(SHOW, { fail: { stderr: 'Failed to query server: Connection refused\n' } });
      const error = await rejection(sut.readRtcMs());
      expect(error.code).toBe(ErrorCode.INTERNAL);
      expect(error.message).toBe('Could not ask timedated for the hardware clock: Failed to query server: Connection refused');
    });
  });

  describe('setTime', () => {
    it('refuses when NTP has synchronized the clock, without writing anything', async () => {
      runner.expect(SHOW, show({ ntp: true, synced: true }));
      const target = jest.fn(() => T);
      const error = await rejection(sut.setTime(target));
      expect(error.code).toBe(ErrorCode.NTP_SYNCHRONIZED);
      expect(error.message).toBe("The Pi's clock is synchronized by NTP, a better source than any phone; leaving it alone");
      expect(target).not.toHaveBeenCalled();
      expect(runner.calls).toEqual([SHOW]);
    });

    it('sets the time directly when NTP is off, in UTC with microseconds', async () => {
      runner.expect(SHOW, show({ ntp: false, synced: false })).expect(setTimeArgv('2026-11-25 08:12:00.123456 UTC'));
      await sut.setTime(() => T);
      expect(runner.calls).toEqual([SHOW, setTimeArgv('2026-11-25 08:12:00.123456 UTC')]);
    });

    it('turns NTP off, sets the time, and turns NTP back on when NTP is on but unsynchronized', async () => {
      runner
        .expect(SHOW, show({ ntp: true, synced: false }))
        .expect(NTP_OFF)
        .expect(setTimeArgv('2026-11-25 08:12:00.123456 UTC'))
        .expect(NTP_ON);
      const target = jest.fn(() => T);
      await sut.setTime(target);
      expect(runner.calls).toEqual([SHOW, NTP_OFF, setTimeArgv('2026-11-25 08:12:00.123456 UTC'), NTP_ON]);
      expect(target).toHaveBeenCalledTimes(1);
    });

    it('computes the target only after NTP is off', async () => {
      const order: string[] = [];
      const recording = new StrictCommandRunner();
      const run = recording.run.bind(recording);
      recording.run = async (file, args, options) => {
        order.push(args.slice(1).join(' '));
        return run(file, args, options);
      };
      recording.expect(SHOW, show({ ntp: true, synced: false })).expect(NTP_OFF).expect(setTimeArgv(formatSetTimeArgument(T))).expect(NTP_ON);
      sut = new TimedatectlClock(recording, clock);
      await sut.setTime(() => {
        order.push('target()');
        return T;
      });
      expect(order).toEqual(['show', 'set-ntp false', 'target()', `set-time ${formatSetTimeArgument(T)}`, 'set-ntp true']);
      recording.verify();
    });

    it('retries set-time while timedated still says NTP is active, reading the target again each time', async () => {
      jest.useFakeTimers();
      sut.retryDelaysMs = [250, 500, 1000];
      let now = T;
      const target = jest.fn(() => (now += 1000));
      runner
        .expect(SHOW, show({ ntp: true, synced: false }))
        .expect(NTP_OFF)
        .expect(setTimeArgv(formatSetTimeArgument(T + 1000)), AUTO_SYNC)
        .expect(setTimeArgv(formatSetTimeArgument(T + 2000)), AUTO_SYNC)
        .expect(setTimeArgv(formatSetTimeArgument(T + 3000)))
        .expect(NTP_ON);
      const done = sut.setTime(target);
      await jest.advanceTimersByTimeAsync(249);
      expect(runner.calls).toHaveLength(3);
      await jest.advanceTimersByTimeAsync(1);
      expect(runner.calls).toHaveLength(4);
      await jest.advanceTimersByTimeAsync(500);
      await done;
      expect(target).toHaveBeenCalledTimes(3);
      expect(runner.calls.at(-1)).toEqual(NTP_ON);
    });

    it('gives up after the retries with timedatectl\'s message, and still turns NTP back on', async () => {
      runner
        .expect(SHOW, show({ ntp: true, synced: false }))
        .expect(NTP_OFF)
        .expect(setTimeArgv(formatSetTimeArgument(T)), AUTO_SYNC)
        .expect(setTimeArgv(formatSetTimeArgument(T)), AUTO_SYNC)
        .expect(setTimeArgv(formatSetTimeArgument(T)), AUTO_SYNC)
        .expect(setTimeArgv(formatSetTimeArgument(T)), AUTO_SYNC)
        .expect(NTP_ON);
      const error = await rejection(sut.setTime(() => T));
      expect(error.code).toBe(ErrorCode.CLOCK_WRITE_FAILED);
      expect(error.message).toContain('Failed to set time: Automatic time synchronization is enabled');
      expect(error.details).toMatchObject({ stderr: 'Failed to set time: Automatic time synchronization is enabled' });
      expect(runner.calls.at(-1)).toEqual(NTP_ON);
    });

    it('turns NTP back on when the write fails for another reason', async () => {
      runner
        .expect(SHOW, show({ ntp: true, synced: false }))
        .expect(NTP_OFF)
        .expect(setTimeArgv(formatSetTimeArgument(T)), { fail: { stderr: 'Failed to set time: Input/output error\n' } })
        .expect(NTP_ON);
      const error = await rejection(sut.setTime(() => T));
      expect(error.code).toBe(ErrorCode.CLOCK_WRITE_FAILED);
      expect(error.message).toContain('Input/output error');
      expect(runner.calls).toEqual([SHOW, NTP_OFF, setTimeArgv(formatSetTimeArgument(T)), NTP_ON]);
    });

    it('turns NTP back on when the target throws', async () => {
      runner.expect(SHOW, show({ ntp: true, synced: false })).expect(NTP_OFF).expect(NTP_ON);
      await expect(
        sut.setTime(() => {
          throw new Error('estimate gone');
        }),
      ).rejects.toThrow('estimate gone');
    });

    it('reports a successful write whose NTP restore failed as a failure that says the clock was set', async () => {
      runner
        .expect(SHOW, show({ ntp: true, synced: false }))
        .expect(NTP_OFF)
        .expect(setTimeArgv(formatSetTimeArgument(T)))
        .expect(NTP_ON, { fail: { stderr: 'Failed to set ntp: Connection timed out\n' } });
      const error = await rejection(sut.setTime(() => T));
      expect(error.code).toBe(ErrorCode.CLOCK_WRITE_FAILED);
      expect(error.message).toMatch(/^The clock was set, but NTP could not be turned back on/);
      expect(error.details).toMatchObject({ clockSet: true, ntpRestored: false });
    });

    it('keeps the write error and adds the restore failure when both fail', async () => {
      runner
        .expect(SHOW, show({ ntp: true, synced: false }))
        .expect(NTP_OFF)
        .expect(setTimeArgv(formatSetTimeArgument(T)), { fail: { stderr: 'Failed to set time: Input/output error\n' } })
        .expect(NTP_ON, { fail: { reason: 'timeout', exitCode: null } });
      const error = await rejection(sut.setTime(() => T));
      expect(error.code).toBe(ErrorCode.CLOCK_WRITE_FAILED);
      expect(error.message).toContain('Input/output error');
      expect(error.message).toContain('NTP could not be turned back on (timedatectl did not answer in time)');
      expect(error.details).toMatchObject({ ntpRestored: false });
    });

    it('says the clock may have moved when set-time was killed mid-call (the journal marks the step unknown)', async () => {
      runner.expect(SHOW, show({ ntp: false, synced: false })).expect(setTimeArgv(formatSetTimeArgument(T)), { fail: { reason: 'timeout', exitCode: null } });
      const error = await rejection(sut.setTime(() => T));
      expect(error.code).toBe(ErrorCode.CLOCK_WRITE_FAILED);
      expect(error.details).toMatchObject({ clockSet: 'unknown' });
    });

    it('says nothing of clockSet when timedated refused the write (the clock did not move)', async () => {
      runner.expect(SHOW, show({ ntp: false, synced: false })).expect(setTimeArgv(formatSetTimeArgument(T)), { fail: { stderr: 'Failed to set time: Input/output error\n' } });
      const error = await rejection(sut.setTime(() => T));
      expect(error.details?.clockSet).toBeUndefined();
    });

    it('maps "Interactive authentication required" to CLOCK_PERMISSION_DENIED naming the polkit rule', async () => {
      runner.expect(SHOW, show({ ntp: false, synced: false })).expect(setTimeArgv(formatSetTimeArgument(T)), INTERACTIVE);
      const error = await rejection(sut.setTime(() => T));
      expect(error.code).toBe(ErrorCode.CLOCK_PERMISSION_DENIED);
      expect(error.message).toContain('kiosk/polkit/50-pi-camera-timesync.rules');
      expect(error.message).toContain('Interactive authentication required');
    });

    it('maps a denied set-ntp to CLOCK_PERMISSION_DENIED and still tries to turn NTP back on', async () => {
      runner
        .expect(SHOW, show({ ntp: true, synced: false }))
        .expect(NTP_OFF, { fail: { stderr: 'Failed to set ntp: Access denied\n' } })
        .expect(NTP_ON, { fail: { stderr: 'Failed to set ntp: Access denied\n' } });
      const target = jest.fn(() => T);
      const error = await rejection(sut.setTime(target));
      expect(error.code).toBe(ErrorCode.CLOCK_PERMISSION_DENIED);
      expect(error.message).toMatch(/^Could not turn NTP off to set the clock: this service is not allowed/);
      expect(target).not.toHaveBeenCalled();
    });

    it('refuses a target it cannot format without running set-time', async () => {
      runner.expect(SHOW, show({ ntp: false, synced: false }));
      const error = await rejection(sut.setTime(() => Number.NaN));
      expect(error.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    });
  });

  describe('setTimezone', () => {
    it('runs set-timezone with the zone as one argument, then makes this process follow it', async () => {
      runner.expect(['timedatectl', '--no-ask-password', 'set-timezone', 'Australia/Sydney']);
      await sut.setTimezone('Australia/Sydney');
      // Node re-reads its zone when TZ is assigned (jest gives tests a copy of process.env, so only the
      // assignment is visible here).
      expect(process.env.TZ).toBe('Australia/Sydney');
    });

    it.each(['../../etc/passwd', '$(reboot)', '`reboot`', 'Europe/Berlin; reboot', '-h', '--help', '', 'europe/berlin', 'Not/AZone', ' UTC'])(
      'rejects %p without running anything',
      async (zone) => {
        const error = await rejection(sut.setTimezone(zone));
        expect(error.code).toBe(ErrorCode.INVALID_TIMEZONE);
        expect(runner.calls).toEqual([]);
        expect(process.env.TZ).toBe(originalTz);
      },
    );

    it('leaves the process zone alone when timedated refuses', async () => {
      runner.expect(['timedatectl', '--no-ask-password', 'set-timezone', 'Europe/Paris'], { fail: { stderr: 'Failed to set time zone: Interactive authentication required.\n' } });
      const error = await rejection(sut.setTimezone('Europe/Paris'));
      expect(error.code).toBe(ErrorCode.CLOCK_PERMISSION_DENIED);
      expect(process.env.TZ).toBe(originalTz);
    });

    it('maps a zone the system does not have to INVALID_TIMEZONE', async () => {
      runner.expect(['timedatectl', '--no-ask-password', 'set-timezone', 'America/Ciudad_Juarez'], { fail: { stderr: "Failed to set time zone: Invalid or not installed time zone 'America/Ciudad_Juarez'\n" } });
      const error = await rejection(sut.setTimezone('America/Ciudad_Juarez'));
      expect(error.code).toBe(ErrorCode.INVALID_TIMEZONE);
    });
  });
});

describe(parseTimedatectlShow.name, () => {
  it('reads the properties, ignoring unknown keys, blank lines, CRLF and stray spaces', () => {
    const out = ' Timezone = Asia/Kolkata\r\nFoo=bar\n\nNTP=yes\nNTPSynchronized=no\nCanNTP=no\nTimeUSec=Wed 2026-11-25 08:12:00 UTC\nRTCTimeUSec=\n';
    expect(parseTimedatectlShow(out)).toEqual({
      timezone: 'Asia/Kolkata',
      ntp: true,
      ntpSynchronized: false,
      canNtp: false,
      timeMs: Date.UTC(2026, 10, 25, 8, 12, 0),
      rtcMs: null,
    });
  });

  it('reads the hardware clock from RTCTimeUSec (absent, as timedatectl leaves out a 0, or n/a: none)', () => {
    expect(parseTimedatectlShow('NTP=no\nRTCTimeUSec=Mon 2026-11-30 00:53:20 UTC\n').rtcMs).toBe(Date.UTC(2026, 10, 30, 0, 53, 20));
    expect(parseTimedatectlShow('NTP=no\n').rtcMs).toBeNull();
    expect(parseTimedatectlShow('NTP=no\nRTCTimeUSec=n/a\n').rtcMs).toBeNull();
  });

  it('defaults missing values (empty zone is UTC, missing booleans are false, no TimeUSec is null)', () => {
    expect(parseTimedatectlShow('Timezone=\nNTP=no\n')).toEqual({ timezone: 'UTC', ntp: false, ntpSynchronized: false, canNtp: false, timeMs: null, rtcMs: null });
  });

  it('throws on output that is not timedatectl show', () => {
    expect(() => parseTimedatectlShow('System has not been booted with systemd as init system (PID 1).')).toThrow(/unexpected/);
  });
});

describe(formatSetTimeArgument.name, () => {
  it.each([
    [Date.UTC(2026, 10, 25, 8, 12, 0, 123) + 0.456, '2026-11-25 08:12:00.123456 UTC'],
    [Date.UTC(2026, 0, 1), '2026-01-01 00:00:00.000000 UTC'],
    [Date.UTC(2026, 11, 31, 23, 59, 59, 999) + 0.9999, '2027-01-01 00:00:00.000000 UTC'],
    [0, '1970-01-01 00:00:00.000000 UTC'],
  ])('%p -> %p', (ms, text) => {
    expect(formatSetTimeArgument(ms)).toBe(text);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, -1, Date.UTC(10000, 0, 1)])('rejects %p', (ms) => {
    expect(() => formatSetTimeArgument(ms)).toThrow(DomainError);
  });
});

describe(CommandRunner.name, () => {
  const sut = new CommandRunner();
  const node = process.execPath;

  it('passes arguments verbatim, with no shell in between', async () => {
    const hostile = ['$(reboot)', '; ls /', '`id`', "it's", '*'];
    const { stdout } = await sut.run(node, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...hostile]);
    expect(JSON.parse(stdout)).toEqual(hostile);
  });

  it('adds the given environment variables', async () => {
    const { stdout } = await sut.run(node, ['-e', 'process.stdout.write(process.env.LC_ALL + " " + process.env.TZ)'], { env: { LC_ALL: 'C', TZ: 'UTC' } });
    expect(stdout).toBe('C UTC');
  });

  it('rejects with the exit status and stderr of a failing program', async () => {
    const error = await sut.run(node, ['-e', 'process.stderr.write("Failed to set time: nope\\n"); process.exit(3)']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandError);
    expect(error).toMatchObject({ reason: 'exit', exitCode: 3, stderr: 'Failed to set time: nope\n' });
  });

  it('rejects a program that does not exist as not-found', async () => {
    await expect(sut.run('/nonexistent/timedatectl', ['show'])).rejects.toMatchObject({ reason: 'not-found' });
  });

  it('kills a program that runs past the timeout', async () => {
    await expect(sut.run(node, ['-e', 'setTimeout(() => {}, 10000)'], { timeoutMs: 200 })).rejects.toMatchObject({ reason: 'timeout' });
  });
});
