import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from '../config/app.config';
import { ClockJournal, ClockStepRecord } from './clock-journal';

const record = (n: number): ClockStepRecord => ({ beforeMs: n, before: new Date(n).toISOString(), afterMs: n + 1000, after: new Date(n + 1000).toISOString(), stepMs: 1000, source: 'client', monotonicMs: n });

describe(ClockJournal.name, () => {
  const make = (dir: string) => new ClockJournal(Object.assign(new AppConfig(), { DATA_DIR: dir }));

  it('appends JSON lines, creates the folder, and reads them back in order across instances (restarts)', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'journal-')), 'nested', 'data');
    const sut = make(dir);
    expect(await sut.read()).toEqual([]);
    await Promise.all([sut.append(record(1)), sut.append(record(2)), sut.append(record(3))]);
    expect((await make(dir).read()).map((r) => r.beforeMs)).toEqual([1, 2, 3]);
  });

  it('skips a damaged line instead of losing the journal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const sut = make(dir);
    await sut.append(record(1));
    appendFileSync(sut.file, '{"half a line\n');
    await sut.append(record(2));
    expect((await sut.read()).map((r) => r.beforeMs)).toEqual([1, 2]);
  });
});
