import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { formatSlateCode } from '../../backend/protocol/slate-code';
import { Clock, SimulatedWallClock } from '../../backend/time/clock';
import { startApp, StartedApp } from '../support/app';
import { exiftool, minimalJpeg, readTags, writeTags } from '../support/exiftool';
import { assertImageMagick, convert, exifStamp, postSlatePhotos } from '../support/slate-photos';
import { ClientPool, isEvent } from '../support/ws-client';

/**
 * Slate photos through the real app: read (zxing-wasm, exifr), journaled as camera measurements with
 * `method: "slate"`, and used by the photo fixes for a camera the Pi never talked to, applied by the real
 * exiftool. The slate pictures here are drawn by the `qrcode` package with the page's format (the page itself
 * is photographed in test/browser/slate.browser-spec.ts).
 */
jest.setTimeout(90_000);

const SERIAL = '4071234567';
const ZONE = 60; // the camera's OffsetTimeOriginal: +01:00
const work = mkdtempSync(join(tmpdir(), 'slate-e2e-'));
const phones = new ClientPool();
let app: StartedApp | undefined;
let n = 0;

/** A JPEG of a slate code (quality 70) stamped by a camera `offsetMs` ahead of the slate's time. */
async function slatePhoto(code: Parameters<typeof formatSlateCode>[0], offsetMs: number, serial = SERIAL): Promise<{ name: string; path: string; bytes: Buffer }> {
  const QR = await import('qrcode');
  const name = `slate-${++n}`;
  const png = join(work, `${name}.png`);
  const path = join(work, `${name}.jpg`);
  await QR.toFile(png, formatSlateCode(code), { errorCorrectionLevel: 'M', margin: 4, scale: 8 });
  await convert([png, '-resize', '80%', '-quality', '70', path]);
  await writeTags([{ path, tags: { ...exifStamp(code.unixMs + offsetMs, ZONE), ExposureTime: '1/250', Make: 'NIKON CORPORATION', Model: 'NIKON Z 6_2', SerialNumber: serial } }], join(work, `${name}.args`));
  return { name: `${name}.jpg`, path, bytes: readFileSync(path) };
}

async function slateNow(target: StartedApp): Promise<{ epochMs: number; clock: string; piId: string }> {
  return (await request(target.url).get('/api/slate').expect(200)).body;
}

async function syncedApp(env: Record<string, string> = {}): Promise<StartedApp> {
  const started = await startApp({ PI_NAME: 'e2e-pi', ...env });
  const phone = await phones.connect(started.wsUrl, { offsetMs: 0 });
  await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 10_000);
  return started;
}

