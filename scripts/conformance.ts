/**
 * `npm run conformance`: the ecosystem's own checks against our Streamable HTTP server, run on Node 22
 * (both validators need it): the official MCP conformance suite with an expected-failures baseline (a new
 * failure fails the run, and so does a stale entry), then the MCP Inspector CLI over HTTP and stdio.
 * The server runs from dist/ against the fake provider, so tool calls answer without any network.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeProvider } from '../test/fakes/fake-provider.js';
import { ensureNode22 } from './node22.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node22 = ensureNode22(root);
const fake = await startFakeProvider();
const dataDir = mkdtempSync(join(tmpdir(), 'exai-conformance-'));
const serverEnv = {
  PATH: process.env.PATH ?? '',
  GLM_API_KEY: 'conformance-key',
  GLM_API_URL: `${fake.url}/v1`,
  KIMI_API_URL: `${fake.url}/v1`,
  EXAI_STORE: 'memory',
  EXAI_DATA_DIR: dataDir,
  LOG_LEVEL: 'warn',
};
const failures: string[] = [];
let server: ChildProcess | undefined;

try {
  const port = await freePort();
  server = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'http', '--port', String(port)], {
    env: serverEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/mcp`;
  await waitForHealth(`http://127.0.0.1:${port}/healthz`);

  await step('conformance suite', [
    node22.bin('conformance'),
    'server',
    '--url',
    url,
    '--expected-failures',
    join(root, 'conformance/expected-failures.yml'),
    '--output-dir',
    join(root, '.cache/conformance-results'),
  ]);

  const inspector = (args: string[], label: string) =>
    step(`inspector: ${label}`, [node22.bin('mcp-inspector'), '--cli', ...args]);
  await inspector([url, '--transport', 'http', '--method', 'tools/list'], 'tools/list over HTTP');
  await inspector(
    [
      url,
      '--transport',
      'http',
      '--method',
      'tools/call',
      '--tool-name',
      'chat',
      '--tool-arg',
      'prompt=hello',
      '--tool-arg',
      'model=glm-4.6',
    ],
    'chat over HTTP',
  );
  await inspector(
    [url, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'listmodels'],
    'listmodels over HTTP',
  );
  const stdioEnv = Object.entries(serverEnv).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  await strictSchemas(stdioEnv);
  await inspector(
    [
      ...stdioEnv,
      process.execPath,
      join(root, 'dist/cli/main.js'),
      '--method',
      'tools/call',
      '--tool-name',
      'challenge',
      '--tool-arg',
      'prompt=Are you sure?',
    ],
    'challenge over stdio',
  );
} finally {
  server?.kill('SIGTERM');
  await fake.close();
  rmSync(dataDir, { recursive: true, force: true });
}

if (failures.length > 0) {
  process.stderr.write(`\nconformance: ${failures.length} step(s) failed: ${failures.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write('\nconformance: all steps passed\n');

/** Runs a validator without blocking this process: the fake provider serving the tool calls lives here. */
async function step(label: string, [command, ...args]: string[]): Promise<void> {
  process.stdout.write(`\n── ${label}\n`);
  const child = spawn(node22.node, [command!, ...args], {
    stdio: 'inherit',
    timeout: 300_000,
    env: { ...process.env, PATH: `${dirname(node22.node)}:${process.env.PATH ?? ''}` },
  });
  const code = await new Promise<number | string>(resolve =>
    child.once('close', (c, signal) => resolve(c ?? signal ?? 'killed')),
  );
  if (code !== 0) failures.push(`${label} (exit ${code})`);
}

/**
 * The Inspector's schema portability lint over stdio. `--strict` fails only on error-severity findings, so the
 * JSON envelope is read too: a warning (a type union, an untyped or bare-true schema) fails this step as well.
 */
async function strictSchemas(stdioEnv: string[]): Promise<void> {
  const label = 'inspector: tools/list over stdio, --strict schema lint (0 errors, 0 warnings)';
  process.stdout.write(`\n── ${label}\n`);
  const child = spawn(
    node22.node,
    [
      node22.bin('mcp-inspector'),
      '--cli',
      ...stdioEnv,
      process.execPath,
      join(root, 'dist/cli/main.js'),
      '--method',
      'tools/list',
      '--strict',
      '--format',
      'json',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 300_000,
      env: { ...process.env, PATH: `${dirname(node22.node)}:${process.env.PATH ?? ''}` },
    },
  );
  let out = '';
  child.stdout.on('data', chunk => {
    out += chunk;
  });
  const code = await new Promise<number | string>(resolve =>
    child.once('close', (c, signal) => resolve(c ?? signal ?? 'killed')),
  );
  let findings: unknown[] = [];
  let tools = 0;
  try {
    const envelope = JSON.parse(out) as { result?: { tools?: unknown[] }; schemaFindings?: unknown[] };
    findings = envelope.schemaFindings ?? [];
    tools = envelope.result?.tools?.length ?? 0;
  } catch {
    failures.push(`${label} (unreadable output)`);
    return;
  }
  process.stdout.write(`${tools} tools, ${findings.length} tools with findings\n`);
  if (findings.length > 0) process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  if (code !== 0 || findings.length > 0 || tools === 0) failures.push(`${label} (exit ${code})`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHealth(url: string): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`the server did not answer ${url} within 15 s`);
}
