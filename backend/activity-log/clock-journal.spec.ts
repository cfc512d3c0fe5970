import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { rejection } from '../../test/support/domain-errors';
import { ClockJournal, ClockStepRecord, JournalFile, JournalFiles, parseJournal } from './clock-journal';

const record = (n: number, extra: Partial<ClockStepRecord> = {}): ClockStepRecord => ({
  beforeMs: n,
  before: new Date(n).toISOString(),
  afterMs: n + 1000,
  after: new Date(n + 1000).toISOString(),
  stepMs: 1000,
  source: 'client',
  monotonicMs: n,
  ...extra,
});
const line = (r: ClockStepRecord) => JSON.stringify(r) + '\n';
const errno = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

/**
 * One journal file in memory. `budget` is how many more bytes the "disk" takes: a write beyond it comes up
 * short, the next one fails with ENOSPC, as on a full file system. Every call is logged; a call the journal
 * has no business making fails the test.
 */
class MemoryFiles extends JournalFiles {
  content = Buffer.alloc(0);
  budget = Infinity;
  free: number | null = null;
  failSync: string | null = null;
  zeroWrites = false;
  readonly calls: string[] = [];

  override async openAppend(): Promise<JournalFile> {
    this.calls.push('open');
    const files = this;
    return {
      async stat() {
        return { size: files.content.length };
      },
      async read(buffer, offset, length, position) {
        const bytesRead = files.content.copy(buffer, offset, position, position + length);
        return { bytesRead };
      },
      async write(buffer, offset, length) {
        if (files.zeroWrites) return { bytesWritten: 0 };
        if (files.budget <= 0) throw errno('ENOSPC');
        const n = Math.min(length, files.budget);
        files.budget -= n;
        files.content = Buffer.concat([files.content, buffer.subarray(offset, offset + n)]);
        files.calls.push(`write ${n}`);
        return { bytesWritten: n };
      },
      async sync() {
        if (files.failSync) throw errno(files.failSync);
        files.calls.push('sync');
      },
      async truncate(length) {
        files.budget += files.content.length - length;
        files.content = files.content.subarray(0, length);
        files.calls.push(`truncate ${length}`);
      },
      async close() {
        files.calls.push('close');
      },
    };
  }
  override probe(_path: string, minFreeBytes: number): void {
    if (this.budget < minFreeBytes) throw errno('ENOSPC');
  }
  override async syncFolder(): Promise<void> {
    this.calls.push('sync folder');
  }
  override async freeBytes(): Promise<number | null> {
    return this.free;
  }
  override async readText(): Promise<string> {
    return this.content.toString('utf8');
  }
}

