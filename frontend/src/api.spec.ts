import { ErrorCode } from '../../backend/protocol/vocabulary';
import { ActionError, createApi, describeError, PageErrorCode } from './api';

type Answer = { status: number; body: unknown } | Error;

/** A fetch that answers each expected call in turn and fails the test on any other. */
function strictFetch(...answers: Answer[]) {
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  const fetchImpl = jest.fn(async (url: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(url), init });
    const answer = answers.shift();
    if (!answer) throw new Error(`unexpected fetch of ${String(url)}`);
    if (answer instanceof Error) throw answer;
    const text = JSON.stringify(answer.body);
    return { ok: answer.status >= 200 && answer.status < 300, status: answer.status, statusText: '', text: async () => text, json: async () => answer.body } as Response;
  });
  return { fetchImpl: fetchImpl as unknown as typeof fetch, calls };
}

describe(createApi.name, () => {
  describe('syncCameras', () => {
    it('posts to /api/timesync/camera for every camera and reads one outcome per camera', async () => {
      const { fetchImpl, calls } = strictFetch({
        status: 200,
        body: [
          { cameraId: 'A1', success: true, offset: 2400, residualMs: 3, residualBoundMs: 1, newTime: '' },
          { cameraId: 'B2', success: false, code: ErrorCode.CAMERA_BUSY, error: 'Device busy' },
        ],
      });
      await expect(createApi(fetchImpl).syncCameras()).resolves.toEqual([
        { cameraId: 'A1', success: true, outcome: 'written-verified', offset: 2400, residualMs: 3, residualBoundMs: 1 },
        { cameraId: 'B2', success: false, outcome: 'failed', code: ErrorCode.CAMERA_BUSY, error: 'Device busy' },
      ]);
      expect(calls.map((c) => [c.url, c.init?.method])).toEqual([['/api/timesync/camera', 'POST']]);
    });

    it('names one camera with ?id= and reads its single result', async () => {
      const { fetchImpl, calls } = strictFetch({ status: 200, body: { success: true, offset: -300, residualMs: null } });
      await expect(createApi(fetchImpl).syncCameras('EOS R5/1')).resolves.toEqual([{ cameraId: 'EOS R5/1', success: true, outcome: 'written-verified', offset: -300, residualMs: null, residualBoundMs: null }]);
      expect(calls[0].url).toBe('/api/timesync/camera?id=EOS%20R5%2F1');
    });

    it.each([
      [207, ErrorCode.CAMERA_SYNC_PARTIAL, [{ cameraId: 'A1', success: true, offset: 2400, residualMs: 3 }, { cameraId: 'B2', success: false, code: ErrorCode.CAMERA_BUSY, error: 'Device busy' }]],
      [503, ErrorCode.CAMERA_BUSY, [{ cameraId: 'B2', success: false, code: ErrorCode.CAMERA_BUSY, error: 'Device busy' }]],
      [504, ErrorCode.CAMERA_TIMEOUT, [{ cameraId: 'A1', success: false, code: ErrorCode.CAMERA_TIMEOUT, error: 'no answer in 5 s' }, { cameraId: 'B2', success: false, code: ErrorCode.CAMERA_TIMEOUT, error: 'no answer in 5 s' }]],
    ])('reads the per-camera results of a %d answer (%s) like a 200\'s', async (status, code, results) => {
      const { fetchImpl } = strictFetch({ status, body: { statusCode: status, code, message: 'summary', results } });
      const read = await createApi(fetchImpl).syncCameras();
      expect(read).toMatchObject(results);
      expect(read.map((o) => o.outcome)).toEqual(results.map((o) => (o.success ? 'written-verified' : 'failed')));
    });

    it("carries each camera's outcome, and works it out from `written` / `verified` for a server from before outcomes", async () => {
      const { fetchImpl } = strictFetch({
        status: 200,
        body: [
          { cameraId: 'K', success: true, outcome: 'measured-kept', written: false, verified: true, offset: 16, residualMs: -16, residualBoundMs: 5, thresholdMs: 100 },
          { cameraId: 'OLD-KEPT', success: true, written: false, verified: true, offset: 16, residualMs: -16, residualBoundMs: 5, thresholdMs: 100 },
          { cameraId: 'OLD-UNVERIFIED', success: true, written: true, verified: false, offset: 2400, residualMs: null, residualBoundMs: null },
          { cameraId: 'BOGUS', success: true, outcome: 'set-probably', written: true, verified: true, offset: 2400, residualMs: 3, residualBoundMs: 2 },
        ],
      });
      const read = await createApi(fetchImpl).syncCameras();
      expect(read.map((o) => [o.cameraId, o.outcome])).toEqual([
        ['K', 'measured-kept'],
        ['OLD-KEPT', 'measured-kept'],
        ['OLD-UNVERIFIED', 'written-unverified'],
        ['BOGUS', 'written-verified'],
      ]);
      expect(read[0]).toMatchObject({ thresholdMs: 100, written: false, residualMs: -16, residualBoundMs: 5 });
    });

    it("turns the Pi's error body into a coded ActionError", async () => {
      const { fetchImpl } = strictFetch({ status: 409, body: { statusCode: 409, code: ErrorCode.NO_CAMERA, message: 'no camera connected' } });
      const error = await createApi(fetchImpl).syncCameras().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ActionError);
      expect(error).toMatchObject({ code: ErrorCode.NO_CAMERA, status: 409, message: 'no camera connected' });
      expect(describeError(error)).toBe('No camera connected');
    });

    it('says when the Pi cannot be reached', async () => {
      const { fetchImpl } = strictFetch(new TypeError('Failed to fetch'));
      const error = await createApi(fetchImpl).syncCameras().catch((e: unknown) => e);
      expect(error).toMatchObject({ code: PageErrorCode.Network });
      expect(describeError(error)).toBe('Could not reach the Pi (Failed to fetch). Check the connection and try again');
    });
  });

  it('sets the time with POST /api/system/time', async () => {
    const { fetchImpl, calls } = strictFetch({ status: 200, body: { offsetMs: 5, newTime: '' } });
    await createApi(fetchImpl).setPiTime('2026-11-25T08:00:00.000Z', 'UTC');
    expect(calls[0].url).toBe('/api/system/time');
    expect(JSON.parse(String(calls[0].init?.body))).toEqual({ timestamp: '2026-11-25T08:00:00.000Z', timezone: 'UTC' });
  });

  it('describes refusals through the protocol codes', () => {
    expect(describeError(new ActionError(ErrorCode.NOT_ACCESS_POINT_CLIENT, 'client 192.168.1.9 is not on the access point', 403))).toBe(
      "Only the Pi's own screen and phones on the Pi's Wi-Fi can set the time",
    );
    expect(describeError(new ActionError(ErrorCode.NTP_SYNCHRONIZED, 'ntp'))).toBe('The Pi already has network time (NTP), so its clock is left alone');
    expect(describeError(new Error('boom'))).toBe('Something went wrong: boom');
  });

  it("presents the kiosk secret on every request of the Pi's own screen, and on none elsewhere", async () => {
    const kiosk = strictFetch({ status: 200, body: { offsetMs: 5, newTime: '' } });
    await createApi(kiosk.fetchImpl, 30_000, 's3cret').setPiTime('2026-11-25T08:00:00.000Z', 'UTC');
    expect((kiosk.calls[0].init?.headers as Record<string, string>)['x-kiosk-token']).toBe('s3cret');
    const phone = strictFetch({ status: 200, body: { ssid: 'Pi', password: null, pageUrl: 'http://10.42.0.1/', wifiQrSvg: null, pageQrSvg: '<svg/>', from: 'settings' } });
    expect(await createApi(phone.fetchImpl).connectInfo()).toMatchObject({ ssid: 'Pi', pageUrl: 'http://10.42.0.1/' });
    expect(phone.calls[0].url).toBe('/api/screen/connect');
    expect((phone.calls[0].init?.headers as Record<string, string>)['x-kiosk-token']).toBeUndefined();
  });
});

