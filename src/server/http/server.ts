/**
 * MCP over Streamable HTTP at /mcp on node:http, so one long-lived server can serve many IDE windows.
 *
 * Routing: 2026-07-28 requests go to the SDK's per-request createMcpHandler (stateless; cancellation is the
 * client dropping the response stream). 2025-era requests go to sessions (sessions.ts), because their
 * clients cancel with a notification that only reaches the right instance within a session — unless
 * EXAI_HTTP_STATELESS (default with EXAI_STORE=redis) serves them statelessly too (stateless.ts), for
 * replicas behind a load balancer (docs/SCALING.md).
 *
 * In front of both: Host and Origin validation (DNS rebinding), the bearer token when one is set (required
 * beyond loopback), a body size limit, and GET /healthz.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { hostHeaderValidation, originValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { classifyInboundRequest, createMcpHandler, isJsonContentType } from '@modelcontextprotocol/server';
import { openBroadcast } from '../../cluster/broadcast.js';
import { ERROR_POLICY, ExaiError, isExaiError } from '../../errors.js';
import { header } from '../../http/headers.js';
import type { App } from '../app.js';
import { createServer, toolDeps } from '../create-server.js';
import { createAuthGate, isOAuthPath, sendNoOAuth } from './auth.js';
import {
  allowedHostnames,
  BodyTooLargeError,
  isLoopbackHost,
  readBody,
  sendJson,
  sendRpcError,
  urlHost,
} from './guards.js';
import { readiness } from './readiness.js';
import { createSessionTable } from './sessions.js';
import { createStatelessLegacy } from './stateless.js';
import { FAVICON_SVG, STATUS_PAGE, statusSnapshot } from './status-page.js';

export interface HttpServerOptions {
  host: string;
  port: number;
}

export interface RunningHttpServer {
  /** e.g. http://127.0.0.1:8079/mcp */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /**
   * Stops accepting, lets answers in flight finish (up to a second; call App.stopCalls first so they end
   * quickly), then closes sessions and sockets. Idempotent; does not close the App.
   */
  close(): Promise<void>;
}

const MCP_PATH = '/mcp';
/** How long close() lets responses finish before cutting the remaining connections. */
const DRAIN_MS = 1_000;

