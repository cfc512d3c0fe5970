import axios from 'axios';
import * as https from 'node:https';
import * as net from 'node:net';
import { CcapiClient, MAX_ANSWER_BYTES } from '../../backend/camera/ccapi-client';
import { ErrorCode } from '../../backend/common/domain-error';
import { BUSY_MESSAGES, CameraSim, startCameraSim } from '../camera-sim/sim';
import { cameraConfig, newClient, rejectionOf } from './camera-harness';

jest.setTimeout(20_000);

describe.each(['http', 'https'] as const)(`${CcapiClient.name} against the camera simulator over %s`, (proto) => {
  let sim: CameraSim;
  let sut: CcapiClient;

  const connect = async (overrides = {}) => {
    sut?.close();
    const url = proto === 'http' ? sim.httpUrl : sim.httpsUrl!;
    sut = newClient(cameraConfig({ CAMERA_URL: url, CAMERA_TIMEOUT: 800, ...overrides }));
    sut.use(url);
    await sut.loadEndpoints();
  };

  beforeAll(async () => {
    sim = await startCameraSim();
  });
  beforeEach(async () => {
    sim.setFault(null);
    sim.setAuth(null);
    sim.setLatency(null);
    await connect();
  });
  afterEach(() => sut.close());
  afterAll(() => sim.close());

  it('reads the endpoint list, absolute and relative paths alike, on the connection it chose', async () => {
    const base = proto === 'http' ? sim.httpUrl : sim.httpsUrl;
    expect(sut.endpoint('functions/datetime')).toEqual({ url: `${base}/ccapi/ver100/functions/datetime`, get: true, put: true, post: false, delete: false });
    expect(sut.endpoint('deviceinformation')?.url).toBe(`${base}/ccapi/ver100/deviceinformation`);
    expect(sut.endpoint('devicestatus/battery')?.url).toBe(`${base}/ccapi/ver100/devicestatus/battery`);
  });

  it.each(['', '/', '/ccapi', '/ccapi/'])('accepts the camera URL with "%s" after the port', async (suffix) => {
    const url = (proto === 'http' ? sim.httpUrl : sim.httpsUrl!) + suffix;
    sut.use(url);
    await sut.loadEndpoints();
    expect((await sut.get('functions/datetime')).data).toEqual(sim.clock.read());
  });

  it('reads the camera clock and device information as JSON, with the time of the exchange', async () => {
    const response = await sut.get<{ datetime: string; dst: boolean }>('functions/datetime');
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ datetime: expect.stringMatching(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$/), dst: false });
    expect(response.receivedAtMs).toBeGreaterThanOrEqual(response.sentAtMs);
    expect((await sut.get('deviceinformation')).data).toMatchObject({ productname: 'Canon EOS R50', serialnumber: '083021000123' });
  });

  it('sends one request at a time over one kept-alive connection', async () => {
    sim.setLatency(10);
    const connectionsBefore = sim.stats.connections;
    sim.stats.maxInFlight = 0;
    await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? sut.get('deviceinformation') : sut.get('functions/datetime'))));
    expect(sim.stats.maxInFlight).toBe(1);
    expect(sim.stats.connections - connectionsBefore).toBe(0);
  });

  it.each(BUSY_MESSAGES)('turns 503 "%s" into CAMERA_BUSY with the camera\'s words', async (message) => {
    sim.setFault({ kind: 'status', status: 503, message });
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_BUSY, message: `Camera is busy: ${message}` });
  });

  it('turns 400 into CAMERA_REJECTED with the camera\'s message', async () => {
    sim.setFault({ kind: 'status', status: 400, message: 'Invalid parameter' });
    const error = await rejectionOf(sut.put('functions/datetime', { body: () => ({ datetime: 'x', dst: false }) }));
    expect(error.code).toBe(ErrorCode.CAMERA_REJECTED);
    expect(error.message).toContain('Invalid parameter');
  });

  it('turns the real camera\'s 400 for a bad time into CAMERA_REJECTED', async () => {
    const error = await rejectionOf(sut.put('functions/datetime', { body: () => ({ datetime: 'Wed, 25 Nov 2026 19:12:00 GMT', dst: false }) }));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_REJECTED, message: expect.stringContaining('Invalid parameter') });
  });

  it('turns an occasional 502 into CAMERA_BAD_ANSWER that says so', async () => {
    sim.setFault({ kind: 'status', status: 502, body: '' });
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_BAD_ANSWER, message: expect.stringContaining('HTTP 502') });
  });

  it('waits for a slow answer shorter than the timeout', async () => {
    sim.setFault({ kind: 'delay', ms: 300 });
    await expect(sut.get('functions/datetime')).resolves.toMatchObject({ status: 200 });
  });

  it.each([
    ['a slow answer', { kind: 'delay', ms: 2000 }],
    ['a camera that never answers', { kind: 'hang' }],
  ] as const)('turns %s into CAMERA_TIMEOUT', async (_what, fault) => {
    sim.setFault(fault);
    const started = Date.now();
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_TIMEOUT, message: expect.stringContaining('did not answer') });
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('turns a connection reset into CAMERA_CONNECTION_RESET', async () => {
    sim.setFault({ kind: 'reset' });
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_CONNECTION_RESET, message: expect.stringContaining('closed the connection') });
    sim.setFault(null);
    await expect(sut.get('functions/datetime')).resolves.toMatchObject({ status: 200 });
  });

  it('turns a body that is not JSON into CAMERA_BAD_ANSWER, without repeating it (whatever answers must not reach the status)', async () => {
    sim.setFault({ kind: 'garbage', body: '<html><body>Internal error 0x2F</body></html>' });
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_BAD_ANSWER, message: expect.stringContaining('is not JSON') });
    expect(error.message).not.toContain('Internal error');
  });

  it(`refuses an answer over ${MAX_ANSWER_BYTES / 1024} KiB as CAMERA_BAD_ANSWER, without repeating it`, async () => {
    sim.setFault({ kind: 'huge', bytes: 5 * 1024 * 1024 });
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_BAD_ANSWER, message: expect.stringContaining('larger than 64 KiB') });
    expect(error.message).not.toContain('xxx');
    sim.setFault(null);
    await expect(sut.get('functions/datetime')).resolves.toMatchObject({ status: 200 });
  });

  it('says CAMERA_AUTH_REQUIRED when the camera wants a password and none is configured', async () => {
    sim.setAuth({ user: 'operator', password: 'secret' });
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_AUTH_REQUIRED, message: expect.stringContaining('CAMERA_USER') });
  });

  it.each([[['SHA-256', 'MD5']], [['MD5']], [['SHA-256']], [['MD5', 'SHA-256']]] as const)('authenticates with Digest %j', async (algorithms) => {
    sim.setAuth({ user: 'operator', password: 'secret', algorithms: [...algorithms] });
    await connect({ CAMERA_USER: 'operator', CAMERA_PASSWORD: 'secret' });
    const before = sim.requests.length;
    await sut.get('functions/datetime');
    await sut.put('functions/datetime', { body: () => sim.clock.read() });
    // The challenge is kept: no extra 401 round trip per request.
    expect(sim.requests.slice(before).map((r) => r.status)).toEqual([200, 200]);
  });

  it('answers a fresh challenge when the camera forgets its nonces', async () => {
    sim.setAuth({ user: 'operator', password: 'secret' });
    await connect({ CAMERA_USER: 'operator', CAMERA_PASSWORD: 'secret' });
    sim.expireNonces();
    await expect(sut.get('functions/datetime')).resolves.toMatchObject({ status: 200 });
  });

  it('says CAMERA_AUTH_REQUIRED for a wrong password, after one try', async () => {
    sim.setAuth({ user: 'operator', password: 'secret' });
    sut.close();
    sut = newClient(cameraConfig({ CAMERA_USER: 'operator', CAMERA_PASSWORD: 'wrong' }));
    sut.use(sim.httpUrl);
    const before = sim.requests.length;
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_AUTH_REQUIRED, message: expect.stringContaining('refused the user name and password') });
    expect(sim.requests.length - before).toBe(2);
  });
});