beforeAll(() => assertImageMagick());
afterEach(async () => {
  await phones.closeAll();
  await app?.close();
  app = undefined;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('slate photos (e2e)', () => {
  it('a camera measured only by slate photos gets its photos put on true time by the served ExifTool file', async () => {
    app = await syncedApp();
    const pi = await slateNow(app);
    const offsetMs = 41_234.5;
    const shots = [];
    for (const ago of [6000, 5200, 4100]) shots.push(await slatePhoto({ piId: pi.piId, unixMs: pi.epochMs - ago, frame: ago, frameMs: 16.7, errMs: 1, clock: pi.clock }, offsetMs));
    const res = await postSlatePhotos(app.url, shots);
    expect(res.status).toBe(200);
    const camera = res.body.cameras[0];
    expect(camera).toMatchObject({ serial: SERIAL, photos: 3, consistent: true, scopable: true, zoneFrom: 'exif' });
    expect(Math.abs(camera.offsetMs - offsetMs)).toBeLessThanOrEqual(camera.boundMs);

    const journal = parseJournal(readFileSync(join(app.dataDir, 'clock-journal.jsonl'), 'utf8'));
    const record = journal.events.find((e) => e.kind === 'camera-measure');
    expect(record).toMatchObject({ method: 'slate', serial: SERIAL, cameraId: SERIAL, wallOffsetMinutes: ZONE, slate: { make: 'NIKON CORPORATION', model: 'NIKON Z 6_2', photos: 3, zoneFrom: 'exif' } });

    // The camera's photos, stamped by its clock at known true times; one of another camera stays as it is.
    const photos = join(work, 'fix');
    mkdirSync(photos);
    const truths = [
      { name: 'a.jpg', trueMs: pi.epochMs + 60_000 },
      { name: 'b.jpg', trueMs: pi.epochMs + 3_600_000 },
    ];
    const files = truths.map((t) => ({ path: join(photos, t.name), tags: { SerialNumber: SERIAL, ...exifStamp(t.trueMs + offsetMs, ZONE) } }));
    files.push({ path: join(photos, 'other.jpg'), tags: { SerialNumber: '999', ...exifStamp(pi.epochMs, ZONE) } });
    for (const f of files) writeFileSync(f.path, minimalJpeg());
    await writeTags(files, join(work, 'fix.args'));
    const served = await request(app.url).get('/api/timesync/corrections?format=exiftool').expect(200);
    writeFileSync(join(work, 'corrections.args'), served.text);
    const run = await exiftool(['-@', join(work, 'corrections.args'), '-overwrite_original', photos]);
    expect(run.stdout).toMatch(/2 image files updated/);
    expect(run.stdout).toMatch(/1 files failed condition/);
    const after = await readTags(photos, ['DateTimeOriginal', 'SubSecTimeOriginal', 'OffsetTimeOriginal']);
    for (const t of truths) {
      const tags = after[t.name];
      const wall = Date.parse(`${String(tags.DateTimeOriginal).replace(/^(\d+):(\d+):(\d+) /, '$1-$2-$3T')}Z`) + Number(`0.${tags.SubSecTimeOriginal}`) * 1000;
      const corrected = wall - ZONE * 60_000;
      expect([t.name, Math.abs(corrected - t.trueMs) <= camera.boundMs + 10]).toEqual([t.name, true]);
      expect(tags.OffsetTimeOriginal).toBe('+01:00');
    }
  });

  it("a slate drawn before someone moved the Pi's clock is put on the clock after it, and the fix still holds", async () => {
    app = await syncedApp();
    const before = await slateNow(app);
    const wall = app.app.get(Clock, { strict: false }) as SimulatedWallClock;
    wall.stepTo(wall.now() + 7500);
    const started = app;
    const deadline = Date.now() + 10_000;
    while (!parseJournal(readFileSync(join(started.dataDir, 'clock-journal.jsonl'), 'utf8')).events.some((e) => e.kind === 'external-step')) {
      if (Date.now() > deadline) throw new Error('the outside step was not journaled');
      await new Promise((r) => setTimeout(r, 50));
    }
    const after = await slateNow(app);
    expect(after.clock).not.toBe(before.clock);
    // The page still showed the clock before the step: its code says so, and the camera is 2 s ahead of that (true) time.
    const shot = await slatePhoto({ piId: before.piId, unixMs: before.epochMs - 500, frame: 1, frameMs: 16.7, errMs: 1, clock: before.clock }, 2000);
    const res = await postSlatePhotos(app.url, [shot]);
    expect(res.status).toBe(200);
    const m = res.body.cameras[0];
    // Against the Pi's clock of now (7.5 s ahead of true time): 2 s - 7.5 s.
    expect(Math.abs(m.offsetMs - (2000 - 7500))).toBeLessThanOrEqual(m.boundMs);
    const corrections = (await request(app.url).get(`/api/timesync/corrections?camera=${SERIAL}`).expect(200)).body;
    const segment = corrections.cameras[0].periods[0].segments[0];
    // Against true time: the journal knows the step, so the camera is 2 s ahead.
    expect(Math.abs(segment.cameraErrorMs - 2000)).toBeLessThanOrEqual(segment.boundMs);
  });

  it('refuses a slate of an earlier server run, and one dated after the Pi\'s time now', async () => {
    app = await syncedApp();
    const pi = await slateNow(app);
    const stale = await slatePhoto({ piId: pi.piId, unixMs: pi.epochMs - 1000, frame: 1, frameMs: 16.7, errMs: 1, clock: pi.clock === 'ffff.0' ? 'eeee.0' : 'ffff.0' }, 100);
    const res = await postSlatePhotos(app.url, [stale]);
    expect([res.status, res.body.code]).toEqual([422, 'SLATE_CLOCK_UNKNOWN']);
    expect(res.body.message).toMatch(/before the Pi's server last started .* photograph the slate again/);
    const future = await slatePhoto({ piId: pi.piId, unixMs: pi.epochMs + 60_000, frame: 1, frameMs: 16.7, errMs: 1, clock: pi.clock }, 100);
    const both = await postSlatePhotos(app.url, [stale, future]);
    expect([both.status, both.body.code]).toEqual([422, 'SLATE_PHOTOS_REFUSED']);
    expect(both.body.results.map((r: { code: string }) => r.code)).toEqual(['SLATE_CLOCK_UNKNOWN', 'SLATE_IN_FUTURE']);
  });

  it("only the Pi's own screen and phones on its Wi-Fi may send slate photos", async () => {
    app = await startApp({ PI_NAME: 'e2e-pi', AP_SUBNETS: '10.99.0.0/24' });
    const res = await postSlatePhotos(app.url, [{ name: 'x.jpg', bytes: minimalJpeg() }]);
    expect([res.status, res.body.code]).toEqual([403, 'NOT_ACCESS_POINT_CLIENT']);
    expect(res.body.message).toMatch(/may not send photos of the time slate/);
  });

  it('asks for photos when there are none, and for the field they go in', async () => {
    app = await startApp({ PI_NAME: 'e2e-pi' });
    const empty = await fetch(`${app.url}/api/slate/photos`, { method: 'POST', body: new FormData(), headers: { 'x-timesync-upload': '1' } });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { code: string }).code).toBe('NO_PHOTO');
    const form = new FormData();
    form.append('photo', new Blob([new Uint8Array(minimalJpeg())]), 'x.jpg');
    const wrong = await fetch(`${app.url}/api/slate/photos`, { method: 'POST', body: form, headers: { 'x-timesync-upload': '1' } });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { message: string }).message).toMatch(/send the photos in the field "photos"/);
  });

  it('the command docs/slate.md gives: curl with the upload header', async () => {
    app = await syncedApp();
    const pi = await slateNow(app);
    const shot = await slatePhoto({ piId: pi.piId, unixMs: pi.epochMs - 2000, frame: 1, frameMs: 16.7, errMs: 1, clock: pi.clock }, -300);
    const copy = join(work, 'IMG_0001.JPG');
    writeFileSync(copy, shot.bytes);
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'slate.md'), 'utf8');
    const documented = /^curl .*api\/slate\/photos$/m.exec(doc)?.[0];
    expect(documented).toBeDefined();
    const command = documented!.replace('http://10.42.0.1', app.url).replace(/ -F 'photos=@IMG_0002\.JPG'/, '');
    const out = await new Promise<string>((resolve, reject) => execFile('bash', ['-c', command], { cwd: work }, (error, stdout, stderr) => (error ? reject(new Error(`${command}: ${stderr}`)) : resolve(stdout))));
    const body = JSON.parse(out);
    expect(body.cameras[0]).toMatchObject({ serial: SERIAL, photos: 1 });
    expect(Math.abs(body.cameras[0].offsetMs + 300)).toBeLessThanOrEqual(body.cameras[0].boundMs);
  });
});
