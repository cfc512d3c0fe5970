import request from 'supertest';
import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp, statusWhen } from '../support/app';
import { ClientPool, isEvent } from '../support/ws-client';

jest.setTimeout(40_000);

/** RFC 4180 cells of one row (the exporter leaves no line end inside a cell). */
const cells = (line: string) => [...line.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,"]*)/g)].map((m) => (m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]));

describe('GET /api/timesync/journal.csv (e2e)', () => {
  let app: StartedApp | undefined;
  let sim: CameraSim | undefined;
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    await sim?.close();
    app = sim = undefined;
  });

  it("links its column description; a capture session's rows all carry its id, its start's camera correction included", async () => {
    sim = await startCameraSim({ httpsPort: false });
    app = await startApp({ CAMERA_URL: sim.httpUrl, CAMERA_POLL_INTERVAL: '200', CAMERA_SYNC_ON_CONNECT: 'false' });
    await statusWhen(app, (s) => s.camera?.connected);
    const phone = await clients.connect(app.wsUrl, { offsetMs: 0 });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 8000);
    await phone.close();
    // The Pi's confirmation syncs the camera (kept if within CAMERA_SYNC_THRESHOLD): a camera record before any session.
    await statusWhen(app, (s) => s.camera?.lastSync?.success === true);
    // 3 s off: the start has a correction to make and journal (in a later second than that first write).
    sim.clock.setError(3000);
    await new Promise((r) => setTimeout(r, 1100));
    const { id } = (await request(app.url).post('/api/session/start').send({ label: 'hall, B' }).expect(200)).body;
    await request(app.url).post('/api/session/stop').expect(200);

    const res = await request(app.url).get('/api/timesync/journal.csv').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const link = /^<([^>]+)>; rel="describedby"/.exec(res.headers.link ?? '');
    expect(link).not.toBeNull();
    const described = (await request(app.url).get(link![1]).expect(200)).body;
    const [header, ...rows] = res.text.replace(/\r\n$/, '').split('\r\n').map(cells);
    expect(described.columns.map((c: { name: string }) => c.name)).toEqual(header);
    for (const c of described.columns) expect(c.meaning).toEqual(expect.any(String));

    const records = rows.map((r) => Object.fromEntries(header.map((name, i) => [name, r[i]])));
    const start = records.findIndex((r) => r.kind === 'session-start');
    const stop = records.findIndex((r) => r.kind === 'session-stop');
    expect(records[start]).toMatchObject({ session: id, label: 'hall, B', address: expect.stringMatching(/127\.0\.0\.1/) });
    // The start's correction, journaled just before the start's own record, is the session's too.
    expect(records[start - 1]).toMatchObject({ kind: 'camera-write', serial: '083021000123', session: id });
    for (const r of records.slice(start, stop + 1)) expect(r.session).toBe(id);
    const before = records.slice(0, start - 1);
    expect(before.filter((r) => r.kind === 'camera-write' || r.kind === 'camera-measure')).not.toEqual([]);
    for (const r of before) expect(r.session).toBe('');
    expect(header).not.toContain('detail');

    // Swagger says the same: every column named in the endpoint's description, the columns endpoint documented.
    const docs = (await request(app.url).get('/api/docs-json').expect(200)).body;
    const description: string = docs.paths['/api/timesync/journal.csv'].get.description;
    for (const c of described.columns) expect(description).toContain(`${c.name}: ${c.meaning}`);
    expect(docs.paths).toHaveProperty([link![1]]);
  });
});
