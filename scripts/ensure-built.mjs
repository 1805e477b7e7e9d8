// `npm start` and `npm test` straight after a clone: install the dependencies and build when nobody has yet.
// The install takes minutes and npm ci prints nothing until it ends, so say what is happening first.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../node_modules/', import.meta.url))) {
  process.stderr.write('first run: installing dependencies (npm ci), a few minutes…\n');
  execSync('npm ci', { stdio: ['ignore', 2, 2] });
}
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  process.stderr.write('first run: building (npm run build)…\n');
  execSync('npm run build', { stdio: ['ignore', 2, 2] });
}
