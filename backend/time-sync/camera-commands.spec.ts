import { Logger } from '@nestjs/common';
import type { AccessService } from '../access/access.service';
import { ActivityLogService } from '../activity-log/activity-log.service';
import { EventBus } from '../common/event-bus';
import { RefusalLog } from '../access/refusal-log';
import { CameraStatus, Reliability } from '../protocol/messages';
import type { Caller } from '../access/caller';
import { HostClock } from '../time/clock';
import { rejection } from '../../test/support/domain-errors';
import { CameraCommands, cameraSyncAnswer } from './camera-commands';
import { CameraClockPort, CameraSyncOutcome } from '../camera/camera-port';
import { mayWriteCamera } from './camera-write-policy';
import { TimeSyncService } from './time-sync.service';

const PHONE: Caller = { address: '10.42.0.2', kioskToken: null };
const LAN: Caller = { address: '192.168.1.5', kioskToken: null };
const CONNECTED: CameraStatus = { id: 'cam1', state: 'connected', connected: true, baseUrl: 'http://cam', info: null, lastSync: null, lastError: null };

describe(CameraCommands.name, () => {
  let reliability: Reliability;
  let trusted: boolean;
  let activity: ActivityLogService;
  let cameras: { statuses: jest.Mock; syncAll: jest.Mock; syncOne: jest.Mock };
  let sut: CameraCommands;

  beforeEach(() => {
    Logger.overrideLogger(false);
    reliability = 'high';
    trusted = true;
    const clock = new HostClock();
    activity = new ActivityLogService(clock, new EventBus());
    const refusals = new RefusalLog(clock, activity);
    const access = {
      authorize: (caller: Caller, action: string) => {
        expect(action).toBe('write-cameras');
        if (!trusted) throw refusals.refuse(caller.address, 'NOT_ACCESS_POINT_CLIENT', `${caller.address} is not on the access point`);
        return 'phone';
      },
    } as unknown as AccessService;
    const timeSync = {
      reliability: () => reliability,
      checkCameraWrite: (confirmed: boolean, several: boolean) => mayWriteCamera({ reliability, source: 'client', confirmed, several }),
      steady: async () => undefined,
    } as unknown as TimeSyncService;
    cameras = { statuses: jest.fn().mockReturnValue([CONNECTED]), syncAll: jest.fn().mockResolvedValue([]), syncOne: jest.fn().mockResolvedValue({}) };
    sut = new CameraCommands(timeSync, cameras as unknown as CameraClockPort, access, refusals);
  });

  it('writes every camera, or one, with authority and a reliable Pi', async () => {
    await sut.sync(PHONE, undefined, 'asked');
    await sut.sync(PHONE, 'cam1', 'asked');
    expect(cameras.syncAll).toHaveBeenCalledWith('asked');
    expect(cameras.syncOne).toHaveBeenCalledWith('cam1', 'asked');
  });

  it('refuses a client without authority before anything else, whatever it confirms', async () => {
    trusted = false;
    reliability = 'none';
    expect((await rejection(sut.sync(LAN, undefined, 'asked', true))).code).toBe('NOT_ACCESS_POINT_CLIENT');
    expect(cameras.syncAll).not.toHaveBeenCalled();
  });

  it("refuses while the Pi's reliability is none, one activity line however often it is asked, unless confirmed", async () => {
    reliability = 'none';
    for (let i = 0; i < 5; i++) {
      const error = await rejection(sut.sync(PHONE, i % 2 ? 'cam1' : undefined, 'asked'));
      expect(error.code).toBe('PI_TIME_UNRELIABLE');
      expect(error.message).toMatch(/not reliable.*confirm/);
    }
    expect(cameras.syncAll).not.toHaveBeenCalled();
    expect(cameras.syncOne).not.toHaveBeenCalled();
    expect(activity.entries().filter((e) => e.details.error === 'PI_TIME_UNRELIABLE')).toHaveLength(1);
    await sut.sync(PHONE, undefined, 'asked', true);
    expect(cameras.syncAll).toHaveBeenCalledTimes(1);
  });

  it.each(['low', 'medium', 'high'] as const)('writes at reliability %s without asking', async (level) => {
    reliability = level;
    await sut.sync(PHONE, undefined, 'asked');
    expect(cameras.syncAll).toHaveBeenCalled();
  });

  it('says "no camera" and "not a camera id" before judging the Pi', async () => {
    reliability = 'none';
    cameras.statuses.mockReturnValue([]);
    expect((await rejection(sut.sync(PHONE, undefined, 'asked'))).code).toBe('NO_CAMERA');
    expect((await rejection(sut.sync(PHONE, '../etc', 'asked'))).code).toBe('INVALID_CAMERA_ID');
  });

  it("leaves a camera that would not be written (unknown, locked) to the Camera module's own answer", async () => {
    reliability = 'none';
    cameras.statuses.mockReturnValue([CONNECTED, { ...CONNECTED, id: 'locked', state: 'needs-credentials', connected: false }]);
    cameras.syncOne.mockRejectedValue(Object.assign(new Error('refuses the user name and password'), { code: 'CAMERA_AUTH_REQUIRED' }));
    await expect(sut.sync(PHONE, 'locked', 'asked')).rejects.toMatchObject({ code: 'CAMERA_AUTH_REQUIRED' });
    await expect(sut.sync(PHONE, 'nobody', 'asked')).rejects.toMatchObject({ code: 'CAMERA_AUTH_REQUIRED' });
    expect((await rejection(sut.sync(PHONE, 'cam1', 'asked'))).code).toBe('PI_TIME_UNRELIABLE');
  });
});

