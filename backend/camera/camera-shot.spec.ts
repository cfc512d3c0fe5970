import { DomainError, ErrorCode } from '../common/domain-error';
import { addedContents, DEFAULT_SHOT_SETTINGS, isCompleteJpeg, pickJpeg, ShotIo, ShotSettings, takeShot } from './camera-shot';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x02, 0x01, 0x02, 0xff, 0xd9]);
const CUT = JPEG.subarray(0, 7);
const dir = '/ccapi/ver110/contents/card1/100CANON';
const busy = (message = 'Device busy') => new DomainError(ErrorCode.CAMERA_BUSY, `Camera is busy: ${message}`, { status: 503, cameraMessage: message });
const rejected = (message: string, status = 400) => new DomainError(ErrorCode.CAMERA_REJECTED, `The camera rejected it: ${message}`, { status, cameraMessage: message });

type Answer<T> = T | DomainError;

/**
 * A camera answering from a script, on simulated time: each poll, press and download takes the next scripted answer
 * (an error is thrown); a poll beyond the script answers `{}` (nothing happened). Strict: a download of a path the
 * script does not know fails the test.
 */
class ScriptedCamera implements ShotIo {
  now = 0;
  readonly calls: string[] = [];
  constructor(
    private readonly script: { polls?: Array<Answer<unknown>>; presses?: Array<Answer<void>>; files?: Record<string, Array<Answer<Buffer>>>; stops?: Array<Answer<void>> },
    private readonly requestMs = 20,
  ) {}

  monotonic = () => this.now;
  sleep = async (ms: number) => {
    this.now += ms;
  };

  private answer<T>(name: string, list: Array<Answer<T>> | undefined, otherwise: () => T): T {
    this.calls.push(name);
    this.now += this.requestMs;
    const next = list?.length ? list.shift()! : otherwise();
    if (next instanceof DomainError) throw next;
    return next as T;
  }

  pollEvents = async () => this.answer('poll', this.script.polls, () => ({}));
  stopEvents = async () => this.answer('stop', this.script.stops, () => undefined);
  pressShutter = async () => this.answer('press', this.script.presses, () => undefined);
  download = async (path: string) => {
    const list = this.script.files?.[path];
    if (!list) throw new Error(`unexpected download of ${path}`);
    return this.answer(`download ${path.split('/').at(-1)}`, list, () => {
      throw new Error(`no more answers for ${path}`);
    });
  };
}

const settings: ShotSettings = { ...DEFAULT_SHOT_SETTINGS, timeoutMs: 5000 };

