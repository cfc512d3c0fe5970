import { Global, Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app.config';
import { Clock, HostClock, SimulatedWallClock } from './clock';
import { DurationTracker } from './duration-tracker';
import { TimeModule } from './time.module';

function configModule(values: Partial<AppConfig>) {
  @Global()
  @Module({ providers: [{ provide: AppConfig, useValue: Object.assign(new AppConfig(), values) }], exports: [AppConfig] })
  class TestConfigModule {}
  return TestConfigModule;
}

describe(TimeModule.name, () => {
  it('provides a SimulatedWallClock with the configured offset in simulated mode', async () => {
    const app = await Test.createTestingModule({
      imports: [configModule({ CLOCK_BACKEND: 'simulated', SIMULATED_CLOCK_OFFSET_MS: -259_200_000 }), TimeModule],
    }).compile();

    const clock = app.get(Clock);
    expect(clock).toBeInstanceOf(SimulatedWallClock);
    expect((clock as SimulatedWallClock).offset).toBe(-259_200_000);
    expect(app.get(DurationTracker)).toBeInstanceOf(DurationTracker);
    // That SimulatedSystemClock steps this very clock is system-clock's test (simulated-system-clock.spec.ts).
    await app.close();
  });

  it('provides the host clock in system mode and boots without a SimulatedWallClock', async () => {
    const app = await Test.createTestingModule({ imports: [configModule({ CLOCK_BACKEND: 'system' }), TimeModule] }).compile();
    const clock = app.get(Clock);
    expect(clock).toBeInstanceOf(HostClock);
    expect(clock).not.toBeInstanceOf(SimulatedWallClock);
    await app.close();
  });

  it('is global: a module that does not import it can inject the same Clock and DurationTracker', async () => {
    @Injectable()
    class Consumer {
      constructor(
        readonly clock: Clock,
        readonly durations: DurationTracker,
      ) {}
    }
    @Module({ providers: [Consumer] })
    class ConsumerModule {}
    const app = await Test.createTestingModule({ imports: [configModule({ CLOCK_BACKEND: 'simulated' }), TimeModule, ConsumerModule] }).compile();
    const consumer = app.get(Consumer);
    expect(consumer.clock).toBe(app.get(Clock));
    expect(consumer.durations).toBe(app.get(DurationTracker));
    await app.close();
  });
});
