/**
 * What the simulated camera photographs: the time slate of a Pi as its page would show it at the instant the
 * shutter opened, or nothing readable, rendered and encoded as the camera's own JPEG with the EXIF a Canon
 * writes (stamped by the camera's own clock). Pure JavaScript (the `qrcode` package's matrix, `jpeg-js`,
 * `piexifjs`), so `npm run camera-sim` and the demo camera need nothing installed.
 *
 * The slate is seen as a screen showing the page sees it (docs/slate.md): the page measures the Pi's clock
 * with a few requests of `GET /api/slate` (the shortest round trip wins; half of it is the page's error) and
 * the screen draws a new frame at every vsync of a 60 Hz display, each frame carrying the Pi's time of the
 * vsync at which it appears. The frame on screen when the shutter opens is the one photographed.
 */
import { createRequire } from 'node:module';
import { formatSlateCode } from '../../protocol/slate-code';
import { CameraClock } from './camera-clock';

/** What the camera's view of the slate needs: whose slate, which setting of its clock, and the Pi's clock against the host's. */
export interface SlateView {
  piId: string;
  /** The slate code's clock tag (`<run>.<n>`). */
  clock: string;
  /** The Pi's clock minus the host's, ms, as measured. */
  piMinusHostMs: number;
  /** How far `piMinusHostMs` can be off, ms (half the best probe's round trip). */
  errMs: number;
  /** The display's frame period, ms. */
  frameMs: number;
}

/** Where the camera is pointed: a slate to look at, or null when there is nothing readable in front of it. */
export type SlateSource = () => Promise<SlateView | null>;

/** A 60 Hz display. */
export const SLATE_FRAME_MS = 1000 / 60;

/**
 * The slate of the app at `baseUrl`, measured afresh at every shot with `probes` requests of `GET /api/slate`
 * (the page does the same every 5 s). A Pi whose time is not trusted (reliability none or low) shows no code,
 * as the page does; an app that does not answer shows nothing either.
 */
export function slateOfApp(baseUrl: string, options: { probes?: number; frameMs?: number } = {}): SlateSource {
  const root = baseUrl.replace(/\/+$/, '');
  return async () => {
    let best: { view: SlateView; rtt: number } | null = null;
    for (let i = 0; i < (options.probes ?? 3); i++) {
      const t0 = performance.timeOrigin + performance.now();
      let body: { piId?: unknown; epochMs?: unknown; clock?: unknown; reliability?: unknown };
      try {
        const res = await fetch(`${root}/api/slate`, { headers: { Accept: 'application/json' } });
        if (!res.ok) return null;
        body = (await res.json()) as typeof body;
      } catch {
        return null;
      }
      const t1 = performance.timeOrigin + performance.now();
      if (typeof body.piId !== 'string' || typeof body.epochMs !== 'number' || typeof body.clock !== 'string') return null;
      if (body.reliability === 'none' || body.reliability === 'low') return null;
      const rtt = t1 - t0;
      if (!best || rtt < best.rtt) {
        best = { rtt, view: { piId: body.piId, clock: body.clock, piMinusHostMs: body.epochMs - (t0 + t1) / 2, errMs: rtt / 2, frameMs: options.frameMs ?? SLATE_FRAME_MS } };
      }
    }
    return best?.view ?? null;
  };
}

/** The QR text of the frame on screen at host instant `openedAtMs` (the vsync at or before it, its time on the Pi's clock). */
export function slateTextAt(view: SlateView, openedAtMs: number): string {
  const frame = Math.floor(openedAtMs / view.frameMs);
  const vsyncHostMs = frame * view.frameMs;
  // +0.5: the code's time is rounded to whole ms.
  return formatSlateCode({ piId: view.piId, unixMs: vsyncHostMs + view.piMinusHostMs, frame: frame % 1e9, frameMs: view.frameMs, errMs: view.errMs + 0.5, clock: view.clock });
}

export interface ShotExif {
  make: string;
  model: string;
  serial: string;
  /** Exposure time, s. */
  exposureSeconds: number;
}

/**
 * The JPEG a camera writes of a shot: `text` as a QR code on a screen in the middle of a grey scene (no code:
 * the scene alone), EXIF DateTimeOriginal / SubSecTimeOriginal (two digits, truncated) / OffsetTimeOriginal
 * from the camera's clock at `openedAtMs` (host time), Make, Model, SerialNumber, ExposureTime.
 */
