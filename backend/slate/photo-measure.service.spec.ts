import { AccessService } from '../access/access.service';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { CameraService } from '../camera/camera.service';
import { DomainError, ErrorCode } from '../common/domain-error';
import { AppConfig } from '../config/app.config';
import { CameraState } from '../protocol/vocabulary';
import { TimeSyncService } from '../time-sync/time-sync.service';
import { PhotoMeasureService } from './photo-measure.service';
import { SlateService } from './slate.service';

const CALLER = { address: '10.42.0.23', kioskToken: null };
const SHOT = { file: 'IMG_0001.JPG', path: '/ccapi/ver100/contents/sd/100CANON/IMG_0001.JPG', bytes: Buffer.from([0xff, 0xd8, 0xff, 0xd9]), added: ['/ccapi/ver100/contents/sd/100CANON/IMG_0001.JPG'], namedAfterMs: 480, polls: 3, downloads: 1 };

function setup(options: { allowed?: boolean; reliability?: string; state?: string } = {}) {
  const access = { authorize: jest.fn(() => {
    if (options.allowed === false) throw new DomainError(ErrorCode.NOT_ACCESS_POINT_CLIENT, "Refused: 10.42.0.23 may not press a camera's shutter");
  }) };
  const session = { id: '083021000123', state: options.state ?? CameraState.Connected, status: () => ({ lastError: null }) };
  const cameras = { get: jest.fn(() => session), takePhoto: jest.fn(async () => SHOT) };
  const slate = { readPhotos: jest.fn() };
  const timeSync = { piTrust: jest.fn(() => ({ source: 'client', reliability: options.reliability ?? 'high' })) };
  const activity = { add: jest.fn() };
  const sut = new PhotoMeasureService(
    Object.assign(new AppConfig(), { SLATE_MAX_PHOTO_BYTES: 1_048_576 }),
    access as unknown as AccessService,
    cameras as unknown as CameraService,
    slate as unknown as SlateService,
    timeSync as unknown as TimeSyncService,
    activity as unknown as ActivityLogService,
  );
  return { sut, access, cameras, slate, activity };
}

describe(PhotoMeasureService.name, () => {
  it('a caller who may not press the shutter is refused before any camera is looked up or touched', async () => {
    const { sut, cameras } = setup({ allowed: false });
    await expect(sut.measure(CALLER, '083021000123')).rejects.toMatchObject({ code: ErrorCode.NOT_ACCESS_POINT_CLIENT });
    await expect(sut.measure(CALLER, '../bad')).rejects.toMatchObject({ code: ErrorCode.NOT_ACCESS_POINT_CLIENT });
    expect(cameras.get).not.toHaveBeenCalled();
    expect(cameras.takePhoto).not.toHaveBeenCalled();
  });

  it.each([
    ['none', /the Pi's time is not set yet/],
    ['low', /last confirmed over an hour ago/],
  ])("reliability %s: the slate draws no code, so nothing is pressed (PI_TIME_UNRELIABLE)", async (reliability, why) => {
    const { sut, cameras } = setup({ reliability });
    await expect(sut.measure(CALLER, '083021000123')).rejects.toMatchObject({ code: ErrorCode.PI_TIME_UNRELIABLE, message: expect.stringMatching(why) });
    expect(cameras.takePhoto).not.toHaveBeenCalled();
  });

  it('a camera not connected: NO_CAMERA, nothing pressed', async () => {
    const { sut, cameras } = setup({ state: CameraState.Disconnected });
    await expect(sut.measure(CALLER, '083021000123')).rejects.toMatchObject({ code: ErrorCode.NO_CAMERA });
    expect(cameras.takePhoto).not.toHaveBeenCalled();
  });

  it("the camera's photo goes to the slate reader as an upload; the answer is its measurement", async () => {
    const { sut, cameras, slate } = setup();
    const photo = { file: 'IMG_0001.JPG', ok: true, offsetMs: 12.5, boundMs: 25 };
    const measurement = { cameraId: '083021000123', offsetMs: 12.5, boundMs: 25 };
    slate.readPhotos.mockResolvedValue({ results: [photo], cameras: [measurement] });
    const answer = await sut.measure(CALLER, '083021000123');
    expect(cameras.takePhoto).toHaveBeenCalledWith('083021000123', 1_048_576);
    const [caller, uploads] = slate.readPhotos.mock.calls[0];
    expect(caller).toBe(CALLER);
    expect(uploads.map((u: { name: string }) => u.name)).toEqual(['IMG_0001.JPG']);
    await expect(uploads[0].load()).resolves.toBe(SHOT.bytes);
    expect(answer).toEqual({ cameraId: '083021000123', file: 'IMG_0001.JPG', added: ['IMG_0001.JPG'], namedAfterMs: 480, measurement, photo });
  });

  it('a photo with no code: "the camera was not pointed at the slate", in the activity log too', async () => {
    const { sut, slate, activity } = setup();
    slate.readPhotos.mockResolvedValue({ results: [{ file: 'IMG_0001.JPG', ok: false, code: ErrorCode.NO_SLATE_CODE, message: 'no QR code could be read in the photo' }], cameras: [] });
    const error = await sut.measure(CALLER, '083021000123').catch((e: DomainError) => e);
    expect(error).toMatchObject({ code: ErrorCode.NO_SLATE_CODE, message: expect.stringMatching(/^The camera was not pointed at the slate: its photo IMG_0001\.JPG shows no readable slate code/) });
    expect(activity.add).toHaveBeenCalledWith('camera', expect.stringMatching(/^Measure by photo with camera 083021000123: not measured\. The camera was not pointed at the slate/), false, expect.objectContaining({ code: ErrorCode.NO_SLATE_CODE }));

    // Another refusal keeps the reader's words and code.
    slate.readPhotos.mockResolvedValue({ results: [{ file: 'IMG_0002.JPG', ok: false, code: ErrorCode.FOREIGN_SLATE, message: "the slate in the photo is another Pi's" }], cameras: [] });
    await expect(sut.measure(CALLER, '083021000123')).rejects.toMatchObject({ code: ErrorCode.FOREIGN_SLATE, message: "The camera's photo IMG_0001.JPG could not be read: the slate in the photo is another Pi's" });
  });
});
