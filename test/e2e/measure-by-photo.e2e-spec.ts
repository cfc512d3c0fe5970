import { CameraSim, startCameraSim } from '../camera-sim/sim';
import { startApp, StartedApp } from '../support/app';

/**
 * Measure by photo presses a camera's shutter: nothing changes on any clock, but the camera acts, so only the
 * Pi's own screen and phones on its Wi-Fi may ask, and a refused caller leaves the camera untouched.
 */
jest.setTimeout(60_000);

describe('POST /api/camera/:id/measure-by-photo (e2e)', () => {
  let sim: CameraSim;
  let app: StartedApp;

  beforeAll(async () => {
    sim = await startCameraSim({ httpsPort: false, serialNumber: '083021007777' });
    // Loopback is not on the access point here: this test's client is "other".
    app = await startApp({ AP_SUBNETS: '10.99.0.0/24', CAMERA_URL: sim.httpUrl, CAMERA_SYNC_ON_CONNECT: 'false', CAMERA_CHECK_INTERVAL: '0' });
    for (let i = 0; i < 200 && sim.requests.every((r) => !r.path.endsWith('/deviceinformation')); i++) await new Promise((r) => setTimeout(r, 25));
  });
  afterAll(async () => {
    await app?.close();
    await sim?.close();
  });

  const post = (id: string, headers: Record<string, string> = { 'content-type': 'application/json' }, body = '{}') =>
    fetch(`${app.url}/api/camera/${encodeURIComponent(id)}/measure-by-photo`, { method: 'POST', headers, body }).then(async (res) => ({ status: res.status, body: (await res.json()) as { code: string; message: string } }));

  it('a client that is not on the access point is refused with NOT_ACCESS_POINT_CLIENT, and the camera is not triggered', async () => {
    const cameras = (await (await fetch(`${app.url}/api/cameras`)).json()) as Array<{ id: string; state: string }>;
    expect(cameras[0]).toMatchObject({ id: '083021007777', state: 'connected' });
    sim.requests.length = 0;
    for (const id of ['083021007777', 'no-such-camera', '../../etc']) {
      const res = await post(id);
      expect([res.status, res.body.code]).toEqual([403, 'NOT_ACCESS_POINT_CLIENT']);
      expect(res.body.message).toMatch(/^Refused: 127\.0\.0\.1 may not press a camera's shutter\. Only the Pi's own screen and phones on the Pi's Wi-Fi may$/);
    }
    // Not pressed, not even asked for its events.
    expect(sim.requests.filter((r) => /shutterbutton|event\/polling|contents/.test(r.path))).toEqual([]);
    expect(sim.shots).toEqual([]);
  });

  it('a body that is not JSON (what another site can send) is refused before anything else', async () => {
    const res = await post('083021007777', { 'content-type': 'text/plain' }, 'x');
    expect([res.status, res.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const foreign = await post('083021007777', { 'content-type': 'application/json', origin: 'http://evil.example' });
    expect([foreign.status, foreign.body.code]).toEqual([403, 'FOREIGN_ORIGIN']);
    expect(sim.shots).toEqual([]);
  });
});
