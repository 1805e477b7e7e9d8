/**
 * Sessions for 2025-era Streamable HTTP clients (today's Claude Code, Cursor, VS Code). Such a client
 * cancels a call by POSTing notifications/cancelled, not by dropping the response stream; served
 * statelessly, that notification lands on a fresh server instance and the model call under it runs on.
 * With a session it reaches the instance that runs the call, so cancellation works.
 *
 * Bounded, because each session costs memory (an MCP server instance) and each open stream a socket:
 * - Idle sessions (no call in flight; an open GET stream does not count) are closed after
 *   EXAI_HTTP_SESSION_IDLE_SECS, their stream with them; a client then re-initializes on 404.
 * - At most EXAI_HTTP_MAX_SESSIONS_PER_CLIENT sessions and EXAI_HTTP_MAX_STREAMS_PER_CLIENT GET streams per
 *   client address, and EXAI_HTTP_MAX_SESSIONS in all. A new session or stream past a limit first takes the
 *   place of the least recently used idle one (the address holding the most sessions loses one first), so a
 *   flood from one address cannot push out everyone else's sessions. A session with a call in flight is never
 *   evicted: when every candidate has one, the new session is refused (429 for one address, 503 overall).
 * - A call its client cancelled gets no JSON-RPC answer (MCP: the receiver should not respond), so the SDK
 *   would leave its response stream open forever; it is ended once the call's handler has settled.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import {
  isInitializeRequest,
  type JSONRPCMessage,
  type McpServer,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/server';
import { header } from '../../http/headers.js';
import type { Logger } from '../../observability/logger.js';
import { clientAddress, sendRpcError } from './guards.js';

/** What a session's server instance tells the table; `toolSettled` runs when a tool call's handler ends. */
export interface SessionHooks {
  toolSettled(requestId: RequestId): void;
}

export interface SessionTableOptions {
  factory: (hooks: SessionHooks) => McpServer;
  idleMs: number;
  maxSessions: number;
  maxSessionsPerClient: number;
  maxStreamsPerClient: number;
  logger: Logger;
  /**
   * How long the response of a cancelled request stays open waiting for its handler to settle, for handlers
   * that never report settling (requests other than tool calls). Default 10 s.
   */
  cancelGraceMs?: number;
}

interface Session {
  id?: string;
  /** The client's address, as the limits count it. */
  client: string;
  transport: NodeStreamableHTTPServerTransport;
  server: McpServer;
  lastSeen: number;
  /** POST exchanges whose response is still open: calls in flight. */
  calls: number;
  /** Open GET streams (server-to-client messages): they never keep a session from being idle. */
  streams: Set<ServerResponse>;
  /** Request ids whose POST response is still open. */
  open: Set<RequestId>;
  /** Cancelled requests whose response is still open, with the grace timer that ends it regardless. */
  cancelled: Map<RequestId, NodeJS.Timeout>;
}

