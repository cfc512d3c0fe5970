import { Test } from '@nestjs/testing';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommonModule } from '../../common/common.module';
import { AppConfig, validateConfig } from '../../config/app.config';
import { AppConfigModule } from '../../config/config.module';
import { CommandRunner } from '../../system-clock/timedatectl-clock';
import { TimeModule } from '../../time/time.module';
import { BUILD_DATE_MS } from '../../time/validation';
import { SourceContext, SourceSink } from '../source-port';
import { RtcModule, rtcSettingsFor } from './rtc.module';
import { RtcSource } from './rtc-source';

describe(rtcSettingsFor.name, () => {
  it.each<[string, Record<string, string>, { sysfs: string | null; off?: RegExp }]>([
    ['the default folder on the Pi', { CLOCK_BACKEND: 'system' }, { sysfs: '/sys/class/rtc/rtc0' }],
    ['another folder on the Pi', { CLOCK_BACKEND: 'system', RTC_SYSFS: '/sys/class/rtc/rtc1' }, { sysfs: '/sys/class/rtc/rtc1' }],
    ['nothing when RTC_SYSFS is empty', { CLOCK_BACKEND: 'system', RTC_SYSFS: '' }, { sysfs: null, off: /^RTC_SYSFS is empty/ }],
    // The host's RTC says nothing about the simulated clock; a fake tree is read.
    ["not the host's RTC with the simulated clock", { CLOCK_BACKEND: 'simulated' }, { sysfs: null, off: /^The simulated clock is not this machine's clock/ }],
    ['a fake tree with the simulated clock', { CLOCK_BACKEND: 'simulated', RTC_SYSFS: '/tmp/fake/rtc0' }, { sysfs: '/tmp/fake/rtc0' }],
  ])('%s', (_name, env, expected) => {
    const settings = rtcSettingsFor(validateConfig({ ...env, RTC_DRIFT_PPM: '7' }));
    expect(settings.sysfs).toBe(expected.sysfs);
    expect(settings.driftPpm).toBe(7);
    if (expected.off) expect(settings.off).toMatch(expected.off);
    else expect(settings.off).toBeUndefined();
  });
});

describe(RtcModule.name, () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rtc-module-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("builds RtcSource from the settings, the product's clock and the real journal, running no command", async () => {
    const rtc0 = join(dir, 'rtc0');
    mkdirSync(rtc0);
    const rtcSeconds = Math.floor(BUILD_DATE_MS / 1000) + 10 * 86_400;
    writeFileSync(join(rtc0, 'since_epoch'), `${rtcSeconds}\n`);
    const setAt = rtcSeconds * 1000 - 86_400_000;
    // One confirmed step a day before, as ClockStepService journals it.
    writeFileSync(
      join(dir, 'clock-journal.jsonl'),
      JSON.stringify({ id: 'a', state: 'confirmed', beforeMs: setAt - 5000, before: '', afterMs: setAt, after: '', stepMs: 5000, source: 'client', monotonicMs: 1, boot: 1, bootId: null, errorBoundMs: 10 }) + '\n',
    );
    const run = jest.fn(() => Promise.reject(new Error('no command may run')));
    const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, CommonModule, TimeModule, RtcModule] })
      .overrideProvider(AppConfig)
      .useValue(validateConfig({ CLOCK_BACKEND: 'simulated', RTC_SYSFS: rtc0, RTC_DRIFT_PPM: '5', DATA_DIR: dir }))
      .overrideProvider(CommandRunner)
      .useValue({ run })
      .compile();
    try {
      const sut = moduleRef.get(RtcSource);
      expect(sut).toBeInstanceOf(RtcSource);
      const sink: SourceSink = { reading: jest.fn(), lost: jest.fn(), info: jest.fn() };
      const context: SourceContext = { reference: () => null, plausibleAfterMs: () => BUILD_DATE_MS, wallMinusMonoMs: () => 0 };
      await sut.start(sink, context);
      expect(sink.lost).not.toHaveBeenCalled();
      expect(sink.reading).toHaveBeenCalledWith(expect.objectContaining({ source: 'rtc', who: 'rtc0', facts: expect.objectContaining({ driftPpm: 5, lastSetAt: new Date(setAt).toISOString() }) }));
      // 1.5 s, the step's 10 ms, 5 ppm of a day, and half of however long the read took on this machine.
      const { errorBoundMs } = (sink.reading as jest.Mock).mock.calls[0][0];
      expect(errorBoundMs - (1500 + 10 + (5 * (86_400_000 + 500)) / 1e6)).toBeGreaterThanOrEqual(0);
      expect(errorBoundMs - (1500 + 10 + (5 * (86_400_000 + 500)) / 1e6)).toBeLessThan(1000);
      expect(run).not.toHaveBeenCalled();
      await sut.stop();
    } finally {
      await moduleRef.close();
    }
  });

  it("refuses the RTC with the journal's own words when the journal cannot be read", async () => {
    const rtc0 = join(dir, 'rtc0');
    mkdirSync(rtc0);
    writeFileSync(join(rtc0, 'since_epoch'), `${Math.floor(BUILD_DATE_MS / 1000) + 86_400}\n`);
    mkdirSync(join(dir, 'clock-journal.jsonl'));
    const moduleRef = await Test.createTestingModule({ imports: [AppConfigModule, CommonModule, TimeModule, RtcModule] })
      .overrideProvider(AppConfig)
      .useValue(validateConfig({ CLOCK_BACKEND: 'simulated', RTC_SYSFS: rtc0, DATA_DIR: dir }))
      .compile();
    try {
      const sink: SourceSink = { reading: jest.fn(), lost: jest.fn(), info: jest.fn() };
      await moduleRef.get(RtcSource).start(sink, { reference: () => null, plausibleAfterMs: () => BUILD_DATE_MS, wallMinusMonoMs: () => 0 });
      expect(sink.reading).not.toHaveBeenCalled();
      expect(sink.lost).toHaveBeenCalledWith(expect.objectContaining({ code: 'RTC_AGE_UNKNOWN', why: expect.stringContaining('clock-journal.jsonl cannot be read: it is a folder, not a file (EISDIR)') }));
    } finally {
      await moduleRef.close();
    }
  });
});
