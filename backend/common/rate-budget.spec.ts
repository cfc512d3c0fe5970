import { ConnectionBudget, KeyedBudget, TokenBucket } from './rate-budget';

describe(TokenBucket.name, () => {
  it('holds one second of budget, refills with time, and refuses without taking', () => {
    const sut = new TokenBucket(10, 0);
    for (let i = 0; i < 10; i++) expect(sut.take(1, 0)).toBe(true);
    expect(sut.take(1, 0)).toBe(false);
    expect(sut.take(1, 99)).toBe(false);
    expect(sut.take(1, 100)).toBe(true);
    // A long pause refills to the capacity, not beyond.
    expect(sut.take(11, 60_000)).toBe(false);
    expect(sut.take(10, 60_000)).toBe(true);
  });
});

describe(ConnectionBudget.name, () => {
  it('names the budget a frame broke: frames first, then bytes', () => {
    const sut = new ConnectionBudget({ framesPerSecond: 3, bytesPerSecond: 1000 }, 0);
    expect(sut.admit(400, 0)).toBeNull();
    expect(sut.admit(400, 0)).toBeNull();
    expect(sut.admit(400, 0)).toBe('bytes');
    expect(sut.admit(1, 0)).toBe('frames');
    expect(sut.admit(1, 1000)).toBeNull();
  });
});

describe(KeyedBudget.name, () => {
  it('keeps one budget per key', () => {
    const sut = new KeyedBudget(2);
    expect([sut.take('a', 0), sut.take('a', 0), sut.take('a', 0)]).toEqual([true, true, false]);
    expect(sut.take('b', 0)).toBe(true);
    expect(sut.take('a', 500)).toBe(true);
  });

  it('forgets idle keys once it holds many, and still counts the busy one', () => {
    const sut = new KeyedBudget(1);
    expect(sut.take('busy', 0)).toBe(true);
    for (let i = 0; i < 1500; i++) sut.take(`k${i}`, 2000 + i / 1000);
    expect(sut.take('busy', 2002)).toBe(true);
    expect(sut.take('busy', 2002)).toBe(false);
  });
});