describe(`${CcapiClient.name} when nothing answers`, () => {
  it('turns a refused connection into CAMERA_UNREACHABLE', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const sut = newClient(cameraConfig());
    sut.use(`http://127.0.0.1:${port}`);
    const error = await rejectionOf(sut.get('functions/datetime'));
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_UNREACHABLE, message: expect.stringContaining('refused the connection') });
    sut.close();
  });
});

describe('certificate checks (pitfall 15)', () => {
  let sim: CameraSim;
  beforeAll(async () => {
    sim = await startCameraSim({ httpsPort: 0 });
  });
  afterAll(() => sim.close());

  it('are skipped for the camera only: other https requests of the same process still verify', async () => {
    const sut = newClient(cameraConfig());
    sut.use(sim.httpsUrl!);
    await expect(sut.get('functions/datetime')).resolves.toMatchObject({ status: 200 });
    sut.close();

    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
    const viaNode = await new Promise<string>((resolve) => {
      https.get(`${sim.httpsUrl}/ccapi`, (res) => resolve(`answered ${res.statusCode}`)).on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    expect(viaNode).toMatch(/SELF_SIGNED|CERT/);
    const viaAxios = await axios.get(`${sim.httpsUrl}/ccapi`, { proxy: false }).then(
      () => 'answered',
      (e: { code?: string }) => e.code,
    );
    expect(viaAxios).toMatch(/SELF_SIGNED|CERT/);
  });
});
