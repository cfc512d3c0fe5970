import { execFileSync, spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const REPO = resolve(__dirname, '..', '..');
export const KIOSK_DIR = join(REPO, 'kiosk');

export function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      return statSync(join(dir, tool)).isFile();
    } catch {
      return false;
    }
  });
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * What a suite needs that this machine lacks, as words for the skip message; [] when all is there.
 * `tools` are programs looked up on PATH.
 */
export function missing(tools: string[], needsRoot: boolean): string[] {
  const lacking = tools.filter((tool) => !onPath(tool));
  if (needsRoot && !isRoot()) lacking.push('root privileges');
  return lacking;
}

/**
 * A suite that cannot run here says so on the console and shows up as skipped in jest's summary: it never
 * passes silently. `what` names the suite, `hint` how to get what is missing.
 */
export function describeIf(lacking: string[], what: string, hint: string): jest.Describe {
  if (lacking.length === 0) return describe;
  // eslint-disable-next-line no-console
  console.warn(`${what} SKIPPED: missing ${lacking.join(', ')} (${hint})`);
  return describe.skip;
}

/** Runs a program and returns its stdout; throws with stdout and stderr when it fails. */
export function run(file: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): string {
  const result = spawnSync(file, args, { encoding: 'utf8', input: options.input, env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${file} ${args.join(' ')} exited with ${result.status ?? result.signal}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

/** Like run, but returns status, stdout and stderr instead of throwing. */
export function attempt(file: string, args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(file, args, { encoding: 'utf8', input: options.input, env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function quietly(file: string, args: string[]): void {
  try {
    execFileSync(file, args, { stdio: 'ignore' });
  } catch {
    // best effort (clean-up)
  }
}