export async function startHttpServer(app: App, options: HttpServerOptions): Promise<RunningHttpServer> {
  const { config } = app;
  const token = config.httpToken;
  if (!isLoopbackHost(options.host) && !token) {
    throw new ExaiError(
      'not_configured',
      `Refusing to listen on ${options.host}: an address other than loopback is reachable from other machines, ` +
        'so it needs a token. Set EXAI_HTTP_TOKEN to a long random secret (clients then send ' +
        '"Authorization: Bearer <token>"), or bind 127.0.0.1.',
    );
  }
  const log = app.logger.child({ component: 'http' });
  // Every call this server answers is counted: prom-client is loaded before the first one can arrive.
  await app.metrics.start();
  const maxBody = config.httpMaxBodyBytes;
  const factory = () => createServer(app);
  const modern = createMcpHandler(factory, {
    legacy: 'reject',
    maxRequestBodySize: maxBody,
    onerror: error => log.debug({ event: 'mcp_handler_error', err: error }, 'MCP handler reported an error'),
  });
  const modernNode = toNodeHandler(modern, { maxRequestBodySize: maxBody });
  // Replicas behind a load balancer share no sessions, so 2025-era clients are then served statelessly too
  // (stateless.ts); their cancel notifications reach the serving replica through Redis.
  const stateless = config.httpStateless ?? config.store === 'redis';
  const cancels =
    stateless && config.redisUrl !== undefined
      ? openBroadcast({
          url: config.redisUrl,
          channel: `${config.redisKeyPrefix}cancel`,
          name: 'exai-cancel',
          logger: app.logger,
        })
      : undefined;
  const statelessLegacy = createStatelessLegacy({ factory, logger: app.logger, cancels });
  const sessions = createSessionTable({
    // A session's tool calls report when their handler settles, so a cancelled call's stream can be ended.
    factory: hooks => createServer(app, toolDeps(app), { onToolSettled: hooks.toolSettled }),
    idleMs: config.httpSessionIdleSecs * 1000,
    maxSessions: config.httpMaxSessions,
    maxSessionsPerClient: config.httpMaxSessionsPerClient,
    maxStreamsPerClient: config.httpMaxStreamsPerClient,
    logger: app.logger,
  });
  const auth = createAuthGate(token);
  app.metrics.bindLiveState({
    providers: () =>
      app.gateway.status().map(p => ({
        provider: p.provider,
        breakerState: p.breaker.state,
        inFlight: p.inFlight,
        queued: p.queued,
        concurrencyLimit: p.concurrency.limit,
      })),
    activeSessions: () => sessions.size,
  });
  const hostnames = allowedHostnames(options.host);
  const checkHost = hostnames ? hostHeaderValidation(hostnames) : () => true;
  const checkOrigin = hostnames ? originValidation(hostnames) : () => true;

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let parsed: unknown;
    if (req.method === 'POST') {
      if (!isJsonContentType(header(req.headers, 'content-type') ?? '')) {
        sendRpcError(res, 415, 'Unsupported Media Type: send Content-Type: application/json.');
        return;
      }
      let text: string;
      try {
        text = await readBody(req, maxBody);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        const message = `Request body over the limit of ${maxBody} bytes (EXAI_HTTP_MAX_BODY_BYTES).`;
        sendRpcError(res, 413, message, { connection: 'close' });
        return;
      }
      try {
        parsed = JSON.parse(text);
      } catch {
        sendRpcError(res, 400, 'Parse error: the body is not valid JSON.', {}, -32700);
        return;
      }
    }
    if (isLegacyRequest(req, parsed)) {
      await (stateless ? statelessLegacy : sessions).handle(req, res, parsed);
    } else {
      // exactOptionalPropertyTypes: node types `method` as string | undefined, the adapter as optional string.
      await modernNode(req as Parameters<typeof modernNode>[0], res, parsed);
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (!checkHost(req, res) || !checkOrigin(req, res)) return;
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      sendJson(res, 200, {
        status: 'ok',
        version: app.version,
        uptime: Math.round((Date.now() - app.startedAt) / 1000),
      });
      return;
    }
    const read = req.method === 'GET' || req.method === 'HEAD';
    if (path === '/readyz' && read) {
      const ready = await readiness(app);
      // Store and provider details are the operator's: without the token, only ready or not.
      sendJson(res, ready.ready ? 200 : 503, auth.authorized(req) ? ready : { ready: ready.ready });
      return;
    }
    if (path === '/' && read) {
      // A static shell holding no data; the numbers come from /status.json, behind the token.
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(STATUS_PAGE);
      return;
    }
    if ((path === '/favicon.ico' || path === '/favicon.svg') && read) {
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' });
      res.end(FAVICON_SVG);
      return;
    }
    if (isOAuthPath(path)) {
      sendNoOAuth(res);
      return;
    }
    const dataRoute = read && (path === '/metrics' || path === '/status.json');
    if (path !== MCP_PATH && !dataRoute) {
      sendJson(res, 404, { error: `Not found. The MCP endpoint is ${MCP_PATH}.` });
      return;
    }
    if (!auth.admit(req, res)) return;
    if (path === '/metrics') {
      const { contentType, body } = await app.metrics.render();
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
      return;
    }
    if (path === '/status.json') {
      sendJson(res, 200, statusSnapshot(app, app.activity));
      return;
    }
    await handleMcp(req, res);
  }

  /** POST exchanges whose response has not ended: what a graceful close waits for. */
  const posts = new Set<ServerResponse>();
  const headersTimeout = config.httpHeadersTimeoutSecs * 1000;
  const requestTimeout = config.httpRequestTimeoutSecs * 1000;
  const server = createHttpServer(
    {
      // Both cover receiving the request only (a slow or stalled upload holds a socket and a file descriptor);
      // once it is in, responses stream for as long as their calls run (the deadlines bound those).
      requestTimeout,
      headersTimeout: Math.min(headersTimeout, requestTimeout),
      // How often node:http checks those timeouts (default 30 s, which would let a stalled request live 30 s).
      connectionsCheckingInterval: Math.min(1_000, headersTimeout / 2),
    },
    (req, res) => {
      if (req.method === 'POST') {
        posts.add(res);
        res.once('close', () => posts.delete(res));
      }
      route(req, res).catch(error => {
        if (clientGone(req, res, error)) {
          // The client hung up or was too slow (EXAI_HTTP_REQUEST_TIMEOUT_SECS): nothing went wrong here.
          log.debug(
            { event: 'http_client_gone', err: error, method: req.method, url: req.url },
            'client went away',
          );
          res.destroy();
          return;
        }
        log.error(
          { event: 'http_request_failed', err: error, method: req.method, url: req.url },
          'HTTP request failed',
        );
        if (res.headersSent) res.destroy();
        // An ExaiError's message is written for the caller and never holds a secret; anything else is a bug.
        else if (isExaiError(error)) sendRpcError(res, ERROR_POLICY[error.kind].httpStatus, error.message);
        else sendRpcError(res, 500, 'Internal server error; the server log (stderr) has the details.');
      });
    },
  );
  // Past it, node:http closes new connections at once: a flood of idle sockets cannot use every descriptor.
  server.maxConnections = config.httpMaxConnections;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', error => log.error({ event: 'http_server_error', err: error }, 'HTTP server error'));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(options.host)}:${port}${MCP_PATH}`;
  log.info(
    { event: 'listening', transport: 'http', url, version: app.version },
    `exai-mcp listening on ${url}`,
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const stopped = new Promise<void>(resolve => server.close(() => resolve()));
      // Calls in flight were told to stop (App.stopCalls) and answer with a "shutting down" error: give
      // those answers a moment to reach their clients before the instances and sockets go.
      await untilIdle(() => posts.size === 0, DRAIN_MS);
      // Closing the instances aborts whatever is still running, which aborts its model calls.
      await Promise.allSettled([sessions.closeAll(), statelessLegacy.closeAll(), modern.close()]);
      await cancels?.close();
      server.closeIdleConnections();
      const drained = await Promise.race([
        stopped.then(() => true),
        delay(DRAIN_MS / 2, false, { ref: false }),
      ]);
      if (!drained) {
        server.closeAllConnections();
        await stopped;
      }
    })();
    return closing;
  };
  return { url, host: options.host, port, close };
}

