import { Injectable, Logger } from '@nestjs/common';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppConfig } from '../config/app.config';
import { SyncSource } from '../protocol/messages';

export interface ClockStepRecord {
  /** Wall clock just before the step (ms since the epoch, ISO beside it for people). */
  beforeMs: number;
  before: string;
  afterMs: number;
  after: string;
  /** Size of the step: how far the wall clock moved beyond the time that passed. */
  stepMs: number;
  source: SyncSource;
  /** Monotonic time of the step (ms since the process started): orders steps within one boot. */
  monotonicMs: number;
  /** Estimated error of the new time, if known. */
  errorBoundMs?: number | null;
  client?: string | null;
}

/**
 * Every step of the system clock, one JSON line each, fsync'ed before the step is reported, kept across
 * restarts. Photographers use it to correct the timestamps of photos taken before a correction.
 */
@Injectable()
export class ClockJournal {
  private readonly logger = new Logger(ClockJournal.name);
  readonly file: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(config: AppConfig) {
    this.file = join(config.DATA_DIR, 'clock-journal.jsonl');
  }

  append(record: ClockStepRecord): Promise<void> {
    const write = this.queue.then(async () => {
      await mkdir(join(this.file, '..'), { recursive: true });
      const handle = await open(this.file, 'a');
      try {
        await handle.write(JSON.stringify(record) + '\n');
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    this.queue = write.catch(() => undefined);
    return write;
  }

  /** Oldest first; a damaged line is skipped, not fatal. */
  async read(): Promise<ClockStepRecord[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const records: ClockStepRecord[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        this.logger.warn(`Skipping a damaged journal line: ${line.slice(0, 80)}`);
      }
    }
    return records;
  }
}