export interface SessionTable {
  handle(req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void>;
  readonly size: number;
  closeAll(): Promise<void>;
}

type Deliver = (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

export function createSessionTable(options: SessionTableOptions): SessionTable {
  const sessions = new Map<string, Session>();
  const log = options.logger.child({ component: 'http-sessions' });
  const cancelGraceMs = options.cancelGraceMs ?? 10_000;
  const sweeper = setInterval(sweep, Math.max(1_000, Math.min(options.idleMs / 2, 60_000)));
  sweeper.unref();

  function sweep(): void {
    const cutoff = Date.now() - options.idleMs;
    for (const [id, session] of sessions) {
      if (session.calls === 0 && session.lastSeen < cutoff) void drop(id, 'idle');
    }
  }

  async function drop(id: string, reason: string): Promise<void> {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    log.debug({ event: 'session_closed', session: id, reason, client: session.client }, 'session closed');
    for (const timer of session.cancelled.values()) clearTimeout(timer);
    session.cancelled.clear();
    await session.transport.close().catch(() => {});
    await session.server.close().catch(() => {});
    // The transport ends its streams; a socket it left open would hold a file descriptor.
    for (const stream of session.streams) stream.end();
  }

  function sessionsOf(client: string): Session[] {
    return [...sessions.values()].filter(s => s.client === client);
  }

  /** The idle session to give up first among `candidates`: the address holding most, then least recent. */
  function victim(candidates: Session[]): Session | undefined {
    const held = new Map<string, number>();
    for (const s of sessions.values()) held.set(s.client, (held.get(s.client) ?? 0) + 1);
    let chosen: Session | undefined;
    for (const s of candidates) {
      if (s.calls > 0) continue;
      const more = (held.get(s.client) ?? 0) - (chosen ? (held.get(chosen.client) ?? 0) : 0);
      if (!chosen || more > 0 || (more === 0 && s.lastSeen < chosen.lastSeen)) chosen = s;
    }
    return chosen;
  }

  /** Makes room for one more session from `client`; false (after answering) when there is none. */
  function admit(client: string, res: ServerResponse): boolean {
    const own = sessionsOf(client);
    if (own.length >= options.maxSessionsPerClient) {
      const evicted = victim(own);
      if (!evicted?.id) {
        sendRpcError(
          res,
          429,
          `Too many MCP sessions from ${client} with a call in flight (EXAI_HTTP_MAX_SESSIONS_PER_CLIENT=${options.maxSessionsPerClient}); retry once one ends.`,
          { 'retry-after': '5' },
        );
        return false;
      }
      void drop(evicted.id, 'client_capacity');
    }
    if (sessions.size >= options.maxSessions) {
      const evicted = victim([...sessions.values()]);
      if (!evicted?.id) {
        sendRpcError(res, 503, 'Too many open MCP sessions, each with a call in flight; retry shortly.', {
          'retry-after': '5',
        });
        return false;
      }
      void drop(evicted.id, 'capacity');
    }
    return true;
  }

  /** Makes room for one more GET stream from `client` by ending its oldest one. */
  function admitStream(client: string): void {
    const streams = sessionsOf(client).flatMap(s => [...s.streams]);
    // Sets keep insertion order, but streams of different sessions interleave: oldest by start time.
    streams.sort((a, b) => (startedAt.get(a) ?? 0) - (startedAt.get(b) ?? 0));
    while (streams.length >= options.maxStreamsPerClient) streams.shift()?.end();
  }
  const startedAt = new WeakMap<ServerResponse, number>();

  /** The response of a cancelled call gets no answer: end it once its handler settled (or the grace ran out). */
  function noteCancel(session: Session, requestId: unknown): void {
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    if (!session.open.has(requestId) || session.cancelled.has(requestId)) return;
    const timer = setTimeout(() => endCancelled(session, requestId), cancelGraceMs);
    timer.unref();
    session.cancelled.set(requestId, timer);
  }

  function endCancelled(session: Session, requestId: RequestId): void {
    const timer = session.cancelled.get(requestId);
    if (timer === undefined) return;
    clearTimeout(timer);
    session.cancelled.delete(requestId);
    session.transport.closeSSEStream(requestId);
  }

  async function serve(
    session: Session,
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
  ): Promise<void> {
    session.lastSeen = Date.now();
    if (req.method === 'GET') {
      admitStream(session.client);
      startedAt.set(res, Date.now());
      session.streams.add(res);
      res.once('close', () => session.streams.delete(res));
      await session.transport.handleRequest(req, res, body);
      return;
    }
    session.calls++;
    const ids = requestIds(body);
    for (const id of ids) session.open.add(id);
    // Counted until the response ends, however it ends: a long call keeps its session from being swept.
    res.once('close', () => {
      session.calls--;
      session.lastSeen = Date.now();
      for (const id of ids) {
        session.open.delete(id);
        clearTimeout(session.cancelled.get(id));
        session.cancelled.delete(id);
      }
      // The client went away before its answer (closed the window, lost the network). A session keeps
      // running orphaned requests, since a 2025 client could resume the stream; ours cannot, so cancel
      // them as if the client had sent notifications/cancelled, which aborts their model calls.
      if (!res.writableFinished) for (const id of ids) cancel(session, id);
    });
    await session.transport.handleRequest(req, res, body);
  }

  function cancel(session: Session, requestId: RequestId): void {
    session.transport.onmessage?.({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId, reason: 'the client disconnected' },
    });
  }

  /** Notes cancel notifications before the server acts on them. */
  function watchMessages(session: Session): void {
    const deliver: Deliver | undefined = session.transport.onmessage;
    if (!deliver) return;
    session.transport.onmessage = (message, extra) => {
      const { method, params } = message as { method?: unknown; params?: unknown };
      if (method === 'notifications/cancelled') {
        noteCancel(session, (params as { requestId?: unknown } | undefined)?.requestId);
      }
      deliver(message, extra);
    };
  }

  async function open(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const client = clientAddress(req);
    if (!admit(client, res)) return;
    const server = options.factory({
      toolSettled(requestId) {
        if (session.cancelled.has(requestId)) endCancelled(session, requestId);
      },
    });
    const session: Session = {
      client,
      transport: undefined as never,
      server,
      lastSeen: Date.now(),
      calls: 0,
      streams: new Set(),
      open: new Set(),
      cancelled: new Map(),
    };
    session.transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: id => {
        session.id = id;
        sessions.set(id, session);
        log.debug({ event: 'session_opened', session: id, client }, 'session opened');
      },
    });
    session.transport.onclose = () => {
      const id = session.transport.sessionId;
      if (id !== undefined && sessions.get(id) === session) sessions.delete(id);
    };
    await server.connect(session.transport);
    watchMessages(session);
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
      const id = header(req.headers, 'mcp-session-id');
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
