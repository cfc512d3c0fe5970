import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO, run } from './host-tools';

export interface TestBundles {
  dir: string;
  /** `npm run package` output, version 0.0.1-test.a; beside it its .sha256. */
  a: string;
  /** The same files as version 0.0.1-test.b (a second release). */
  b: string;
  /** Version 0.0.1-test.broken: every checksum right, but its server exits at once (fails its health check). */
  broken: string;
  /** Version b with a file changed after packaging: its SHA256SUMS no longer match. */
  corrupt: string;
  versions: { a: string; b: string; broken: string };
}

export const VERSIONS = { a: '0.0.1-test.a', b: '0.0.1-test.b', broken: '0.0.1-test.broken' };

/** What the bundle is made of: a change to any of it makes a new bundle. */
function inputsKey(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const s = statSync(path);
        hash.update(`${relative(REPO, path)}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  for (const dir of ['kiosk', 'dist/backend', 'dist/frontend']) walk(join(REPO, dir));
  hash.update(readFileSync(join(REPO, 'package-lock.json')));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The bundles the install tests use, made once per change of their inputs (kiosk/, dist/, the lockfile)
 * in test-artifacts/kiosk-bundles/: `npm run package -- --no-build` (npm test has just built dist/), then
 * three variants of it.
 */
export function testBundles(): TestBundles {
  if (!existsSync(join(REPO, 'dist', 'backend', 'main.js')) || !existsSync(join(REPO, 'dist', 'frontend', 'index.html'))) {
    throw new Error('dist/ is missing: npm test builds it first (npm run build)');
  }
  const root = join(REPO, 'test-artifacts', 'kiosk-bundles');
  const dir = join(root, inputsKey());
  const name = (v: string) => join(dir, `pi-camera-timesync-${v}.tar.gz`);
  const bundles: TestBundles = { dir, a: name(VERSIONS.a), b: name(VERSIONS.b), broken: name(VERSIONS.broken), corrupt: join(dir, 'corrupt.tar.gz'), versions: VERSIONS };
  if (existsSync(join(dir, 'done'))) return bundles;

  rmSync(root, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  run('bash', [join(REPO, 'kiosk', 'package.sh'), '--no-build', '--out', dir], { env: { ...process.env, PACKAGE_VERSION: VERSIONS.a }, timeoutMs: 300_000 });

  const work = mkdtempSync(join(tmpdir(), 'bundles-'));
  try {
    const variant = (version: string, change: (top: string) => void, keepSums = false, out = name(version)) => {
      // keepSums: the SHA256SUMS of a, so VERSION and any change no longer match.
      const into = mkdtempSync(join(work, 'variant-'));
      run('tar', ['-xzf', bundles.a, '-C', into]);
      const top = join(into, `pi-camera-timesync-${version}`);
      renameSync(join(into, `pi-camera-timesync-${VERSIONS.a}`), top);
      writeFileSync(join(top, 'VERSION'), `${version}\n`);
      change(top);
      if (!keepSums) {
        const sums = run('sh', ['-c', "find . -type f ! -name SHA256SUMS -print0 | LC_ALL=C sort -z | xargs -0 sha256sum"], { cwd: top });
        writeFileSync(join(top, 'SHA256SUMS'), sums);
      }
      run('tar', ['--owner=0', '--group=0', '-czf', out, '-C', into, `pi-camera-timesync-${version}`]);
    };
    variant(VERSIONS.b, () => undefined);
    variant(VERSIONS.broken, (top) => writeFileSync(join(top, 'dist', 'backend', 'main.js'), "console.error('this version is broken on purpose'); process.exit(3);\n"));
    // b's files, one of them changed after its SHA256SUMS were written.
    variant(VERSIONS.b, (top) => writeFileSync(join(top, 'dist', 'frontend', 'index.html'), '<!doctype html><p>changed after packaging</p>\n'), true, bundles.corrupt);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeFileSync(join(dir, 'done'), new Date().toISOString());
  return bundles;
}
