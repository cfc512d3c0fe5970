import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJournal } from '../../backend/activity-log/clock-journal';
import { parseSlateCode, SlateCode } from '../../backend/protocol/slate-code';
import { UPLOAD_HEADER } from '../../backend/protocol/vocabulary';
import { decodeQrCodes } from '../../backend/slate/slate-reader';
import { utcOffsetMinutes } from '../../backend/time/timezone';
import { startApp, StartedApp } from '../support/app';
import { exiftool, writeTags } from '../support/exiftool';
import { assertImageMagick, convert, degrade, Degradation, exifStamp, pngSize, postSlatePhotos } from '../support/slate-photos';
import { ClientPool, isEvent } from '../support/ws-client';
import { BrowserSession, ensureFrontendBuilt, eventually, openBrowser, screenshotPath } from './browser';

/**
 * The time slate the honest way: the real /slate page in Chromium draws the Pi's time (a simulated Pi clock set
 * 37 s wrong, then synced by a phone), its canvas is screenshotted, the screenshot is degraded as a camera would
 * degrade it (ImageMagick), EXIF is written with the real exiftool at a known camera offset, and the product
 * reads it back over HTTP: every offset within its bound. What a real display adds (the frame's latency, the
 * exposure's phase) is in the bound, not in these photos: see docs/slate.md.
 */
jest.setTimeout(180_000);

/** What the page exposes on `window` for tests (frontend/src/slate/SlatePage.tsx). */
type SlateWindow = { __timesyncSlate?: { text: string | null; frame: number; reason: string | null } };

interface Shot {
  png: string;
  code: SlateCode;
  text: string;
}

const work = mkdtempSync(join(tmpdir(), 'slate-browser-'));
const phones = new ClientPool();
let app: StartedApp;
let other: StartedApp;
let browser: BrowserSession;
let piZone = 'UTC';

/** Opens the slate of `target` and waits until it draws a code. */
async function openSlate(target: StartedApp): Promise<void> {
  await browser.page.goto(`${target.url}/slate/`);
  await eventually(() => browser.page.evaluate(() => (globalThis as unknown as SlateWindow).__timesyncSlate?.text ?? null), 'the slate to draw a code', 20_000);
}

/**
 * One screenshot of the slate's canvas with a code in it, and that code, read back by the decoder from the
 * picture itself. Taking a screenshot can make the page skip a frame, and then it shows no code for a moment
 * (as a camera would catch it): such a picture is taken again, as a photographer would.
 */
async function shoot(name: string): Promise<Shot> {
  const png = join(work, `${name}.png`);
  let seen: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    await eventually(() => browser.page.evaluate(() => (globalThis as unknown as SlateWindow).__timesyncSlate?.text ?? null), 'the slate to draw a code', 20_000, 20);
    await browser.page.locator('[data-testid="slate-canvas"]').screenshot({ path: png });
    seen = await decodeQrCodes(readFileSync(png));
    if (seen.length) break;
  }
  expect(seen).toHaveLength(1);
  const code = parseSlateCode(seen[0]);
  if (!code) throw new Error(`not a slate code: ${seen[0]}`);
  return { png, code, text: seen[0] };
}

/** A JPEG of `shot` after `kind`, stamped by a camera `offsetMs` ahead of the Pi (its zone `zoneMinutes`, or none written). */
async function photo(shot: Shot, name: string, kind: Degradation | 'none', camera: { serial: string; offsetMs: number; zoneMinutes: number | null; model?: string }): Promise<{ path: string; bytes: () => Buffer }> {
  const path = join(work, `${name}.jpg`);
  await degrade(shot.png, path, kind, pngSize(shot.png));
  const instant = shot.code.unixMs + camera.offsetMs;
  const zone = camera.zoneMinutes ?? utcOffsetMinutes(piZone, instant);
  const stamp = exifStamp(instant, zone);
  const tags: Record<string, string> = { DateTimeOriginal: stamp.DateTimeOriginal, SubSecTimeOriginal: stamp.SubSecTimeOriginal, ExposureTime: '1/250', Make: 'Canon', Model: camera.model ?? 'Canon EOS R6', SerialNumber: camera.serial };
  if (camera.zoneMinutes !== null) tags.OffsetTimeOriginal = stamp.OffsetTimeOriginal;
  await writeTags([{ path, tags }], join(work, `${name}.args`));
  return { path, bytes: () => readFileSync(path) };
}

