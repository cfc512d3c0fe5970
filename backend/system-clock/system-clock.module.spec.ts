import { Test } from '@nestjs/testing';
import { CommonModule } from '../common/common.module';
import { AppConfig, validateConfig } from '../config/app.config';
import { AppConfigModule } from '../config/config.module';
import { TimeModule } from '../time/time.module';
import { ClockStepService } from './clock-step.service';
import { SimulatedSystemClock } from './simulated-system-clock';
import { SystemClock } from './system-clock';
import { SystemClockModule } from './system-clock.module';
import { CommandRunner, TimedatectlClock } from './timedatectl-clock';

async function systemClockFor(backend: AppConfig['CLOCK_BACKEND'], runner: Partial<CommandRunner> = noCommands) {
  const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, CommonModule, TimeModule, SystemClockModule] })
    .overrideProvider(AppConfig)
    .useValue(validateConfig({ CLOCK_BACKEND: backend, DATA_DIR: '/nonexistent/never-written' }))
    .overrideProvider(CommandRunner)
    .useValue(runner)
    .compile();
  return { sut: moduleRef.get(SystemClock), stepper: moduleRef.get(ClockStepService), close: () => moduleRef.close() };
}

const noCommands = { run: jest.fn(() => Promise.reject(new Error('no command may run while booting'))) };

describe(SystemClockModule.name, () => {
  it('binds SystemClock to the simulated adapter by default', async () => {
    const { sut, stepper, close } = await systemClockFor('simulated');
    expect(sut).toBeInstanceOf(SimulatedSystemClock);
    expect(sut.backend).toBe('simulated');
    // The simulated clock is not the host's: it has no hardware clock of its own.
    await expect(sut.readRtcMs()).resolves.toBeNull();
    expect(stepper).toBeInstanceOf(ClockStepService);
    await close();
  });

  it("hands the module's CommandRunner to the timedatectl adapter", async () => {
    const runner = { run: jest.fn(async () => ({ stdout: 'Timezone=UTC\nNTP=no\nNTPSynchronized=no\n', stderr: '' })) };
    const { sut, close } = await systemClockFor('system', runner);
    await expect(sut.read()).resolves.toMatchObject({ timezone: 'UTC', ntpEnabled: false, backend: 'system' });
    expect(runner.run).toHaveBeenCalledWith('timedatectl', ['--no-ask-password', 'show'], expect.anything());
    await close();
  });

  it('binds SystemClock to timedatectl with CLOCK_BACKEND=system, running nothing while booting', async () => {
    const { sut, close } = await systemClockFor('system');
    expect(sut).toBeInstanceOf(TimedatectlClock);
    expect(sut.backend).toBe('system');
    expect(noCommands.run).not.toHaveBeenCalled();
    await close();
  });
});
