/**
 * A loopback OpenAI-compatible chat-completions server whose behaviour is chosen per request (see README.md
 * in this folder). Tests start one on an ephemeral port, point a GLM or Kimi client at it, and assert on
 * its counters; close() tears down every socket and timer so no handle outlives a test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { MODES, type ModeState, unknownMode } from './modes.js';
import { chatPathSegments, type ModeSpec, modeFromBody, modeFromHead } from './spec.js';
import { asRecord, Exchange } from './wire.js';

export interface FakeProviderOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /**
   * listen() backlog, default Node's 511. Benchmarks that open thousands of connections at once raise it (the
   * kernel caps it at net.core.somaxconn): an overflowing accept queue drops SYNs, which cost the client a 1 s
   * retransmit and would make the fake, not the client, the thing being measured.
   */
  backlog?: number;
}

export interface RecordedRequest {
  mode: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw text when the body is not JSON; undefined for `noread`. */
  body: unknown;
  at: number;
}

export interface FakeStats {
  /** TCP connections currently open, idle keep-alive ones included. */
  openSockets: number;
  /** Requests received whose response has not finished and whose socket is still open. */
  activeRequests: number;
  /** Connections ever accepted. */
  connectionsTotal: number;
  requestsByMode: Record<string, number>;
}

export interface FakeProvider {
  /** e.g. http://127.0.0.1:PORT, no trailing slash. */
  readonly url: string;
  readonly port: number;
  stats(): FakeStats;
  readonly requests: RecordedRequest[];
  /** Resolves once stats().activeRequests <= n, rejects after timeoutMs. */
  waitForActive(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once stats().openSockets <= n, rejects after timeoutMs. */
  waitForOpenSockets(n: number, timeoutMs?: number): Promise<void>;
  /** Clears recorded requests, per-mode counters and flaky counters (not sockets). */
  reset(): void;
  /** Stops listening, destroys every open socket, clears every timer; resolves when fully closed. */
  close(): Promise<void>;
}

const DEFAULT_WAIT_MS = 5_000;

interface Waiter {
  check(): void;
  fail(error: Error): void;
}

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const host = options.host ?? '127.0.0.1';
  // requestTimeout 0: `noread` and slow uploads must stay open until the client or close() ends them.
  const server = createServer({ requestTimeout: 0 });
  server.keepAliveTimeout = 5_000;

  const sockets = new Set<Socket>();
  const active = new Set<ServerResponse>();
  const scopes = new Set<AbortController>();
  const waiters = new Set<Waiter>();
  const requests: RecordedRequest[] = [];
  let requestsByMode: Record<string, number> = {};
  let connectionsTotal = 0;
  let requestCount = 0;
  let callCount = 0;
  let closing: Promise<void> | undefined;

  const state: ModeState = {
    failures: new Map(),
    kimiCalls: new Map(),
    nextCallId: () => `call_${++callCount}`,
  };

  const notify = () => {
    for (const waiter of waiters) waiter.check();
  };

  const waitFor = (what: string, read: () => number, n: number, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      if (read() <= n) return resolve();
      const timer = setTimeout(
        () =>
          waiter.fail(new Error(`fake provider: ${what} is ${read()}, not <= ${n}, after ${timeoutMs} ms`)),
        timeoutMs,
      );
      const settle = () => {
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          if (read() > n) return;
          settle();
          resolve();
        },
        fail: error => {
          settle();
          reject(error);
        },
      };
      waiters.add(waiter);
    });

  const record = (req: IncomingMessage, spec: ModeSpec, body: unknown) => {
    requests.push({
      mode: spec.name,
      path: req.url ?? '',
      headers: { ...req.headers },
      body,
      at: Date.now(),
    });
    requestsByMode[spec.name] = (requestsByMode[spec.name] ?? 0) + 1;
  };

  const dispatch = (x: Exchange) => {
    const handler = MODES[x.spec.name];
    if (asRecord(x.body) === undefined) {
      return x.error(400, 'openai', {
        type: 'invalid_request_error',
        message: 'fake provider: body is not a JSON object',
      });
    }
    if (x.spec.name === 'noread') {
      return x.error(400, 'openai', {
        type: 'invalid_request_error',
        message: 'fake provider: noread needs the header or the path',
      });
    }
    if (handler === undefined) return unknownMode(x);
    Promise.resolve()
      .then(() => handler(x, state))
      .catch(() => {
        // An abort is the client leaving or close(); anything else is a bug in a mode, surfaced as a 500.
        if (x.gone) return;
        if (x.res.headersSent) x.res.destroy();
        else x.error(500, 'openai', { message: 'fake provider: mode handler failed' });
      });
  };

  server.on('connection', socket => {
    connectionsTotal++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      notify();
    });
    if (closing) socket.destroy();
    notify();
  });

  server.on('request', (req, res) => {
    const controller = new AbortController();
    scopes.add(controller);
    active.add(res);
    const finish = () => {
      controller.abort();
      scopes.delete(controller);
      if (active.delete(res)) notify();
    };
    res.on('finish', finish);
    res.on('close', finish);
    // Errors after the client vanished are expected here; 'close' does the cleanup.
    res.on('error', () => {});
    req.on('error', () => {});
    notify();

    const requestId = `fake-req-${++requestCount}`;
    const reply = (status: number, message: string, headers: Record<string, string> = {}) =>
      new Exchange(req, res, undefined, { name: 'none', params: {} }, controller.signal, requestId).error(
        status,
        'openai',
        { type: status === 404 ? 'not_found_error' : 'invalid_request_error', message },
        headers,
      );
    const prefix = chatPathSegments(req.url ?? '/');
    if (prefix === undefined) return reply(404, `fake provider: no route for ${req.method} ${req.url}`);
    if (req.method !== 'POST') {
      return reply(405, 'fake provider: chat/completions takes POST', { allow: 'POST' });
    }

    const headSpec = modeFromHead(req.headers, prefix);
    if (headSpec?.name === 'noread') {
      // Decided on headers alone: the body stays in the kernel, so a client's upload stalls on backpressure.
      record(req, headSpec, undefined);
      req.pause();
      req.socket.pause();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (controller.signal.aborted) return;
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Kept as the raw text, so a test can see what a broken client sent.
      }
      const spec = headSpec ?? modeFromBody(body) ?? { name: 'ok', params: {} };
      record(req, spec, body);
      dispatch(new Exchange(req, res, body, spec, controller.signal, requestId));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: options.backlog ?? 511 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const close = async () => {
    const serverClosed = new Promise<void>(resolve => server.close(() => resolve()));
    for (const controller of scopes) controller.abort();
    server.closeAllConnections();
    for (const socket of sockets) socket.destroy();
    await serverClosed;
    await waitFor('openSockets', () => sockets.size, 0, DEFAULT_WAIT_MS).catch(() => {});
    for (const waiter of waiters) waiter.fail(new Error('fake provider: closed'));
  };

  return {
    url,
    port,
    requests,
    stats: () => ({
      openSockets: sockets.size,
      activeRequests: active.size,
      connectionsTotal,
      requestsByMode: { ...requestsByMode },
    }),
    waitForActive: (n, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor('activeRequests', () => active.size, n, timeoutMs),
    waitForOpenSockets: (n, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor('openSockets', () => sockets.size, n, timeoutMs),
    reset: () => {
      requests.length = 0;
      requestsByMode = {};
      state.failures.clear();
    },
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}
