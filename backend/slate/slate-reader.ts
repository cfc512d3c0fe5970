/**
 * The slate reader: a JPEG in, the camera's offset or a refusal in plain words out. The QR code is decoded by
 * zxing-wasm (ZXing-C++ compiled to WebAssembly: it decodes the JPEG itself), the EXIF tags are read by exifr.
 * Both are loaded on the first photo, so the server starts without them.
 *
 *   const result = await readSlatePhoto(jpeg, { piId, piZone: 'Europe/Berlin', latencyFrames: 1 });
 *   if (result.ok) result.offsetMs, result.boundMs, result.camera.serial ... else result.code, result.message
 *
 * The offset is against the clock the slate showed (`result.code.clock`); `SlateService` puts it on the Pi's
 * clock of now and journals it.
 */
import { readFile } from 'node:fs/promises';
import { ErrorCode } from '../protocol/vocabulary';
import { ExifFacts, judgeSlatePhoto, refuse, SlatePhotoResult, SlateReadContext } from './slate-photo';

export type { SlatePhotoReading, SlatePhotoRefusal, SlatePhotoResult, SlateReadContext } from './slate-photo';

/** The QR texts a decoder finds in an image (every valid QR code, at most a few). */
export type QrDecoder = (image: Uint8Array) => Promise<string[]>;
export type ExifReader = (jpeg: Uint8Array) => Promise<ExifFacts | null>;

/** Reads one photo of the slate. `decoder` and `exif` are seams for tests; the defaults are zxing-wasm and exifr. */
export async function readSlatePhoto(jpeg: Buffer | Uint8Array, ctx: SlateReadContext, seams: { decoder?: QrDecoder; exif?: ExifReader } = {}): Promise<SlatePhotoResult> {
  if (jpeg.byteLength === 0) return refuse(ErrorCode.EMPTY_PHOTO, 'the file is empty (0 bytes): send the photo itself');
  if (!(jpeg[0] === 0xff && jpeg[1] === 0xd8 && jpeg[2] === 0xff)) {
    return refuse(ErrorCode.NOT_A_JPEG, "the file is not a JPEG photo: send the camera's own JPEG (not a RAW file, a screenshot or a converted copy)");
  }
  const bytes = jpeg instanceof Buffer ? new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength) : jpeg;
  const codes = await (seams.decoder ?? decodeQrCodes)(bytes);
  const exif = await (seams.exif ?? readExifFacts)(bytes).catch(() => null);
  return judgeSlatePhoto(codes, exif, ctx);
}

// ---- zxing-wasm ----------------------------------------------------------------------------------

type ZxingReader = typeof import('zxing-wasm/reader');
let zxing: Promise<ZxingReader> | null = null;
/** One decode at a time: the WebAssembly module is one heap, and a Pi has few cores. */
let decoding: Promise<unknown> = Promise.resolve();

/**
 * zxing-wasm fetches its .wasm from a CDN unless told otherwise; the Pi has no internet, so the module is given
 * the file from node_modules (the release bundle carries it: `npm ci --omit=dev` installs zxing-wasm whole).
 */
function loadZxing(): Promise<ZxingReader> {
  zxing ??= (async () => {
    const reader = await import('zxing-wasm/reader');
    const wasm = await readFile(require.resolve('zxing-wasm/reader/zxing_reader.wasm'));
    await reader.prepareZXingModule({
      overrides: {
        wasmBinary: wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer,
        // Never a network path: a missing binary is an error here, not a request to the internet.
        locateFile: (path: string) => path,
      },
      fireImmediately: true,
    });
    return reader;
  })();
  zxing.catch(() => (zxing = null));
  return zxing;
}

/** Every QR code zxing-wasm reads in the image (JPEG or PNG bytes), as text. */
export async function decodeQrCodes(image: Uint8Array): Promise<string[]> {
  const reader = await loadZxing();
  const run = decoding.then(() =>
    reader.readBarcodes(image, {
      formats: ['QRCode'],
      tryHarder: true,
      tryRotate: true,
      tryInvert: true,
      tryDownscale: true,
      maxNumberOfSymbols: 4,
    }),
  );
  decoding = run.catch(() => undefined);
  const results = await run;
  return results.filter((r) => r.isValid).map((r) => r.text);
}

// ---- exifr ---------------------------------------------------------------------------------------

/** The tags the slate needs, as text (exifr's values are not revived: no zone is guessed). */
export async function readExifFacts(jpeg: Uint8Array): Promise<ExifFacts | null> {
  const exifr = (await import('exifr')).default;
  const tags = (await exifr.parse(Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength), {
    tiff: true,
    exif: true,
    gps: false,
    interop: false,
    ifd1: false,
    makerNote: false,
    userComment: false,
    xmp: false,
    icc: false,
    iptc: false,
    jfif: false,
    ihdr: false,
    reviveValues: false,
    translateValues: false,
    pick: ['DateTimeOriginal', 'SubSecTimeOriginal', 'OffsetTimeOriginal', 'ExposureTime', 'Make', 'Model', 'SerialNumber'],
  })) as Record<string, unknown> | undefined;
  if (!tags) return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);
  const exposure = tags.ExposureTime;
  return {
    dateTimeOriginal: text(tags.DateTimeOriginal),
    subSecTimeOriginal: text(tags.SubSecTimeOriginal),
    offsetTimeOriginal: text(tags.OffsetTimeOriginal),
    exposureTime: typeof exposure === 'number' && Number.isFinite(exposure) ? exposure : null,
    make: text(tags.Make),
    model: text(tags.Model),
    serial: text(tags.SerialNumber),
  };
}
