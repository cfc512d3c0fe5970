import { mkdtempSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startApp, type StartedApp } from '../support/app';
import { ClientPool } from '../support/ws-client';

const tmp = () => mkdtempSync(join(tmpdir(), 'timesync-screen-'));
const SECRET = /^[A-Za-z0-9_-]{32,}$/;

/** The kiosk secret and the Pi's own screen, through the whole app (e2e). */
describe("The Pi's own screen (e2e)", () => {
  let app: StartedApp | null = null;
  const clients = new ClientPool();

  afterEach(async () => {
    await clients.closeAll();
    await app?.close();
    app = null;
  });

  const secretOf = (a: StartedApp, file = join(a.dataDir, 'kiosk-token')) => readFileSync(file, 'utf8').trim();

  it('writes a random secret at the first start, mode 0640, and keeps it across restarts', async () => {
    const dataDir = tmp();
    app = await startApp({ DATA_DIR: dataDir });
    const file = join(dataDir, 'kiosk-token');
    const first = secretOf(app);
    expect(first).toMatch(SECRET);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    await app.close();

    app = await startApp({ DATA_DIR: dataDir });
    expect(secretOf(app)).toBe(first);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    await app.close();

    // Another Pi (another data folder) has another secret.
    app = await startApp({ DATA_DIR: tmp() });
    expect(secretOf(app)).not.toBe(first);
  });

  it('puts a secret that others could read back to 0640, and replaces a damaged one', async () => {
    const dataDir = tmp();
    const file = join(dataDir, 'kiosk-token');
    writeFileSync(file, 'x'.repeat(43) + '\n');
    chmodSync(file, 0o644);
    app = await startApp({ DATA_DIR: dataDir });
    expect(secretOf(app)).toBe('x'.repeat(43));
    expect(statSync(file).mode & 0o777).toBe(0o640);
    await app.close();

    writeFileSync(file, 'short');
    app = await startApp({ DATA_DIR: dataDir });
    expect(secretOf(app)).toMatch(SECRET);
    expect(secretOf(app)).not.toBe('short');
  });

  it('keeps the secret where KIOSK_TOKEN_FILE says', async () => {
    const file = join(tmp(), 'screen', 'secret');
    app = await startApp({ KIOSK_TOKEN_FILE: file });
    expect(readFileSync(file, 'utf8').trim()).toMatch(SECRET);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('a page with the secret is the kiosk: it may set the time, but is never a time source, even on a trusted loopback', async () => {
    app = await startApp({ AP_SUBNETS: '127.0.0.1/32,::1/128', AUTO_SYNC: 'true' });
    const secret = secretOf(app);
    const kiosk = await clients.connect(`${app.wsUrl}?kiosk=${encodeURIComponent(secret)}`, { offsetMs: 3_600_000 });
    expect(await kiosk.waitFor((f) => f.type === 'hello')).toMatchObject({ screen: 'kiosk', maySetTime: true, trusted: false });
    const status = await kiosk.waitFor((f) => f.type === 'time-sync-status');
    expect(status.data).toMatchObject({ screen: 'kiosk', canSetTime: true, accessPointClients: 0 });
    // A phone on loopback is probed at once; the kiosk never is.
    const phone = await clients.connect(app.wsUrl);
    expect(await phone.waitFor((f) => f.type === 'hello')).toMatchObject({ screen: 'phone', maySetTime: true, trusted: true });
    await phone.waitFor((f) => f.type === 'time-sync-request');
    expect(kiosk.frames.some((f) => f.type === 'time-sync-request')).toBe(false);

    const set = await request(app.url)
      .post('/api/system/time')
      .set('x-kiosk-token', secret)
      .send({ timestamp: new Date(Date.now() + 7_200_000).toISOString() })
      .expect(200);
    expect(set.body.offsetMs).toBeGreaterThan(7_100_000);
    const log = (await request(app.url).get('/api/activity').expect(200)).body as Array<{ message: string }>;
    expect(log.map((e) => e.message).join('\n')).toContain("Time set by hand on the Pi's screen");
  });

  it.each([
    ['no secret', null],
    ['a wrong secret', 'A'.repeat(43)],
    ['an empty secret', ''],
  ])('a page with %s is not the kiosk: plain loopback may not set the time', async (_what, given) => {
    app = await startApp({ AP_SUBNETS: '10.42.0.0/24' });
    const query = given === null ? '' : `?kiosk=${encodeURIComponent(given)}`;
    const page = await clients.connect(`${app.wsUrl}${query}`);
    expect(await page.waitFor((f) => f.type === 'hello')).toMatchObject({ screen: 'other', maySetTime: false, trusted: false });
    expect((await page.waitFor((f) => f.type === 'time-sync-status')).data).toMatchObject({ screen: 'other', canSetTime: false });
    const refused = await page.expectError({ type: 'manual-time-sync', data: { timestamp: new Date().toISOString() } });
    expect(refused.code).toBe('NOT_ACCESS_POINT_CLIENT');
    const rest = request(app.url).post('/api/system/time');
    if (given !== null) rest.set('x-kiosk-token', given);
    const answer = await rest.send({ timestamp: new Date().toISOString() }).expect(403);
    expect(answer.body).toMatchObject({ code: 'NOT_ACCESS_POINT_CLIENT', message: expect.stringContaining("Only the Pi's own screen and phones on the Pi's Wi-Fi may") });
    expect((await request(app.url).post('/api/timesync/camera').set('x-kiosk-token', given ?? '').expect(403)).body.code).toBe('NOT_ACCESS_POINT_CLIENT');
    expect((await request(app.url).get('/api/timesync/status').expect(200)).body).toMatchObject({ screen: 'other', canSetTime: false });
  });

  it('tells how to connect: the Wi-Fi QR code (with the password) only for the kiosk and phones, the password as text only when asked', async () => {
    app = await startApp({ AP_SUBNETS: '10.42.0.0/24', AP_SSID: 'PiTimeSync', AP_PASSWORD: 'pw;1', AP_ADDRESS: '10.42.0.1' });
    const secret = secretOf(app);
    const kiosk = (await request(app.url).get('/api/screen/connect').set('x-kiosk-token', secret).expect(200)).body;
    expect(kiosk).toMatchObject({ ssid: 'PiTimeSync', password: null, pageUrl: `http://10.42.0.1:${app.port}/`, from: 'settings' });
    expect(kiosk.wifiQrSvg).toMatch(/^<svg[^>]*>.*<\/svg>\s*$/s);
    expect(kiosk.pageQrSvg).toMatch(/^<svg/);
    const outsider = (await request(app.url).get('/api/screen/connect').expect(200)).body;
    expect(outsider).toMatchObject({ ssid: 'PiTimeSync', password: null, wifiQrSvg: null });
    expect(outsider.pageQrSvg).toBe(kiosk.pageQrSvg);
    await app.close();

    app = await startApp({ AP_SUBNETS: '10.42.0.0/24', AP_SSID: 'PiTimeSync', AP_PASSWORD: 'pw;1', AP_ADDRESS: '10.42.0.1', AP_SHOW_PASSWORD: 'true' });
    expect((await request(app.url).get('/api/screen/connect').set('x-kiosk-token', secretOf(app)).expect(200)).body.password).toBe('pw;1');
    expect((await request(app.url).get('/api/screen/connect').expect(200)).body.password).toBeNull();
  });
});
