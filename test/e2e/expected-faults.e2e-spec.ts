import { Logger } from '@nestjs/common';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, StartedApp } from '../support/app';
import { EXPECTED_MARK, expectFaults, JOURNAL_UNWRITABLE_LOG } from '../support/expected-faults';

/** What the Nest logger writes to stdout and stderr while `fn` runs. */
async function printed(fn: () => Promise<void> | void): Promise<string> {
  const chunks: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }),
  );
  try {
    await fn();
  } finally {
    spies.forEach((spy) => spy.mockRestore());
  }
  // eslint-disable-next-line no-control-regex
  return chunks.join('').replace(/\x1b\[[0-9;]*m/g, '');
}

describe('expectFaults (the test logger for faults provoked on purpose)', () => {
  let app: StartedApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("marks the broken journal's boot line as expected, at WARN; another error in the same test stays an ERROR", async () => {
    expectFaults(JOURNAL_UNWRITABLE_LOG);
    const out = await printed(async () => {
      app = await startApp({}, 0, (dataDir) => mkdirSync(join(dataDir, 'clock-journal.jsonl')));
      new Logger('Elsewhere').error('The camera answered nonsense');
    });
    expect(out).toMatch(new RegExp(`WARN \\[ClockJournal\\] \\${EXPECTED_MARK} The clock-change journal .*clock-journal\\.jsonl cannot be written: it is a folder, not a file \\(EISDIR\\)`));
    expect(out).not.toMatch(/ERROR \[ClockJournal\]/);
    expect(out).toMatch(/ERROR \[Elsewhere\] The camera answered nonsense/);
    expect(out).not.toMatch(/\[expected in test\] The camera/);
  });

  it('ends with the test: the next one logs the same line as a real ERROR', async () => {
    const out = await printed(async () => {
      app = await startApp({}, 0, (dataDir) => mkdirSync(join(dataDir, 'clock-journal.jsonl')));
    });
    expect(out).toMatch(/ERROR \[ClockJournal\] The clock-change journal .* cannot be written/);
    expect(out).not.toContain(EXPECTED_MARK);
  });
});
