import { HttpService } from '@nestjs/axios';
import { Readable } from 'node:stream';
import { ErrorCode } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { ManualClock } from '../time/clock';
import { CameraHttp } from './camera-http';
import { CcapiClient, normaliseCameraUrl } from './ccapi-client';

type Request = { method: string; url: string; httpsAgent?: { options: { rejectUnauthorized?: boolean } }; proxy?: unknown };

/** An HttpService whose axios answers from a script; any request beyond the script fails the test. */
function fakeHttp(script: Array<(req: Request) => Promise<{ status: number; body: string }>>) {
  const requests: Request[] = [];
  const http = {
    axiosRef: {
      request: jest.fn(async (req: Request) => {
        requests.push(req);
        const next = script.shift();
        if (!next) throw new Error(`unexpected request ${req.method} ${req.url}`);
        const { status, body } = await next(req);
        return { status, headers: {}, data: Readable.from([Buffer.from(body)]) };
      }),
    },
  };
  return { http: CameraHttp.of(http as unknown as HttpService), requests };
}

const json = (body: unknown, status = 200) => async () => ({ status, body: JSON.stringify(body) });
const config = (o: Partial<AppConfig> = {}) => Object.assign(new AppConfig(), { CAMERA_TIMEOUT: 1000 }, o);

describe(CcapiClient.name, () => {
  describe(normaliseCameraUrl.name, () => {
    it.each([
      ['http://192.168.4.2:8080', 'http://192.168.4.2:8080'],
      ['http://192.168.4.2:8080/', 'http://192.168.4.2:8080'],
      ['http://192.168.4.2:8080/ccapi', 'http://192.168.4.2:8080'],
      ['https://192.168.4.2:443/ccapi/', 'https://192.168.4.2'],
      ['https://cam.local/prefix/ccapi', 'https://cam.local/prefix'],
      ['  http://[fe80::1]:8080/ccapi ', 'http://[fe80::1]:8080'],
    ])('%s -> %s', (input, root) => {
      expect(normaliseCameraUrl(input)).toBe(root);
    });

    it.each(['ftp://camera', 'camera:8080', ''])('refuses %j', (input) => {
      expect(() => normaliseCameraUrl(input)).toThrow(expect.objectContaining({ code: ErrorCode.BAD_REQUEST }));
    });
  });

  it('reads the endpoint list: absolute URLs mapped onto our connection, ver100 preferred, newer versions as fallback', async () => {
    const { http } = fakeHttp([
      json({
        ver110: [{ path: '/ccapi/ver110/functions/datetime', get: true, put: true }, { path: '/ccapi/ver110/devicestatus/storage', get: true }],
        ver100: [{ path: 'http://192.168.4.2:8080/ccapi/ver100/functions/datetime', get: true, put: true, post: false, delete: false }, { nonsense: 1 }],
      }),
    ]);
    const sut = new CcapiClient(http, config(), new ManualClock());
    sut.use('https://192.168.4.2/ccapi');
    await sut.loadEndpoints();
    expect(sut.endpoint('functions/datetime')).toEqual({ url: 'https://192.168.4.2/ccapi/ver100/functions/datetime', get: true, put: true, post: false, delete: false });
    expect(sut.endpoint('devicestatus/storage' as never)?.url).toBe('https://192.168.4.2/ccapi/ver110/devicestatus/storage');
    expect(sut.endpoint('deviceinformation')).toBeNull();
    sut.close();
  });

  it('uses agents of its own, certificate checks off only there, and never a proxy', async () => {
    const { http, requests } = fakeHttp([json({})]);
    const sut = new CcapiClient(http, config(), new ManualClock());
    sut.use('https://192.168.4.2');
    await sut.get('functions/datetime');
    expect(requests[0].httpsAgent?.options.rejectUnauthorized).toBe(false);
    expect(requests[0].proxy).toBe(false);
    expect(requests[0].url).toBe('https://192.168.4.2/ccapi/ver100/functions/datetime');
    sut.close();
  });

  it('sends one request at a time', async () => {
    let release!: () => void;
    const { http, requests } = fakeHttp([() => new Promise((resolve) => (release = () => resolve({ status: 200, body: '{}' }))), json({})]);
    const sut = new CcapiClient(http, config(), new ManualClock());
    sut.use('http://cam');
    const first = sut.get('functions/datetime');
    const second = sut.get('deviceinformation');
    await new Promise((resolve) => setImmediate(resolve));
    expect(requests).toHaveLength(1);
    release();
    await Promise.all([first, second]);
    expect(requests).toHaveLength(2);
    sut.close();
  });

  it.each([
    ['ECONNREFUSED', ErrorCode.CAMERA_UNREACHABLE, 'refused the connection'],
    ['EHOSTUNREACH', ErrorCode.CAMERA_UNREACHABLE, 'cannot be reached (EHOSTUNREACH)'],
    ['ENETUNREACH', ErrorCode.CAMERA_UNREACHABLE, 'cannot be reached'],
    ['ECONNRESET', ErrorCode.CAMERA_CONNECTION_RESET, 'closed the connection'],
    ['ETIMEDOUT', ErrorCode.CAMERA_TIMEOUT, 'did not answer'],
  ])('maps %s to %s in plain words', async (code, domainCode, words) => {
    const { http } = fakeHttp([async () => Promise.reject(Object.assign(new Error('boom'), { code }))]);
    const sut = new CcapiClient(http, config(), new ManualClock());
    sut.use('http://192.168.4.2:8080');
    await expect(sut.get('functions/datetime')).rejects.toMatchObject({ code: domainCode, message: expect.stringContaining(words) });
    sut.close();
  });

  it('says NO_CAMERA before it knows where the camera is', async () => {
    const { http } = fakeHttp([]);
    const sut = new CcapiClient(http, config(), new ManualClock());
    await expect(sut.get('functions/datetime')).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA });
  });
});

