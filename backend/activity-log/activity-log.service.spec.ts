import { EventBus } from '../common/event-bus';
import { ServerFrame } from '../protocol/messages';
import { ManualClock } from '../time/clock';
import { ActivityLogService, MAX_ACTIVITY_ENTRIES } from './activity-log.service';

describe(ActivityLogService.name, () => {
  it('keeps the last 100 entries, stamped by the injected clock, and publishes each change', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 25, 12));
    const bus = new EventBus();
    const frames: ServerFrame[] = [];
    bus.frames$.subscribe((f) => frames.push(f));
    const sut = new ActivityLogService(clock, bus);
    for (let i = 0; i < MAX_ACTIVITY_ENTRIES + 5; i++) {
      sut.add(i % 2 ? 'sync' : 'error', `entry ${i}`, i % 2 === 1, { offset: i });
      clock.advance(1000);
    }
    const entries = sut.entries();
    expect(entries).toHaveLength(100);
    expect(entries[0].message).toBe('entry 5');
    expect(entries[99]).toMatchObject({ message: 'entry 104', type: 'error', success: false, details: { offset: 104 }, timestamp: new Date(Date.UTC(2026, 10, 25, 12) + 104_000).toISOString() });
    expect(frames).toHaveLength(105);
    const last = frames.at(-1) as Extract<ServerFrame, { type: 'activity_log' }>;
    expect(last.type).toBe('activity_log');
    expect(last.data.entries).toHaveLength(100);
  });
});
