import { ManualClock } from './clock';
import { makeTimestamp } from './timestamp';

describe(makeTimestamp.name, () => {
  const clock = new ManualClock(Date.parse('2026-11-25T08:12:00.250Z'));

  it('stamps the clock reading with its accuracy', () => {
    expect(makeTimestamp(clock, { source: 'client', reliability: 'high', estimatedErrorMs: 0.4 })).toEqual({
      epochMs: Date.parse('2026-11-25T08:12:00.250Z'),
      iso: '2026-11-25T08:12:00.250Z',
      source: 'client',
      reliability: 'high',
      estimatedErrorMs: 0.4,
      synchronized: true,
    });
  });

  it('is not synchronized without a source or without reliability', () => {
    expect(makeTimestamp(clock, { source: 'none', reliability: 'none', estimatedErrorMs: null }).synchronized).toBe(false);
    expect(makeTimestamp(clock, { source: 'client', reliability: 'none', estimatedErrorMs: null }).synchronized).toBe(false);
    expect(makeTimestamp(clock, { source: 'none', reliability: 'low', estimatedErrorMs: null }).synchronized).toBe(false);
  });

  it('reads the wall clock, so a step shows', () => {
    const stepped = new ManualClock(Date.parse('2026-11-25T08:12:00Z'));
    stepped.step(Date.parse('2027-01-01T00:00:00Z'));
    expect(makeTimestamp(stepped, { source: 'manual', reliability: 'medium', estimatedErrorMs: 500 }).iso).toBe('2027-01-01T00:00:00.000Z');
  });
});
