import { ErrorCode } from '../common/domain-error';
import { CcapiRequestOptions, CcapiResponse } from './ccapi-client';
import { ccapiReader, parseDeviceInformation } from './camera-reader';

describe('parseDeviceInformation', () => {
  it('keeps the fields this product shows, those given as strings', () => {
    expect(parseDeviceInformation({ productname: 'Canon EOS R50', serialnumber: '083021000123', firmwareversion: '1.2.0', manufacturer: 'Canon Inc.', guid: 42, macaddress: 'x' })).toEqual({
      productName: 'Canon EOS R50',
      serialNumber: '083021000123',
      firmwareVersion: '1.2.0',
      manufacturer: 'Canon Inc.',
    });
  });

  it.each([['an array', []], ['null', null], ['text', 'Canon']])('refuses %s: CAMERA_BAD_ANSWER', (_what, data) => {
    expect(() => parseDeviceInformation(data)).toThrow(expect.objectContaining({ code: ErrorCode.CAMERA_BAD_ANSWER }));
  });
});

describe('ccapiReader', () => {
  const over = (ccapi: { get: jest.Mock; put: jest.Mock }) => ccapiReader(ccapi as unknown as Parameters<typeof ccapiReader>[0]);
  const answer = <T>(data: T, sentAtMs = 1000, receivedAtMs = 1020): CcapiResponse<T> => ({ status: 200, data, sentAtMs, receivedAtMs });

  it("reads the clock: the second shown as true UTC (DST taken off), what the camera said, and the exchange's times", async () => {
    const get = jest.fn(async () => answer({ datetime: 'Wed, 25 Nov 2026 19:12:00 +1000', dst: true }));
    const reading = await over({ get, put: jest.fn() }).readClock();
    expect(get).toHaveBeenCalledWith('functions/datetime');
    expect(reading).toEqual({ cameraMs: Date.UTC(2026, 10, 25, 8, 12, 0), datetime: 'Wed, 25 Nov 2026 19:12:00 +1000', dst: true, sentAtMs: 1000, receivedAtMs: 1020 });
  });

  it('writes the clock with the body built when the request leaves, and passes resendAfterChallenge on', async () => {
    const put = jest.fn(async (_name: string, options: CcapiRequestOptions) => answer(options.body?.()));
    const body = () => ({ datetime: 'Wed, 25 Nov 2026 08:12:01 +0000', dst: false });
    const reader = over({ get: jest.fn(), put });
    await expect(reader.writeClock(body, { resendAfterChallenge: false })).resolves.toMatchObject({ sentAtMs: 1000, receivedAtMs: 1020 });
    await reader.writeClock(body);
    expect(put.mock.calls).toEqual([
      ['functions/datetime', { body, resendAfterChallenge: false }],
      ['functions/datetime', { body }],
    ]);
  });

  it('reads the device information', async () => {
    const get = jest.fn(async () => answer({ productname: 'Canon EOS R6', serialnumber: '1' }));
    await expect(over({ get, put: jest.fn() }).info()).resolves.toEqual({ productName: 'Canon EOS R6', serialNumber: '1' });
    expect(get).toHaveBeenCalledWith('deviceinformation');
  });
});