describe(`${CcapiClient.name}: doors`, () => {
  it('stays at the host it was first pointed at: another port of it is fine, another host is refused', () => {
    const sut = new CcapiClient(fakeHttp([]).http, config(), new ManualClock(0));
    sut.use('http://10.42.0.5:8080');
    sut.use('https://10.42.0.5:443');
    expect(sut.baseUrl).toBe('https://10.42.0.5');
    expect(() => sut.use('http://127.0.0.1:8080')).toThrow(expect.objectContaining({ code: ErrorCode.BAD_REQUEST }));
    expect(sut.baseUrl).toBe('https://10.42.0.5');
  });

  it('follows no redirect (maxRedirects 0) and says so, without the redirect target or body', async () => {
    const { http, requests } = fakeHttp([async () => ({ status: 302, body: '<a href="http://127.0.0.1:22/">moved</a>' })]);
    const sut = new CcapiClient(http, config(), new ManualClock(0));
    sut.use('http://10.42.0.5:8080');
    const error = await sut.get('deviceinformation').catch((e: unknown) => e as { code: string; message: string });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ maxRedirects: 0 });
    expect(error).toMatchObject({ code: ErrorCode.CAMERA_BAD_ANSWER, message: 'The camera answered GET deviceinformation with an error (HTTP 302, a redirect, not followed)' });
  });

  it.each([
    ['a 200 that is not JSON', 200, 'SSH-2.0-OpenSSH_9.2p1 Debian-2 secret-banner'],
    ['a 500 page', 500, '<html>admin console of 127.0.0.1: token=abc</html>'],
    ['a 404 with a long JSON message', 404, JSON.stringify({ message: 'x'.repeat(200) })],
    ['a 400 with a message holding a newline', 400, JSON.stringify({ message: 'Invalid\nforged log line' })],
  ])('does not echo the body of %s in its error', async (_what, status, body) => {
    const { http } = fakeHttp([async () => ({ status, body })]);
    const sut = new CcapiClient(http, config(), new ManualClock(0));
    sut.use('http://10.42.0.5:8080');
    const error = (await sut.get('deviceinformation').catch((e: unknown) => e)) as { message: string; details: Record<string, unknown> };
    const said = JSON.stringify({ message: error.message, details: error.details });
    for (const piece of ['SSH-2.0', 'token=abc', 'xxxxxxxxxx', 'forged']) expect(said).not.toContain(piece);
  });

  it("repeats CCAPI's own short message (the camera says why it is busy)", async () => {
    const { http } = fakeHttp([json({ message: 'Device busy' }, 503)]);
    const sut = new CcapiClient(http, config(), new ManualClock(0));
    sut.use('http://10.42.0.5:8080');
    await expect(sut.get('functions/datetime')).rejects.toMatchObject({ code: ErrorCode.CAMERA_BUSY, message: 'Camera is busy: Device busy' });
  });

  describe('files of the card', () => {
    const path = '/ccapi/ver110/contents/card1/100CANON/IMG_0001.JPG';
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x80, 0x7f, 0xff, 0xd9]);

    it('downloads the bytes as they are (not JSON), ?kind=original, on the pinned host, larger than any answer', async () => {
      const big = Buffer.concat([jpeg, Buffer.alloc(200 * 1024)]);
      const { http, requests } = fakeHttp([async () => ({ status: 200, body: big as unknown as string })]);
      const sut = new CcapiClient(http, config(), new ManualClock(0));
      sut.use('https://10.42.0.5:443');
      const file = await sut.download(path, { maxBytes: 1_048_576, timeoutMs: 10_000 });
      expect(file.bytes.equals(big)).toBe(true);
      expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([`GET https://10.42.0.5${path}?kind=original`]);
    });

    it('refuses a file over maxBytes, and a path that is not of the card before any request', async () => {
      const { http, requests } = fakeHttp([async () => ({ status: 200, body: Buffer.alloc(4096) as unknown as string })]);
      const sut = new CcapiClient(http, config(), new ManualClock(0));
      sut.use('http://10.42.0.5:8080');
      await expect(sut.download(path, { maxBytes: 1024, timeoutMs: 1000 })).rejects.toMatchObject({ code: ErrorCode.CAMERA_BAD_ANSWER, details: { tooLarge: true } });
      for (const bad of ['/ccapi/ver110/contents/../functions/datetime', 'http://elsewhere/ccapi/ver110/contents/x.JPG', '/ccapi/ver110/functions/datetime', `${path}?kind=thumbnail`]) {
        await expect(sut.download(bad, { maxBytes: 1024, timeoutMs: 1000 })).rejects.toMatchObject({ code: ErrorCode.CAMERA_BAD_ANSWER });
      }
      expect(requests).toHaveLength(1);
    });

    it("a download the camera refuses is the camera's coded error, its short message repeated", async () => {
      const { http } = fakeHttp([json({ message: 'Device busy' }, 503), json({ message: 'Not found' }, 404)]);
      const sut = new CcapiClient(http, config(), new ManualClock(0));
      sut.use('http://10.42.0.5:8080');
      await expect(sut.download(path, { maxBytes: 1024, timeoutMs: 1000 })).rejects.toMatchObject({ code: ErrorCode.CAMERA_BUSY, details: { cameraMessage: 'Device busy' } });
      await expect(sut.download(path, { maxBytes: 1024, timeoutMs: 1000 })).rejects.toMatchObject({ code: ErrorCode.CAMERA_REJECTED, message: 'The camera rejected GET IMG_0001.JPG: HTTP 404, Not found' });
    });
  });
});
