/**
 * Shared pieces of the end-to-end tests: the built binary, a temp working folder per server, the environment
 * that points GLM and Kimi at the fake provider, fake-mode models, and reading a ToolOutput back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { afterAll, beforeAll } from 'vitest';
import { type FakeProvider, startFakeProvider } from '../fakes/fake-provider.js';

export const BIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(BIN))
    throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm test does)');
}

/**
 * Models whose names select a fake-provider mode (`fake-<spec>` in the request body), routed to GLM. They
 * have no equivalent, so a failure never falls back to Kimi.
 */
export const FAKE = {
  hang: 'fake-hang',
  slow: 'fake-slow,chunks=6,every=150',
  delay: 'fake-delay,ms=400',
} as const;

export interface WorkDir {
  readonly path: string;
  cleanup(): Promise<void>;
}

/** A temp folder used as the server's working directory (so no .env of the repo is read), data dir and root. */
/** A models-file entry for a name that selects a fake-provider mode. */
export function fakeModelEntry(name: string, options: { provider?: 'glm' | 'kimi'; vision?: boolean } = {}) {
  return {
    name,
    provider: options.provider ?? 'glm',
    contextWindow: 32_000,
    maxOutputTokens: 1024,
    thinking: 'none',
    vision: options.vision ?? false,
    description: 'fake-provider mode',
  };
}

export async function workDir(prefix = 'exai-e2e-'): Promise<WorkDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(
    join(path, 'models.json'),
    JSON.stringify({
      models: Object.values(FAKE).map(name => fakeModelEntry(name, { vision: true })),
    }),
  );
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

export interface EnvOptions {
  /** Base URL of the fake provider; omit for a server with no API keys. */
  fakeUrl?: string;
  store?: 'memory' | 'sqlite';
  extra?: Record<string, string>;
}

export function serverEnv(dir: WorkDir, options: EnvOptions = {}): Record<string, string> {
  const keys: Record<string, string> = options.fakeUrl
    ? {
        GLM_API_KEY: 'test-key-glm-secret',
        GLM_API_URL: `${options.fakeUrl}/v1`,
        KIMI_API_KEY: 'test-key-kimi-secret',
        KIMI_API_URL: `${options.fakeUrl}/v1`,
      }
    : {};
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir.path,
    XDG_DATA_HOME: join(dir.path, 'xdg'),
    EXAI_STORE: options.store ?? 'memory',
    EXAI_DATA_DIR: join(dir.path, 'data'),
    EXAI_MODELS_FILE: join(dir.path, 'models.json'),
    EXAI_ALLOWED_ROOTS: dir.path,
    LOG_LEVEL: 'warn',
    PROGRESS_INTERVAL_SECS: '0.2',
    PROVIDER_RETRY_BASE_MS: '10',
    PROVIDER_RETRY_CAP_MS: '50',
    ...keys,
    ...options.extra,
  };
}

export interface ToolOutput {
  status: string;
  content: string | null;
  content_type: string;
  metadata: Record<string, unknown> & { tool_name: string };
  continuation_offer: { continuation_id: string; note: string; remaining_turns: number } | null;
}

/** The ToolOutput of a result: the one text content parsed, checked against structuredContent. */
export function outputOf(result: CallToolResult): ToolOutput {
  const first = result.content[0];
  if (result.content.length !== 1 || first?.type !== 'text') {
    throw new Error(`expected one text content, got ${JSON.stringify(result.content)}`);
  }
  const output = JSON.parse(first.text) as ToolOutput;
  if (JSON.stringify(result.structuredContent) !== JSON.stringify(output)) {
    throw new Error('structuredContent differs from the text content');
  }
  return output;
}

/**
 * The data of a report (listmodels, status, version): readable Markdown as the one text content, the data
 * as structuredContent.content.
 */
// biome-ignore lint/suspicious/noExplicitAny: reports are free-form JSON the tests navigate
export function reportOf(result: CallToolResult): { text: string; data: any } {
  const first = result.content[0];
  if (result.content.length !== 1 || first?.type !== 'text') {
    throw new Error(`expected one text content, got ${JSON.stringify(result.content)}`);
  }
  const structured = result.structuredContent as { status?: string; content?: unknown } | undefined;
  if (structured?.status !== 'success' || typeof structured.content !== 'object') {
    throw new Error(`expected a report in structuredContent, got ${JSON.stringify(structured)}`);
  }
  return { text: first.text, data: structured.content };
}

/**
 * Resolves once the fake provider holds at least n requests open (its own waitForActive waits for "at most",
 * which is what a test needs after a cancel, not before one).
 */
export async function upstreamActive(fake: FakeProvider, n = 1, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (fake.stats().activeRequests < n) {
    if (performance.now() > until) {
      throw new Error(
        `the fake provider has ${fake.stats().activeRequests} active requests, not ${n}, after ${timeoutMs} ms`,
      );
    }
    await new Promise(resolve => setTimeout(resolve, 10));
  }
}

/** Waits for a child to exit; resolves with its exit code (null when killed by a signal). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise(resolve => child.once('exit', code => resolve(code)));
}

/** Ends a child politely, then firmly: no test leaves a process behind. */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 6_000,
): Promise<number | null> {
  const done = exited(child);
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

export interface HttpProcess {
  readonly child: ChildProcess;
  /** http://127.0.0.1:PORT/mcp */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `exai-mcp http --port 0 ...` and resolves once it prints the URL it listens on. */
export async function startHttpProcess(
  dir: WorkDir,
  env: Record<string, string>,
  args: string[] = [],
): Promise<HttpProcess> {
  const child = spawn(process.execPath, [BIN, 'http', '--port', '0', ...args], {
    cwd: dir.path,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', d => {
    stdout += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const settle = (error: Error | undefined, value?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!error) return resolve(value ?? '');
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\nstdout: ${stdout}\nstderr: ${stderr}`));
    };
    const timer = setTimeout(() => settle(new Error('no "listening on" line within 15 s')), 15_000);
    child.stderr.on('data', d => {
      stderr += d;
      const match = /listening on (http:\/\/[^\s"]+\/mcp)/.exec(stderr);
      if (match?.[1]) settle(undefined, match[1]);
    });
    child.once('exit', code => settle(new Error(`the server exited with code ${code}`)));
  });
  return {
    child,
    url,
    origin: url.replace(/\/mcp$/, ''),
    stderr: () => stderr,
    stop: signal => stopChild(child, signal),
  };
}

/** A fake provider and a work folder for one describe block, both gone after it. */
export interface FakeAndWorkDir {
  readonly fake: FakeProvider;
  readonly dir: WorkDir;
}

export function fakeAndWorkDir(): FakeAndWorkDir {
  let fake: FakeProvider | undefined;
  let dir: WorkDir | undefined;
  beforeAll(async () => {
    assertBuilt();
    fake = await startFakeProvider();
    dir = await workDir();
  });
  afterAll(async () => {
    await fake?.close();
    await dir?.cleanup();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fake provider and work folder start in beforeAll');
    return value;
  };
  return {
    get fake() {
      return ready(fake);
    },
    get dir() {
      return ready(dir);
    },
  };
}