describe(takeShot.name, () => {
  it('drains old events, presses, polls until the new file is named, and downloads it', async () => {
    const camera = new ScriptedCamera({
      // The first poll: the state, and a file of an earlier shot that is not this one's.
      polls: [{ battery: { level: 'full' }, addedcontents: [`${dir}/IMG_0007.JPG`] }, {}, {}, { addedcontents: [`${dir}/IMG_0008.JPG`] }],
      files: { [`${dir}/IMG_0008.JPG`]: [JPEG] },
    });
    const shot = await takeShot(camera, settings);
    expect(camera.calls).toEqual(['poll', 'press', 'poll', 'poll', 'poll', 'download IMG_0008.JPG']);
    expect(shot).toEqual({ file: 'IMG_0008.JPG', path: `${dir}/IMG_0008.JPG`, bytes: JPEG, added: [`${dir}/IMG_0008.JPG`], namedAfterMs: 3 * (200 + 20), polls: 3, downloads: 1 });
  });

  it('RAW+JPEG: the JPEG, also when it is named a poll after the RAW file', async () => {
    const camera = new ScriptedCamera({ polls: [{}, { addedcontents: [`${dir}/IMG_0009.CR3`] }, { addedcontents: [`${dir}/IMG_0009.JPG`] }], files: { [`${dir}/IMG_0009.JPG`]: [JPEG] } });
    const shot = await takeShot(camera, settings);
    expect(shot.file).toBe('IMG_0009.JPG');
    expect(shot.added).toEqual([`${dir}/IMG_0009.CR3`, `${dir}/IMG_0009.JPG`]);
    expect(camera.calls.filter((c) => c.startsWith('download'))).toEqual(['download IMG_0009.JPG']);
  });

  it('RAW only: NO_JPEG_RECORDED once the JPEG has had time to be named, nothing downloaded', async () => {
    const camera = new ScriptedCamera({ polls: [{}, { addedcontents: [`${dir}/IMG_0010.CR3`] }] });
    const error = await takeShot(camera, settings).catch((e: DomainError) => e);
    expect(error).toMatchObject({ code: ErrorCode.NO_JPEG_RECORDED, message: 'The camera recorded IMG_0010.CR3, no JPEG: set its image quality to JPEG or RAW+JPEG (the slate is read from the JPEG)' });
    // Named after one poll; RAW alone for rawGraceMs (2 s) after that, not the whole timeout.
    expect(camera.now).toBeLessThan(220 + 2000 + 300);
  });

  it('nothing named within the timeout: NO_NEW_PHOTO, the camera busy meanwhile said why', async () => {
    const camera = new ScriptedCamera({ polls: [{}, ...Array.from({ length: 100 }, () => busy())] });
    const error = await takeShot(camera, settings).catch((e: DomainError) => e);
    expect(error).toMatchObject({ code: ErrorCode.NO_NEW_PHOTO, message: expect.stringMatching(/^The camera named no new photo within 5 s of the shutter press \(the last poll: Camera is busy: Device busy\): check that it has a card/) });
    expect(camera.now).toBeGreaterThanOrEqual(5000);
    expect(camera.now).toBeLessThan(5000 + 250);
  });

  it('a shutter the camera refuses: SHUTTER_REFUSED in its words and what to do; a busy one: CAMERA_BUSY after asking again for a while', async () => {
    const focus = new ScriptedCamera({ presses: [busy('Out of focus')] });
    await expect(takeShot(focus, settings)).rejects.toMatchObject({ code: ErrorCode.SHUTTER_REFUSED, message: expect.stringMatching(/did not take the picture \("Out of focus"\): it could not focus/) });
    expect(focus.calls).toEqual(['poll', 'press']);
    const card = new ScriptedCamera({ presses: [busy('Can not write to card')] });
    await expect(takeShot(card, settings)).rejects.toMatchObject({ code: ErrorCode.SHUTTER_REFUSED, message: expect.stringMatching(/cannot write to its card/) });
    const invalid = new ScriptedCamera({ presses: [rejected('Invalid parameter')] });
    await expect(takeShot(invalid, settings)).rejects.toMatchObject({ code: ErrorCode.SHUTTER_REFUSED });

    const stillBusy = new ScriptedCamera({ presses: Array.from({ length: 20 }, () => busy()) });
    await expect(takeShot(stillBusy, settings)).rejects.toMatchObject({ code: ErrorCode.CAMERA_BUSY, message: 'Camera is busy: Device busy' });
    expect(stillBusy.calls.filter((c) => c === 'press').length).toBeGreaterThan(2);
    expect(stillBusy.now).toBeLessThan(settings.busyRetryMs + 500);

    // Busy with its last picture for a moment: then it shoots.
    const moment = new ScriptedCamera({ presses: [busy(), busy(), undefined], polls: [{}, { addedcontents: [`${dir}/IMG_0011.JPG`] }], files: { [`${dir}/IMG_0011.JPG`]: [JPEG] } });
    await expect(takeShot(moment, settings)).resolves.toMatchObject({ file: 'IMG_0011.JPG' });
  });

  it('event polling left started ("Already started"): stopped and started again; not offered: refused before the press', async () => {
    const started = new ScriptedCamera({ polls: [busy('Already started'), {}, { addedcontents: [`${dir}/IMG_0012.JPG`] }], files: { [`${dir}/IMG_0012.JPG`]: [JPEG] } });
    await takeShot(started, settings);
    expect(started.calls.slice(0, 4)).toEqual(['poll', 'stop', 'poll', 'press']);
    const none = new ScriptedCamera({ polls: [rejected('HTTP 404, Not found', 404)] });
    await expect(takeShot(none, settings)).rejects.toMatchObject({ code: ErrorCode.CAMERA_REJECTED, message: expect.stringMatching(/does not offer event polling/) });
    expect(none.calls).toEqual(['poll']);
  });

  it('a file not complete yet (or the camera busy writing it) is downloaded again; one too large is PHOTO_TOO_LARGE', async () => {
    const path = `${dir}/IMG_0013.JPG`;
    const camera = new ScriptedCamera({ polls: [{}, { addedcontents: [path] }], files: { [path]: [busy(), CUT, Buffer.alloc(0), JPEG] } });
    const shot = await takeShot(camera, settings);
    expect(shot.downloads).toBe(4);
    expect(shot.bytes).toEqual(JPEG);

    const large = new ScriptedCamera({ polls: [{}, { addedcontents: [path] }], files: { [path]: [new DomainError(ErrorCode.CAMERA_BAD_ANSWER, 'too big', { tooLarge: true })] } });
    await expect(takeShot(large, settings)).rejects.toMatchObject({ code: ErrorCode.PHOTO_TOO_LARGE, message: expect.stringMatching(/IMG_0013\.JPG is larger than a slate photo may be/) });

    const never = new ScriptedCamera({ polls: [{}, { addedcontents: [path] }], files: { [path]: Array.from({ length: 100 }, () => CUT) } });
    await expect(takeShot(never, settings)).rejects.toMatchObject({ code: ErrorCode.CAMERA_BAD_ANSWER, message: expect.stringMatching(/could not be downloaded within 5 s: it was not a complete JPEG \(7 bytes\)/) });
  });

  it("a poll's other failures end the shot at once", async () => {
    const camera = new ScriptedCamera({ polls: [{}, new DomainError(ErrorCode.CAMERA_AUTH_REQUIRED, 'The camera refused the user name and password')] });
    await expect(takeShot(camera, settings)).rejects.toMatchObject({ code: ErrorCode.CAMERA_AUTH_REQUIRED });
    expect(camera.calls).toEqual(['poll', 'press', 'poll']);
  });
});

