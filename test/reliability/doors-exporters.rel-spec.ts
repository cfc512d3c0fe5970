/**
 * Hostile camera strings through every exporter (issue 15, finding 2): simulated cameras whose serial number
 * and product name are what a rogue camera sent (line ends that start ExifTool arguments, `-execute -@`,
 * quotes, paths, NUL, CR, Unicode line separators, `#[CSTR]`, a spreadsheet formula), synced by the built
 * server; then every exporter is fetched and the real exiftool runs the argument files on test JPEGs.
 * Nothing may execute, every photo must move exactly as the journal says, every header must be well-formed,
 * no answer may be a 500 and no log line may be forged.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { validateHeaderValue } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { exiftool, minimalJpeg, readTags, writeTags } from '../support/exiftool';
import { BuiltServer, describeIf, onPath, startBuiltServer } from './built-server';
import { record } from './report';

jest.setTimeout(120_000);

const GOOD = 'R50GOOD01';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// eslint-disable-next-line no-control-regex
const BREAKING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;
const CONTENT_DISPOSITION = /^(inline|attachment); filename="[A-Za-z0-9._-]+"; filename\*=UTF-8''[A-Za-z0-9!#$&+.^_`|~%-]+$/;

/** "2026:12:07 10:00:03" + "250" of ms as if UTC. */
function exifTime(localMs: number): { date: string; subSec: string } {
  const iso = new Date(localMs).toISOString();
  return { date: `${iso.slice(0, 4)}:${iso.slice(5, 7)}:${iso.slice(8, 10)} ${iso.slice(11, 19)}`, subSec: iso.slice(20, 23) };
}

function localMsOf(date: unknown, subSec: unknown): number {
  const [d, t] = String(date).split(' ');
  return Date.parse(`${d.replace(/:/g, '-')}T${t}Z`) + Number(`0.${String(subSec ?? '0')}`) * 1000;
}

