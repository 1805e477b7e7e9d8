/**
 * An exai-mcp server in this process, built by the real factory (createApp + createServer), driven by the real
 * MCP client over an in-memory transport (so cancel notifications flow as over stdio), with GLM and Kimi
 * pointed at the fake provider. For the workflow tests: fast, and a new server on the same data folder
 * stands in for a restart.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallToolResult, Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { type App, createApp } from '../../src/server/app.js';
import { createServer } from '../../src/server/create-server.js';

/** A base URL whose every request gets this fake-provider mode (`ok,content=…`, `hang`, …). */
export function modeUrl(fakeUrl: string, spec: string): string {
  return `${fakeUrl}/mode/${spec}/v1`;
}

/** A base URL that answers every request with this text. */
export function contentUrl(fakeUrl: string, content: string): string {
  return modeUrl(fakeUrl, `ok,content=${encodeURIComponent(content)}`);
}

export interface WorkflowServer {
  readonly client: Client;
  readonly app: App;
  /** The temp folder: allowed root, data folder of the SQLite store. */
  readonly dir: string;
  /** Calls a tool and returns the parsed JSON answer with the raw result. */
  call(
    name: string,
    args: Record<string, unknown>,
    options?: Parameters<Client['callTool']>[1],
  ): Promise<{ json: Record<string, unknown>; result: CallToolResult }>;
  /** Closes client, server and App, and removes the folder unless the caller gave it. */
  close(): Promise<void>;
}

export interface WorkflowServerOptions {
  /** Reuse a folder (a restart); default a new temp folder. */
  dir?: string;
  env?: Record<string, string>;
}

export function tempDir(): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), 'exai-wf-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export async function startWorkflowServer(options: WorkflowServerOptions): Promise<WorkflowServer> {
  const dir = options.dir ?? tempDir().path;
  const config = loadConfig({
    envFile: false,
    env: {
      // Never the real hosts: a provider the test does not point at the fake is a closed loopback port.
      GLM_API_URL: 'http://127.0.0.1:9/unset',
      KIMI_API_URL: 'http://127.0.0.1:9/unset',
      GLM_API_KEY: 'test-key-glm',
      KIMI_API_KEY: 'test-key-kimi',
      FALLBACK_ON_FAILURE: 'false',
      PROVIDER_RETRY_BASE_MS: '10',
      PROVIDER_RETRY_CAP_MS: '50',
      PROVIDER_MAX_RETRIES: '0',
      EXAI_STORE: 'memory',
      EXAI_DATA_DIR: dir,
      EXAI_ALLOWED_ROOTS: dir,
      PROGRESS_INTERVAL_SECS: '0.05',
      WORKFLOW_TOOL_TIMEOUT_SECS: '20',
      EXPERT_ANALYSIS_TIMEOUT_SECS: '10',
      GLM_TIMEOUT_SECS: '10',
      KIMI_TIMEOUT_SECS: '10',
      ...options.env,
    },
  });
  const app = createApp(config, { logger: silentLogger(), cwd: dir });
  const server = createServer(app);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'workflow-e2e', version: '0' });
  await client.connect(clientSide);
  return {
    client,
    app,
    dir,
    async call(name, args, callOptions) {
      const result = (await client.callTool({ name, arguments: args }, callOptions)) as CallToolResult;
      const first = result.content[0];
      if (result.content.length !== 1 || first?.type !== 'text') {
        throw new Error(`expected one text content, got ${JSON.stringify(result.content)}`);
      }
      let json: Record<string, unknown>;
      try {
        json = JSON.parse(first.text) as Record<string, unknown>;
      } catch {
        // The SDK's own input validation answers in plain text.
        json = { status: 'sdk_error', content: first.text };
      }
      return { json, result };
    },
    async close() {
      await client.close();
      await server.close();
      await app.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends the steps of one workflow in order, threading the continuation_id of step 1 into the later ones;
 * returns every answer.
 */
export async function walk(
  server: WorkflowServer,
  tool: string,
  steps: ReadonlyArray<Record<string, unknown>>,
): Promise<Array<Record<string, unknown>>> {
  const answers: Array<Record<string, unknown>> = [];
  let continuation: unknown;
  for (const step of steps) {
    const args = { ...step, continuation_id: step.continuation_id ?? continuation };
    const { json } = await server.call(tool, args);
    answers.push(json);
    continuation ??= json.continuation_id;
  }
  return answers;
}

/** The workflow tools that consult an expert at the final step. */
export const EXPERT_TOOLS = [
  'debug',
  'thinkdeep',
  'analyze',
  'codereview',
  'refactor',
  'testgen',
  'secaudit',
  'precommit',
];

/** A git repository with one commit and a staged change, for precommit. */
export function initRepo(dir: string): void {
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], {
      cwd: dir,
      stdio: 'ignore',
    });
  git('init', '-q');
  writeFileSync(join(dir, 'app.ts'), 'export const a = 1;\n');
  git('add', 'app.ts');
  git('commit', '-q', '-m', 'init');
  writeFileSync(join(dir, 'app.ts'), 'export const a = 2;\n');
  git('add', 'app.ts');
}

/** What each tool needs at step 1 besides the protocol fields (precommit expects initRepo(dir)). */
export function step1Extras(tool: string, dir: string): Record<string, unknown> {
  switch (tool) {
    case 'precommit':
      return { path: dir };
    case 'tracer':
      return { trace_mode: 'precision' };
    case 'consensus':
      return { models: [{ model: 'glm-4.6', stance: 'for' }] };
    default:
      return {};
  }
}
