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

  it("the issue's camera, from outside: right after correction 1 it loses 2.41 s at once, a photo is taken, correction 2 finds it: that photo gets the later shift, not an interpolation", async () => {
    const zoneMinutes = utcOffsetMinutes(hostTimezone(), Date.now());
    sims = await startCameraSims(1, { httpsPort: false, stdOffsetMinutes: zoneMinutes, dst: false }, () => ({ clockOffsetMs: -5000 }));
    app = await startApp({ CAMERA_URL: sims[0].httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false', CAMERA_SYNC_THRESHOLD: '0' });
    const started = app;
    const sim = sims[0];
    await until('camera connected', async () => (await request(started.url).get('/api/timesync/status').expect(200)).body.camera.connected);
    // Correction 1: a phone gives the Pi its time (the host's: truth here), the camera follows.
    const phone = await clients.connect(app.wsUrl, { offsetMs: 0 });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 8000);
    await until('camera set and verified', async () => (await request(started.url).get('/api/timesync/status').expect(200)).body.camera.lastSync?.success);
    await phone.close();
    const t1 = sim.requests.find((r) => r.method === 'PUT')!.handledAtMs;
    const right = snapshot(sim.clock);
    // The camera loses 2.41 s at once (a battery swap), now.
    const tJump = Date.now();
    sim.clock.setError(sim.clock.errorMs(tJump) - 2410, tJump);
    const lost = snapshot(sim.clock);
    // Correction 2: the operator syncs the camera; it is measured 2.41 s behind, then set.
    await request(app.url).post('/api/timesync/camera').expect(200);
    const puts = sim.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(2);
    const t2 = puts[1].handledAtMs;
    const setAgain = snapshot(sim.clock);

    const zone = `${zoneMinutes < 0 ? '-' : '+'}${String(Math.floor(Math.abs(zoneMinutes) / 60)).padStart(2, '0')}:${String(Math.abs(zoneMinutes) % 60).padStart(2, '0')}`;
    const shots = [
      { name: 'before-jump', trueMs: (t1 + tJump) / 2, clock: right },
      { name: 'after-jump', trueMs: (tJump + t2) / 2, clock: lost },
      { name: 'after-correction-2', trueMs: t2 + 2000, clock: setAgain },
    ];
    const dir = tmp();
    const photos = join(dir, 'photos');
    const geo = join(dir, 'geo');
    mkdirSync(photos);
    mkdirSync(geo);
    const files: Array<{ path: string; tags: Record<string, string> }> = [];
    const stamped: Record<string, number> = {};
    for (const shot of shots) {
      const local = shot.clock.nowUtcMs(shot.trueMs) + zoneMinutes * 60_000;
      const { date, subSec } = exifTime(local);
      stamped[shot.name] = localMsOf(date, subSec);
      writeFileSync(join(photos, `${shot.name}.jpg`), minimalJpeg());
      files.push({ path: join(photos, `${shot.name}.jpg`), tags: { SerialNumber: SERIALS[0], DateTimeOriginal: date, SubSecTimeOriginal: subSec, CreateDate: date, SubSecTimeDigitized: subSec, OffsetTimeOriginal: zone } });
      if (shot.name === 'after-jump') {
        writeFileSync(join(geo, 'a.jpg'), minimalJpeg());
        files.push({ path: join(geo, 'a.jpg'), tags: { SerialNumber: SERIALS[0], DateTimeOriginal: date } });
      }
    }
    await writeTags(files, join(dir, 'make.args'));

    const model = (await request(app.url).get(`/api/timesync/corrections?camera=${SERIALS[0]}`).expect(200)).body;
    const [, lostPeriod] = model.cameras[0].periods;
    expect(lostPeriod.intervals).toEqual([expect.objectContaining({ kind: 'jump' })]);
    expect(Math.abs(lostPeriod.intervals[0].changeMs + 2410)).toBeLessThan(50);
    const args = (await request(app.url).get('/api/timesync/corrections?format=exiftool').expect(200)).text;
    expect(args).toMatch(/^# {3}period 2: .*: a jump between line \d+ and line \d+: the camera's clock moved -2[34]\d\d ms .* at a moment not known: shift of the later measurement, ±\d+ ms; shift \+2\.[34]\d\d s$/m);
    writeFileSync(join(dir, 'corrections.args'), args);
    const run = await exiftool(['-@', join(dir, 'corrections.args'), '-overwrite_original', photos]);
    expect(run.stdout).toMatch(/3 image files updated/);

    const after = await readTags(photos, ['DateTimeOriginal', 'SubSecTimeOriginal', 'CreateDate', 'SubSecTimeDigitized', 'OffsetTimeOriginal']);
    const errorOf = (name: string) => {
      const tags = after[`${name}.jpg`];
      expect(tags.CreateDate).toBe(tags.DateTimeOriginal);
      expect(tags.OffsetTimeOriginal).toBe(zone);
      return localMsOf(String(tags.DateTimeOriginal), tags.SubSecTimeOriginal) - zoneMinutes * 60_000 - shots.find((s) => s.name === name)!.trueMs;
    };
    const jump = segmentOf(model, SERIALS[0], stamped['after-jump'])!;
    expect(segmentOf(model, SERIALS[0], stamped['before-jump'])).toEqual(jump);
    // After the jump: on true time to the later measurement's bound and the camera's hundredths (an interpolation over the interval put it hundreds of ms off).
    const laterBound = lostPeriod.points[1].boundMs;
    expect(Math.abs(errorOf('after-jump'))).toBeLessThanOrEqual(laterBound + 15);
    // Before it: moved by the jump it never had, which the bound says.
    expect(Math.abs(errorOf('before-jump') - 2410)).toBeLessThan(laterBound + 50);
    expect(Math.abs(errorOf('before-jump'))).toBeLessThanOrEqual(jump.boundMs! + 15);
    expect(Math.abs(errorOf('after-correction-2'))).toBeLessThanOrEqual((segmentOf(model, SERIALS[0], stamped['after-correction-2'])!.boundMs ?? 0) + 15);

    // -geosync of that period: ExifTool's offset for the photo is the later measurement's (whole seconds: +2 s), not a ramp over the interval.
    const points = (await request(app.url).get(`/api/timesync/corrections?format=geosync&camera=${SERIALS[0]}&period=2`).expect(200)).text;
    writeFileSync(join(dir, 'geosync.args'), points);
    const t0 = Math.floor(t1 / 1000) * 1000 - 120_000;
    const trkpts = Array.from({ length: 360 }, (_, i) => `<trkpt lat="${(10 + i * 0.001).toFixed(3)}" lon="20.000"><time>${new Date(t0 + i * 1000).toISOString().replace('.000Z', 'Z')}</time></trkpt>`).join('');
    writeFileSync(join(dir, 'track.gpx'), `<?xml version="1.0"?><gpx version="1.1" creator="test"><trk><trkseg>${trkpts}</trkseg></trk></gpx>`);
    const geotag = await exiftool(['-@', join(dir, 'geosync.args'), '-geotag', join(dir, 'track.gpx'), '-v2', '-overwrite_original', geo]);
    const offset = /Geosync offset of ([-+]\d+\.\d+) sec/.exec(geotag.stdout);
    expect(offset).not.toBeNull();
    expect(Math.abs(Number(offset![1]) * 1000 - 2410)).toBeLessThanOrEqual(500);
  });

  it('a period of 10 s: a drift is one row, exiftool shifting each photo by its own interpolation to the ms its sub-seconds hold; beyond CAMERA_MAX_DRIFT_PPM, a jump: the later shift for all', async () => {
    // A journal as the product writes it: camera JUMP1 set, found 2410 ms behind 10 s later and set again;
    // camera DRIFT2 set, then measured 40 ms ahead 10 s later (within the two ±21 ms bounds: a drift at any limit).
    const T0 = Date.UTC(2026, 11, 2, 10, 0, 0);
    const base = (atMs: number) => ({ atMs, at: new Date(atMs).toISOString(), monotonicMs: 0, boot: 1, bootId: 'k1' });
    const cam = (serial: string, atMs: number, extra: object) => ({ ...base(atMs), cameraId: serial, serial, success: true, wallOffsetMinutes: 0, ...extra });
    const write = (serial: string, atMs: number, before: number, residualBoundMs = 2) => ({
      kind: 'camera-write',
      ...cam(serial, atMs, { offsetMs: before, boundMs: 2, residualMs: 0, residualBoundMs, verified: true, timezone: 'UTC', writtenWallOffsetMinutes: 0 }),
    });
    const lines = [
      { kind: 'pi-sync', ...base(T0 - 60_000), source: 'client', offsetMs: 0, errorBoundMs: 1, reliability: 'high' },
      write('JUMP1', T0, -5000),
      write('DRIFT2', T0, -5000, 20),
      { kind: 'camera-measure', ...cam('DRIFT2', T0 + 10_000, { offsetMs: 40, boundMs: 20 }) },
      write('JUMP1', T0 + 10_000, -2410),
    ];
    const dir = tmp();
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, JOURNAL), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    // Camera times (UTC wall, ms after T0) with their sub-seconds as the camera wrote them; expected shifts worked out by hand:
    // JUMP1 as a drift: the camera lost 241 ms a second, so a photo that shows T0 + x was taken at T0 + x / 0.759: shift 0.3175 x
    // (between the windows the writes leave alone); as a jump: +2410. DRIFT2: from 0 to -40 ms over the 10 s.
    const shots = [
      { name: 'j-start', serial: 'JUMP1', at: 100, subSec: '100', drift: 32, jump: 2410 },
      { name: 'j-middle', serial: 'JUMP1', at: 3795, subSec: '795', drift: 1205, jump: 2410 },
      { name: 'j-end', serial: 'JUMP1', at: 7500, subSec: '500', drift: 2381, jump: 2410 },
      { name: 'j-late', serial: 'JUMP1', at: 8500, subSec: '500', drift: null, jump: 2410 }, // as a drift, no photo could show this: left alone
      { name: 'd-start', serial: 'DRIFT2', at: 100, subSec: '100', drift: 0, jump: 0 },
      { name: 'd-middle', serial: 'DRIFT2', at: 5030, subSec: '030', drift: -20, jump: -20 },
      { name: 'd-end', serial: 'DRIFT2', at: 9990, subSec: '990', drift: -40, jump: -40 },
      { name: 'd-hundredths', serial: 'DRIFT2', at: 5030, subSec: '03', drift: -20, jump: -20 }, // 5.030 - 0.020: "01"
      { name: 'd-no-subsec', serial: 'DRIFT2', at: 5000, subSec: null, drift: 0, jump: 0 }, // whole seconds, rounded: unchanged
    ];
    for (const limit of [null, '300000']) {
      const started = (app = await startApp({ DATA_DIR: dataDir, ...(limit ? { CAMERA_MAX_DRIFT_PPM: limit } : {}) }));
      const args = (await request(started.url).get('/api/timesync/corrections?format=exiftool').expect(200)).text;
      const csv = (await request(started.url).get('/api/timesync/journal.csv').expect(200)).text;
      await started.close();
      app = undefined;

      // One row per range: for each camera the period before its first write, the 10 s, and the one after.
      const condition = args.split('\n').find((l) => l.startsWith('${DateTimeOriginal#;'))!;
      expect(condition.match(/\['JUMP1',/g)).toHaveLength(3);
      expect(condition.match(/\['DRIFT2',/g)).toHaveLength(3);
      const kinds = csv.split('\r\n').filter((l) => /,correction,/.test(l) && /JUMP1|DRIFT2/.test(l)).map((l) => /,(constant|drift|jump),/.exec(l)?.[1]);
      expect(kinds.filter(Boolean)).toEqual(limit ? ['constant', 'drift', 'constant', 'constant', 'drift', 'constant'] : ['constant', 'drift', 'constant', 'constant', 'jump', 'constant']);
      if (!limit) expect(args).toMatch(/^# {3}period 2: .*: a jump between line 2 and line 5: .*shift of the later measurement, ±\d+ ms; shift \+2\.410 s$/m);

      const photos = join(dir, `photos-${limit ?? 'default'}`);
      mkdirSync(photos);
      const files = shots.map((shot) => {
        const iso = new Date(T0 + Math.floor(shot.at / 1000) * 1000).toISOString();
        const date = `${iso.slice(0, 4)}:${iso.slice(5, 7)}:${iso.slice(8, 10)} ${iso.slice(11, 19)}`;
        writeFileSync(join(photos, `${shot.name}.jpg`), minimalJpeg());
        const subSec: Record<string, string> = shot.subSec === null ? {} : { SubSecTimeOriginal: shot.subSec, SubSecTimeDigitized: shot.subSec };
        return { path: join(photos, `${shot.name}.jpg`), tags: { SerialNumber: shot.serial, DateTimeOriginal: date, CreateDate: date, ...subSec, ...(shot.serial === 'JUMP1' ? { OffsetTimeOriginal: '+00:00' } : {}) } };
      });
      await writeTags(files, join(dir, 'make.args'));
      writeFileSync(join(dir, 'corrections.args'), args);
      const run = await exiftool(['-@', join(dir, 'corrections.args'), '-overwrite_original', photos]);
      expect(run.stdout).toMatch(new RegExp(`${shots.filter((x) => (limit ? x.drift : x.jump) !== null).length} image files updated`));

      const after = await readTags(photos, ['DateTimeOriginal', 'SubSecTimeOriginal', 'CreateDate', 'SubSecTimeDigitized', 'OffsetTimeOriginal']);
      const moved = shots.map((shot) => {
        const tags = after[`${shot.name}.jpg`];
        expect(tags.CreateDate).toBe(tags.DateTimeOriginal);
        expect(String(tags.SubSecTimeDigitized ?? '')).toBe(String(tags.SubSecTimeOriginal ?? ''));
        if (shot.serial === 'JUMP1') expect(tags.OffsetTimeOriginal).toBe('+00:00');
        // As many digits as the photo had: SubSecTimeOriginal keeps its length.
        expect(String(tags.SubSecTimeOriginal ?? '').length).toBe(shot.subSec?.length ?? 0);
        const was = T0 + Math.floor(shot.at / 1000) * 1000 + (shot.subSec === null ? 0 : Number(`0.${shot.subSec}`) * 1000);
        return { name: shot.name, moved: Math.round(localMsOf(String(tags.DateTimeOriginal), tags.SubSecTimeOriginal) - was) };
      });
      const expected = shots.map((shot) => {
        const shift = (limit ? shot.drift : shot.jump) ?? 0;
        // To the ms with three digits; rounded to the 10 ms two digits hold; to the second without sub-seconds.
        const step = shot.subSec === null ? 1000 : 10 ** (3 - shot.subSec.length);
        const was = shot.subSec === null ? 0 : Number(`0.${shot.subSec}`) * 1000;
        return { name: shot.name, moved: Math.round((was + shift) / step) * step - was };
      });
      // ±1 ms with three digits: the hand-worked shifts are rounded, as exiftool's are.
      const off = shots.filter((shot, i) => Math.abs(moved[i].moved - expected[i].moved) > (shot.subSec?.length === 3 ? 1 : 0));
      expect({ limit, off: off.map((shot) => ({ ...moved[shots.indexOf(shot)], expected: expected[shots.indexOf(shot)].moved })) }).toEqual({ limit, off: [] });
    }
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
