/**
 * Server replicas for the scale-out tests: each one a full server in this process (createApp + the Streamable
 * HTTP server), all sharing one Redis, each pointing GLM and Kimi at the fake provider under a path naming
 * the replica (`/replica-1/glm/v1`), so the fake's request log says who called. Plus a round-robin load
 * balancer in front of them, as nginx would be, and an MCP client factory for either protocol era.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CallToolResult, Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { type App, createApp } from '../../src/server/app.js';
import { type RunningHttpServer, startHttpServer } from '../../src/server/http/server.js';
import { fakeModelEntry } from '../e2e/harness.js';

/** Models whose names pick a fake-provider mode; none has an equivalent, so none falls back. */
export const FAKE_MODELS = {
  /** GLM, answers `echo: …`. */
  ok: 'fake-ok',
  /** GLM, HTTP 503 (overloaded). */
  down: 'fake-status,code=503',
  /** GLM, a slow stream for progress. */
  slow: 'fake-slow,chunks=8,every=100',
  /** GLM, never answers. */
  hang: 'fake-hang',
  /** Kimi, HTTP 429 with retry-after: 2 s. */
  limited: 'fake-status,code=429,retryafter=2',
} as const;

export interface Replica {
  readonly id: string;
  readonly app: App;
  readonly http: RunningHttpServer;
  /** http://127.0.0.1:PORT/mcp */
  readonly url: string;
  close(): Promise<void>;
}

export interface Workspace {
  readonly dir: string;
  readonly modelsFile: string;
  cleanup(): void;
}

export function workspace(): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'exai-replicas-'));
  const modelsFile = join(dir, 'models.json');
  const model = (name: string, provider: 'glm' | 'kimi') => ({
    name,
    provider,
    contextWindow: 32_000,
    maxOutputTokens: 1024,
    thinking: 'none',
    vision: false,
    description: 'fake-provider mode',
  });
  writeFileSync(
    modelsFile,
    JSON.stringify({
      models: [
        model(FAKE_MODELS.ok, 'glm'),
        model(FAKE_MODELS.down, 'glm'),
        model(FAKE_MODELS.slow, 'glm'),
        model(FAKE_MODELS.hang, 'glm'),
        model(FAKE_MODELS.limited, 'kimi'),
      ],
    }),
  );
  return { dir, modelsFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startReplica(options: {
  id: string;
  redisUrl: string;
  keyPrefix: string;
  fakeUrl: string;
  workspace: Workspace;
  env?: Record<string, string>;
}): Promise<Replica> {
  const { id, workspace: ws } = options;
  const config = loadConfig({
    envFile: false,
    env: {
      GLM_API_KEY: 'test-key-glm',
      KIMI_API_KEY: 'test-key-kimi',
      GLM_API_URL: `${options.fakeUrl}/${id}/glm/v1`,
      KIMI_API_URL: `${options.fakeUrl}/${id}/kimi/v1`,
      EXAI_STORE: 'redis',
      REDIS_URL: options.redisUrl,
      REDIS_KEY_PREFIX: options.keyPrefix,
      EXAI_REPLICA_ID: id,
      EXAI_MODELS_FILE: ws.modelsFile,
      EXAI_ALLOWED_ROOTS: ws.dir,
      EXAI_DATA_DIR: ws.dir,
      FALLBACK_ON_FAILURE: 'true',
      BREAKER_FAILURE_THRESHOLD: '2',
      BREAKER_RESET_SECS: '4',
      PROVIDER_MAX_RETRIES: '0',
      PROVIDER_RETRY_BASE_MS: '10',
      PROVIDER_RETRY_CAP_MS: '50',
      PROGRESS_INTERVAL_SECS: '0.05',
      MAX_CONVERSATION_TURNS: '200',
      WORKFLOW_TOOL_TIMEOUT_SECS: '20',
      EXPERT_ANALYSIS_TIMEOUT_SECS: '15',
      GLM_TIMEOUT_SECS: '15',
      KIMI_TIMEOUT_SECS: '15',
      ...options.env,
    },
  });
  const app = createApp(config, { logger: silentLogger(), cwd: ws.dir });
  await app.store.ready?.();
  const http = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  await waitUntil(
    () => {
      const health = app.gateway.sharedHealth();
      return health.enabled && health.connected;
    },
    5_000,
    `${id}: shared health connected`,
  );
  return {
    id,
    app,
    http,
    url: http.url,
    async close() {
      await http.close();
      await app.close();
    },
  };
}

/** Resolves once `predicate` holds; rejects naming `what` after `timeoutMs`. For hooks, where expect.poll is not allowed. */
export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

export interface Balancer {
  /** http://127.0.0.1:PORT/mcp */
  readonly url: string;
  /** Each request in arrival order: the replica (index) it went to and its JSON-RPC method(s), if any. */
  readonly routed: Array<{ replica: number; method: string }>;
  close(): Promise<void>;
}

/**
 * Round robin over the replicas' origins, request by request, with no affinity — the worst case for a server
 * that keeps sessions. Streams responses; a client that goes away aborts the upstream request (as nginx does).
 */
export async function startBalancer(targets: readonly string[]): Promise<Balancer> {
  const routed: Balancer['routed'] = [];
  let next = 0;
  const server: Server = createServer(async (req, res) => {
    const replica = next++ % targets.length;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    routed.push({ replica, method: methodsOf(req.method ?? 'GET', body) });
    const target = new URL(req.url ?? '/', targets[replica]);
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, answer => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end();
      else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    routed,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function methodsOf(httpMethod: string, body: Buffer): string {
  if (body.length === 0) return httpMethod;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { method?: string } | Array<{ method?: string }>;
    return (Array.isArray(parsed) ? parsed : [parsed]).map(m => m.method ?? 'response').join(',');
  } catch {
    return httpMethod;
  }
}

export type Era = 'legacy' | 'modern';

export async function connect(url: string, era: Era): Promise<Client> {
  const client = new Client(
    { name: `replicas-${era}`, version: '0' },
    era === 'modern' ? { versionNegotiation: { mode: 'auto' } } : {},
  );
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

export interface ToolAnswer {
  json: Record<string, unknown>;
  result: CallToolResult;
}

/** Calls a tool and parses its one JSON text content. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown>,
  options?: Parameters<Client['callTool']>[1],
): Promise<ToolAnswer> {
  const result = (await client.callTool({ name, arguments: args }, options)) as CallToolResult;
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error(`expected text content, got ${JSON.stringify(result.content)}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(first.text) as Record<string, unknown>;
  } catch {
    json = { status: 'not_json', content: first.text };
  }
  return { json, result };
}

/**
 * Two replicas sharing one Redis prefix, whose models file lists `model` (a fake mode) and whose soft budget
 * is 1 s: a job started on one can be collected on the other.
 */
export async function startSlowModelReplicas(options: {
  redisUrl: string;
  fakeUrl: string;
  workspace: Workspace;
  model: string;
}): Promise<[Replica, Replica]> {
  const modelsFile = join(options.workspace.dir, 'slow-models.json');
  writeFileSync(modelsFile, JSON.stringify({ models: [fakeModelEntry(options.model)] }));
  const keyPrefix = `test:${randomUUID()}:`;
  const start = (id: string) =>
    startReplica({
      id,
      redisUrl: options.redisUrl,
      keyPrefix,
      fakeUrl: options.fakeUrl,
      workspace: options.workspace,
      env: { EXAI_SOFT_RETURN_SECS: '1', EXAI_MODELS_FILE: modelsFile },
    });
  return [await start('replica-1'), await start('replica-2')];
}
