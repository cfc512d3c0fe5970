// `npm run demo`: what `npm start` does on a developer's machine (the simulated clock's first-run demo: this
// machine's browser trusted as a phone, a simulated camera in the app's own process), built first if needed,
// listening on 127.0.0.1 only. Kept as an alias for those who learnt it; see DEMO in the README.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (!existsSync(join(root, 'dist/backend/main.js')) || !existsSync(join(root, 'dist/frontend/index.html'))) {
  console.log('Building first (dist/ is missing)...');
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
}

if (process.env.CLOCK_BACKEND && process.env.CLOCK_BACKEND !== 'simulated') {
  console.error(`npm run demo runs the simulated clock only (CLOCK_BACKEND=${process.env.CLOCK_BACKEND} given)`);
  process.exit(2);
}

const app = spawn(process.execPath, ['dist/backend/main.js'], {
  cwd: root,
  env: { ...process.env, CLOCK_BACKEND: 'simulated', DEMO: 'true', PORT: process.env.PORT ?? '3000', HOST: process.env.HOST ?? '127.0.0.1' },
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => app.kill(signal));
app.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
