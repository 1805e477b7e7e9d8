/**
 * A loopback OpenAI-compatible chat-completions server whose behaviour is chosen per request (see README.md
 * in this folder). Tests start one on an ephemeral port, point a GLM or Kimi client at it, and assert on
 * its counters; close() tears down every socket and timer so no handle outlives a test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Provider } from './models.js';
import { MODES, type ModeState, unknownMode } from './modes.js';
import { createPrefixCache } from './prefix-cache.js';
import { PROVIDER_MODES } from './provider-modes.js';
import type { Rejection, RuleId } from './rules.js';
import { chatPathSegments, type ModeSpec, modeFromBody, modeFromHead } from './spec.js';
import { checkStrict, promptTokens, providerOf } from './strict.js';
import { asRecord, Exchange } from './wire.js';

/**
 * Whether a fake started without `strict` checks requests like the real GLM / Kimi APIs: on, so a request
 * the real API would refuse fails a test. FAKE_PROVIDER_STRICT=off turns it off (to compare behaviour).
 */
export const DEFAULT_STRICT = !['0', 'off', 'false', 'no'].includes(
  (process.env.FAKE_PROVIDER_STRICT ?? 'on').trim().toLowerCase(),
);

/** Per-request override of strict mode: `on` or `off` (e.g. fault tests that send odd bodies on purpose). */
export const STRICT_HEADER = 'x-fake-strict';

const ALL_MODES = { ...MODES, ...PROVIDER_MODES };

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
  /**
   * Check each request like the real API would and answer in the provider's own shapes (see README.md,
   * "Strict mode"). Default DEFAULT_STRICT; the `x-fake-strict` header overrides it per request.
   */
  strict?: boolean;
}

export interface RecordedRequest {
  mode: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or the raw text when the body is not JSON; undefined for `noread`. */
  body: unknown;
  at: number;
  /** Whether the request was checked in strict mode. */
  strict: boolean;
  /** Strict requests: the provider the path (or model prefix) addressed. */
  provider?: Provider;
  /** Strict requests that passed: the prompt estimate and the prefix-cache hit reported in usage. */
  promptTokens?: number;
  cachedTokens?: number;
  /** Strict requests that broke a rule. */
  rejection?: StrictRejection;
}

/** What a strict rejection recorded: the rule (README.md lists them), the status and the provider message. */
export interface StrictRejection {
  rule: RuleId;
  status: number;
  message: string;
  model: string;
  path: string;
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
  /** Every strict rejection in arrival order; a failing suite test reads the rule that broke here. */
  readonly rejections: StrictRejection[];
  /** Resolves once stats().activeRequests <= n, rejects after timeoutMs. */
  waitForActive(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once stats().openSockets <= n, rejects after timeoutMs. */
  waitForOpenSockets(n: number, timeoutMs?: number): Promise<void>;
  /** Clears recorded requests, rejections, the prefix cache, per-mode and flaky counters (not sockets). */
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
  const rejections: StrictRejection[] = [];
  const cache = createPrefixCache();
  const strictByDefault = options.strict ?? DEFAULT_STRICT;
  let requestsByMode: Record<string, number> = {};
  let connectionsTotal = 0;
  let requestCount = 0;
  let callCount = 0;
  let closing: Promise<void> | undefined;

  const state: ModeState = {
    failures: new Map(),
    kimiCalls: new Map(),
    nextCallId: () => `call_${++callCount}`,
    modes: ALL_MODES,
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

  const record = (req: IncomingMessage, spec: ModeSpec, body: unknown, strict = false): RecordedRequest => {
    const recorded: RecordedRequest = {
      mode: spec.name,
      path: req.url ?? '',
      headers: { ...req.headers },
      body,
      at: Date.now(),
      strict,
    };
    requests.push(recorded);
    requestsByMode[spec.name] = (requestsByMode[spec.name] ?? 0) + 1;
    return recorded;
  };

  const isStrict = (req: IncomingMessage) => {
    const raw = req.headers[STRICT_HEADER];
    const value = (Array.isArray(raw) ? raw[0] : raw)?.trim().toLowerCase();
    if (value === 'on') return true;
    if (value === 'off') return false;
    return strictByDefault;
  };

  /** Strict mode: rejects like the real API, or sets the provider's response shapes. True when rejected. */
  const enforce = (x: Exchange, prefix: string[], recorded: RecordedRequest): boolean => {
    const body = asRecord(x.body);
    if (body === undefined) return false;
    const model = typeof body.model === 'string' ? body.model : '';
    const provider = providerOf(prefix, model);
    const reject = (r: Rejection) => {
      const rejection = { rule: r.rule, status: r.status, message: r.message, model, path: recorded.path };
      rejections.push(rejection);
      recorded.rejection = rejection;
      x.json(r.status, r.body);
      return true;
    };
    if (provider === undefined) {
      return reject({
        rule: 'route.base-path',
        status: 404,
        message: `no GLM (/paas/v4) or Kimi (/v1) route at ${recorded.path}`,
        body: { error: { message: `404 page not found: ${recorded.path}`, type: 'not_found_error' } },
      });
    }
    recorded.provider = provider;
    const stream = asRecord(body.stream_options);
    x.profile = { provider, cachedTokens: 0, includeUsage: stream?.include_usage === true };
    const rejection = checkStrict({ provider, body });
    if (rejection !== undefined) return reject(rejection);
    const prompt = promptTokens(body);
    const cached = cache.lookup(provider, model, body.messages, prompt);
    x.profile.cachedTokens = cached;
    recorded.promptTokens = prompt;
    recorded.cachedTokens = cached;
    return false;
  };

  const dispatch = (x: Exchange) => {
    const handler = ALL_MODES[x.spec.name];
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
      record(req, headSpec, undefined, isStrict(req));
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
      const strict = isStrict(req);
      const recorded = record(req, spec, body, strict);
      const exchange = new Exchange(req, res, body, spec, controller.signal, requestId);
      if (strict && enforce(exchange, prefix, recorded)) return;
      dispatch(exchange);
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
    rejections,
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
      rejections.length = 0;
      cache.clear();
      requestsByMode = {};
      state.failures.clear();
    },
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/** The share of a strict request's prompt the simulated prefix cache reported as cached (0 when unknown). */
export function cachedFraction(recorded: RecordedRequest): number {
  const { promptTokens: prompt, cachedTokens: cached } = recorded;
  return prompt === undefined || cached === undefined || prompt === 0 ? 0 : cached / prompt;
}
