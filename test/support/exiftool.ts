import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';

/**
 * The real exiftool (Debian's libimage-exiftool-perl) and the smallest JPEG it will write tags into: a 1x1
 * grey baseline image, segments only (exiftool never decodes the picture).
 */
export function minimalJpeg(): Buffer {
  const seg = (marker: number, body: number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  return Buffer.from([
    0xff, 0xd8,
    ...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]),
    ...seg(0xdb, [0x00, ...new Array(64).fill(1)]),
    ...seg(0xc0, [0x08, 0x00, 0x01, 0x00, 0x01, 0x01, 0x01, 0x11, 0x00]),
    ...seg(0xc4, [0x00, 1, ...new Array(15).fill(0), 0x00]),
    ...seg(0xc4, [0x10, 1, ...new Array(15).fill(0), 0x00]),
    ...seg(0xda, [0x01, 0x01, 0x00, 0x00, 0x3f, 0x00]),
    0x00, 0x00,
    0xff, 0xd9,
  ]);
}

export function exiftool(args: string[], cwd?: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    execFile('exiftool', args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error && typeof (error as NodeJS.ErrnoException).code === 'string') return reject(error); // not installed
      resolve({ stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 });
    });
  });
}

/** Writes tags into many files with one exiftool process: one -execute group per file, each naming its file. */
export async function writeTags(files: Array<{ path: string; tags: Record<string, string> }>, argsFile: string): Promise<void> {
  const lines: string[] = [];
  for (const f of files) {
    for (const [tag, value] of Object.entries(f.tags)) lines.push(`-${tag}=${value}`);
    lines.push('-overwrite_original', f.path, '-execute');
  }
  writeFileSync(argsFile, lines.join('\n') + '\n');
  const { code, stderr } = await exiftool(['-@', argsFile]);
  if (code !== 0) throw new Error(`exiftool could not write the test photos: ${stderr}`);
}

/** Every photo's tags as numbers-free text (-j), keyed by file name. */
export async function readTags(dir: string, tags: string[]): Promise<Record<string, Record<string, unknown>>> {
  const { stdout } = await exiftool(['-j', ...tags.map((t) => `-${t}`), dir]);
  const out: Record<string, Record<string, unknown>> = {};
  for (const item of JSON.parse(stdout) as Array<Record<string, unknown>>) out[String(item.SourceFile).split('/').pop()!] = item;
  return out;
}
