import { Logger } from '@nestjs/common';
import { DomainEvent, EventBus } from '../common/event-bus';
import { ManualClock } from '../time/clock';
import { ActivityLogService, MAX_ACTIVITY_ENTRIES } from './activity-log.service';

describe(ActivityLogService.name, () => {
  it('keeps the last 100 entries, numbered in order and stamped by the injected clock, and emits each new one alone', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const bus = new EventBus();
    const events: DomainEvent[] = [];
    bus.events$.subscribe((e) => events.push(e));
    const sut = new ActivityLogService(clock, bus);
    for (let i = 0; i < MAX_ACTIVITY_ENTRIES + 5; i++) {
      sut.add(i % 2 ? 'sync' : 'error', `entry ${i}`, i % 2 === 1, { offset: i });
      // A clock stepped back between entries: the order is still the order they happened in.
      clock.advance(i === 50 ? -3_600_000 : 1000);
    }
    const entries = sut.entries();
    expect(entries).toHaveLength(100);
    expect(entries[0]).toMatchObject({ message: 'entry 5', seq: 6 });
    expect(entries[99]).toMatchObject({ seq: 105, message: 'entry 104', type: 'error', success: false, details: { offset: 104 } });
    expect(entries.map((e) => e.seq)).toEqual([...entries.map((e) => e.seq)].sort((a, b) => a - b));
    expect(events).toHaveLength(105);
    expect(events.at(-1)).toEqual({ name: 'activity', data: entries[99] });
  });

  it('stamps each entry on the monotonic clock too, so a page can show them in the Pi\'s current time after a step', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12), 5_000);
    const sut = new ActivityLogService(clock, new EventBus());
    sut.add('sync', 'before', true);
    clock.advance(2000);
    clock.step(Date.UTC(2026, 10, 28, 12)); // three days ahead
    clock.advance(1000);
    sut.add('sync', 'after', true);
    const [before, after] = sut.entries();
    expect(after.monotonicMs! - before.monotonicMs!).toBe(3000);
    // The wall stamps jump three days; the current wall minus monotonic maps both into today's clock, 3 s apart.
    const wallMinusMono = clock.epochOfMonotonic();
    expect(new Date(wallMinusMono + before.monotonicMs!).toISOString()).toBe('2026-11-28T11:59:58.000Z');
    expect(new Date(wallMinusMono + after.monotonicMs!).toISOString()).toBe('2026-11-28T12:00:01.000Z');
  });

  it.each([
    ['Canon EOS R50\n[camera] forged entry', 'Camera Canon EOS R50\\n[camera] forged entry connected'],
    ['nul\0', 'Camera nul\\0 connected'],
    ['ls\u2028x', 'Camera ls\\u2028x connected'],
  ])('a camera\'s %j reaches the entry and the log line escaped, on one line', (name, expected) => {
    const sut = new ActivityLogService(new ManualClock(0), new EventBus());
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    try {
      expect(sut.add('camera', `Camera ${name} connected`, true).message).toBe(expected);
      expect(log).toHaveBeenCalledWith(`[camera] ${expected}`);
    } finally {
      log.mockRestore();
    }
  });
});
