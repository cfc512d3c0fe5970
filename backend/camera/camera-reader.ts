/**
 * The camera as measuring and writing its clock need it: a small port (`CameraReader`), its CCAPI implementation,
 * and the parsing of what the camera says. Measuring and writing are tested with a fake reader.
 */
import { DomainError, ErrorCode } from '../common/domain-error';
import { CameraInfo } from '../protocol/messages';
import { CameraDateTime, parseCameraDateTime } from '../time/camera-datetime';
import { CcapiSession } from './ccapi-client';
import { ClockReading, Exchange } from './sync-timing';

/** One read of the camera's clock: the second it showed (`cameraMs`), what it said, and when the request left and its answer came (Pi wall ms). */
export type Reading = ClockReading & { datetime: string; dst: boolean };

export interface CameraReader {
  /** GET functions/datetime. */
  readClock(): Promise<Reading>;
  /**
   * PUT functions/datetime, the body built at the last moment (for the second it will arrive in). With
   * `resendAfterChallenge: false` a renewed Digest challenge is thrown, not answered (see CcapiRequestOptions).
   */
  writeClock(body: () => CameraDateTime, options?: { resendAfterChallenge?: boolean }): Promise<Exchange>;
  /** GET deviceinformation. */
  info(): Promise<CameraInfo>;
}

/** The reader over CCAPI: a client (requests queued) or an exclusive session of it (nothing else in between). */
export function ccapiReader(ccapi: Pick<CcapiSession, 'get' | 'put'>): CameraReader {
  return {
    async readClock() {
      const response = await ccapi.get('functions/datetime');
      const parsed = parseCameraDateTime(response.data);
      return { cameraMs: parsed.epochMs, datetime: parsed.datetime, dst: parsed.dst, sentAtMs: response.sentAtMs, receivedAtMs: response.receivedAtMs };
    },
    writeClock: (body, options) => ccapi.put('functions/datetime', { body, ...options }),
    async info() {
      const { data } = await ccapi.get('deviceinformation');
      return parseDeviceInformation(data);
    },
  };
}

/** CCAPI `deviceinformation`: the fields this product shows, those the camera gave as strings. Throws CAMERA_BAD_ANSWER. */
export function parseDeviceInformation(data: unknown): CameraInfo {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new DomainError(ErrorCode.CAMERA_BAD_ANSWER, "The camera's device information is not understood (not a JSON object)");
  }
  const fields = data as Record<string, unknown>;
  const text = (key: string) => (typeof fields[key] === 'string' ? (fields[key] as string) : undefined);
  const info: CameraInfo = {
    productName: text('productname'),
    serialNumber: text('serialnumber'),
    firmwareVersion: text('firmwareversion'),
    manufacturer: text('manufacturer'),
    guid: text('guid'),
  };
  for (const key of Object.keys(info) as Array<keyof CameraInfo>) if (info[key] === undefined) delete info[key];
  return info;
}
