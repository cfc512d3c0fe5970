/**
 * The clock-change journal on a full and on a read-only file system: a tiny tmpfs mounted over an empty
 * folder inside a private mount namespace (`unshare --mount --propagation private`), so the host's mount
 * table never changes and the mount disappears with the process. Needs root (CI and test/run.sh are root).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { BuiltServer, describeIf, json, onPath, startBuiltServer } from './built-server';

jest.setTimeout(60_000);

const CAPACITY = 8192; // two pages
const JOURNAL = 'clock-journal.jsonl';
const HOUR = 3600_000;

const missing = ['unshare', 'nsenter', 'mount'].filter((t) => !onPath(t));
if (process.getuid?.() !== 0) missing.push('root privileges (mount in a private namespace)');

/** `unshare` + `mount -t tmpfs -o OPTIONS tmpfs DIR` in front of a command. */
const inTmpfs = (dir: string, options: string) => ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o "$1" tmpfs "$2" && shift 2 && exec "$@"', 'sh', options, dir];

describeIf(missing, 'Journal on a full / read-only file system (test/reliability/journal-fs)')('The journal on a full and on a read-only file system', () => {
  let mountPoint: string;
  let server: BuiltServer | undefined;

  beforeEach(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'journal-tmpfs-'));
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
    rmdirSync(mountPoint); // empty again: the tmpfs lived only in the namespace
  });

  /** The journal's bytes as the server's namespace sees them. */
  const rawJournal = (pid: number) => execFileSync('nsenter', [`--target=${pid}`, '--mount', '--', 'cat', join(mountPoint, JOURNAL)], { encoding: 'utf8' });

  it('the journal alone, writes coming up short at a full disk: every acknowledged record whole, nothing else', async () => {
    const [file, ...args] = [...inTmpfs(mountPoint, `size=${CAPACITY}`), process.execPath, join(__dirname, 'append-until-full.js'), mountPoint, String(CAPACITY)];
    const stdout = await new Promise<string>((resolve, reject) => execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out))));
    const result = JSON.parse(stdout) as { acked: object[]; failures: Array<{ code: string; message: string; sizeBefore: number; sizeAfter: number; short: boolean }>; text: string; health: { writable: boolean } };

    expect(result.acked.length).toBeGreaterThan(10);
    // Exactly the acknowledged records, whole and in order: a short write was cut back, never left behind.
    expect(result.text).toBe(result.acked.map((r) => JSON.stringify(r) + '\n').join(''));
    expect(result.failures.length).toBeGreaterThan(0);
    for (const f of result.failures) {
      expect(f.code).toBe('JOURNAL_UNWRITABLE');
      expect(f.message).toMatch(new RegExp(`${join(mountPoint, JOURNAL)} cannot be written: the disk is full \\(ENOSPC\\)`));
      expect(f.sizeAfter).toBe(f.sizeBefore);
    }
    // The disk had room for part of a line at least once: the short-write path really ran.
    expect(result.failures.some((f) => f.short)).toBe(true);
  });

  it('the server on a full disk: sets until it is full; every acknowledged step confirmed and whole; refusals leave the clock alone', async () => {
    // The kiosk secret elsewhere: on a file system of two pages it would take one of the journal's.
    const kioskTokenFile = join(mkdtempSync(join(tmpdir(), 'kiosk-')), 'kiosk-token');
    server = await startBuiltServer({ DATA_DIR: mountPoint, KIOSK_TOKEN_FILE: kioskTokenFile }, inTmpfs(mountPoint, `size=${CAPACITY}`));
    expect(server.output()).not.toMatch(/cannot be written/);
    const base = Date.now();
    const acked: number[] = [];
    const refused: Array<{ status: number; body: any }> = [];
    for (let i = 1; i <= 60 && refused.length < 3; i++) {
      const target = base + i * HOUR;
      const res = await json(`${server.url}/api/system/time`, 'POST', { timestamp: new Date(target).toISOString() });
      if (res.status === 200) {
        expect(refused).toEqual([]); // once full, it stays full
        acked.push(target);
      } else refused.push(res);
    }
    expect(acked.length).toBeGreaterThanOrEqual(2);
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.body).toMatchObject({ code: 'JOURNAL_UNWRITABLE', message: expect.stringContaining(`${join(mountPoint, JOURNAL)} cannot be written: the disk is full`) });
    }

    const raw = rawJournal(server.child.pid!);
    expect(raw.endsWith('\n')).toBe(true);
    const journal = parseJournal(raw);
    expect(journal.damaged).toEqual([]);
    for (const target of acked) {
      expect(journal.steps.filter((s) => s.state === 'confirmed' && Math.abs(s.afterMs - target) < 5000)).toHaveLength(1);
    }
    // A step never acknowledged may be pending (its confirmation did not fit), never one that was.
    for (const p of journal.pending) expect(acked.some((t) => Math.abs(p.afterMs - t) < 5000)).toBe(false);

    // The clock is where the last acknowledged set put it, not where a refused one wanted it.
    const now = await json(`${server.url}/api/system/time`);
    expect(Math.abs(now.body.epochMs - Date.now() - (acked[acked.length - 1] - base))).toBeLessThan(60_000);
    const report = await json(`${server.url}/api/timesync/journal/report`);
    expect(report.body.health).toMatchObject({ writable: false, error: expect.stringContaining('ENOSPC') });
    expect((await json(`${server.url}/api/health`)).status).toBe(200);
  });

  it('a read-only DATA_DIR: one clear line at boot, the server runs, sets are refused naming the path, the clock stays', async () => {
    server = await startBuiltServer({ DATA_DIR: mountPoint }, inTmpfs(mountPoint, 'ro,size=16k'));
    const path = join(mountPoint, JOURNAL);
    const bootLines = server.output().split('\n').filter((l) => l.includes('cannot be written'));
    expect(bootLines).toHaveLength(1);
    expect(bootLines[0]).toContain(`The clock-change journal ${path} cannot be written: the file system is read-only (EROFS). The server runs, but clock changes are refused`);

    const res = await json(`${server.url}/api/system/time`, 'POST', { timestamp: new Date(Date.now() + 3 * 86400_000).toISOString() });
    expect(res).toEqual({ status: 503, body: { statusCode: 503, code: 'JOURNAL_UNWRITABLE', message: expect.stringContaining(`${path} cannot be written: the file system is read-only (EROFS)`) } });
    const now = await json(`${server.url}/api/system/time`);
    expect(Math.abs(now.body.epochMs - Date.now())).toBeLessThan(60_000);
    expect(await json(`${server.url}/api/timesync/journal`)).toEqual({ status: 200, body: [] });
    expect((await json(`${server.url}/api/timesync/journal/report`)).body.health).toEqual({ writable: false, path, error: expect.stringContaining('EROFS') });
  });
});