describeIf(onPath('exiftool') ? [] : ['exiftool'], 'doors: hostile camera strings through every exporter')('doors: hostile camera strings through every exporter (built server, real exiftool)', () => {
  let server: BuiltServer | undefined;
  const sims: CameraSim[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'doors-exporters-'));
  const marker = join(dir, 'PWNED');
  /** Serial number and product name of each hostile camera. */
  const hostile: Array<{ serial: string; productName: string }> = [
    { serial: `EXE1\n-if\nsystem('touch ${marker}') || 1\n#`, productName: `R50\n[Nest] 1  - forged log line\n-execute` },
    { serial: '-execute -@ /etc/passwd', productName: '=HYPERLINK("http://evil.example")' },
    { serial: 'a"b\'c/../../x', productName: 'quote" and ../../etc/passwd' },
    { serial: 'nul\0byte', productName: 'nul\0name' },
    { serial: 'cr\rlf\r\n-if\r1', productName: 'cr\rname' },
    { serial: 'ls\u2028-if\u2029nel\u00851', productName: 'ls\u2028name\u0085' },
    { serial: `#[CSTR]-if\\nsystem('touch ${marker}')`, productName: '@SUM(1+1)\t-cmd' },
  ];
  const statuses: number[] = [];

  async function get(path: string): Promise<Response> {
    const res = await fetch(`${server!.url}${path}`);
    statuses.push(res.status);
    return res;
  }

  afterAll(async () => {
    await server?.stop();
    await Promise.all(sims.map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('syncs the hostile cameras; no exporter executes, breaks a header or a log line, or answers 500; every photo moves exactly as the journal says', async () => {
    sims.push(await startCameraSim({ httpsPort: false, serialNumber: GOOD, clockOffsetMs: 3000, stdOffsetMinutes: 0, dst: false }));
    for (const h of hostile) sims.push(await startCameraSim({ httpsPort: false, serialNumber: h.serial, productName: h.productName, clockOffsetMs: -4000, stdOffsetMinutes: 0, dst: false }));
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    server = await startBuiltServer({
      DATA_DIR: dataDir,
      CAMERA_URL: sims.map((s) => s.httpUrl).join(','),
      CAMERA_POLL_INTERVAL: '200',
      CAMERA_SYNC_ON_CONNECT: 'false',
      CAMERA_SYNC_THRESHOLD: '0',
      CAMERA_MAX: String(sims.length),
      NO_COLOR: '1',
      TZ: 'UTC',
    });
    const url = server.url;
    const until = async (what: string, probe: () => Promise<boolean>) => {
      for (const end = Date.now() + 20_000; Date.now() < end; await sleep(100)) if (await probe()) return;
      throw new Error(`${what} did not happen: ${server!.output().slice(-2000)}`);
    };
    await until('every camera connected', async () => {
      const s = (await (await get('/api/timesync/status')).json()) as any;
      return s.cameras?.length === sims.length && s.cameras.every((c: any) => c.state === 'connected');
    });

    // The operator sets the Pi (a trusted source: the journal knows its time), then syncs every camera.
    const set = await fetch(`${url}/api/system/time`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ timestamp: new Date().toISOString() }) });
    expect(set.status).toBe(200);
    const sync = await fetch(`${url}/api/timesync/camera`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    statuses.push(sync.status);
    expect([200, 207]).toContain(sync.status);
    await until('every camera written', async () => sims.every((s) => s.requests.some((r) => r.method === 'PUT' && r.status === 200)));
    const writtenAt = Math.max(...sims.map((s) => s.requests.find((r) => r.method === 'PUT' && r.status === 200)!.handledAtMs));
    await until('every write journaled', async () => {
      const csv = await (await get('/api/timesync/journal.csv')).text();
      return csv.split('\r\n').filter((l) => l.includes(',camera-write,')).length >= sims.length;
    });

    const cameras = (await (await get('/api/cameras')).json()) as any[];
    const idOf = (serial: string) => cameras.find((c) => c.info?.serialNumber === serial)?.id as string;
    expect(hostile.every((h) => typeof idOf(h.serial) === 'string')).toBe(true);

    // Every exporter.
    const exporters: Record<string, Response> = {
      journal: await get('/api/timesync/journal'),
      report: await get('/api/timesync/journal/report'),
      csv: await get('/api/timesync/journal.csv'),
      json: await get('/api/timesync/corrections'),
      args: await get('/api/timesync/corrections?format=exiftool'),
      activity: await get('/api/activity'),
    };
    for (const [name, res] of Object.entries(exporters)) expect({ name, status: res.status }).toEqual({ name, status: 200 });
    const argsText = await exporters.args.text();
    const csv = await exporters.csv.text();
    const model = (await exporters.json.json()) as any;
    for (const res of [exporters.args, exporters.csv]) {
      const cd = res.headers.get('content-disposition')!;
      expect(cd).toMatch(CONTENT_DISPOSITION);
      expect(() => validateHeaderValue('content-disposition', cd)).not.toThrow();
    }

    // The argument file: comments and the three arguments; each hostile camera named in a clean comment.
    const lines = argsText.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.filter((l) => !l.startsWith('# ')).map((l) => l.slice(0, 24))).toEqual(['-if', '${DateTimeOriginal#;my @', '-SubSecDateTimeOriginal<', '-SubSecCreateDate<${Date']);
    expect(argsText.replace(/\n/g, '')).not.toMatch(BREAKING);
    for (const h of hostile) expect(lines.some((l) => l.includes(`(${idOf(h.serial)}) is left out`))).toBe(true);
    expect(argsText).toContain(`['${GOOD}',`);

    // Scoping by a hostile camera: coded 400, whichever id names it; by the good one: a well-formed file.
    const refusals = new Map<string, number>();
    for (const h of hostile) {
      for (const query of [`format=geosync&camera=${encodeURIComponent(idOf(h.serial))}`, `format=exiftool&camera=${encodeURIComponent(idOf(h.serial))}`, `format=geosync&camera=${encodeURIComponent(h.serial)}`]) {
        const res = await get(`/api/timesync/corrections?${query}`);
        const body = (await res.json()) as any;
        expect(res.status).toBe(400);
        expect(['UNSAFE_CAMERA_SERIAL', 'INVALID_CAMERA_ID']).toContain(body.code);
        expect(body.message).not.toMatch(BREAKING);
        expect(res.headers.get('content-disposition')).toBeNull();
        refusals.set(body.code, (refusals.get(body.code) ?? 0) + 1);
      }
    }
    const goodPeriod = model.cameras.find((c: any) => c.serial === GOOD).periods.at(-1).index;
    const geosync = await get(`/api/timesync/corrections?format=geosync&camera=${GOOD}&period=${goodPeriod}`);
    expect(geosync.status).toBe(200);
    expect(geosync.headers.get('content-disposition')).toMatch(CONTENT_DISPOSITION);
    const geosyncText = await geosync.text();
    expect(geosyncText.replace(/\n/g, '')).not.toMatch(BREAKING);

    // journal.csv: every row one line with all its columns, no control character, formulas defused, numbers numeric.
    const rows = csv.split('\r\n').filter(Boolean);
    const columns = rows[0].split(',').length;
    const cells = (row: string) => [...row.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => m[1]);
    for (const row of rows) expect(cells(row)).toHaveLength(columns);
    expect(csv.replace(/\r\n/g, '')).not.toMatch(BREAKING);
    for (const cell of rows.slice(1).flatMap(cells)) {
      const text = cell.startsWith('"') ? cell.slice(1, -1).replace(/""/g, '"') : cell;
      if (/^[=+\-@]/.test(text)) expect(text).toMatch(/^[+-]?\d+(\.\d+)?$/);
    }
    expect(csv).toMatch(/,-(39|40)\d\d(\.\d+)?,/); // a hostile camera's negative offset, still a number

    // Photos: the good camera's before and after its write, each hostile camera's (with what exiftool can store of its serial), a stranger's.
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    const jpeg = minimalJpeg();
    const files: Array<{ path: string; tags: Record<string, string> }> = [];
    const add = (name: string, serial: string, localMs: number) => {
      const { date, subSec } = exifTime(localMs);
      const path = join(photos, `${name}.jpg`);
      writeFileSync(path, jpeg);
      files.push({ path, tags: { SerialNumber: serial, DateTimeOriginal: date, SubSecTimeOriginal: subSec, CreateDate: date, SubSecTimeDigitized: subSec } });
    };
    add('good-before', GOOD, writtenAt - 20_000 + 3000 + 250);
    add('good-after', GOOD, writtenAt + 10_000 + 125);
    hostile.forEach((h, i) => add(`hostile-${i}`, h.serial.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' '), writtenAt - 10_000 + i * 100));
    add('hostile-id', idOf(hostile[0].serial), writtenAt - 10_000);
    add('stranger', '999999999999', writtenAt - 10_000);
    await writeTags(files, join(dir, 'make.args'));
    const before = await readTags(photos, ['SerialNumber', 'DateTimeOriginal', 'SubSecTimeOriginal']);

    writeFileSync(join(dir, 'corrections.args'), argsText);
    writeFileSync(join(dir, 'geosync.args'), geosyncText);
    const run = await exiftool(['-@', join(dir, 'corrections.args'), '-overwrite_original', photos], dir);
    const geo = await exiftool(['-@', join(dir, 'geosync.args'), '-DateTimeOriginal', photos], dir);
    expect(run.stdout).toMatch(/2 image files updated/);
    expect(geo.code).toBe(0);
    expect(existsSync(marker)).toBe(false);

    const after = await readTags(photos, ['DateTimeOriginal', 'SubSecTimeOriginal', 'CreateDate']);
    const good = model.cameras.find((c: any) => c.serial === GOOD);
    // A range's shift at a photo's time: `shiftMs` at its start, going to `shiftToMs` at its end for a drift.
    const shiftOf = (localMs: number) => {
      const r = good.periods.flatMap((p: any) => p.segments).find((s: any) => (s.fromLocalMs === null || localMs >= s.fromLocalMs) && (s.toLocalMs === null || localMs < s.toLocalMs));
      if (!r) return 0;
      if (r.shiftToMs === undefined || r.shiftToMs === null || r.fromLocalMs === null || r.toLocalMs === null || r.toLocalMs <= r.fromLocalMs) return r.shiftMs;
      return Math.round(r.shiftMs + ((localMs - r.fromLocalMs) * (r.shiftToMs - r.shiftMs)) / (r.toLocalMs - r.fromLocalMs));
    };
    const moved: Record<string, number> = {};
    for (const name of Object.keys(before)) {
      const was = localMsOf(before[name].DateTimeOriginal, before[name].SubSecTimeOriginal);
      const now = localMsOf(after[name].DateTimeOriginal, after[name].SubSecTimeOriginal);
      moved[name] = Math.round(now - was);
      const expected = before[name].SerialNumber === GOOD ? shiftOf(was) : 0;
      // ExifTool's ShiftTime rounds to the photo's millisecond digits: within 1 ms of the range's shift there.
      expect({ name, off: Math.abs(moved[name] - expected) <= 1 ? 0 : moved[name] - expected }).toEqual({ name, off: 0 });
      expect(after[name].CreateDate).toBe(after[name].DateTimeOriginal);
    }
    expect(Math.abs(moved['good-before.jpg'])).toBeGreaterThan(2500); // the good camera's 3 s, taken out

    // Nothing forged in the server log, no stack trace, no 500 anywhere.
    const log = server.output();
    expect(log).not.toMatch(BREAKING);
    expect(log).not.toMatch(/^\s*(-if|-execute|system\(|\[Nest\] 1 {2}- forged|#\[CSTR\])/m);
    expect(log).not.toMatch(/^\s+at .+\(.+:\d+:\d+\)$/m);
    expect(log).toContain('R50\\n[Nest] 1  - forged log line\\n-execute');
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    const activity = (await exporters.activity.json()) as any[];
    expect(activity.every((e) => !BREAKING.test(e.message) && !e.message.includes('\n'))).toBe(true);

    record({
      suite: 'doors',
      what: `${hostile.length} simulated cameras with hostile serial numbers and product names (line ends starting ExifTool arguments, -execute -@, quotes and ../, NUL, CR, U+2028/2029/0085, #[CSTR], formulas), synced by the built server; journal, report, CSV, corrections (json, exiftool, geosync), activity fetched; the real exiftool ran the argument files on ${files.length} JPEGs`,
      times: statuses.length,
      outcome: `no marker file; ${moved['good-before.jpg']} ms / ${moved['good-after.jpg']} ms on the good camera's photos as the journal says, every other photo untouched; scoping by a hostile camera refused (${[...refusals].map(([c, n]) => `${c} ${n}`).join(', ')}); headers RFC 6266; no control character in the argument files, CSV, log or activity; no 5xx among ${statuses.length} answers`,
    });
  });
});
