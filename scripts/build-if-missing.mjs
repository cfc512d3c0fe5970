// `npm start` builds what is missing (a fresh clone has no dist/), then serves it.
import { existsSync } from 'node:fs';
import { execSync } from 'node:child_process';

const steps = [
  ['dist/backend/main.js', 'npm run build:backend'],
  ['dist/frontend/index.html', 'npm run build:frontend'],
];
for (const [output, command] of steps) {
  if (!existsSync(output)) {
    console.log(`${output} is missing: ${command}`);
    execSync(command, { stdio: 'inherit' });
  }
}