describe(ClockJournal.name, () => {
  const make = (dir: string, files?: JournalFiles) => new ClockJournal(Object.assign(new AppConfig(), { DATA_DIR: dir }), files);
  const made: string[] = [];
  const tmp = () => made[made.push(mkdtempSync(join(tmpdir(), 'journal-spec-'))) - 1];
  afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  describe('on disk', () => {
    it('appends JSON lines, creates the folder, and reads them back in order across instances (restarts)', async () => {
      const dir = join(tmp(), 'nested', 'data');
      const sut = make(dir);
      expect(await sut.read()).toEqual([]);
      await Promise.all([sut.append(record(1)), sut.append(record(2)), sut.append(record(3))]);
      expect((await make(dir).read()).map((r) => r.beforeMs)).toEqual([1, 2, 3]);
      expect(sut.health()).toEqual({ writable: true, path: join(dir, 'clock-journal.jsonl'), error: null });
    });

    it('reports a damaged line with its number and a preview, and keeps the steps around it', async () => {
      const sut = make(tmp());
      await sut.append(record(1));
      appendFileSync(sut.file, '{"half a line\n');
      await sut.append(record(2));
      const report = await sut.report();
      expect(report.steps.map((r) => r.beforeMs)).toEqual([1, 2]);
      expect(report.damaged).toEqual([{ state: 'damaged', line: 2, preview: '{"half a line', reason: 'not valid JSON' }]);
    });

    it('reports a torn last line, and the next record starts on a line of its own', async () => {
      const sut = make(tmp());
      await sut.append(record(1));
      appendFileSync(sut.file, line(record(2, { id: 'b', state: 'pending' })).slice(0, 30));
      expect((await sut.report()).damaged).toEqual([expect.objectContaining({ line: 2, reason: expect.stringMatching(/cut short/) })]);
      await sut.append(record(3));
      const report = await sut.report();
      expect(report.steps.map((r) => r.beforeMs)).toEqual([1, 3]);
      expect(report.damaged).toEqual([expect.objectContaining({ line: 2, reason: 'not valid JSON' })]);
      expect(readFileSync(sut.file, 'utf8').split('\n')[2]).toBe(JSON.stringify(record(3)));
    });

    it('DATA_DIR that is a file: not writable, naming the path and the cause; the journal answers JOURNAL_UNREADABLE', async () => {
      const file = join(tmp(), 'data');
      writeFileSync(file, 'not a folder');
      const sut = make(file);
      expect(sut.health()).toEqual({ writable: false, path: join(file, 'clock-journal.jsonl'), error: `The clock-change journal ${join(file, 'clock-journal.jsonl')} cannot be written: DATA_DIR is a file, not a folder (EEXIST)` });
      const error = await rejection(sut.append(record(1)));
      expect(error.code).toBe(ErrorCode.JOURNAL_UNWRITABLE);
      expect(error.message).toContain(file);
      const read = await rejection(sut.report());
      expect(read.code).toBe(ErrorCode.JOURNAL_UNREADABLE);
      expect(read.message).toMatch(/part of the path is a file, not a folder \(ENOTDIR\)/);
    });

    it('a folder where the journal belongs: EISDIR in plain words; recovers once the folder is gone', async () => {
      const dir = tmp();
      const sut = make(dir);
      mkdirSync(sut.file);
      expect(sut.health()).toMatchObject({ writable: false, error: expect.stringContaining('it is a folder, not a file (EISDIR)') });
      expect((await rejection(sut.append(record(1)))).message).toContain(sut.file);
      expect((await rejection(sut.report())).code).toBe(ErrorCode.JOURNAL_UNREADABLE);
      rmdirSync(sut.file);
      expect(sut.health()).toMatchObject({ writable: true, error: null });
      await sut.append(record(1));
      expect(await sut.read()).toHaveLength(1);
    });

    (process.getuid?.() === 0 ? it.skip : it)('a read-only folder (not as root: root writes anyway; test/reliability mounts a read-only file system)', async () => {
      const dir = tmp();
      chmodSync(dir, 0o555);
      const sut = make(dir);
      expect(sut.health()).toMatchObject({ writable: false, error: expect.stringContaining('(EACCES)') });
      expect((await rejection(sut.append(record(1)))).code).toBe(ErrorCode.JOURNAL_UNWRITABLE);
      chmodSync(dir, 0o755);
    });
  });

  describe('writes that fail', () => {
    let files: MemoryFiles;
    let sut: ClockJournal;
    beforeEach(() => {
      files = new MemoryFiles();
      sut = make(tmp(), files);
    });

    it('syncs every record before it resolves, and the folder once when the file is new', async () => {
      await sut.append(record(1));
      await sut.append(record(2));
      const one = line(record(1)).length;
      expect(files.calls).toEqual(['open', `write ${one}`, 'sync', 'sync folder', 'close', 'open', `write ${line(record(2)).length}`, 'sync', 'close']);
    });

    it('a short write followed by a full disk: JOURNAL_UNWRITABLE, the file cut back to the last whole record', async () => {
      await sut.append(record(1));
      const before = Buffer.from(files.content);
      files.budget = 25;
      const error = await rejection(sut.append(record(2)));
      expect(error.code).toBe(ErrorCode.JOURNAL_UNWRITABLE);
      expect(error.message).toBe(`The clock-change journal ${sut.file} cannot be written: the disk is full (ENOSPC)`);
      expect(error.details).toMatchObject({ path: sut.file, cause: 'ENOSPC' });
      expect(files.calls.slice(-4)).toEqual(['write 25', `truncate ${before.length}`, 'sync', 'close']);
      expect(files.content).toEqual(before);
      expect(sut.health()).toMatchObject({ writable: false, error: expect.stringContaining('ENOSPC') });

      files.budget = Infinity; // space freed: the next attempt succeeds and the journal is healthy again
      await sut.append(record(3));
      expect(sut.health().writable).toBe(true);
      expect(parseJournal(files.content.toString()).steps.map((r) => r.beforeMs)).toEqual([1, 3]);
    });

    it('a write that makes no progress is a short write, never acknowledged', async () => {
      files.zeroWrites = true;
      const error = await rejection(sut.append(record(1)));
      expect(error.message).toMatch(/a write came up short/);
      expect(files.content.length).toBe(0);
    });

    it('a failed sync cuts the record back: it was never on disk for sure', async () => {
      await sut.append(record(1));
      const before = Buffer.from(files.content);
      files.failSync = 'EIO';
      const error = await rejection(sut.append(record(2)));
      expect(error.message).toMatch(/input\/output error: the storage is failing \(EIO\)/);
      expect(files.calls).toContain(`truncate ${before.length}`);
      expect(files.content).toEqual(before);
    });

    it('refuses before writing anything when the disk lacks room for the record and the ones it reserves', async () => {
      files.free = 600;
      const error = await rejection(sut.append(record(1), { reserveFor: 1 }));
      expect(error.details).toMatchObject({ cause: 'ENOSPC' });
      expect(files.calls).toEqual([]);
      files.free = 100_000;
      await sut.append(record(1), { reserveFor: 1 });
      expect(files.calls[0]).toBe('open');
    });
  });

  describe(parseJournal.name, () => {
    it('joins each pending record to its outcome; a pending one without an outcome stays pending, never dropped', () => {
      const text = [
        record(1), // written before the write-ahead journal: confirmed
        record(2, { id: 'a', state: 'pending', afterMs: 5000 }),
        record(2, { id: 'a', state: 'confirmed', afterMs: 5003 }),
        record(3, { id: 'b', state: 'pending' }),
        record(4, { id: 'c', state: 'pending' }),
        record(4, { id: 'c', state: 'failed', error: 'refused' }),
        record(5, { id: 'd', state: 'pending' }),
        record(5, { id: 'd', state: 'unknown', error: 'timeout' }),
      ]
        .map(line)
        .join('');
      const report = parseJournal(text);
      expect(report.steps.map((s) => [s.beforeMs, s.state, s.line])).toEqual([
        [1, 'confirmed', 1],
        [2, 'confirmed', 2],
        [3, 'pending', 4],
        [5, 'unknown', 7],
      ]);
      expect(report.steps[1].afterMs).toBe(5003);
      expect(report.pending.map((s) => s.id)).toEqual(['b']);
      expect(report.failed).toEqual([expect.objectContaining({ id: 'c', error: 'refused' })]);
      expect(report.damaged).toEqual([]);
    });

    it('a line that parses but is no record is damaged too', () => {
      const report = parseJournal('[1,2]\n{"beforeMs":1,"afterMs":2,"source":"client","state":"maybe"}\n\n');
      expect(report.damaged.map((d) => [d.line, d.reason])).toEqual([
        [1, 'not a clock-step record'],
        [2, 'not a clock-step record'],
      ]);
    });
  });
});
