import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LAUNCHER = join(__dirname, '..', '..', 'kiosk', 'launch-kiosk.sh');

/**
 * kiosk/launch-kiosk.sh with stand-ins for curl (the server answers, writing its health answer where asked) and
 * chromium (records its arguments, then stops the launcher, which would otherwise start it again).
 */
function launch(env: Record<string, string>): { status: number | null; args: string[]; stderr: string } {
  const bin = mkdtempSync(join(tmpdir(), 'kiosk-bin-'));
  const argsFile = join(bin, 'chromium-args');
  writeFileSync(join(bin, 'curl'), '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --output ] && printf \'{"ok":true,"version":"1"}\' > "$2"; shift; done\nexit 0\n');
  writeFileSync(join(bin, 'chromium'), `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > ${argsFile}\nkill -TERM $PPID\n`);
  chmodSync(join(bin, 'curl'), 0o755);
  chmodSync(join(bin, 'chromium'), 0o755);
  const run = spawnSync('/bin/sh', [LAUNCHER], { env: { PATH: `${bin}:/usr/bin:/bin`, TMPDIR: bin, KIOSK_SETTINGS: '/nonexistent', ...env }, encoding: 'utf8', timeout: 10_000 });
  let args: string[] = [];
  try {
    args = readFileSync(argsFile, 'utf8').trim().split('\n');
  } catch {
    args = [];
  }
  return { status: run.status, args, stderr: run.stderr };
}

/** The browser is started on a page of the launcher's that jumps to the app: the URL it jumps to. */
function opened(args: string[]): string {
  const last = args.at(-1) ?? '';
  expect(last).toMatch(/^file:\/\/.*\/pi-camera-timesync-kiosk\.\d+\/open\.html$/);
  const file = last.slice('file://'.length);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const m = /<meta http-equiv="refresh" content="0; url=([^"]*)">/.exec(readFileSync(file, 'utf8'));
  return (m?.[1] ?? '').replace(/&amp;/g, '&');
}

describe('kiosk/launch-kiosk.sh', () => {
  it("opens the page with the server's kiosk secret, read from KIOSK_TOKEN_FILE", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kiosk-')), 'kiosk-token');
    writeFileSync(file, 'S3cr3t_secret-value\n');
    const run = launch({ PORT: '8080', KIOSK_TOKEN_FILE: file });
    expect(run.status).toBe(0);
    expect(opened(run.args)).toBe('http://127.0.0.1:8080/?kiosk=S3cr3t_secret-value');
    expect(run.args).toContain('--kiosk');
    expect(run.args.join(' ')).not.toContain('S3cr3t');
    expect(run.stderr).not.toContain('S3cr3t');
  });

  it('finds the secret in DATA_DIR by default', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiosk-'));
    writeFileSync(join(dir, 'kiosk-token'), 'abc\n');
    expect(opened(launch({ DATA_DIR: dir }).args)).toBe('http://127.0.0.1:80/?kiosk=abc');
  });

  it('without a readable secret, shows the page as a visitor and says why', () => {
    const run = launch({ PORT: '3000', KIOSK_TOKEN_FILE: '/nonexistent/kiosk-token' });
    expect(opened(run.args)).toBe('http://127.0.0.1:3000/');
    expect(run.stderr).toContain('cannot read the kiosk secret /nonexistent/kiosk-token');
  });

  it('KIOSK_URL still wins', () => {
    expect(opened(launch({ KIOSK_URL: 'http://127.0.0.1:9/x?a=1&b=2' }).args)).toBe('http://127.0.0.1:9/x?a=1&b=2');
  });
});