/** A request that failed because its client hung up or timed out, not because of anything here. */
function clientGone(req: IncomingMessage, res: ServerResponse, error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    req.destroyed ||
    res.destroyed ||
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (error as Error | undefined)?.message === 'aborted'
  );
}

/**
 * The SDK's isLegacyRequest decision (a POST without a JSON body, or a request classified legacy), taken on
 * node's request and the body already parsed: the SDK's predicate wants a web Request, and building one
 * (its Headers, its URL) for every call cost more CPU than the rest of the routing.
 */
function isLegacyRequest(req: IncomingMessage, parsed: unknown): boolean {
  const httpMethod = (req.method ?? 'GET').toUpperCase();
  if (httpMethod === 'POST' && parsed === undefined) return true;
  const protocolVersionHeader = header(req.headers, 'mcp-protocol-version');
  const mcpMethodHeader = header(req.headers, 'mcp-method');
  const mcpNameHeader = header(req.headers, 'mcp-name');
  const route = classifyInboundRequest({
    httpMethod,
    ...(protocolVersionHeader !== undefined && { protocolVersionHeader }),
    ...(mcpMethodHeader !== undefined && { mcpMethodHeader }),
    ...(mcpNameHeader !== undefined && { mcpNameHeader }),
    ...(parsed !== undefined && { body: parsed }),
  });
  return route.kind === 'legacy';
}

async function untilIdle(idle: () => boolean, maxMs: number): Promise<void> {
  const until = performance.now() + maxMs;
  while (!idle() && performance.now() < until) await delay(20, undefined, { ref: false });
}
