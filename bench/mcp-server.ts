/**
 * An MCP server under test in its own process: `mcp-server.ts exai` (the real server: createApp +
 * startHttpServer, settings from the environment) or `mcp-server.ts echo` (the baseline: a minimal MCP SDK
 * server with one echo tool, sessions on NodeStreamableHTTPServerTransport, the shape of the orientation
 * figures). Sends `{ url }` over IPC once listening, answers `cpu`, `resources` and `memory-after-gc`
 * requests, and exits when the parent leaves.
 */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, McpServer } from '@modelcontextprotocol/server';
import { pino } from 'pino';
import { z } from 'zod';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/observability/logger.js';
import { createApp } from '../src/server/app.js';
import { startHttpServer } from '../src/server/http/server.js';

const kind = process.argv[2] ?? 'exai';
let close: () => Promise<void>;
let url: string;

if (kind === 'exai') {
  const config = loadConfig({ env: process.env, envFile: false });
  const logger = createLogger({
    level: config.logLevel,
    destination: pino.destination({ dest: process.env.BENCH_LOG_FILE ?? '/dev/null', sync: false }),
  });
  const app = createApp(config, { logger });
  const http = await startHttpServer(app, { host: '127.0.0.1', port: 0 });
  url = http.url;
  close = async () => {
    await http.close();
    await app.close();
  };
} else {
  ({ url, close } = await startEchoServer());
}

process.on('message', (message: { seq: number; op: string }) => {
  if (message.op === 'cpu') {
    const { rss, heapUsed } = process.memoryUsage();
    process.send?.({ seq: message.seq, value: { ...process.cpuUsage(), rss, heapUsed } });
  } else if (message.op === 'resources') {
    process.send?.({ seq: message.seq, value: process.getActiveResourcesInfo() });
  } else if (message.op === 'memory-after-gc') {
    // Started with --expose-gc (startMcpProcess's exposeGc); without it the reading is as the collector left it.
    (globalThis as { gc?: () => void }).gc?.();
    process.send?.({ seq: message.seq, value: process.memoryUsage() });
  }
});
process.on('disconnect', () => {
  const force = setTimeout(() => process.exit(1), 5_000);
  force.unref();
  close().finally(() => process.exit(0));
});
process.send?.({ seq: 0, value: { url } });

async function startEchoServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = new Map<string, NodeStreamableHTTPServerTransport>();
  const factory = () => {
    const server = new McpServer({ name: 'echo', version: '0.0.0' });
    server.registerTool(
      'echo',
      {
        description: 'echo',
        inputSchema: z.object({ text: z.string() }),
        outputSchema: z.object({ text: z.string() }),
      },
      async ({ text }) => ({ content: [{ type: 'text', text }], structuredContent: { text } }),
    );
    return server;
  };
  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    const id = req.headers['mcp-session-id'];
    const existing = typeof id === 'string' ? sessions.get(id) : undefined;
    if (existing) return existing.handleRequest(req, res, body);
    if (!isInitializeRequest(body)) {
      res.writeHead(400).end();
      return;
    }
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: sid => {
        sessions.set(sid, transport);
      },
    });
    await factory().connect(transport);
    await transport.handleRequest(req, res, body);
  };
  const server = createHttpServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      await Promise.allSettled([...sessions.values()].map(t => t.close()));
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
