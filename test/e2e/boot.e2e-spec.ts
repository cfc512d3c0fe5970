import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'backend', 'main.js');

describe('Boot (the built server, as `npm start` runs it)', () => {
  beforeAll(() => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: npm test builds it first`);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT="eighty"/],
    [{ CLOCK_BACKEND: 'sundial' }, /CLOCK_BACKEND="sundial".*simulated, system/],
    [{ AP_SUBNETS: '10.42.0.0/99' }, /AP_SUBNETS/],
    [{ TIME_SYNC_INTERVAL: '-1' }, /TIME_SYNC_INTERVAL/],
  ])('stops on %p with a message naming the variable', (env, message) => {
    const run = spawnSync(process.execPath, [MAIN], { env: { ...process.env, CAMERA_DISCOVERY: 'false', ...env }, encoding: 'utf8', timeout: 15_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Invalid configuration/);
    expect(run.stderr).toMatch(message);
  });
});
