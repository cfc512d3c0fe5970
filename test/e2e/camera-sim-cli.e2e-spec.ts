import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
const MAIN = join(REPO, 'test', 'camera-sim', 'main.ts');
const run = (...args: string[]) =>
  spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', MAIN, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });

describe('npm run camera-sim -- --help', () => {
  it('prints the options it advertises and exits without starting a camera', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run camera-sim -- \[options\]/);
    expect(help.stdout).not.toMatch(/ready|listening/i);
    const advertised = [...help.stdout.matchAll(/^\s+--([a-z-]+)/gm)].map((m) => m[1]);
    expect(advertised).toEqual(expect.arrayContaining(['host', 'http-port', 'https-port', 'ssdp-port', 'offset-ms', 'count', 'dst', 'user', 'password', 'help']));
    // Every option it advertises is one main.ts reads.
    const source = readFileSync(MAIN, 'utf8');
    const read = advertised.filter((name) => name !== 'help' && !source.includes(`option('${name}'`) && !source.includes(`'--${name}'`));
    expect(read).toEqual([]);
    expect(run('-h').stdout).toBe(help.stdout);
  });

  it('refuses an unknown argument with the usage, instead of starting with defaults', () => {
    const bad = run('--offest-ms', '5');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('camera-sim: unknown argument "--offest-ms"');
    expect(bad.stderr).toContain('Usage: npm run camera-sim');
  });
});
