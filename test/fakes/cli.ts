/**
 * Runs the fake provider by hand: `npm run fake-provider -- --port 8787 [--host 127.0.0.1]`.
 * Prints the base URL on stderr and stops on SIGINT / SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startFakeProvider } from './fake-provider.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', short: 'p', default: '0' },
    host: { type: 'string', short: 'H', default: '127.0.0.1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.error('usage: npm run fake-provider -- [--port N] [--host H]   (modes: see test/fakes/README.md)');
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`fake-provider: --port must be an integer in 0..65535, got '${values.port}'`);
  process.exit(2);
}

const fake = await startFakeProvider({ port, host: values.host });
console.error(`fake provider listening on ${fake.url}`);
console.error(`  GLM base URL:  ${fake.url}/api/paas/v4    Kimi base URL: ${fake.url}/v1`);
console.error(`  pick a mode:   -H 'x-fake-mode: status,code=429'  or  ${fake.url}/mode/hang/v1`);

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  console.error(`fake-provider: ${signal}, closing (requests served: ${fake.requests.length})`);
  fake.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('fake-provider: close failed', error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
