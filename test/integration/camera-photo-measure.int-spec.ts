import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { Clock } from '../../backend/time/clock';
import { slateOfApp } from '../../backend/dev/camera-sim/sim-photo';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp } from '../support/app';
import { ClientPool, isEvent } from '../support/ws-client';

/**
 * Measure by photo with the camera simulator on real sockets (HTTP and HTTPS, the app's own CCAPI client): the
 * app presses the shutter, the simulator photographs the app's time slate at the instant its shutter opens (its
 * clock knowingly off), the app waits for the file in the camera's events, downloads it and reads it. The
 * measured offset is compared with the simulator's truth at that instant.
 */
jest.setTimeout(60_000);

const SERIAL = '083021004242';
const OFFSET_MS = 2345.6;
const PHOTO_TIMEOUT_MS = 2000;

describe.each(['http', 'https'] as const)('measure by photo over %s', (proto) => {
  let sim: CameraSim;
  let app: StartedApp;
  const phones = new ClientPool();

  const measure = async (id = SERIAL) => {
    const res = await fetch(`${app.url}/api/camera/${encodeURIComponent(id)}/measure-by-photo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    return { status: res.status, body: (await res.json()) as any };
  };
  /** The Pi's clock minus the host's now (the simulator keeps host time; the app a simulated clock of its own). */
  const piMinusHost = () => app.app.get(Clock).now() - Date.now();
  const requestsOf = (what: string) => sim.requests.filter((r) => `${r.method} ${r.path}`.includes(what));

  beforeAll(async () => {
    // Busy while it exposes and writes, no longer (the default keeps it busy 1.5 s after every press).
    sim = await startCameraSim({ serialNumber: SERIAL, shutterLagMs: 150, writeMs: 300, busyAfterShutterMs: 0 });
    app = await startApp({
      PI_NAME: 'int-pi',
      CAMERA_URL: proto === 'http' ? sim.httpUrl : sim.httpsUrl!,
      CAMERA_SYNC_ON_CONNECT: 'false',
      CAMERA_CHECK_INTERVAL: '0',
      CAMERA_POLL_INTERVAL: '200',
      CAMERA_PHOTO_TIMEOUT: String(PHOTO_TIMEOUT_MS),
    });
    // A phone gives the Pi its time: the slate draws a code only then.
    const phone = await phones.connect(app.wsUrl, { offsetMs: 0 });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 10_000);
    // The Pi's first sync sets the camera too; then its clock is put knowingly off (the truth of every test).
    for (let i = 0; i < 200; i++) {
      const cameras = (await (await fetch(`${app.url}/api/cameras`)).json()) as Array<{ state: string; lastSync: { success: boolean } | null }>;
      if (cameras[0]?.state === 'connected' && cameras[0].lastSync?.success) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    sim.clock.setError(OFFSET_MS);
    sim.clock.stdOffsetMinutes = 60;
  });
  beforeEach(() => {
    sim.setSlate(slateOfApp(app.url));
    sim.setRecording('jpeg');
    sim.setFault(null);
    sim.setBusy(0);
    sim.requests.length = 0;
  });
  afterAll(async () => {
    await sim?.settled();
    await phones.closeAll();
    await app?.close();
    await sim?.close();
  });

  it("the camera's offset from its own photo of the slate, within the bound, its shutter lag and all; journaled as a slate measurement", async () => {
    const offsets: Array<{ errorMs: number; boundMs: number }> = [];
    for (let i = 0; i < 3; i++) {
      const shotsBefore = sim.shots.length;
      const { status, body } = await measure();
      expect(status).toBe(200);
      const shot = sim.shots[shotsBefore];
      expect(shot.code).toMatch(/^TS1;int-pi;/);
      // The truth: the camera's clock minus the Pi's when its shutter opened (150 ms after the press).
      const truth = shot.clockErrorMs - piMinusHost();
      expect(Math.abs(truth - OFFSET_MS)).toBeLessThan(50);
      expect(Math.abs(body.measurement.offsetMs - truth)).toBeLessThanOrEqual(body.measurement.boundMs);
      expect(body.measurement.boundMs).toBeLessThan(30);
      offsets.push({ errorMs: Math.round((body.measurement.offsetMs - truth) * 10) / 10, boundMs: body.measurement.boundMs });
      expect(body).toMatchObject({ cameraId: SERIAL, file: expect.stringMatching(/^IMG_\d{4}\.JPG$/), measurement: { cameraId: SERIAL, serial: SERIAL, make: 'Canon', model: 'Canon EOS R50', photos: 1, zoneFrom: 'exif' } });
      expect(body.photo.exif).toMatchObject({ offsetTimeOriginal: '+01:00', exposureTime: 0.004 });
    }
    // The lag is not in the offset: the slate shows the time the shutter opened, not the press.
    console.log(`measure by photo over ${proto}: offset error vs the simulator's truth, ms: ${JSON.stringify(offsets)}`);

    // The order a camera needs: events drained, the press (autofocus), events until the file, the file itself.
    const calls = sim.requests.filter((r) => !r.path.endsWith('/deviceinformation')).slice(0, 4).map((r) => `${r.method} ${r.path}`);
    expect(calls.slice(0, 2)).toEqual(['GET /ccapi/ver100/event/polling', 'POST /ccapi/ver100/shooting/control/shutterbutton']);
    expect(requestsOf('shutterbutton')[0].body).toEqual({ af: true });
    expect(requestsOf('GET /ccapi/ver100/contents/sd/100CANON/IMG_')).toHaveLength(3);

    const journal = parseJournal(readFileSync(join(app.dataDir, 'clock-journal.jsonl'), 'utf8'));
    const records = journal.events.filter((e) => e.kind === 'camera-measure' && (e as { method?: string }).method === 'slate');
    expect(records.length).toBeGreaterThanOrEqual(3);
    expect(records.at(-1)).toMatchObject({ cameraId: SERIAL, serial: SERIAL, wallOffsetMinutes: 60, slate: { make: 'Canon', photos: 1 } });
  });

  it('RAW+JPEG: the JPEG of the pair is read', async () => {
    sim.setRecording('raw+jpeg');
    const { status, body } = await measure();
    expect(status).toBe(200);
    expect(body.added).toEqual([expect.stringMatching(/\.CR3$/), expect.stringMatching(/\.JPG$/)]);
    expect(body.file).toMatch(/\.JPG$/);
    expect(requestsOf('.CR3')).toHaveLength(0);
  });

  it('a camera not pointed at the slate: refused in words, nothing journaled', async () => {
    sim.setSlate(null);
    const before = readFileSync(join(app.dataDir, 'clock-journal.jsonl'), 'utf8');
    const { status, body } = await measure();
    expect([status, body.code]).toEqual([422, 'NO_SLATE_CODE']);
    expect(body.message).toMatch(/^The camera was not pointed at the slate: its photo IMG_\d{4}\.JPG shows no readable slate code/);
    expect(readFileSync(join(app.dataDir, 'clock-journal.jsonl'), 'utf8')).toBe(before);
  });

  it('no new image within CAMERA_PHOTO_TIMEOUT: NO_NEW_PHOTO', async () => {
    // The camera takes the picture but its events never name it.
    sim.setFault({ kind: 'status', status: 200, body: '{}' }, { path: 'event/polling' });
    const t0 = Date.now();
    const { status, body } = await measure();
    expect([status, body.code]).toEqual([504, 'NO_NEW_PHOTO']);
    expect(body.message).toMatch(/named no new photo within 2 s of the shutter press/);
    expect(Date.now() - t0).toBeLessThan(PHOTO_TIMEOUT_MS + 2000);
  });

  it('a busy camera: CAMERA_BUSY (after waiting a little for it), and a shutter it refuses: SHUTTER_REFUSED with its words', async () => {
    sim.setBusy(60_000);
    const shots = sim.shots.length;
    const busy = await measure();
    expect([busy.status, busy.body.code]).toEqual([503, 'CAMERA_BUSY']);
    expect(busy.body.message).toBe('Camera is busy: Device busy');
    expect(requestsOf('shutterbutton').length).toBeGreaterThan(1);
    expect(sim.shots).toHaveLength(shots);
    sim.setBusy(0);
    sim.setFault({ kind: 'status', status: 503, message: 'Out of focus' }, { path: 'shutterbutton', times: 1 });
    const refused = await measure();
    expect([refused.status, refused.body.code]).toEqual([502, 'SHUTTER_REFUSED']);
    expect(refused.body.message).toMatch(/did not take the picture \("Out of focus"\): it could not focus/);
  });

  it('RAW only: NO_JPEG_RECORDED, and the RAW file is not downloaded', async () => {
    sim.setRecording('raw');
    const { status, body } = await measure();
    expect([status, body.code]).toEqual([409, 'NO_JPEG_RECORDED']);
    expect(body.message).toMatch(/recorded IMG_\d{4}\.CR3, no JPEG: set its image quality to JPEG or RAW\+JPEG/);
    expect(requestsOf('contents')).toHaveLength(0);
  });

  it('event polling left "started" by an earlier client: stopped (DELETE) and started again', async () => {
    sim.setFault({ kind: 'status', status: 503, message: 'Already started' }, { path: 'event/polling', method: 'GET', times: 1 });
    const { status } = await measure();
    expect(status).toBe(200);
    expect(requestsOf('event/polling').slice(0, 3).map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /ccapi/ver100/event/polling 503',
      'DELETE /ccapi/ver100/event/polling 200',
      'GET /ccapi/ver100/event/polling 200',
    ]);
  });
});
