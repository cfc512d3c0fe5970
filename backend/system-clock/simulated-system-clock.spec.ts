import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app.config';
import { Clock, HostClock } from '../time/clock';
import { TimeModule } from '../time/time.module';
import { SimulatedSystemClock } from './simulated-system-clock';

@Global()
@Module({ providers: [{ provide: AppConfig, useValue: Object.assign(new AppConfig(), { CLOCK_BACKEND: 'simulated', SIMULATED_CLOCK_OFFSET_MS: -259_200_000 }) }], exports: [AppConfig] })
class SimulatedConfigModule {}

describe(SimulatedSystemClock.name, () => {
  it('steps the very clock TimeModule gives everyone else', async () => {
    const app = await Test.createTestingModule({
      imports: [SimulatedConfigModule, TimeModule],
      // Bound as SystemClockModule binds it: built from the Clock only in simulated mode.
      providers: [{ provide: SimulatedSystemClock, inject: [Clock], useFactory: (clock: Clock) => new SimulatedSystemClock(clock) }],
    }).compile();
    const clock = app.get(Clock);
    const target = Date.parse('2027-01-01T00:00:00Z');
    await app.get(SimulatedSystemClock).setTime(() => target);
    expect(Math.abs(clock.now() - target)).toBeLessThan(1000);
    await app.close();
  });

  it('refuses a clock it cannot step, with a message that says why', () => {
    expect(() => new SimulatedSystemClock(new HostClock())).toThrow(/CLOCK_BACKEND=simulated.*HostClock/);
  });
});
