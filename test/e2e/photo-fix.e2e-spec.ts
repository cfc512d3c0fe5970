import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { Clock, SimulatedWallClock } from '../../backend/time/clock';
import { hostTimezone, utcOffsetMinutes } from '../../backend/time/timezone';
import { CameraClock } from '../camera-sim/camera-clock';
import { CameraSim, startCameraSims } from '../camera-sim/sim';
import { startApp, StartedApp } from '../support/app';
import { exiftool, minimalJpeg, readTags, writeTags } from '../support/exiftool';
import { ClientPool, isEvent } from '../support/ws-client';

jest.setTimeout(60_000);

const JOURNAL = 'clock-journal.jsonl';
const SERIALS = ['083021000123', '083021000124'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const value = await probe();
    if (value) return value;
    await sleep(50);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** A frozen copy of a simulated camera's clock: what it showed at any host instant while it was in this state. */
function snapshot(clock: CameraClock): CameraClock {
  return Object.assign(Object.create(CameraClock.prototype), clock) as CameraClock;
}

/** "2026:12:02 10:00:03" and "25" (hundredths, floored, as Canon writes them) of a camera wall time in ms as if UTC. */
function exifTime(localMs: number): { date: string; subSec: string } {
  const iso = new Date(Math.floor(localMs / 1000) * 1000).toISOString();
  const date = `${iso.slice(0, 4)}:${iso.slice(5, 7)}:${iso.slice(8, 10)} ${iso.slice(11, 19)}`;
  return { date, subSec: String(Math.floor((((localMs % 1000) + 1000) % 1000) / 10)).padStart(2, '0') };
}

/** A photo's DateTimeOriginal + sub-seconds back to ms as if UTC. */
function localMsOf(date: string, subSec: unknown): number {
  const [d, t] = date.split(' ');
  const base = Date.parse(`${d.replace(/:/g, '-')}T${t}Z`);
  return base + (subSec === undefined || subSec === null || subSec === '' ? 0 : Number(`0.${String(subSec)}`) * 1000);
}

/** The served segment a photo of this camera and wall time falls in. */
function segmentOf(model: any, serial: string, localMs: number): { boundMs: number | null; shiftMs: number } | undefined {
  const camera = model.cameras.find((c: any) => c.serial === serial);
  return camera?.periods.flatMap((p: any) => p.segments).find((s: any) => (s.fromLocalMs === null || localMs >= s.fromLocalMs) && (s.toLocalMs === null || localMs < s.toLocalMs));
}

describe('Photo fixes with the real exiftool (e2e)', () => {
  let app: StartedApp | undefined;
  let sims: CameraSim[] = [];
  const clients = new ClientPool();
  const dirs: string[] = [];
  const tmp = () => dirs[dirs.push(mkdtempSync(join(tmpdir(), 'photo-fix-'))) - 1];

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    await Promise.all(sims.map((s) => s.close()));
    app = undefined;
    sims = [];
  });
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('two cameras across two corrections (the second after someone moved the Pi clock): the served argument file puts every photo on true time', async () => {
    const zoneMinutes = utcOffsetMinutes(hostTimezone(), Date.now());
    sims = await startCameraSims(2, { httpsPort: false, stdOffsetMinutes: zoneMinutes, dst: false }, (i) => ({ clockOffsetMs: i ? -41_000 : 3000 }));
    app = await startApp({ CAMERA_URL: sims.map((s) => s.httpUrl).join(','), CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', CAMERA_SYNC_THRESHOLD: '0' });
    const started = app;
    await until('both cameras connected', async () => {
      const s = (await request(started.url).get('/api/timesync/status').expect(200)).body;
      return s.cameras.length === 2 && s.cameras.every((c: any) => c.state === 'connected');
    });

    // Period 1 of each camera: as it came (A 3 s ahead, B 41 s behind).
    const clocks: CameraClock[][] = [sims.map((s) => snapshot(s.clock))];
    const puts = () => sims.map((s) => s.requests.filter((r) => r.method === 'PUT').length);

    // A phone gives the Pi its time (the host's: truth here); the cameras not yet set follow: correction 1.
    const phone = await clients.connect(app.wsUrl, { offsetMs: 0 });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 8000);
    await until('correction 1 of both cameras', async () => puts().every((n) => n === 1));
    await until('both written and verified', async () => {
      const s = (await request(started.url).get('/api/timesync/status').expect(200)).body;
      return s.cameras.every((c: any) => c.lastSync?.success);
    });
    await phone.close();
    const t1 = Math.max(...sims.map((s) => s.requests.find((r) => r.method === 'PUT')!.handledAtMs));
    clocks.push(sims.map((s) => snapshot(s.clock)));

    // Someone moves the Pi's clock 7.5 s ahead (not the product): the watcher journals it.
    await sleep(4500);
    const wall = app.app.get(Clock, { strict: false }) as SimulatedWallClock;
    wall.stepTo(wall.now() + 7500);
    await until('the outside step journaled', async () => parseJournal(readFileSync(join(started.dataDir, JOURNAL), 'utf8')).events.find((e) => e.kind === 'external-step'));
    await sleep(1000);

    // Correction 2: the operator syncs the cameras, to the Pi's (now wrong) time.
    await request(app.url).post('/api/timesync/camera').expect(200);
    const t2 = Math.min(...sims.map((s) => s.requests.filter((r) => r.method === 'PUT')[1].handledAtMs));
    clocks.push(sims.map((s) => snapshot(s.clock)));

    // Photos at known true times in each period, each stamped with what its camera showed then.
    const truths: Array<{ name: string; camera: number; period: number; trueMs: number; subSec?: boolean }> = [];
    for (const camera of [0, 1]) {
      truths.push({ name: `c${camera}-p1-a`, camera, period: 0, trueMs: t1 - 20_000 });
      truths.push({ name: `c${camera}-p1-b`, camera, period: 0, trueMs: t1 - 6_000 });
      truths.push({ name: `c${camera}-p2-a`, camera, period: 1, trueMs: t1 + 4_200 });
      truths.push({ name: `c${camera}-p2-b`, camera, period: 1, trueMs: t2 - 1_500 });
      truths.push({ name: `c${camera}-p3-a`, camera, period: 2, trueMs: t2 + 1_500 });
      truths.push({ name: `c${camera}-p3-b`, camera, period: 2, trueMs: t2 + 30_000 });
      truths.push({ name: `c${camera}-p3-nosub`, camera, period: 2, trueMs: t2 + 10_250, subSec: false });
    }
    const dir = tmp();
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    const jpeg = minimalJpeg();
    const files: Array<{ path: string; tags: Record<string, string> }> = [];
    const stamped: Record<string, number> = {};
    const zone = `${zoneMinutes < 0 ? '-' : '+'}${String(Math.floor(Math.abs(zoneMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(zoneMinutes) % 60).padStart(2, '0')}`;
    for (const t of truths) {
      const clock = clocks[t.period][t.camera];
      const local = clock.nowUtcMs(t.trueMs) + (clock.stdOffsetMinutes + (clock.dst ? 60 : 0)) * 60_000;
      const { date, subSec } = exifTime(local);
      stamped[t.name] = t.subSec === false ? localMsOf(date, null) : localMsOf(date, subSec);
      const path = join(photos, `${t.name}.jpg`);
      writeFileSync(path, jpeg);
      files.push({
        path,
        tags: { SerialNumber: SERIALS[t.camera], Make: 'Canon', DateTimeOriginal: date, CreateDate: date, OffsetTimeOriginal: zone, ...(t.subSec === false ? {} : { SubSecTimeOriginal: subSec, SubSecTimeDigitized: subSec }) },
      });
    }
    // Left alone: camera A set back 3 s at correction 1 (a photo there may be from before or after), and a camera the journal never saw.
    const ambiguousLocal = clocks[1][0].nowUtcMs(t1 + 1000) + zoneMinutes * 60_000;
    for (const [name, serial, local] of [
      ['ambiguous', SERIALS[0], ambiguousLocal],
      ['stranger', '999999999999', t1 + 2000 + zoneMinutes * 60_000],
    ] as const) {
      const { date, subSec } = exifTime(local);
      const path = join(photos, `${name}.jpg`);
      writeFileSync(path, jpeg);
      files.push({ path, tags: { SerialNumber: serial, DateTimeOriginal: date, SubSecTimeOriginal: subSec, CreateDate: date, OffsetTimeOriginal: zone } });
    }
    await writeTags(files, join(dir, 'make.args'));
    const before = await readTags(photos, ['DateTimeOriginal', 'SubSecTimeOriginal']);

    // Exactly the command docs/photo-fixes.md gives (docs-commands.e2e-spec.ts runs it too).
    const served = await request(app.url).get('/api/timesync/corrections?format=exiftool').expect(200);
    expect(served.headers['content-type']).toMatch(/^text\/plain/);
    const argsFile = join(dir, 'corrections.args');
    writeFileSync(argsFile, served.text);
    const run = await exiftool(['-@', argsFile, '-overwrite_original', photos]);
    expect(run.stdout).toMatch(new RegExp(`${truths.length} image files updated`));
    expect(run.stdout).toMatch(/2 files failed condition/);

    const after = await readTags(photos, ['SerialNumber', 'DateTimeOriginal', 'SubSecTimeOriginal', 'CreateDate', 'SubSecTimeDigitized', 'OffsetTimeOriginal']);
    const model = (await request(app.url).get('/api/timesync/corrections').expect(200)).body;
    const errors: string[] = [];
    for (const t of truths) {
      const tags = after[`${t.name}.jpg`];
      const corrected = localMsOf(String(tags.DateTimeOriginal), tags.SubSecTimeOriginal) - zoneMinutes * 60_000;
      // Within the bound the product gives for the photo's range (backed by its measurements), plus the
      // hundredths of SubSecTimeOriginal; without sub-seconds, plus the camera's whole second.
      const segment = segmentOf(model, SERIALS[t.camera], stamped[t.name]);
      const tolerance = (segment?.boundMs ?? 500) + 15 + (t.subSec === false ? 1000 : 0);
      const error = corrected - t.trueMs;
      if (!segment || !(Math.abs(error) <= tolerance)) errors.push(`${t.name}: ${Math.round(error)} ms off, bound ${segment?.boundMs} (was ${Math.round(stamped[t.name] - zoneMinutes * 60_000 - t.trueMs)} ms off)`);
      expect(tags.CreateDate).toBe(tags.DateTimeOriginal);
      expect(tags.OffsetTimeOriginal).toBe(zone);
    }
    expect(errors).toEqual([]);
    // The corrections were not trivial: period 1 of B was 41 s off, period 3 of both 7.5 s.
    expect(Math.abs(stamped['c1-p1-a'] - zoneMinutes * 60_000 - (t1 - 20_000))).toBeGreaterThan(40_000);
    expect(Math.abs(stamped['c0-p3-a'] - zoneMinutes * 60_000 - (t2 + 1500))).toBeGreaterThan(7000);
    for (const name of ['ambiguous.jpg', 'stranger.jpg']) expect(after[name]).toMatchObject({ DateTimeOriginal: before[name].DateTimeOriginal, SubSecTimeOriginal: before[name].SubSecTimeOriginal });
  });

  it('-geosync points: exiftool geotags camera A\'s photos of its last period at the true time, from a GPS track', async () => {
    const zoneMinutes = utcOffsetMinutes(hostTimezone(), Date.now());
    sims = await startCameraSims(1, { httpsPort: false, stdOffsetMinutes: zoneMinutes, dst: false });
    app = await startApp({ CAMERA_URL: sims[0].httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', CAMERA_SYNC_THRESHOLD: '0' });
    const started = app;
    await until('camera connected', async () => (await request(started.url).get('/api/timesync/status').expect(200)).body.camera.connected);
    const phone = await clients.connect(app.wsUrl, { offsetMs: 0 });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 8000);
    await until('camera set and verified', async () => (await request(started.url).get('/api/timesync/status').expect(200)).body.camera.lastSync?.success);
    await phone.close();
    // Someone moves the Pi 7.5 s ahead; the operator syncs the camera to it: the camera is then 7.5 s ahead of true time.
    const wall = app.app.get(Clock, { strict: false }) as SimulatedWallClock;
    wall.stepTo(wall.now() + 7500);
    await until('the outside step journaled', async () => parseJournal(readFileSync(join(started.dataDir, JOURNAL), 'utf8')).events.find((e) => e.kind === 'external-step'));
    await request(app.url).post('/api/timesync/camera').expect(200);
    expect(sims[0].requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
    const after = snapshot(sims[0].clock);

    const points = await request(app.url).get(`/api/timesync/corrections?format=geosync&camera=${SERIALS[0]}`).expect(400);
    expect(points.body).toMatchObject({ code: 'SELECTION_REQUIRED', message: expect.stringMatching(/period=/) });
    const json = (await request(app.url).get(`/api/timesync/corrections?camera=${SERIALS[0]}`).expect(200)).body;
    const last = json.cameras[0].periods.at(-1);
    const served = await request(app.url).get(`/api/timesync/corrections?format=geosync&camera=${SERIALS[0]}&period=${last.index}`).expect(200);
    expect(served.text).toMatch(/^-geosync=\d{4}:\d\d:\d\d \d\d:\d\d:\d\dZ@\d{4}:\d\d:\d\d \d\d:\d\d:\d\d$/m);

    // A track: latitude grows 0.001 degree per second of true time.
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const trkpts = Array.from({ length: 240 }, (_, i) => `<trkpt lat="${(10 + i * 0.001).toFixed(3)}" lon="20.000"><time>${new Date(t0 + i * 1000).toISOString().replace('.000Z', 'Z')}</time></trkpt>`).join('');
    const dir = tmp();
    const photos = join(dir, 'photos');
    mkdirSync(photos);
    writeFileSync(join(dir, 'track.gpx'), `<?xml version="1.0"?><gpx version="1.1" creator="test"><trk><trkseg>${trkpts}</trkseg></trk></gpx>`);
    const truth = Math.floor(Date.now() / 1000) * 1000 + 20_000;
    const local = after.nowUtcMs(truth) + zoneMinutes * 60_000;
    const { date } = exifTime(local);
    writeFileSync(join(photos, 'a.jpg'), minimalJpeg());
    await writeTags([{ path: join(photos, 'a.jpg'), tags: { SerialNumber: SERIALS[0], DateTimeOriginal: date } }], join(dir, 'make.args'));
    writeFileSync(join(dir, 'geosync.args'), served.text);
    const run = await exiftool(['-@', join(dir, 'geosync.args'), '-geotag', join(dir, 'track.gpx'), '-overwrite_original', photos]);
    expect(run.stdout).toMatch(/1 image files updated/);
    const tags = await readTags(photos, ['GPSLatitude#']);
    const latitude = Number(String(tags['a.jpg'].GPSLatitude));
    const placedAt = t0 + Math.round((latitude - 10) / 0.001) * 1000;
    // Whole seconds in DateTimeOriginal, the points and the track: within two seconds of the truth, not 7.5 s off.
    expect(Math.abs(placedAt - truth)).toBeLessThanOrEqual(2000);
  });

  it('bad input: an empty journal, an unknown camera or session, a bad format, a truncated last line: coded, or the line named; never a crash', async () => {
    app = await startApp();
    expect((await request(app.url).get('/api/timesync/corrections?format=exiftool').expect(404)).body).toMatchObject({ code: 'EMPTY_JOURNAL' });
    expect((await request(app.url).get('/api/timesync/corrections?format=gpx').expect(400)).body).toMatchObject({ code: 'BAD_REQUEST' });
    expect((await request(app.url).get('/api/timesync/corrections?camera=../etc').expect(400)).body).toMatchObject({ code: 'INVALID_CAMERA_ID' });
    expect((await request(app.url).get('/api/timesync/corrections?session=x').expect(400)).body).toMatchObject({ code: 'INVALID_SESSION_ID' });
    expect((await request(app.url).get('/api/timesync/corrections?period=0').expect(400)).body).toMatchObject({ code: 'BAD_REQUEST' });
    const csvEmpty = await request(app.url).get('/api/timesync/journal.csv').expect(200);
    expect(csvEmpty.text.split('\r\n')[0]).toMatch(/^line,boot,kind,state,session,pi_time,/);

    // A journal whose only camera record was written while the Pi had no known time, then a line cut short by a power loss.
    const file = join(app.dataDir, JOURNAL);
    const base = { atMs: Date.now(), at: new Date().toISOString(), monotonicMs: 1, boot: 1, bootId: null };
    appendFileSync(file, JSON.stringify({ kind: 'camera-write', ...base, cameraId: SERIALS[0], serial: SERIALS[0], success: true, offsetMs: 4000, boundMs: 5, residualMs: 2, residualBoundMs: 5, verified: true, piSource: 'none', piReliability: 'none' }) + '\n');
    appendFileSync(file, 'not json at all\n{"kind":"camera-write","atMs":17');
    const none = (await request(app.url).get('/api/timesync/corrections?format=exiftool').expect(404)).body;
    expect(none).toMatchObject({ code: 'NO_CORRECTION', message: expect.stringMatching(/line 1: .*Pi's own time is not known/) });
    expect((await request(app.url).get('/api/timesync/corrections?camera=999999999999').expect(404)).body).toMatchObject({ code: 'UNKNOWN_CAMERA', message: expect.stringContaining(SERIALS[0]) });
    expect((await request(app.url).get('/api/timesync/corrections?session=s-20000101-000000-abcdef').expect(404)).body).toMatchObject({ code: 'UNKNOWN_SESSION' });

    // Now a usable sync and camera write after those lines: corrections are served, the skipped lines named.
    appendFileSync(file, '\n' + JSON.stringify({ kind: 'pi-sync', ...base, source: 'client', offsetMs: 0, errorBoundMs: 1, reliability: 'high' }) + '\n');
    appendFileSync(file, JSON.stringify({ kind: 'camera-write', ...base, atMs: base.atMs + 1000, cameraId: SERIALS[0], serial: SERIALS[0], success: true, offsetMs: 4000, boundMs: 5, residualMs: 2, residualBoundMs: 5, verified: true, writtenWallOffsetMinutes: 0 }) + '\n');
    appendFileSync(file, '{"kind":"camera-measure","atMs":');
    const answer = (await request(app.url).get('/api/timesync/corrections').expect(200)).body;
    expect(answer.damaged.map((d: any) => d.line)).toEqual([2, 3, 6]);
    expect(answer.cameras[0].periods[0].segments[0]).toMatchObject({ shiftMs: -4000 });
    const args = (await request(app.url).get('/api/timesync/corrections?format=exiftool').expect(200)).text;
    expect(args).toMatch(/^# journal line 3 skipped: not valid JSON$/m);
    expect(args).toMatch(/^# journal line 6 skipped: the line has no end/m);
    const csv = (await request(app.url).get('/api/timesync/journal.csv').expect(200)).text;
    expect(csv).toMatch(/\r\n6,,damaged,(,)*the line has no end[^,]*,,"\{""kind""/);
    // The server is still well.
    await request(app.url).get('/api/health').expect(200);
  });
});