export function shotJpeg(text: string | null, clock: CameraClock, openedAtMs: number, exif: ShotExif, size = { width: 800, height: 600 }): Buffer {
  const { width, height } = size;
  const rgba = Buffer.alloc(width * height * 4);
  // A scene: a soft grey gradient (a room), so a frame without a code is still a photo, not a blank.
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 96 + Math.round((40 * (x + y)) / (width + height));
      const i = (y * width + x) * 4;
      rgba[i] = v;
      rgba[i + 1] = v;
      rgba[i + 2] = v + 8;
      rgba[i + 3] = 255;
    }
  }
  if (text !== null) drawQr(rgba, width, height, text);
  const jpeg = require_('jpeg-js') as typeof import('jpeg-js');
  return Buffer.from(jpeg.encode({ data: rgba, width, height, exifBuffer: exifSegment(clock, openedAtMs, exif) } as never, 85).data);
}

/** The code on a white screen (its quiet zone of 4 modules), black modules, centred, as large as fits in 60 % of the height. */
function drawQr(rgba: Buffer, width: number, height: number, text: string): void {
  const qrcode = require_('qrcode') as typeof import('qrcode');
  const { modules } = qrcode.create(text, { errorCorrectionLevel: 'M' });
  const n = modules.size;
  const quiet = 4;
  const scale = Math.max(2, Math.floor((height * 0.6) / (n + 2 * quiet)));
  const side = (n + 2 * quiet) * scale;
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const mx = Math.floor(x / scale) - quiet;
      const my = Math.floor(y / scale) - quiet;
      const dark = mx >= 0 && my >= 0 && mx < n && my < n && modules.get(my, mx) === 1;
      const v = dark ? 16 : 240;
      const i = ((top + y) * width + left + x) * 4;
      rgba[i] = v;
      rgba[i + 1] = v;
      rgba[i + 2] = v;
    }
  }
}

/** The EXIF (APP1 payload, "Exif\0\0" and the TIFF structure) a Canon body writes, by piexifjs. */
function exifSegment(clock: CameraClock, openedAtMs: number, exif: ShotExif): Buffer {
  const piexif = loadPiexif();
  // The camera stamps its own clock when the shutter opens: wall time (DST included), truncated to 10 ms.
  const wallOffsetMinutes = clock.stdOffsetMinutes + (clock.dst ? 60 : 0);
  const wall = new Date(Math.floor(clock.nowUtcMs(openedAtMs) / 10) * 10 + wallOffsetMinutes * 60_000);
  const iso = wall.toISOString();
  const stamp = `${iso.slice(0, 4)}:${iso.slice(5, 7)}:${iso.slice(8, 10)} ${iso.slice(11, 19)}`;
  const abs = Math.abs(wallOffsetMinutes);
  const offset = `${wallOffsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  const exposure: [number, number] = exif.exposureSeconds >= 1 ? [Math.round(exif.exposureSeconds * 10), 10] : [1, Math.round(1 / exif.exposureSeconds)];
  const dict = {
    '0th': { [piexif.ImageIFD.Make]: exif.make, [piexif.ImageIFD.Model]: exif.model, [piexif.ImageIFD.DateTime]: stamp, [piexif.ImageIFD.Orientation]: 1 },
    Exif: {
      [piexif.ExifIFD.ExposureTime]: exposure,
      [piexif.ExifIFD.DateTimeOriginal]: stamp,
      [piexif.ExifIFD.DateTimeDigitized]: stamp,
      [piexif.ExifIFD.SubSecTimeOriginal]: iso.slice(20, 22),
      [piexif.ExifIFD.SubSecTimeDigitized]: iso.slice(20, 22),
      [OFFSET_TIME_ORIGINAL]: offset,
      [piexif.ExifIFD.BodySerialNumber]: exif.serial,
    },
  };
  return Buffer.from(piexif.dump(dict as never), 'binary');
}

/** EXIF 2.31's OffsetTimeOriginal (0x9011), which piexifjs 1.0.6 predates: added to its tag table (ASCII). */
const OFFSET_TIME_ORIGINAL = 0x9011;

function loadPiexif(): typeof import('piexifjs') {
  const piexif = require_('piexifjs') as typeof import('piexifjs');
  piexif.TAGS.Exif[OFFSET_TIME_ORIGINAL] ??= { name: 'OffsetTimeOriginal', type: 'Ascii' };
  return piexif;
}

// Loaded on the first shot: a simulator that never shoots (most tests, the demo) does not load them.
const require_ = createRequire(__filename);
