import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findVersion } from './version';

describe(findVersion.name, () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'version-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("reads an installed bundle's VERSION from dist/backend/common", () => {
    mkdirSync(join(root, 'dist', 'backend', 'common'), { recursive: true });
    writeFileSync(join(root, 'VERSION'), '1.2.3+abc1234\n');
    writeFileSync(join(root, 'package.json'), '{"version":"1.2.3"}');
    expect(findVersion(join(root, 'dist', 'backend', 'common'))).toBe('1.2.3+abc1234');
  });

  it("says -dev with package.json's version in a checkout", () => {
    mkdirSync(join(root, 'backend', 'common'), { recursive: true });
    writeFileSync(join(root, 'package.json'), '{"version":"0.4.0"}');
    expect(findVersion(join(root, 'backend', 'common'))).toBe('0.4.0-dev');
  });
});