describe('what a camera names', () => {
  it.each([
    [[`${dir}/IMG_0001.CR3`, `${dir}/IMG_0001.JPG`], `${dir}/IMG_0001.JPG`],
    [[`${dir}/IMG_0001.JPG`, `${dir}/IMG_0001.CR3`], `${dir}/IMG_0001.JPG`],
    [[`${dir}/IMG_0001.JPG`, `${dir}/IMG_0002.JPG`], `${dir}/IMG_0002.JPG`],
    [['/ccapi/ver100/contents/sd/100CANON/img_0003.jpeg'], '/ccapi/ver100/contents/sd/100CANON/img_0003.jpeg'],
    [[`${dir}/IMG_0001.CR3`, `${dir}/MVI_0002.MP4`], null],
    [[], null],
  ])('pickJpeg(%j) is %j', (paths, jpeg) => {
    expect(pickJpeg(paths)).toBe(jpeg);
  });

  it('addedContents keeps only paths of the card: nothing else goes into a URL with the credentials', () => {
    expect(
      addedContents({
        addedcontents: [
          `${dir}/IMG_0001.JPG`,
          '/ccapi/ver100/contents/sd/100CANON/../../../functions/datetime',
          'http://elsewhere.example/IMG_0001.JPG',
          '/ccapi/ver110/contents/card1/100CANON/IMG_0001.JPG?kind=thumbnail',
          '//evil/ccapi/ver110/contents/x.JPG',
          42,
        ],
      }),
    ).toEqual([`${dir}/IMG_0001.JPG`]);
    expect(addedContents({ addedcontents: 'nope' })).toEqual([]);
    expect(addedContents(null)).toEqual([]);
  });

  it('isCompleteJpeg: the start and end markers (padding after the end tolerated)', () => {
    expect(isCompleteJpeg(JPEG)).toBe(true);
    expect(isCompleteJpeg(Buffer.concat([JPEG, Buffer.alloc(16)]))).toBe(true);
    expect(isCompleteJpeg(CUT)).toBe(false);
    expect(isCompleteJpeg(Buffer.from('{"message":"Device busy"}'))).toBe(false);
  });
});