describe(cameraSyncAnswer.name, () => {
  const ok = { cameraId: 'A', success: true as const, offset: 10, residualMs: 1 };
  const busy = (id: string) => ({ cameraId: id, success: false as const, code: 'CAMERA_BUSY', error: 'Camera is busy: Device busy' });
  const refused = (id: string) => ({ cameraId: id, success: false as const, code: 'CAMERA_REJECTED', error: 'the camera refused the value' });
  const timeout = (id: string) => ({ cameraId: id, success: false as const, code: 'CAMERA_TIMEOUT', error: 'no answer in 5 s' });
  const gone = (id: string) => ({ cameraId: id, success: false as const, code: 'NO_CAMERA', error: 'camera B is not connected' });

  it.each<[string, CameraSyncOutcome[], number, string | null]>([
    ['every camera set', [ok], 200, null],
    ['one busy of two', [ok, busy('B')], 207, 'CAMERA_SYNC_PARTIAL'],
    ['the only camera busy', [busy('B')], 503, 'CAMERA_BUSY'],
    ['the only camera refused the value', [refused('B')], 502, 'CAMERA_REJECTED'],
    ['no camera answered', [timeout('A'), timeout('B')], 504, 'CAMERA_TIMEOUT'],
    ['the camera left', [gone('B')], 409, 'NO_CAMERA'],
    ['every camera failed, differently', [busy('A'), timeout('B')], 502, 'CAMERA_SYNC_FAILED'],
    ['a code from elsewhere', [{ cameraId: 'A', success: false as const, code: 'SOMETHING_NEW', error: 'x' }], 502, 'CAMERA_SYNC_FAILED'],
    ['no outcome at all (every camera left)', [], 409, 'NO_CAMERA'],
  ])('%s: %i %s', (_name, outcomes, status, code) => {
    const answer = cameraSyncAnswer(outcomes);
    expect(answer.status).toBe(status);
    if (code === null) expect(answer.body).toEqual(outcomes);
    else expect(answer.body).toEqual({ statusCode: status, code, message: expect.any(String), results: outcomes });
  });

  it('names each failed camera and why in the message', () => {
    const answer = cameraSyncAnswer([ok, busy('B'), timeout('C')]);
    expect((answer.body as { message: string }).message).toBe('1 of 3 cameras set; B: Camera is busy: Device busy; C: no answer in 5 s');
  });
});
