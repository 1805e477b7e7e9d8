// `npm start` straight after a clone without `npm ci`'s prepare step still finds a built server.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (!existsSync(new URL('../node_modules/', import.meta.url))) {
  execSync('npm ci', { stdio: ['ignore', 2, 2] });
}
if (!existsSync(new URL('../dist/cli/main.js', import.meta.url))) {
  execSync('npm run build', { stdio: ['ignore', 2, 2] });
}
