import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { UPLOAD_HEADER } from '../../backend/protocol/vocabulary';

/**
 * Slate photos made the honest way for tests and the bench: a picture of the slate degraded by ImageMagick as a
 * camera would (scaled, blurred, in perspective, JPEG quality 70), EXIF written by the real exiftool.
 * Debian's ImageMagick is /usr/bin/convert (a `convert` earlier on PATH may be something else).
 */
export const CONVERT = process.env.IMAGEMAGICK_CONVERT ?? '/usr/bin/convert';

/** Throws unless CONVERT is ImageMagick. */
export function assertImageMagick(): void {
  let version = '';
  try {
    version = execFileSync(CONVERT, ['-version'], { encoding: 'utf8' });
  } catch (e) {
    throw new Error(`ImageMagick is needed at ${CONVERT} (apt-get install imagemagick): ${String(e)}`);
  }
  if (!/ImageMagick/.test(version)) throw new Error(`${CONVERT} is not ImageMagick (apt-get install imagemagick): ${version.slice(0, 200)}`);
}

export function convert(args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(CONVERT, args, { maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => (error ? reject(new Error(`convert ${args.join(' ')}: ${stderr || error.message}`)) : resolve())),
  );
}

/** What a camera does to a picture of a screen, each ending in a JPEG of quality 70. */
export const DEGRADATIONS = {
  /** The slate small in a big picture: scaled down, on a grey surround. */
  scaled: ['-resize', '55%', '-bordercolor', '#777777', '-border', '180x120'],
  /** Slightly out of focus. */
  blurred: ['-blur', '0x1.6'],
  /** Held at an angle: a perspective distortion (corners moved by [dx, dy] in % of the size, see `degrade`). */
  perspective: ['-virtual-pixel', 'white', '-distort', 'Perspective', 'corners:5,6 -2,10 3,-9 -7,-4'],
  /** All of it, with sensor noise. */
  everything: ['-blur', '0x1', '-virtual-pixel', 'white', '-distort', 'Perspective', 'corners:3,4 -2,7 2,-6 -5,-3', '-resize', '70%', '-attenuate', '0.4', '+noise', 'Gaussian'],
} as const;
export type Degradation = keyof typeof DEGRADATIONS;

/**
 * `input` (PNG) as a JPEG of quality 70 after `kind`. `corners:` is a perspective given as how far each corner
 * (top left, top right, bottom left, bottom right) moves inwards, in % of the picture's width and height.
 */
export async function degrade(input: string, output: string, kind: Degradation | 'none', size: { width: number; height: number }): Promise<void> {
  const args = kind === 'none' ? [] : DEGRADATIONS[kind].map((a) => (a.startsWith('corners:') ? perspective(a.slice(8), size) : a));
  await convert([input, ...args, '-quality', '70', output]);
}

function perspective(spec: string, { width, height }: { width: number; height: number }): string {
  const [w, h] = [width - 1, height - 1];
  const moves = spec.split(' ').map((p) => p.split(',').map(Number));
  const from = [[0, 0], [w, 0], [0, h], [w, h]];
  const inward = [[1, 1], [-1, 1], [1, -1], [-1, -1]];
  return from
    .map(([x, y], i) => {
      const [dx, dy] = moves[i];
      const to = [Math.round(x + (inward[i][0] * Math.abs(dx) * width) / 100), Math.round(y + (inward[i][1] * Math.abs(dy) * height) / 100)];
      return `${x},${y} ${to[0]},${to[1]}`;
    })
    .join('  ');
}

/** The size of a PNG, from its header. */
export function pngSize(path: string): { width: number; height: number } {
  const b = readFileSync(path);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

/**
 * The EXIF a camera writes for an instant: DateTimeOriginal (its wall time in a zone `zoneMinutes` east of
 * UTC), SubSecTimeOriginal (two digits, truncated, as Canon writes them), OffsetTimeOriginal.
 */
export function exifStamp(instantMs: number, zoneMinutes: number): { DateTimeOriginal: string; SubSecTimeOriginal: string; OffsetTimeOriginal: string } {
  const wall = Math.floor(instantMs / 10) * 10 + zoneMinutes * 60_000;
  const iso = new Date(wall).toISOString();
  const abs = Math.abs(zoneMinutes);
  return {
    DateTimeOriginal: `${iso.slice(0, 4)}:${iso.slice(5, 7)}:${iso.slice(8, 10)} ${iso.slice(11, 19)}`,
    SubSecTimeOriginal: iso.slice(20, 22),
    OffsetTimeOriginal: `${zoneMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`,
  };
}

/** POST /api/slate/photos as the page sends it (multipart, the upload header). */
export async function postSlatePhotos(url: string, photos: Array<{ name: string; bytes: Buffer }>, headers: Record<string, string> = { [UPLOAD_HEADER]: '1' }): Promise<{ status: number; body: any }> {
  const form = new FormData();
  for (const p of photos) form.append('photos', new Blob([new Uint8Array(p.bytes)], { type: 'image/jpeg' }), p.name);
  const res = await fetch(`${url}/api/slate/photos`, { method: 'POST', body: form, headers });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: kept as text
  }
  return { status: res.status, body };
}