beforeAll(async () => {
  assertImageMagick();
  ensureFrontendBuilt();
  app = await startApp({ PI_NAME: 'slate-a', SIMULATED_CLOCK_OFFSET_MS: '-37000' });
  other = await startApp({ PI_NAME: 'slate-b' });
  // A phone gives each Pi its time (the host's): the slate shows a code only on a trusted Pi.
  for (const target of [app, other]) {
    const phone = await phones.connect(target.wsUrl, { offsetMs: 0 });
    await phone.waitFor((f) => isEvent('pi-sync')(f) && f.data.synchronized, 10_000);
  }
  piZone = ((await (await fetch(`${app.url}/api/slate`)).json()) as { timezone: string }).timezone;
  browser = await openBrowser({ viewport: { width: 800, height: 480 } });
});

afterAll(async () => {
  await browser?.close();
  await phones.closeAll();
  await app?.close();
  await other?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('the time slate page (Chromium)', () => {
  it('draws a TS1 code of this Pi every frame, the frame counter moving and the time the Pi\'s', async () => {
    await openSlate(app);
    const first = await shoot('frame-a');
    const second = await shoot('frame-b');
    expect(first.code.piId).toBe('slate-a');
    expect(second.code.frame).toBeGreaterThan(first.code.frame);
    expect(first.code.frameMs).toBeGreaterThan(4);
    expect(first.code.frameMs).toBeLessThan(42);
    expect(first.code.errMs).toBeLessThan(10);
    // The code is the Pi's (simulated) clock, not this machine's: within a second of the Pi's time now.
    const pi = (await (await fetch(`${app.url}/api/slate`)).json()) as { epochMs: number; clock: string };
    expect(Math.abs(pi.epochMs - second.code.unixMs)).toBeLessThan(1500);
    expect(second.code.clock).toBe(pi.clock);
    const shown = await browser.page.evaluate(() => (globalThis as unknown as SlateWindow).__timesyncSlate);
    expect(shown?.reason).toBeNull();
    await browser.page.screenshot({ path: screenshotPath('slate-800x480') });
    expect(browser.pageErrors).toEqual([]);
  });

  it('photos of it, degraded as a camera would, give each camera its known offset within the bound', async () => {
    await openSlate(app);
    const cameras = [
      { serial: '083021000777', offsetMs: 1234.5, zoneMinutes: 60 },
      { serial: '083021000778', offsetMs: -83_412.3, zoneMinutes: null, model: 'Canon EOS 5D Mark II' },
      // Set to the wrong zone's time but saying its zone right: the instant is what counts.
      { serial: 'NIKON-3007742', offsetMs: 7.9, zoneMinutes: 540 },
    ];
    const kinds: Array<Degradation | 'none'> = ['none', 'scaled', 'blurred', 'perspective', 'everything'];
    const errors: string[] = [];
    const bounds: number[] = [];
    for (const [c, camera] of cameras.entries()) {
      const photos: Array<{ name: string; bytes: Buffer }> = [];
      for (const kind of kinds) {
        const shot = await shoot(`c${c}-${kind}`);
        const made = await photo(shot, `c${c}-${kind}`, kind, camera);
        photos.push({ name: `c${c}-${kind}.jpg`, bytes: made.bytes() });
        // One photo at a time: each within its own bound.
        const one = await postSlatePhotos(app.url, [photos.at(-1)!]);
        if (one.status !== 200) {
          errors.push(`${kind} of camera ${c}: ${one.status} ${JSON.stringify(one.body).slice(0, 300)}`);
          continue;
        }
        const r = one.body.results[0];
        bounds.push(r.boundMs);
        if (!(Math.abs(r.offsetMs - camera.offsetMs) <= r.boundMs)) errors.push(`${kind} of camera ${c}: offset ${r.offsetMs} ± ${r.boundMs}, known ${camera.offsetMs}`);
        expect(r.camera.serial).toBe(camera.serial);
        expect(r.exif.zoneFrom).toBe(camera.zoneMinutes === null ? 'pi-zone' : 'exif');
      }
      // All of them at once: one measurement, tighter, still holding the truth.
      const all = await postSlatePhotos(app.url, photos);
      expect(all.status).toBe(200);
      expect(all.body.results.filter((r: { ok: boolean }) => !r.ok)).toEqual([]);
      expect(all.body.cameras).toHaveLength(1);
      const m = all.body.cameras[0];
      expect(m).toMatchObject({ serial: camera.serial, photos: kinds.length, consistent: true, scopable: true });
      expect(Math.abs(m.offsetMs - camera.offsetMs)).toBeLessThanOrEqual(m.boundMs);
      expect(m.boundMs).toBeLessThanOrEqual(Math.min(...all.body.results.map((r: { boundMs: number }) => r.boundMs)));
    }
    expect(errors).toEqual([]);
    // 1/250 s, 60 Hz (headless Chromium), two sub-second digits: ±23.7 ms a photo plus the page's own error
    // (half its best probe's round trip: a few ms here, more on a busy machine).
    const sorted = [...bounds].sort((a, b) => a - b);
    expect(sorted[0]).toBeGreaterThanOrEqual(23.7);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThanOrEqual(30);
    // Each measurement is a camera-measure record with method "slate", the camera named by its EXIF.
    const journal = parseJournal(readFileSync(join(app.dataDir, 'clock-journal.jsonl'), 'utf8'));
    const slate = journal.events.filter((e) => e.kind === 'camera-measure' && e.method === 'slate');
    expect(new Set(slate.map((e) => (e.kind === 'camera-measure' ? e.serial : null)))).toEqual(new Set(cameras.map((c) => c.serial)));
  });

  describe('refuses in plain words', () => {
    let good: Shot;
    beforeAll(async () => {
      await openSlate(app);
      good = await shoot('refusal-base');
    });

    const camera = { serial: '083021000779', offsetMs: 500, zoneMinutes: 0 };

    async function expectRefused(name: string, bytes: Buffer, code: string, words: RegExp): Promise<void> {
      const res = await postSlatePhotos(app.url, [{ name, bytes }]);
      expect([res.status, res.body.code]).toEqual([422, code]);
      expect(res.body.message).toMatch(words);
      expect(res.body.results[0]).toMatchObject({ file: name, ok: false, code });
    }

    it('a photo with no code', async () => {
      const path = join(work, 'nocode.jpg');
      await convert(['-size', '800x424', 'xc:#d8d8d8', '-fill', '#202020', '-draw', 'rectangle 100,100 300,300', '-quality', '70', path]);
      await writeTags([{ path, tags: { DateTimeOriginal: '2026:12:02 10:00:00', Make: 'Canon', SerialNumber: camera.serial } }], join(work, 'nocode.args'));
      await expectRefused('nocode.jpg', readFileSync(path), 'NO_SLATE_CODE', /no QR code could be read/);
    });

    it('a photo with two codes (two frames side by side)', async () => {
      const second = await shoot('refusal-second');
      expect(second.text).not.toBe(good.text);
      const both = join(work, 'two.png');
      await convert([good.png, second.png, '+append', both]);
      const made = await photo({ ...good, png: both }, 'two', 'none', camera);
      await expectRefused('two.jpg', made.bytes(), 'SEVERAL_CODES', /2 QR codes/);
    });

    it('a blurred code', async () => {
      const path = join(work, 'blur.jpg');
      await convert([good.png, '-blur', '0x9', '-quality', '70', path]);
      const stamp = exifStamp(good.code.unixMs + 500, 0);
      await writeTags([{ path, tags: { ...stamp, Make: 'Canon', SerialNumber: camera.serial } }], join(work, 'blur.args'));
      await expectRefused('blur.jpg', readFileSync(path), 'NO_SLATE_CODE', /too blurred/);
    });

    it("another Pi's slate", async () => {
      await openSlate(other);
      const foreign = await shoot('foreign');
      expect(foreign.code.piId).toBe('slate-b');
      const made = await photo(foreign, 'foreign', 'scaled', camera);
      await expectRefused('foreign.jpg', made.bytes(), 'FOREIGN_SLATE', /another Pi's \("slate-b"\), not this one's \("slate-a"\)/);
    });

    it('no EXIF time', async () => {
      const path = join(work, 'noexif.jpg');
      await degrade(good.png, path, 'scaled', pngSize(good.png));
      await writeTags([{ path, tags: { Make: 'Canon', SerialNumber: camera.serial } }], join(work, 'noexif.args'));
      const { stdout } = await exiftool(['-s', '-DateTimeOriginal', path]);
      expect(stdout.trim()).toBe('');
      await expectRefused('noexif.jpg', readFileSync(path), 'NO_EXIF_TIME', /no DateTimeOriginal/);
    });

    it('a 0-byte file', async () => {
      await expectRefused('empty.jpg', Buffer.alloc(0), 'EMPTY_PHOTO', /empty \(0 bytes\)/);
    });

    it('a 30 MB file: 413 before it is read whole', async () => {
      const big = Buffer.alloc(30 * 1024 * 1024, 0x20);
      big.set([0xff, 0xd8, 0xff, 0xe0]);
      const res = await postSlatePhotos(app.url, [{ name: 'huge.jpg', bytes: big }]);
      expect([res.status, res.body.code]).toEqual([413, 'PHOTO_TOO_LARGE']);
      expect(res.body.message).toMatch(/larger than the 25 MiB/);
    });

    it('an upload from a page of another site, with the header or without', async () => {
      const bytes = (await photo(good, 'cross', 'none', camera)).bytes();
      for (const headers of [{ [UPLOAD_HEADER]: '1', origin: 'http://evil.example' }, { [UPLOAD_HEADER]: '1', 'sec-fetch-site': 'cross-site' }] as Array<Record<string, string>>) {
        const res = await postSlatePhotos(app.url, [{ name: 'cross.jpg', bytes }], headers);
        expect([res.status, res.body.code]).toEqual([403, 'FOREIGN_ORIGIN']);
      }
      const res = await postSlatePhotos(app.url, [{ name: 'cross.jpg', bytes }], {});
      expect([res.status, res.body.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    });
  });

  it('the page sends photos from its drop zone and shows each camera and each refusal', async () => {
    await openSlate(app);
    const shot = await shoot('page-upload');
    const made = await photo(shot, 'page-upload', 'scaled', { serial: '083021000780', offsetMs: -2500, zoneMinutes: 0 });
    const empty = join(work, 'page-empty.jpg');
    writeFileSync(empty, Buffer.alloc(0));
    await browser.page.setInputFiles('[data-testid="slate-file"]', [made.path, empty]);
    const camera = browser.page.locator('[data-testid="slate-camera"]');
    await camera.waitFor({ timeout: 20_000 });
    expect(await camera.textContent()).toMatch(/^Canon EOS R6 083021000780: camera −25\d\d ms from the Pi, ±\d+ ms, from 1 photo$/);
    expect(await browser.page.locator('[data-testid="slate-refused"]').textContent()).toMatch(/page-empty\.jpg: the file is empty/);
    await browser.page.locator('[data-testid="slate-answer"]').scrollIntoViewIfNeeded();
    await browser.page.screenshot({ path: screenshotPath('slate-photos-answer'), fullPage: true });
    expect(browser.pageErrors).toEqual([]);
  });

  it('shows no code while the Pi has no time, and says why', async () => {
    const fresh = await startApp({ PI_NAME: 'slate-c' });
    try {
      await browser.page.goto(`${fresh.url}/slate/`);
      const reason = browser.page.locator('[data-testid="slate-reason"]');
      await eventually(async () => /The Pi's time is not set yet: no code/.test((await reason.textContent()) ?? ''), 'the reason', 15_000);
      expect(await browser.page.evaluate(() => (globalThis as unknown as SlateWindow).__timesyncSlate?.text)).toBeNull();
      const png = join(work, 'untrusted.png');
      await browser.page.locator('[data-testid="slate-canvas"]').screenshot({ path: png });
      expect(await decodeQrCodes(readFileSync(png))).toEqual([]);
      await browser.page.screenshot({ path: screenshotPath('slate-untrusted') });
    } finally {
      await fresh.close();
    }
  });
});
