import { ManualClock } from '../time/clock';
import { WallJumpWatcher } from './wall-jump';

describe(WallJumpWatcher.name, () => {
  it('sees nothing while the clock runs freely', () => {
    const clock = new ManualClock();
    const sut = new WallJumpWatcher(clock);
    clock.advance(60_000);
    expect(sut.check()).toBeNull();
  });

  it('sees a step of the wall clock, once, with its size and both ends', () => {
    const clock = new ManualClock();
    const sut = new WallJumpWatcher(clock);
    clock.advance(1000);
    const before = clock.now();
    clock.step(before + 7500);
    expect(sut.check()).toEqual({ jumpMs: 7500, beforeMs: before, afterMs: before + 7500 });
    clock.advance(1000);
    expect(sut.check()).toBeNull();
  });

  it('a step backwards too; below the threshold (a slewing NTP) is not a step', () => {
    const clock = new ManualClock();
    const sut = new WallJumpWatcher(clock, 100);
    clock.step(clock.now() - 3_600_000);
    expect(sut.check()?.jumpMs).toBe(-3_600_000);
    clock.step(clock.now() + 99);
    expect(sut.check()).toBeNull();
  });

  it("the product's own step is not reported once it rebased", () => {
    const clock = new ManualClock();
    const sut = new WallJumpWatcher(clock);
    clock.step(clock.now() + 40_000);
    sut.rebase();
    expect(sut.check()).toBeNull();
  });

  it('a reading held up between the two monotonic reads is not trusted', () => {
    const clock = new ManualClock();
    const sut = new WallJumpWatcher(clock);
    clock.step(clock.now() + 5000);
    let calls = 0;
    const mono = clock.monotonic.bind(clock);
    jest.spyOn(clock, 'monotonic').mockImplementation(() => mono() + (calls++ % 2 ? 50 : 0));
    expect(sut.check()).toBeNull();
  });
});