describe('capture sessions', () => {
  it('starts with confirm only when asked, stops, and reads a report and the list with GETs', async () => {
    const report = { id: 's-20261125-070000-3f9a2c', state: 'stopped' };
    const { fetchImpl, calls } = strictFetch(
      { status: 200, body: { id: 's-20261125-070000-3f9a2c', startedAt: '2026-11-25T07:00:00.000Z', label: null, cameras: [] } },
      { status: 200, body: { id: 's-20261125-070000-3f9a2c', startedAt: '2026-11-25T07:00:00.000Z', label: null, cameras: [] } },
      { status: 200, body: report },
      { status: 200, body: report },
      { status: 200, body: { session: null, sessions: [] } },
    );
    const api = createApi(fetchImpl, 30_000, 'kiosk-secret');
    await api.startSession();
    await api.startSession(true);
    await expect(api.stopSession()).resolves.toEqual(report);
    await expect(api.sessionReport('s-20261125-070000-3f9a2c')).resolves.toEqual(report);
    await expect(api.listSessions()).resolves.toEqual({ session: null, sessions: [] });
    expect(calls.map((c) => [c.url, c.init?.method ?? 'GET', c.init?.body ?? null])).toEqual([
      ['/api/session/start', 'POST', '{}'],
      ['/api/session/start', 'POST', '{"confirm":true}'],
      ['/api/session/stop', 'POST', '{}'],
      ['/api/session/s-20261125-070000-3f9a2c/report', 'GET', null],
      ['/api/session', 'GET', null],
    ]);
    // The Pi's own screen presents its secret on reads too.
    expect(calls.every((c) => (c.init?.headers as Record<string, string>)['x-kiosk-token'] === 'kiosk-secret')).toBe(true);
  });

  it('turns a refusal into a coded ActionError (PI_TIME_UNRELIABLE: the page offers to confirm)', async () => {
    const { fetchImpl } = strictFetch({ status: 409, body: { statusCode: 409, code: ErrorCode.PI_TIME_UNRELIABLE, message: "Capture session not started: the Pi's own time is not reliable" } });
    const refused = await createApi(fetchImpl).startSession().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ActionError);
    expect(refused).toMatchObject({ code: ErrorCode.PI_TIME_UNRELIABLE, status: 409 });
  });
});
