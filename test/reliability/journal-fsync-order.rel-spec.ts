/**
 * Must-deliver 7: the pending record is on disk before the clock is written. The built server runs with
 * CLOCK_BACKEND=system inside the D-Bus sandbox (real `timedatectl`, python3-dbusmock's timedated; the
 * machine's clock is never touched) under `strace -f`; the trace must show fsync() of the journal file
 * completing before timedatectl is started with `set-time`, and another fsync (the confirmation) after it.
 * Deleting the journal's fsync, or writing the clock first, fails this test.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbusSandbox, missingTools } from '../integration/dbus-sandbox';
import { BuiltServer, describeIf, json, onPath, startBuiltServer } from './built-server';
import { record } from './report';

jest.setTimeout(90_000);

const missing = missingTools();
if (!onPath('strace')) missing.push('strace');

interface Event {
  index: number;
  pid: string;
  text: string;
}

/**
 * strace -f prints a call on one line when nothing else happened meanwhile, else `<unfinished ...>` at entry
 * and `<... name resumed>` at exit. Returns each finished fsync/fdatasync (at the line where it returned)
 * and each execve (at the line where it started).
 */
export function traceEvents(trace: string): { syncs: Event[]; execs: Event[] } {
  const syncs: Event[] = [];
  const execs: Event[] = [];
  const open = new Map<string, string>();
  trace.split('\n').forEach((line, index) => {
    const m = /^(\d+)\s+(.*)$/.exec(line);
    if (!m) return;
    const [, pid, rest] = m;
    const call = /^(fsync|fdatasync|execve)\((.*)$/.exec(rest);
    if (call) {
      if (call[1] === 'execve') execs.push({ index, pid, text: rest });
      else if (rest.endsWith('<unfinished ...>')) open.set(pid, rest);
      else syncs.push({ index, pid, text: rest });
      return;
    }
    const resumed = /^<\.\.\. (fsync|fdatasync) resumed>/.exec(rest);
    if (resumed && open.has(pid)) {
      syncs.push({ index, pid, text: `${open.get(pid)} ${rest}` });
      open.delete(pid);
    }
  });
  return { syncs, execs };
}

describeIf(missing, 'fsync-before-clock-write trace (test/reliability/journal-fsync-order)')('The journal is synced before the clock is written (strace, CLOCK_BACKEND=system)', () => {
  let sandbox: DbusSandbox;
  let server: BuiltServer | undefined;
  let serverPid: number | undefined;
  let dataDir: string | undefined;

  beforeAll(async () => {
    sandbox = await DbusSandbox.start();
  });
  afterAll(async () => {
    await sandbox?.stop();
  });
  afterEach(async () => {
    // SIGTERM to node itself (strace would detach and leave it running); strace exits with it.
    await server?.stop('SIGTERM', serverPid);
    server = serverPid = undefined;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('fsync(journal) returns before `timedatectl set-time` starts, and the confirmation is synced after it', async () => {
    await sandbox.prepare({ ntp: false, ntpSynchronized: false, timezone: 'UTC' });
    dataDir = mkdtempSync(join(tmpdir(), 'journal-strace-'));
    const traceFile = join(sandbox.workDir, 'strace.txt');
    const strace = ['strace', '-f', '-qq', '-y', '-s', '200', '-e', 'trace=fsync,fdatasync,execve', '-e', 'signal=none', '-o', traceFile];
    server = await startBuiltServer({ CLOCK_BACKEND: 'system', DATA_DIR: dataDir }, [...sandbox.prefix, ...strace], 60_000);
    serverPid = Number(/^(\d+)\s+execve\(/m.exec(readFileSync(traceFile, 'utf8'))?.[1]);
    const mark = sandbox.mark();

    const target = Date.now() + 3 * 3600_000;
    const res = await json(`${server.url}/api/system/time`, 'POST', { timestamp: new Date(target).toISOString() });
    expect(res.status).toBe(200);
    expect(sandbox.callsSince(mark).map((c) => c.method)).toEqual(['SetTime']);
    await server.stop('SIGTERM', serverPid);

    const journalPath = join(dataDir, 'clock-journal.jsonl');
    const { syncs, execs } = traceEvents(readFileSync(traceFile, 'utf8'));
    const journalSyncs = syncs.filter((s) => s.text.includes(`<${journalPath}>`));
    const setTime = execs.find((e) => e.text.includes('"set-time"'));
    expect(setTime).toBeDefined();
    expect(journalSyncs.filter((s) => s.index < setTime!.index)).toHaveLength(1); // the pending record
    expect(journalSyncs.filter((s) => s.index > setTime!.index)).toHaveLength(1); // the confirmation
    // Both records are in the journal, joined into one confirmed step.
    const journal = readFileSync(journalPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(journal.map((r) => r.state)).toEqual(['pending', 'confirmed']);
    record({ suite: 'journal', what: 'strace -f of the built server in the D-Bus sandbox: fsync of the journal against `timedatectl set-time`', times: 1, outcome: 'pending record fsync returned before set-time started; confirmation fsync after it' });
  });

  it('reads strace output as intended (unfinished / resumed calls)', () => {
    const { syncs, execs } = traceEvents(
      [
        '100 fsync(21</d/clock-journal.jsonl> <unfinished ...>',
        '101 execve("/usr/bin/other", ["other"], 0x1 /* 1 var */) = 0',
        '100 <... fsync resumed>)          = 0',
        '102 execve("/usr/bin/timedatectl", ["timedatectl", "--no-ask-password", "set-time", "2026-11-25 08:12:00.123456 UTC"], 0x1 /* 1 var */) = 0',
        '100 fsync(21</d/clock-journal.jsonl>) = 0',
      ].join('\n'),
    );
    expect(syncs.map((s) => s.index)).toEqual([2, 4]);
    expect(execs.map((e) => e.index)).toEqual([1, 3]);
  });
});
