import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/**
 * The version of what is running: the VERSION file of the installed bundle (`npm run package` writes it
 * beside dist/), else package.json's version with `-dev` (a checkout). Read once, on first use.
 */
export function appVersion(): string {
  cached ??= findVersion(__dirname);
  return cached;
}

/** Looks upwards from `start` for a VERSION file, then a package.json. */
export function findVersion(start: string): string {
  for (let dir = start, depth = 0; depth < 6; depth++, dir = dirname(dir)) {
    const file = join(dir, 'VERSION');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return `${(JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version ?? '0.0.0'}-dev`;
  }
  return 'unknown';
}
