// `npm run bench -- slate` (or `npm run bench:slate`): the time slate's error against a known camera offset, and
// its bound, over synthetic photos at several degradations.
//
// Each photo: a slate code (the page's format, drawn by `qrcode` where the page draws it on an 800x424 canvas),
// degraded by ImageMagick as a camera would (scaled into a bigger picture, blurred, in perspective, all of it with
// noise; JPEG quality 70), stamped by exiftool as a camera whose clock is `offset` ahead would stamp it. What the
// photo cannot show is drawn at random inside the bound's assumptions: how late the frame reached the screen (0 to
// one frame), the page's own error (±1 ms), where in the frame the shutter opened, and the camera's truncation to
// 10 ms. Then `readSlatePhoto` (the product's reader) and, per camera, the product's grouping.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSlateCode } from '../../backend/protocol/slate-code';
import { groupOffset } from '../../backend/slate/slate-bound';
import { readSlatePhoto } from '../../backend/slate/slate-reader';
import { mulberry32 } from '../../backend/common/prng';
import { writeTags } from '../support/exiftool';
import { assertImageMagick, convert, degrade, Degradation, exifStamp } from '../support/slate-photos';
import { runWhenMain } from './report';

const KINDS: Array<Degradation | 'none'> = ['none', 'scaled', 'blurred', 'perspective', 'everything'];
const CAMERAS = 6;
const FRAME_MS = 1000 / 60;
const EXPOSURE_MS = 4; // 1/250 s
const PAGE_ERR_MS = 1;
const LATENCY_FRAMES = 1;
const PI_ID = 'bench-pi';

interface PhotoRow {
  camera: number;
  kind: string;
  decoded: boolean;
  refusal?: string;
  errorMs?: number;
  boundMs?: number;
}

export async function measureSlate(): Promise<{ rows: PhotoRow[]; groups: Array<{ camera: number; errorMs: number; boundMs: number; photos: number }> }> {
  assertImageMagick();
  const work = mkdtempSync(join(tmpdir(), 'slate-bench-'));
  const random = mulberry32(20261202);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  try {
    const QR = await import('qrcode');
    const base = Date.UTC(2026, 11, 2, 9, 0, 0);
    const photos: Array<{ camera: number; kind: string; path: string; offsetMs: number }> = [];
    const stamps: Array<{ path: string; tags: Record<string, string> }> = [];
    for (let c = 0; c < CAMERAS; c++) {
      const offsetMs = Math.round(uniform(-120_000, 120_000) * 1000) / 1000;
      for (const [k, kind] of KINDS.entries()) {
        const slateMs = base + c * 60_000 + k * 1700 + Math.round(uniform(0, 1000));
        const text = formatSlateCode({ piId: PI_ID, unixMs: slateMs, frame: c * 100 + k, frameMs: FRAME_MS, errMs: PAGE_ERR_MS, clock: 'beef.0' });
        const name = `c${c}-${kind}`;
        const qr = join(work, `${name}-qr.png`);
        const png = join(work, `${name}.png`);
        const jpg = join(work, `${name}.jpg`);
        await QR.toFile(qr, text, { errorCorrectionLevel: 'M', margin: 4, width: 424 });
        await convert(['-size', '800x424', 'xc:white', qr, '-gravity', 'west', '-composite', png]);
        await degrade(png, jpg, kind, { width: 800, height: 424 });
        // The physics the photo does not show, inside the bound's assumptions.
        const pageError = uniform(-PAGE_ERR_MS, PAGE_ERR_MS); // the probe and the code's whole ms, within the code's errMs
        const onScreen = slateMs + pageError + uniform(0, LATENCY_FRAMES * FRAME_MS);
        const shutter = uniform(onScreen - EXPOSURE_MS, onScreen + FRAME_MS);
        stamps.push({ path: jpg, tags: { ...exifStamp(shutter + offsetMs, 60), ExposureTime: '1/250', Make: 'Canon', Model: `Canon EOS bench ${c}`, SerialNumber: `BENCH${c}` } });
        photos.push({ camera: c, kind, path: jpg, offsetMs });
      }
    }
    await writeTags(stamps, join(work, 'stamps.args'));
    const rows: PhotoRow[] = [];
    const byCamera = new Map<number, Array<{ offsetMs: number; boundMs: number; lowMs: number; highMs: number; slateMs: number; truth: number }>>();
    for (const p of photos) {
      const r = await readSlatePhoto(readFileSync(p.path), { piId: PI_ID, piZone: 'UTC', latencyFrames: LATENCY_FRAMES });
      if (!r.ok) {
        rows.push({ camera: p.camera, kind: p.kind, decoded: false, refusal: r.code });
        continue;
      }
      rows.push({ camera: p.camera, kind: p.kind, decoded: true, errorMs: r.offsetMs - p.offsetMs, boundMs: r.boundMs });
      byCamera.set(p.camera, [...(byCamera.get(p.camera) ?? []), { offsetMs: r.offsetMs, boundMs: r.boundMs, lowMs: r.lowMs, highMs: r.highMs, slateMs: r.code.unixMs, truth: p.offsetMs }]);
    }
    const groups = [...byCamera.entries()].map(([camera, list]) => {
      const g = groupOffset(list);
      return { camera, errorMs: g.offsetMs - list[0].truth, boundMs: g.boundMs, photos: list.length };
    });
    return { rows, groups };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, n) => r.map((c, i) => c.padEnd(widths[i])).join('  ') + (n === 0 ? '\n' + widths.map((w) => '-'.repeat(w)).join('  ') : '')).join('\n');
}

