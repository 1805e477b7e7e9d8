/**
 * 2025-era Streamable HTTP clients served without server-side sessions (EXAI_HTTP_STATELESS), so replicas
 * behind a load balancer can take any request of any client: each POST runs on a fresh server instance over
 * a stateless transport, and everything that outlives a request (threads, workflow state) is in the store.
 *
 * What a session gave those clients is cancellation: they cancel by POSTing notifications/cancelled, which
 * lands on a fresh instance — maybe on another replica. So the initialize answer carries a random
 * Mcp-Session-Id that no replica stores: it only names the client, which echoes it on every request. Each
 * request in flight is registered under (that id, its JSON-RPC id); a cancel notification tears down the
 * instance serving the call it names, here or — through the cancel broadcast (Redis) — on the replica
 * serving it. Closing the request cancels the call too, as ever.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import type { McpServer } from '@modelcontextprotocol/server';
import type { Broadcast } from '../../cluster/broadcast.js';
import { header } from '../../http/headers.js';
import type { Logger } from '../../observability/logger.js';
import { sendRpcError } from './guards.js';

export interface StatelessLegacy {
  handle(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void>;
  /** Tears down every instance in flight (their calls are aborted). */
  closeAll(): Promise<void>;
}

interface Message {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: { requestId?: unknown };
}

const key = (client: string, requestId: unknown) => `${client}\n${JSON.stringify(requestId)}`;

export function createStatelessLegacy(options: {
  factory: () => McpServer;
  logger: Logger;
  /** Reaches the other replicas; without it a cancel only reaches calls on this one. */
  cancels?: Broadcast | undefined;
}): StatelessLegacy {
  const log = options.logger.child({ component: 'http-stateless' });
  const inFlight = new Map<string, () => void>();
  const teardowns = new Set<() => void>();
  const unsubscribe = options.cancels?.onMessage(message => inFlight.get(message)?.());

  function cancel(client: string, requestId: unknown): void {
    const local = inFlight.get(key(client, requestId));
    if (local) {
      local();
      return;
    }
    void options.cancels?.publish(key(client, requestId));
  }

  return {
    async handle(req, res, parsedBody) {
      if (req.method !== 'POST') {
        // No server-side stream to attach a GET to, and no session to DELETE.
        sendRpcError(res, 405, 'Method not allowed: this server is stateless (POST only).', {
          allow: 'POST',
        });
        return;
      }
      const messages = (Array.isArray(parsedBody) ? parsedBody : [parsedBody]) as Message[];
      let client = header(req.headers, 'mcp-session-id');
      const cancels = messages.filter(m => m?.method === 'notifications/cancelled');
      if (client !== undefined) for (const m of cancels) cancel(client, m.params?.requestId);
      if (cancels.length === messages.length) {
        res.writeHead(202).end();
        return;
      }
      if (client === undefined && messages.some(m => m?.method === 'initialize')) {
        client = randomUUID();
        res.setHeader('mcp-session-id', client);
      }

      const server = options.factory();
      const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      const keys =
        client === undefined
          ? []
          : messages
              .filter(m => m?.id !== undefined && typeof m.method === 'string')
              .map(m => key(client, m.id));
      let torn = false;
      const teardown = () => {
        if (torn) return;
        torn = true;
        teardowns.delete(teardown);
        for (const k of keys) if (inFlight.get(k) === teardown) inFlight.delete(k);
        // Closing the instance aborts its handlers (the tool's signal), which abort the model call.
        transport.close().catch(() => {});
        server.close().catch(() => {});
      };
      teardowns.add(teardown);
      for (const k of keys) inFlight.set(k, teardown);
      res.once('close', teardown);
      try {
        await server.connect(transport);
        await transport.handleRequest(req, res, parsedBody);
      } catch (error) {
        log.warn({ event: 'stateless_request_failed', err: error }, 'stateless request failed');
        teardown();
        throw error;
      }
    },

    async closeAll() {
      unsubscribe?.();
      for (const teardown of [...teardowns]) teardown();
    },
  };
}
