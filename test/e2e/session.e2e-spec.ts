import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { Clock } from '../../backend/time/clock';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { expectFaults, JOURNAL_UNWRITABLE_LOG } from '../support/expected-faults';
import { httpJson } from '../support/http';
import { ClientPool, isEvent, TestClient } from '../support/ws-client';

jest.setTimeout(40_000);

const JOURNAL = 'clock-journal.jsonl';
const piMinusHost = (app: StartedApp) => app.app.get(Clock, { strict: false }).now() - Date.now();
const journalOf = (app: StartedApp) => parseJournal(readFileSync(join(app.dataDir, JOURNAL), 'utf8'));

describe('Capture sessions (e2e)', () => {
  let app: StartedApp | undefined;
  let sim: CameraSim | undefined;
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    await sim?.close();
    app = sim = undefined;
  });

  /** The Pi takes the phone's time (here: the host's), then the phone leaves. */
  async function piOnTime(started: StartedApp): Promise<void> {
    const phone = await clients.connect(started.wsUrl, { offsetMs: 0 });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 8000);
    await phone.close();
  }

  it('corrects a camera 3 s off at the start; a phone 2 s away joining mid-session steps nothing; the report matches the journal', async () => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false' });
    await statusWhen(app, (s) => s.camera.connected);
    await piOnTime(app);
    // The Pi's confirmation sets a camera not yet set; then the camera's clock runs 3 s ahead.
    await statusWhen(app, (s) => s.camera.lastSync?.success === true);
    sim.clock.setError(3000);

    const started = (await request(app.url).post('/api/session/start').send({ label: 'timelapse' }).expect(200)).body;
    expect(started).toMatchObject({ id: expect.stringMatching(/^s-\d{8}-\d{6}-[0-9a-f]{6}$/), label: 'timelapse' });
    expect(started.cameras).toEqual([expect.objectContaining({ cameraId: '083021000123', serial: '083021000123', success: true })]);
    const [camera] = started.cameras;
    expect(Math.abs(camera.correctedFromMs - 3000)).toBeLessThan(100);
    expect(camera.offsetMs).not.toBeNull();
    expect(Math.abs(camera.offsetMs)).toBeLessThan(60);
    expect(Math.abs(sim.clock.errorMs())).toBeLessThan(60);
    const putsAtStart = sim.requests.filter((r) => r.method === 'PUT').length;

    // A phone 2 s ahead connects during the session: measured and shown as a decision, never stepped.
    const phone = await clients.connect(app.wsUrl, { offsetMs: 2000 });
    const held = await phone.waitFor((f) => f.type === 'time-sync-status' && f.data.decision?.kind === 'session-running', 10_000);
    expect(held.data.session).toMatchObject({ id: started.id });
    expect(held.data.decision.offsetMs).toBeGreaterThan(1900);
    expect(phone.frames.filter((f) => isEvent('pi-sync')(f) && f.data.stepped)).toEqual([]);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(50);
    expect(sim.requests.filter((r) => r.method === 'PUT')).toHaveLength(putsAtStart);

    const report = (await request(app.url).post('/api/session/stop').expect(200)).body;
    // Until the stop, nothing moved.
    const steps = journalOf(app).steps;
    expect(steps.filter((s) => s.line > report.journal.startLine && s.line < report.journal.stopLine)).toEqual([]);
    expect(report).toMatchObject({ id: started.id, state: 'stopped', label: 'timelapse', piSteps: [], zoneChanges: [] });

    // The report's numbers are the journal's.
    const journal = journalOf(app);
    const start = journal.events.find((e) => e.kind === 'session-start' && e.sessionId === started.id) as any;
    const stop = journal.events.find((e) => e.kind === 'session-stop' && e.sessionId === started.id) as any;
    const write = [...journal.events].reverse().find((e) => e.kind === 'camera-write' && e.line < start.line) as any;
    const measure = [...journal.events].reverse().find((e) => e.kind === 'camera-measure' && e.line < stop.line) as any;
    expect(write).toMatchObject({ serial: '083021000123', success: true, boot: expect.any(Number), bootId: expect.anything() });
    const [reported] = report.cameras;
    expect(reported.start).toMatchObject({ line: start.line, offsetMs: start.cameras[0].offsetMs, correctedFromMs: start.cameras[0].correctedFromMs });
    expect(start.cameras[0].offsetMs).toBe(write.residualMs);
    expect(start.cameras[0].correctedFromMs).toBe(write.offsetMs);
    expect(camera.offsetMs).toBe(write.residualMs);
    expect(reported.end).toMatchObject({ line: stop.line, offsetMs: measure.offsetMs, boundMs: measure.boundMs });
    expect(reported.writes).toEqual([]);
    // The correction for the session's photos: one period, the camera's error after the start, within its bounds.
    expect(reported.correction).toHaveLength(1);
    for (const segment of reported.correction[0].segments) expect(Math.abs(segment.shiftMs)).toBeLessThan(600);
    expect(report.files.exiftool).toBe(`/api/timesync/corrections?session=${started.id}&format=exiftool`);

    // Kept and served later, as stopped.
    expect(existsSync(join(app.dataDir, 'sessions', `${started.id}.json`))).toBe(true);
    expect((await request(app.url).get(`/api/session/${started.id}/report`).expect(200)).body).toEqual(report);
    expect((await request(app.url).get('/api/session').expect(200)).body).toMatchObject({ session: null, sessions: [{ id: started.id, stoppedAt: report.stoppedAt }] });

    // After the stop, what the session held back is applied under the ordinary rules: the phone's time.
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.stepped, 10_000);
    expect(Math.abs(piMinusHost(app) - 2000)).toBeLessThan(50);
  });

  it('over the WebSocket: start and stop answer the page; a second start, a stop without a session and a page outside the access point are refused with codes', async () => {
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32' });
    const page = await clients.connect(app.wsUrl, { answer: false });
    const outsider = await clients.connect(app.wsUrl, { localAddress: '127.0.0.2', answer: false });

    expect(await page.expectError({ type: 'session-stop', data: {} })).toMatchObject({ code: 'NO_SESSION' });
    expect(await outsider.expectError({ type: 'session-start', data: {} })).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect(await page.expectError({ type: 'session-start', data: { label: 7 } })).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await page.expectError({ type: 'session-stop', data: { now: true } })).toMatchObject({ code: 'BAD_REQUEST' });

    const answer = page.next((f) => f.type === 'session-result');
    page.send({ type: 'session-start', data: { label: 'night' } });
    const started = (await answer).data;
    expect(started).toMatchObject({ action: 'start', session: { id: expect.any(String), label: 'night', cameras: [] } });
    // Every page hears of it in the status.
    await outsider.waitFor((f) => f.type === 'time-sync-status' && f.data.session?.id === started.session.id);

    expect(await page.expectError({ type: 'session-start', data: {} })).toMatchObject({ code: 'SESSION_RUNNING', message: expect.stringContaining(started.session.id) });
    expect(await outsider.expectError({ type: 'session-stop', data: {} })).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });

    const stopped = page.next((f) => f.type === 'session-result');
    page.send({ type: 'session-stop', data: {} });
    expect((await stopped).data).toMatchObject({ action: 'stop', report: { id: started.session.id, state: 'stopped', cameras: [] } });
    expect(await page.expectError({ type: 'session-stop', data: {} })).toMatchObject({ code: 'NO_SESSION' });
    expect(page.isOpen).toBe(true);
  });

  it('REST: a start while one runs, a stop without a start, bad and unknown ids, a caller outside the access point: coded, nothing changes', async () => {
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32' });
    expect((await request(app.url).post('/api/session/stop').expect(409)).body).toMatchObject({ code: 'NO_SESSION' });
    expect((await httpJson(`${app.url}/api/session/start`, 'POST', {}, '127.0.0.2')).body).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });
    expect((await request(app.url).post('/api/session/start').send({ label: 'x', extra: 1 }).expect(400)).body).toMatchObject({ code: 'BAD_REQUEST' });
    expect((await request(app.url).get('/api/session').expect(200)).body).toEqual({ session: null, sessions: [] });

    const first = (await request(app.url).post('/api/session/start').send({}).expect(200)).body;
    const again = (await request(app.url).post('/api/session/start').send({}).expect(409)).body;
    expect(again).toMatchObject({ code: 'SESSION_RUNNING', message: expect.stringContaining(first.id) });
    expect((await request(app.url).get('/api/session').expect(200)).body.session).toMatchObject({ id: first.id });
    // A running session's report is served as it stands.
    expect((await request(app.url).get(`/api/session/${first.id}/report`).expect(200)).body).toMatchObject({ id: first.id, state: 'running', stoppedAt: null });

    expect((await request(app.url).get('/api/session/..%2F..%2Fetc%2Fpasswd/report').expect(400)).body).toMatchObject({ code: 'INVALID_SESSION_ID' });
    expect((await request(app.url).get('/api/session/s-20000101-000000-abcdef/report').expect(404)).body).toMatchObject({ code: 'UNKNOWN_SESSION' });
    expect((await httpJson(`${app.url}/api/session/stop`, 'POST', {}, '127.0.0.2')).body).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT' });

    await request(app.url).post('/api/session/stop').expect(200);
    const starts = journalOf(app).events.filter((e) => e.kind === 'session-start');
    expect(starts).toHaveLength(1);
  });

  it('a session running when the server stops runs on after a restart: still no automatic step', async () => {
    app = await startApp();
    await piOnTime(app);
    const { id } = (await request(app.url).post('/api/session/start').send({}).expect(200)).body;
    const dataDir = app.dataDir;
    await app.close();
    app = await startApp({ DATA_DIR: dataDir });
    expect((await request(app.url).get('/api/session').expect(200)).body.session).toMatchObject({ id });
    const phone: TestClient = await clients.connect(app.wsUrl, { offsetMs: 5000 });
    await phone.waitFor((f) => f.type === 'time-sync-status' && f.data.decision?.kind === 'session-running', 10_000);
    expect(Math.abs(piMinusHost(app))).toBeLessThan(50);
    expect((await request(app.url).post('/api/session/stop').expect(200)).body).toMatchObject({ id, state: 'stopped' });
  });

  it('refuses to start a session whose corrections could not be recorded, touching no camera', async () => {
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: 3000 });
    const { mkdirSync } = await import('node:fs');
    expectFaults(JOURNAL_UNWRITABLE_LOG);
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false' }, 0, (dir) => mkdirSync(join(dir, JOURNAL)));
    await statusWhen(app, (s) => s.camera.connected);
    expect((await request(app.url).post('/api/session/start').send({}).expect(503)).body).toMatchObject({ code: 'JOURNAL_UNWRITABLE' });
    expect(sim.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    expect((await request(app.url).get('/api/session').expect(200)).body).toMatchObject({ session: null, sessions: [], error: { code: 'JOURNAL_UNREADABLE' } });
  });

  it("a Pi whose time is unknown does not write its cameras at a session's start unless the operator confirms, and says so", async () => {
    // The Pi three days wrong; its only camera reads the year 2000, refused as a time source: the Pi's reliability stays none.
    const year2000 = Date.UTC(2000, 0, 1, 12) - Date.now();
    sim = await startCameraSim({ httpsPort: false, clockOffsetMs: year2000 });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', SIMULATED_CLOCK_OFFSET_MS: String(-3 * 86400_000), CAMERA_SYNC_THRESHOLD: '0' });
    const before = await statusWhen(app, (s) => s.camera.connected && s.activityLog.some((e: any) => /camera 083021000123's clock failed/i.test(e.message)));
    expect(before).toMatchObject({ reliability: 'none', syncSource: 'none' });

    const refused = (await request(app.url).post('/api/session/start').send({ label: 'no time' }).expect(409)).body;
    expect(refused).toEqual({ statusCode: 409, code: 'PI_TIME_UNRELIABLE', message: expect.stringMatching(/^Capture session not started: The Pi's own time is not reliable.*cameras were left alone.*confirm/) });
    expect(sim.requests.filter((r) => r.method === 'PUT')).toEqual([]);
    const afterRefusal = (await request(app.url).get('/api/timesync/status').expect(200)).body;
    expect(afterRefusal.session).toBeNull();
    expect(afterRefusal.activityLog.filter((e: any) => e.details?.error === 'PI_TIME_UNRELIABLE' || e.details?.code === 'PI_TIME_UNRELIABLE')).toHaveLength(1);
    expect((await request(app.url).get('/api/session').expect(200)).body).toMatchObject({ session: null, sessions: [] });

    // The operator confirms: the cameras are written from the Pi's time, with warnings in the log saying what that means.
    const started = (await request(app.url).post('/api/session/start').send({ label: 'no time', confirm: true }).expect(200)).body;
    expect(started.cameras).toEqual([expect.objectContaining({ cameraId: '083021000123', success: true })]);
    expect(sim.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('functions/datetime'))).toHaveLength(1);
    const log = (await statusWhen(app, (s) => s.activityLog.some((e: any) => e.details?.code === 'SUSPICIOUS_CAMERA_MOVE'))).activityLog;
    expect(log.some((e: any) => !e.success && /written on the operator's confirmation although the Pi's own time is not reliable/.test(e.message))).toBe(true);
    expect(log.find((e: any) => e.details?.code === 'SUSPICIOUS_CAMERA_MOVE').message).toMatch(/^Camera 083021000123 was moved by \+.*from a Pi whose time is not fresh/);
  });

  it('a session started with no camera connected needs no confirmation, whatever the Pi\'s time', async () => {
    app = await startApp({});
    expect((await request(app.url).post('/api/session/start').send({}).expect(200)).body).toMatchObject({ cameras: [] });
  });
});