export async function main(): Promise<void> {
  console.log(`\n## Time slate: error against a known camera offset, and its bound (${CAMERAS} cameras x ${KINDS.length} degradations, 60 Hz, 1/250 s, page ±${PAGE_ERR_MS} ms, JPEG quality 70)\n`);
  const { rows, groups } = await measureSlate();
  const decoded = rows.filter((r) => r.decoded);
  const inside = decoded.filter((r) => Math.abs(r.errorMs!) <= r.boundMs!);
  const perKind = KINDS.map((kind) => {
    const list = rows.filter((r) => r.kind === kind);
    const ok = list.filter((r) => r.decoded);
    return [kind, `${ok.length}/${list.length}`, ok.length ? median(ok.map((r) => Math.abs(r.errorMs!))).toFixed(1) : '-', ok.length ? Math.max(...ok.map((r) => Math.abs(r.errorMs!))).toFixed(1) : '-', ok.length ? median(ok.map((r) => r.boundMs!)).toFixed(1) : '-', `${ok.filter((r) => Math.abs(r.errorMs!) <= r.boundMs!).length}/${ok.length}`];
  });
  console.log(table([['degradation', 'read', '|error| median (ms)', '|error| max (ms)', 'bound median (ms)', 'within bound'], ...perKind]));
  const groupInside = groups.filter((g) => Math.abs(g.errorMs) <= g.boundMs);
  const photoBound = median(decoded.map((r) => r.boundMs!));
  const groupBound = median(groups.map((g) => g.boundMs));
  console.log('');
  console.log(
    table([
      ['figure', 'measured', 'goal', 'met'],
      ['photos read', `${decoded.length}/${rows.length}`, '>= 20', decoded.length >= 20 ? 'yes' : 'NO'],
      ['photos within their bound', `${inside.length}/${decoded.length}`, '100 %', inside.length === decoded.length ? 'yes' : 'NO'],
      ['bound of one photo, median (ms)', photoBound.toFixed(1), '<= 25', photoBound <= 25 ? 'yes' : 'NO'],
      [`cameras (${KINDS.length} photos each) within their bound`, `${groupInside.length}/${groups.length}`, '100 %', groupInside.length === groups.length ? 'yes' : 'NO'],
      ['bound of a camera from its photos, median (ms)', groupBound.toFixed(1), '<= 25', groupBound <= 25 ? 'yes' : 'NO'],
      ['|error| of a camera from its photos, max (ms)', Math.max(...groups.map((g) => Math.abs(g.errorMs))).toFixed(1), '', ''],
    ]),
  );
  const refused = rows.filter((r) => !r.decoded);
  if (refused.length) console.log(`\nNot read: ${refused.map((r) => `c${r.camera}-${r.kind} (${r.refusal})`).join(', ')}`);
}

runWhenMain(module, main);
