// `npm start` and `npm test` straight after a clone: install the dependencies and build when nobody has yet.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../node_modules/', import.meta.url))) {
  execSync('npm ci', { stdio: ['ignore', 2, 2] });
}
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  execSync('npm run build', { stdio: ['ignore', 2, 2] });
}
