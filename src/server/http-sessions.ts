/**
 * Sessions for 2025-era Streamable HTTP clients (today's Claude Code, Cursor, VS Code). Such a client
 * cancels a call by POSTing notifications/cancelled, not by dropping the response stream; served
 * statelessly, that notification lands on a fresh server instance and the model call under it runs on.
 * With a session it reaches the instance that runs the call, so cancellation works. Idle sessions (no
 * request in flight) are closed after EXAI_HTTP_SESSION_IDLE_SECS; a client then re-initializes on 404.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { isInitializeRequest, type McpServer } from '@modelcontextprotocol/server';
import type { Logger } from '../observability/logger.js';
import { header, sendRpcError } from './http-guards.js';

export interface SessionTableOptions {
  factory: () => McpServer;
  idleMs: number;
  maxSessions: number;
  logger: Logger;
}

interface Session {
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  active: number;
}

export interface SessionTable {
  handle(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void>;
  readonly size: number;
  closeAll(): Promise<void>;
}

export function createSessionTable(options: SessionTableOptions): SessionTable {
  const sessions = new Map<string, Session>();
  const log = options.logger.child({ component: 'http-sessions' });
  const sweeper = setInterval(sweep, Math.max(1_000, Math.min(options.idleMs / 2, 60_000)));
  sweeper.unref();

  function sweep(): void {
    const cutoff = Date.now() - options.idleMs;
    for (const [id, session] of sessions) {
      if (session.active === 0 && session.lastSeen < cutoff) void drop(id, 'idle');
    }
  }

  async function drop(id: string, reason: string): Promise<void> {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    log.debug({ event: 'session_closed', session: id, reason }, 'session closed');
    await session.transport.close().catch(() => {});
    await session.server.close().catch(() => {});
  }

  function evictOldestIdle(): void {
    let oldest: [string, Session] | undefined;
    for (const entry of sessions) {
      if (entry[1].active === 0 && (!oldest || entry[1].lastSeen < oldest[1].lastSeen)) oldest = entry;
    }
    if (oldest) void drop(oldest[0], 'capacity');
  }

  async function serve(
    session: Session,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
  ): Promise<void> {
    session.active++;
    session.lastSeen = Date.now();
    const ids = requestIds(body);
    // Counted until the response ends, however it ends: a long call keeps its session from being swept.
    res.once('close', () => {
      session.active--;
      session.lastSeen = Date.now();
      // The client went away before its answer (closed the window, lost the network). A session keeps
      // running orphaned requests, since a 2025 client could resume the stream; ours cannot, so cancel
      // them as if the client had sent notifications/cancelled, which aborts their model calls.
      if (!res.writableFinished) for (const id of ids) cancel(session, id);
    });
    await session.transport.handleRequest(req, res, body);
  }

  function cancel(session: Session, requestId: string | number): void {
    session.transport.onmessage?.({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId, reason: 'the client disconnected' },
    });
  }

  async function open(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (sessions.size >= options.maxSessions) evictOldestIdle();
    if (sessions.size >= options.maxSessions) {
      sendRpcError(res, 503, 'Too many open MCP sessions; retry shortly.', { 'retry-after': '5' });
      return;
    }
    const server = options.factory();
    const session: Session = { transport: undefined as never, server, lastSeen: Date.now(), active: 0 };
    session.transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: id => {
        sessions.set(id, session);
        log.debug({ event: 'session_opened', session: id }, 'session opened');
      },
    });
    session.transport.onclose = () => {
      const id = session.transport.sessionId;
      if (id !== undefined && sessions.get(id) === session) sessions.delete(id);
    };
    await server.connect(session.transport);
    await serve(session, req, res, body);
    const id = session.transport.sessionId;
    // A refused initialize never produced a session: release its instance now.
    if (id === undefined || !sessions.has(id)) {
      await session.transport.close().catch(() => {});
      await server.close().catch(() => {});
    }
  }

  return {
    async handle(req, res, parsedBody) {
      const id = header(req, 'mcp-session-id');
      if (id !== undefined) {
        const session = sessions.get(id);
        if (!session) {
          sendRpcError(
            res,
            404,
            'Session not found: the server restarted or the session expired. Reconnect.',
            {},
            -32001,
          );
          return;
        }
        await serve(session, req, res, parsedBody);
        return;
      }
      if (req.method === 'POST' && isInitializeRequest(parsedBody)) {
        await open(req, res, parsedBody);
        return;
      }
      if (req.method !== 'POST') {
        sendRpcError(res, 405, 'Method not allowed without an Mcp-Session-Id.', { allow: 'POST' });
        return;
      }
      sendRpcError(res, 400, 'Bad request: no Mcp-Session-Id. Send initialize first.');
    },
    get size() {
      return sessions.size;
    },
    async closeAll() {
      clearInterval(sweeper);
      await Promise.all([...sessions.keys()].map(id => drop(id, 'shutdown')));
    },
  };
}

/** Ids of the JSON-RPC requests in a POST body (one message or a batch); notifications have none. */
function requestIds(body: unknown): Array<string | number> {
  const messages = Array.isArray(body) ? body : [body];
  const ids: Array<string | number> = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || !('method' in message)) continue;
    const id = (message as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') ids.push(id);
  }
  return ids;
}
