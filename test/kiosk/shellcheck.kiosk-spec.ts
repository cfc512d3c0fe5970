/** Every shell script of the project passes shellcheck at warning level (sh scripts as sh, bash as bash). */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { attempt, describeIf, missing, REPO } from './host-tools';

/** Files under these folders that are shell scripts: a .sh name, or a sh/bash shebang. */
function shellScripts(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === 'node_modules' || name === 'dist' || name === 'test-artifacts' || name.startsWith('.git')) continue;
      const path = join(dir, name);
      const s = statSync(path);
      if (s.isDirectory()) walk(path);
      else if (name.endsWith('.sh') || /^#!\s*(\/usr\/bin\/env\s+)?(\/bin\/)?(ba)?sh\b/.test(readFileSync(path, 'utf8').slice(0, 64))) found.push(relative(REPO, path));
    }
  };
  for (const dir of ['kiosk', 'test', '.ci']) walk(join(REPO, dir));
  return found.sort();
}

describeIf(missing(['shellcheck'], false), 'shellcheck', 'Debian: apt-get install shellcheck')('shellcheck', () => {
  const scripts = shellScripts();

  it('finds the scripts (the installer, the screen, the tests, CI)', () => {
    for (const script of ['kiosk/install.sh', 'kiosk/launch-kiosk.sh', 'kiosk/start-cage.sh', 'kiosk/kiosk-lib.sh', 'kiosk/package.sh', 'test/run.sh', '.ci/run', 'test/integration/dbus-sandbox.sh', 'test/kiosk/sandbox/root-sandbox.sh']) {
      expect(scripts).toContain(script);
    }
  });

  it.each(scripts)('%s has no warnings', (script) => {
    const r = attempt('shellcheck', ['--severity=warning', '--external-sources', script], { cwd: REPO });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
