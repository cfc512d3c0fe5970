import { Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import { closeSync, constants, mkdirSync, openSync, readFileSync, statfsSync } from 'node:fs';
import { FileHandle, open, readFile, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { AppConfig } from '../config/app.config';
import { DomainError, ErrorCode } from '../common/domain-error';
import { SyncSource } from '../protocol/messages';

/**
 * `pending`: written (and synced) before the clock is written; after/afterMs/stepMs are what was intended.
 * `confirmed`: the clock was written (an `error` beside it: it moved although the operation failed after).
 * `failed`: the write failed and the clock did not move. `unknown`: the write failed and the clock may have moved.
 * Lines without a state were written after the step by versions before the write-ahead journal: confirmed.
 */
export const STEP_STATES = ['pending', 'confirmed', 'failed', 'unknown'] as const;
export type StepState = (typeof STEP_STATES)[number];

export interface ClockStepRecord {
  /** Joins a step's pending record to the record of its outcome. */
  id?: string;
  state?: StepState;
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
  /** The kernel's boot id (/proc/sys/kernel/random/boot_id): which boot `monotonicMs` belongs to. */
  bootId?: string | null;
  /** Estimated error of the new time, if known. */
  errorBoundMs?: number | null;
  client?: string | null;
  /** failed / unknown / confirmed-with-a-failure: what went wrong. */
  error?: string;
}

/** One step as the journal endpoint reports it: its latest record, where its first line is. */
export interface JournalStep extends ClockStepRecord {
  state: StepState;
  line: number;
}

/** A line that is not a complete record: a write cut short (power loss, full disk) or an edit by hand. */
export interface DamagedLine {
  state: 'damaged';
  line: number;
  preview: string;
  reason: string;
}

export interface JournalReport {
  /** Oldest first: every step that moved or may have moved the clock (confirmed, unknown, pending). */
  steps: JournalStep[];
  /** Steps whose outcome was never written: the process stopped between the two records. The clock may or may not have moved. */
  pending: JournalStep[];
  /** Attempts that left the clock alone. */
  failed: JournalStep[];
  damaged: DamagedLine[];
  health: JournalHealth;
}

export interface JournalHealth {
  writable: boolean;
  path: string;
  error: string | null;
}

/** What the journal does to files, so that tests can make writes come up short. */
export interface JournalFile {
  stat(): Promise<{ size: number }>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

@Injectable()
export class JournalFiles {
  /** Opens the journal for appending, creating its folder and the file if missing. */
  async openAppend(path: string): Promise<JournalFile> {
    mkdirSync(dirname(path), { recursive: true });
    return appendHandle(await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT, 0o644));
  }
  /** Synchronous check that an append could work: folder and file can be created and opened, and there is room. */
  probe(path: string, minFreeBytes: number): void {
    mkdirSync(dirname(path), { recursive: true });
    closeSync(openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644));
    const s = statfsSync(dirname(path));
    if (s.bavail * s.bsize < minFreeBytes) throw Object.assign(new Error(`${s.bavail * s.bsize} bytes free`), { code: 'ENOSPC' });
  }
  /** Flushes a folder's entries (a new file's name) to disk. */
  async syncFolder(path: string): Promise<void> {
    const handle = await open(path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  /** Bytes an unprivileged writer may still use on the folder's file system; null if unknown. */
  async freeBytes(path: string): Promise<number | null> {
    const s = await statfs(path).catch(() => null);
    return s ? s.bavail * s.bsize : null;
  }
  readText(path: string): Promise<string> {
    return readFile(path, 'utf8');
  }
}

function appendHandle(h: FileHandle): JournalFile {
  return {
    stat: () => h.stat(),
    read: (buffer, offset, length, position) => h.read(buffer, offset, length, position),
    write: (buffer, offset, length) => h.write(buffer, offset, length),
    sync: () => h.sync(),
    truncate: (length) => h.truncate(length),
    close: () => h.close(),
  };
}

/** Plain words for the causes an operator can fix. */
const CAUSES: Record<string, string> = {
  EROFS: 'the file system is read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'part of the path is a file, not a folder',
  EEXIST: 'DATA_DIR is a file, not a folder',
  EACCES: 'permission denied: this service may not write there',
  EPERM: 'permission denied: this service may not write there',
  EIO: 'input/output error: the storage is failing',
  ENOENT: 'the folder does not exist and could not be created',
  SHORT_WRITE: 'a write came up short (the disk is probably full)',
};

/** "the disk is full (ENOSPC)" */
export function describeCause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  return error instanceof Error ? error.message : String(error);
}

class ShortWrite extends Error {
  readonly code = 'SHORT_WRITE';
}

/** Free space a step must find before it starts: its two records, with room to spare. */
const RESERVE_FACTOR = 2;
const RESERVE_SLACK = 512;
/** About what a step reserves (two records of ~400 bytes, doubled, plus slack): less free space is a full disk. */
const STEP_BYTES = 2048;

/**
 * Every step of the system clock, one JSON line each, kept across restarts. Photographers use it to correct
 * the timestamps of photos taken before a correction.
 *
 * A write-ahead journal: ClockStepService appends a `pending` record (synced to disk) before the clock is
 * written and the outcome after, so a crash between the two leaves a step reported as pending, never a
 * step nobody knows about. An append is all or nothing: every write's byte count is checked, and a failed
 * or short append is cut back to the previous length before the error is thrown, so no torn record is
 * ever acknowledged. A journal that cannot be written throws JOURNAL_UNWRITABLE (and the clock is left alone).
 */
@Injectable()
export class ClockJournal implements OnModuleInit {
  private readonly logger = new Logger(ClockJournal.name);
  readonly file: string;
  readonly dir: string;
  readonly bootId: string | null = readBootId();
  private queue: Promise<unknown> = Promise.resolve();
  private state: JournalHealth | null = null;

  constructor(
    config: AppConfig,
    @Optional() private readonly files: JournalFiles = new JournalFiles(),
  ) {
    this.dir = resolve(config.DATA_DIR);
    this.file = join(this.dir, 'clock-journal.jsonl');
  }

  /** At boot: one clear line if the journal cannot be written; the server still starts. */
  onModuleInit(): void {
    const health = this.health();
    if (!health.writable) this.logger.error(`${health.error}. The server runs, but clock changes are refused until this is fixed.`);
  }

  /**
   * Can a step be journaled? Known from the last append attempt; while the answer is no, every call checks
   * the folder again (creating it and the file if missing), so a fixed folder recovers without a restart.
   */
  health(): JournalHealth {
    if (this.state?.writable) return this.state;
    try {
      this.files.probe(this.file, STEP_BYTES);
      return this.remember(null);
    } catch (error) {
      return this.remember(error);
    }
  }

  /**
   * Appends one record, synced to disk, or throws JOURNAL_UNWRITABLE and leaves the file as it was.
   * `reserveFor`: refuse unless the disk has room for this many more records of this size (a pending
   * record reserves its confirmation, so a full disk stops a step before the clock moves).
   */
  append(record: ClockStepRecord, options: { reserveFor?: number } = {}): Promise<void> {
    const write = this.queue.then(() => this.appendNow(record, options.reserveFor ?? 0));
    this.queue = write.catch(() => undefined);
    return write;
  }

  private async appendNow(record: ClockStepRecord, reserveFor: number): Promise<void> {
    const line = Buffer.from(JSON.stringify(record) + '\n', 'utf8');
    let handle: JournalFile | null = null;
    try {
      if (reserveFor > 0) {
        const free = await this.files.freeBytes(this.dir);
        const needed = line.length * (1 + reserveFor) * RESERVE_FACTOR + RESERVE_SLACK;
        if (free !== null && free < needed) throw Object.assign(new Error(`${free} bytes free, a step needs ${needed}`), { code: 'ENOSPC' });
      }
      handle = await this.files.openAppend(this.file);
      const start = (await handle.stat()).size;
      // A torn tail (power lost mid-write) stays on a line of its own, reported as damaged; the new record is whole.
      const prefix = start > 0 && !(await endsWithNewline(handle, start)) ? Buffer.from('\n') : null;
      try {
        if (prefix) await writeAll(handle, prefix);
        await writeAll(handle, line);
        await handle.sync();
      } catch (error) {
        await this.cutBack(handle, start);
        throw error;
      }
      if (start === 0) await this.files.syncFolder(this.dir);
      this.remember(null);
    } catch (error) {
      const health = this.remember(error);
      throw new DomainError(ErrorCode.JOURNAL_UNWRITABLE, health.error!, { path: this.file, cause: (error as NodeJS.ErrnoException).code ?? null });
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /** Back to the length before a failed append, so that no part of an unacknowledged record stays. */
  private async cutBack(handle: JournalFile, length: number): Promise<void> {
    try {
      await handle.truncate(length);
      await handle.sync();
    } catch (error) {
      // The rest of the line may stay; it was never acknowledged and reads as damaged (or as a pending step).
      this.logger.error(`Could not remove a failed journal write from ${this.file}: ${describeCause(error)}`);
    }
  }

  private remember(error: unknown): JournalHealth {
    this.state = { writable: !error, path: this.file, error: error ? `The clock-change journal ${this.file} cannot be written: ${describeCause(error)}` : null };
    return this.state;
  }

  /** Oldest first: every step that moved or may have moved the clock. Kept for callers of the first version. */
  async read(): Promise<ClockStepRecord[]> {
    return (await this.report()).steps;
  }

  /**
   * Every line, judged: steps joined to their outcome, pending steps without one, and damaged lines (with
   * their line number and a preview). Throws JOURNAL_UNREADABLE when the path is the wrong kind of thing.
   */
  async report(): Promise<JournalReport> {
    let text: string;
    try {
      text = await this.files.readText(this.file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') text = '';
      else throw new DomainError(ErrorCode.JOURNAL_UNREADABLE, `The clock-change journal ${this.file} cannot be read: ${describeCause(error)}`, { path: this.file, cause: code ?? null });
    }
    return { ...parseJournal(text), health: this.health() };
  }
}

/** Pure: the journal's text, judged line by line. */
export function parseJournal(text: string): Omit<JournalReport, 'health'> {
  const byId = new Map<string, JournalStep>();
  const all: JournalStep[] = [];
  const damaged: DamagedLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    if (!raw.trim()) return;
    const line = index + 1;
    const cut = index === lines.length - 1; // no line end after it: its write never finished
    const damage = (reason: string) => damaged.push({ state: 'damaged', line, preview: raw.slice(0, 120), reason });
    if (cut) return damage('the line has no end: its write was cut short and never acknowledged');
    let record: ClockStepRecord;
    try {
      record = JSON.parse(raw);
    } catch {
      return damage('not valid JSON');
    }
    if (!isRecord(record)) return damage('not a clock-step record');
    const state: StepState = record.state ?? 'confirmed';
    const known = record.id ? byId.get(record.id) : undefined;
    if (known) {
      Object.assign(known, record, { state, line: known.line });
      return;
    }
    const step: JournalStep = { ...record, state, line };
    all.push(step);
    if (record.id) byId.set(record.id, step);
  });
  return {
    steps: all.filter((s) => s.state !== 'failed'),
    pending: all.filter((s) => s.state === 'pending'),
    failed: all.filter((s) => s.state === 'failed'),
    damaged,
  };
}

function isRecord(value: unknown): value is ClockStepRecord {
  const r = value as ClockStepRecord;
  return (
    typeof r === 'object' &&
    r !== null &&
    Number.isFinite(r.beforeMs) &&
    Number.isFinite(r.afterMs) &&
    typeof r.source === 'string' &&
    (r.state === undefined || (STEP_STATES as readonly string[]).includes(r.state)) &&
    (r.id === undefined || typeof r.id === 'string')
  );
}

/** Writes every byte or throws: a write that makes no progress is a short write. */
async function writeAll(handle: JournalFile, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    if (!(bytesWritten > 0)) throw new ShortWrite(`only ${offset} of ${data.length} bytes were written`);
    offset += bytesWritten;
  }
}

async function endsWithNewline(handle: JournalFile, size: number): Promise<boolean> {
  const last = Buffer.alloc(1);
  const { bytesRead } = await handle.read(last, 0, 1, size - 1);
  return bytesRead === 1 && last[0] === 0x0a;
}

function readBootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}
