import * as os from 'node:os';
import { HostClock, ManualClock } from './clock';
import { bootTimeMs, processUptimeMs, systemUptimeMs } from './uptime';

describe(processUptimeMs.name, () => {
  it('is the monotonic reading, untouched by wall clock steps', () => {
    const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'), 5_000);
    clock.step(Date.parse('2020-01-01T00:00:00Z'));
    expect(processUptimeMs(clock)).toBe(5_000);
    clock.advance(250);
    expect(processUptimeMs(clock)).toBe(5_250);
  });

  it('counts from the process start on the host clock', () => {
    const uptime = processUptimeMs();
    expect(uptime).toBeGreaterThan(0);
    // performance.now() and process.uptime() both start with the process (within a second of each other).
    expect(Math.abs(uptime - process.uptime() * 1000)).toBeLessThan(1000);
    expect(processUptimeMs(new HostClock())).toBeGreaterThanOrEqual(uptime);
  });
});

describe(systemUptimeMs.name, () => {
  it("is the kernel's uptime in ms", () => {
    const before = os.uptime() * 1000;
    const ms = systemUptimeMs();
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms - before).toBeLessThan(2000);
    expect(ms).toBeGreaterThanOrEqual(processUptimeMs() - 1000);
  });
});

describe(bootTimeMs.name, () => {
  it('is now minus the uptime, on the given clock', () => {
    const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
    expect(bootTimeMs(clock, 3_600_000)).toBe(Date.parse('2026-11-25T11:00:00Z'));
  });

  it('moves with a wall clock step', () => {
    const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
    clock.step(Date.parse('2026-11-28T12:00:00Z'));
    expect(bootTimeMs(clock, 60_000)).toBe(Date.parse('2026-11-28T11:59:00Z'));
  });

  it('uses the system uptime by default', () => {
    const clock = new ManualClock(Date.parse('2026-11-25T12:00:00Z'));
    expect(Math.abs(bootTimeMs(clock) - (clock.now() - systemUptimeMs()))).toBeLessThan(2000);
  });
});
